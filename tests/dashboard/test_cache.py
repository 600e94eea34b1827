"""The figures are counted in the background every few minutes and kept; the page shows those kept with the moment
they were counted, queues one refresh when they are older (a queue that is down changes nothing on the page),
"Refresh" counts them again at once, and a new day never shows yesterday's figures."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError

from complaints.models import Complaint
from dashboard import snapshot, tasks

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2")]


@pytest.fixture
def kept(monkeypatch):
    monkeypatch.setattr("dashboard.snapshot.KEEP_SECONDS", 24 * 3600)
    cache.delete(snapshot.KEY)
    cache.delete(snapshot.QUEUED_KEY)
    yield
    cache.delete(snapshot.KEY)
    cache.delete(snapshot.QUEUED_KEY)


def _received(client) -> int:
    figures = client.get("/dashboard/").context["complaints"]
    return {value: n for value, _label, n in figures.by_status}["received"]


def _age(seconds: int) -> None:
    """The figures kept were counted ``seconds`` ago."""
    kept = cache.get(snapshot.KEY)
    kept["at"] = timezone.now() - timedelta(seconds=seconds)
    cache.set(snapshot.KEY, kept)


def test_figures_are_kept_until_refreshed(kept, client_for, record, make_customer):
    client = client_for("head")
    acme = make_customer("ACME-01")
    record(acme)
    assert _received(client) == 1
    record(acme)
    with mock.patch("dashboard.tasks.refresh_figures.delay") as delay:
        assert _received(client) == 1  # kept: fresh, nothing queued
    delay.assert_not_called()
    response = client.get("/dashboard/?refresh=1")
    assert {v: n for v, _l, n in response.context["complaints"].by_status}["received"] == 2
    assert _received(client) == 2  # and kept again
    assert 'data-testid="dash-as-of"' in response.content.decode()


def test_older_figures_are_shown_and_one_refresh_is_queued(kept, client_for, record, make_customer):
    client = client_for("head")
    acme = make_customer("ACME-01")
    record(acme)
    assert _received(client) == 1
    record(acme)
    _age(snapshot.REFRESH_SECONDS + 1)
    with mock.patch("dashboard.tasks.refresh_figures.delay") as delay:
        assert _received(client) == 1  # the page does not wait for the count
        assert _received(client) == 1
    assert delay.call_count == 1  # once, however many open the page meanwhile
    tasks.refresh_figures()  # the worker
    assert _received(client) == 2


def test_a_queue_that_is_down_leaves_the_page_with_the_figures_kept(kept, client_for, record, make_customer):
    client = client_for("head")
    record(make_customer("ACME-01"))
    assert _received(client) == 1
    _age(snapshot.REFRESH_SECONDS + 1)
    down = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch("dashboard.tasks.refresh_figures.delay", side_effect=down) as delay:
        response = client.get("/dashboard/")
        assert response.status_code == 200 and _received(client) == 1
    assert delay.call_count == 2  # not marked as queued: asked again on the next request


def test_beat_counts_them_every_few_minutes(kept, record, make_customer):
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-figures"]
    assert entry["task"] == "dashboard.tasks.refresh_figures" and entry["schedule"] == snapshot.REFRESH_SECONDS
    record(make_customer("ACME-01"))
    tasks.refresh_figures.delay()  # inline in the tests; a worker with Redis in production
    kept_figures = cache.get(snapshot.KEY)
    assert {v: n for v, _l, n in kept_figures["complaints"].by_status}["received"] == 1


def test_a_new_day_counts_again(kept, client_for, record, make_customer, monkeypatch):
    client = client_for("head")
    record(make_customer("ACME-01"))
    assert _received(client) == 1
    Complaint.objects.all().delete()
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr("dashboard.snapshot.timezone.localdate", lambda *args: tomorrow)
    assert _received(client) == 0
