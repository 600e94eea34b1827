"""Fault injection: Redis (broker and cache) unreachable for the web process (issue 10, "nothing lost").

Every write action answers without a server error within a few seconds; the jobs and e-mails it causes wait
in the database (common.models.PendingJob, OutboxMessage) and go out exactly once when the queue is back,
here: jobs switched back to inline and ``manage.py deliver_pending`` run (what the beat sweep does).
"""

import io
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from common import jobs
from common.models import PendingJob
from config.celery import app as celery_app
from customers.models import Customer, ImportJob
from delivery import printing
from delivery import services as delivery_services
from delivery.models import PrintJob
from orders import services as order_services
from orders.models import Acknowledgement, Order
from tests.customers.workbooks import row, xlsx
from tests.delivery.conftest import deliverable, issue, plan  # noqa: F401 - fixtures
from tests.orders.conftest import REVIEWERS, TODAY, customer, entered, products, sign  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.faults]

# Nothing listens here: connections are refused at once, as when Redis is stopped.
DOWN = "redis://127.0.0.1:6390/0"
FEW_SECONDS = 5


@pytest.fixture
def queue_down(settings):
    """Redis unreachable: broker (jobs) and cache alike, as configured in production (REDIS_URL)."""
    # Read before the settings change: the app's configuration is loaded from them on first use.
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager, celery_app.conf.broker_connection_timeout)
    settings.REDIS_URL = DOWN
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CACHES = {"default": {"BACKEND": "common.cache.ResilientRedisCache", "LOCATION": DOWN}}
    celery_app.conf.broker_url = DOWN
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_connection_timeout = 1
    # Connections another test opened (to another broker) are kept in pools: start new ones for this broker.
    pools = (celery_app._pool, celery_app.amqp._producer_pool)
    celery_app._pool = celery_app.amqp._producer_pool = None

    def back():
        """The queue is back: jobs run (inline here, as a worker would run them) when handed over."""
        settings.CELERY_TASK_ALWAYS_EAGER = True
        celery_app.conf.task_always_eager = True

    yield back
    celery_app.conf.broker_url, celery_app.conf.task_always_eager, celery_app.conf.broker_connection_timeout = saved
    celery_app._pool, celery_app.amqp._producer_pool = pools


class Timed:
    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.started
        assert self.seconds < FEW_SECONDS, f"took {self.seconds:.1f} s with the queue down"


def deliver(capture):
    with capture(execute=True):
        call_command("deliver_pending", stdout=io.StringIO())


