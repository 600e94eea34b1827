from unittest import mock

import pytest
from django.db.utils import OperationalError


@pytest.mark.django_db
def test_it_reports_database_ok_and_inline_queue_without_redis(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "queue": "inline", "status": "ok"}


@pytest.mark.django_db
def test_it_reports_a_queue_that_cannot_be_reached_as_down(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["queue"] == "down"


@pytest.mark.django_db
def test_it_answers_503_when_the_database_is_unreachable(client):
    with mock.patch("common.views.connection.cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_it_needs_no_login(client, db):
    assert client.get("/healthz").status_code == 200


def test_it_warns_signed_in_users_when_the_queue_is_down(client_for, settings, monkeypatch):
    monkeypatch.setattr("common.jobs._last_state", None)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    page = client_for("cs").get("/work/").content.decode()
    assert 'data-testid="queue-down"' in page


def test_it_shows_no_queue_warning_when_jobs_run_inline(client_for, monkeypatch):
    monkeypatch.setattr("common.jobs._last_state", None)
    page = client_for("cs").get("/work/").content.decode()
    assert 'data-testid="queue-down"' not in page
