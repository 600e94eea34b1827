"""`manage.py deliver_pending` run in a process of its own (cron, or by hand after an outage) hands over the jobs
another process recorded (issue 10): the task modules are imported by workers at their start, not by such a
process, and a job whose task it did not know was once marked handed over with "no task", and lost."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from common.models import PendingJob
from tests.faults.conftest import _database_url, need_services

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True), pytest.mark.clause("5.2")]


def test_deliver_pending_in_a_fresh_process_hands_over_what_another_process_recorded():
    need_services()
    import redis

    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.flushdb()
    job = PendingJob.objects.create(task="orders.tasks.notify_departments", args=[1, ["quality"], "step"])
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "deliver_pending"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    job.refresh_from_db()
    assert job.status == PendingJob.Status.QUEUED and job.error == "", job.error
    assert broker.llen("celery") == 1  # the job's message is in the queue for a worker


def test_in_the_faults_step_a_missing_service_fails_instead_of_skipping(monkeypatch, settings):
    """`make test` (SQLite, no Redis) skips the worker tests with the reason; .ci/run's faults step sets
    FAULTS_REQUIRE_SERVICES, so there a missing Redis or PostgreSQL fails the run instead."""
    settings.REDIS_URL = ""
    monkeypatch.delenv("FAULTS_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs REDIS_URL"):
        need_services()
    monkeypatch.setenv("FAULTS_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="not skipped"):
        need_services()
    ci = (settings.BASE_DIR / ".ci/run").read_text()
    assert "FAULTS_REQUIRE_SERVICES=1" in ci and "pytest -m faults -p no:xdist --create-db" in ci
    assert "redis://127.0.0.1:6379/15" in ci