def test_the_order_workflow_keeps_working_and_its_mails_go_out_once_the_queue_is_back(
    queue_down,
    client_for,
    entered,  # noqa: F811 - the fixture imported above
    users,
    mailoutbox,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    for user in users.values():
        user.email = f"{user.username}@factory.example"
        user.save(update_fields=["email"])
    order = entered()
    cs = client_for("cs")
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        response = cs.post(reverse("orders:submit", args=[order.number]), follow=True)
    assert response.status_code == 200
    assert "are waiting and will be sent as soon as the queue is back" in response.content.decode()
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        for reviewer in REVIEWERS:  # the last signature notifies the head
            sign(users, order, reviewer)
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        order_services.head_signoff(user=users["head"], order=order, revision_seen=1)
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        ack = order_services.order_confirm(user=users["cs"], order=order, revision_seen=1)

    assert mailoutbox == []  # nothing could go out …
    waiting = PendingJob.objects.filter(status="waiting")
    tasks = set(waiting.values_list("task", flat=True))
    assert {"orders.tasks.notify_departments", "orders.tasks.send_acknowledgement"} <= tasks  # … nothing lost

    queue_down()  # the queue is back
    deliver(django_capture_on_commit_callbacks)
    ack.refresh_from_db()
    order.refresh_from_db()
    assert ack.status == Acknowledgement.Status.SENT and order.status == Order.Status.CONFIRMED
    assert not PendingJob.objects.exclude(status="queued").exists()
    sent = [(m.subject, tuple(m.to)) for m in mailoutbox]
    assert len([s for s in sent if "acknowledgement" in s[0].lower()]) == 1
    assert len(sent) == len(set(sent)) > 1

    deliver(django_capture_on_commit_callbacks)  # the sweep again: nothing goes out twice
    assert [(m.subject, tuple(m.to)) for m in mailoutbox] == sent


def test_delivery_actions_keep_working_and_their_jobs_run_once_the_queue_is_back(
    queue_down,
    deliverable,  # noqa: F811 - the fixture imported above
    users,
    mailoutbox,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    with django_capture_on_commit_callbacks(execute=True):
        order = deliverable()
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        batch = plan(users, order, quantity="300", due=TODAY + timedelta(days=3))
        other = plan(users, order, position=2, quantity="100", due=TODAY + timedelta(days=3))
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        note = issue(users, (batch, "100"))
        second = issue(users, (other, "50"))
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        delivery_services.note_cancel(user=users["cs"], note=second, reason="客户改期 the customer moved the date")
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        job = printing.print_job_create(user=users["cs"], note_ids=[note.pk], layout="a4")
    job.refresh_from_db()
    assert job.status == PrintJob.Status.QUEUED and not job.pdf
    mails_before = len(mailoutbox)

    queue_down()
    deliver(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == PrintJob.Status.DONE and job.pdf
    assert PendingJob.objects.filter(task="delivery.note_tasks.print_notes").get().status == "queued"
    assert PendingJob.objects.filter(task="delivery.note_tasks.note_issued_notifications").count() == 2
    sent = len(mailoutbox)
    assert sent > mails_before  # the notes' notifications went out
    deliver(django_capture_on_commit_callbacks)
    assert len(mailoutbox) == sent


def test_an_import_waits_for_the_queue_and_runs_once_it_is_back(
    queue_down, client_for, django_capture_on_commit_callbacks
):
    admin = client_for("admin")
    upload = SimpleUploadedFile("customers.xlsx", xlsx([row("C-0001"), row("C-0002")]))
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("admin:customers_customer_import"), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert "are waiting and will be sent as soon as the queue is back" in response.content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED

    queue_down()
    deliver(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED, job.report
    assert Customer.objects.count() == 0


def test_a_page_that_queued_nothing_says_nothing(queue_down, client_for):
    response = client_for("cs").get(reverse("orders:list"), follow=True)
    assert response.status_code == 200
    assert "queue is back" not in response.content.decode()


def test_a_job_is_recorded_in_the_transaction_of_its_change(queue_down, users, django_capture_on_commit_callbacks):
    from django.db import transaction

    from orders import tasks

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            jobs.enqueue_on_commit(tasks.notify_departments, 1, ["quality"], "step")
            raise RuntimeError("the change is rolled back")
    assert not PendingJob.objects.exists()  # no job for a change that did not happen


def test_two_dispatchers_hand_a_job_over_once(queue_down, monkeypatch):
    from orders import tasks

    published = []
    monkeypatch.setattr(jobs, "_publish", lambda task, args, kwargs, task_id=None: published.append(task_id))
    job = PendingJob.objects.create(task=tasks.notify_departments.name, args=[1, ["quality"], "step"])
    assert jobs.hand_over(job.pk) and jobs.hand_over(job.pk)
    assert jobs.dispatch_pending() == {"queued": 0, "waiting": 0}
    assert published == [f"pendingjob-{job.pk}"]
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 1 and job.queued_at


def test_the_sweep_stops_at_the_first_refusal_and_keeps_the_reason(queue_down):
    from orders import tasks

    for _ in range(3):
        PendingJob.objects.create(task=tasks.notify_departments.name, args=[1, ["quality"], "step"])
    with Timed():
        assert jobs.dispatch_pending() == {"queued": 0, "waiting": 3}
    first, *others = PendingJob.objects.order_by("pk")
    assert first.attempts == 1 and first.error and first.status == "waiting"
    assert all(o.attempts == 0 for o in others)


def test_a_claim_left_by_a_process_that_died_is_handed_over_again(queue_down, monkeypatch):
    from orders import tasks

    published = []
    monkeypatch.setattr(jobs, "_publish", lambda task, args, kwargs, task_id=None: published.append(task_id))
    job = PendingJob.objects.create(
        task=tasks.notify_departments.name, args=[1, ["quality"], "step"], status="handing", claimed_at=timezone.now()
    )
    assert jobs.dispatch_pending()["queued"] == 0  # a fresh claim: another process is publishing it
    PendingJob.objects.filter(pk=job.pk).update(claimed_at=timezone.now() - jobs.STALE_CLAIM - timedelta(seconds=1))
    assert jobs.dispatch_pending()["queued"] == 1
    assert published == [f"pendingjob-{job.pk}"]


def test_the_cache_being_down_reads_as_empty_and_is_dropped_when_it_is_back(settings, monkeypatch):
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "common.cache.ResilientRedisCache", "LOCATION": DOWN}}
    cache = caches["default"]
    with Timed():
        assert cache.get("k", "default") == "default"
        cache.set("k", 1)
        cache.incr("k")
        assert cache.add("k", 1) is False
    assert cache._missed_write

    calls = []

    class FakeClient:
        def scan_iter(self, match, count):
            calls.append(("scan", match))
            return iter([b"orderreview:1:ontime:version"])

        def delete(self, *keys):
            calls.append(("delete", keys))

        def get(self, key):
            calls.append(("get", key))

    monkeypatch.setattr(cache._cache, "get_client", lambda *a, **k: FakeClient())
    assert cache.get("k") is None  # the first call that reaches Redis drops what may be stale first
    assert calls == [("scan", ":*:*"), ("delete", (b"orderreview:1:ontime:version",)), ("get", ":1:k")]
    assert not cache._missed_write


def test_production_settings_use_the_cache_that_survives_redis_being_down():
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json; from config import settings as s; "
        "print(json.dumps([s.CACHES['default']['BACKEND'], s.MIDDLEWARE]))"
    )
    env = {**os.environ, "REDIS_URL": DOWN}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    backend, middleware = json.loads(result.stdout.strip().splitlines()[-1])
    assert backend == "common.cache.ResilientRedisCache"
    messages_at = middleware.index("django.contrib.messages.middleware.MessageMiddleware")
    assert middleware.index("common.jobs.JobsWaitingMiddleware") > messages_at


def test_the_beat_sweep_hands_over_what_waited(queue_down, monkeypatch):
    from common.tasks import deliver_outbox
    from orders import tasks

    published = []
    monkeypatch.setattr(jobs, "_publish", lambda task, args, kwargs, task_id=None: published.append(task_id))
    job = PendingJob.objects.create(task=tasks.notify_departments.name, args=[1, ["quality"], "step"])
    deliver_outbox()
    assert published == [f"pendingjob-{job.pk}"]


def test_deliver_pending_says_how_many_jobs_it_handed_over_and_how_many_still_wait(queue_down):
    from orders import tasks

    PendingJob.objects.create(task=tasks.notify_departments.name, args=[1, ["quality"], "step"])
    out = io.StringIO()
    call_command("deliver_pending", stdout=out)
    assert "jobs handed to the queue 0, still waiting for the queue 1" in out.getvalue()


def test_a_request_waits_on_a_refusing_queue_once_not_once_per_job(queue_down, monkeypatch):
    from orders import tasks

    tries = []

    def refuse(task, args, kwargs, task_id=None):
        tries.append(task_id)
        raise OSError("connection timed out")

    monkeypatch.setattr(jobs, "_publish", refuse)
    first, second = (
        PendingJob.objects.create(task=tasks.notify_departments.name, args=[n, ["quality"], "step"]) for n in (1, 2)
    )
    token = jobs._request_jobs.set({"jobs": [first.pk, second.pk], "nudge_failed": False, "queue_failed": False})
    try:
        assert not jobs.hand_over(first.pk) and not jobs.hand_over(second.pk)
    finally:
        jobs._request_jobs.reset(token)
    assert tries == [f"pendingjob-{first.pk}"]
    assert set(PendingJob.objects.values_list("status", flat=True)) == {"waiting"}
