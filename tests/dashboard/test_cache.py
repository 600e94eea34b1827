"""The figures are counted together and kept for five minutes (the page says when they were counted); "Refresh"
counts them again at once; a new day never shows yesterday's figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Complaint

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2")]


@pytest.fixture
def cached(monkeypatch):
    monkeypatch.setattr("dashboard.views.CACHE_SECONDS", 300)


def _received(client) -> int:
    figures = client.get("/dashboard/").context["complaints"]
    return {value: n for value, _label, n in figures.by_status}["received"]


def test_figures_are_kept_until_refreshed(cached, client_for, record, make_customer):
    client = client_for("head")
    acme = make_customer("ACME-01")
    record(acme)
    assert _received(client) == 1
    record(acme)
    assert _received(client) == 1  # kept
    response = client.get("/dashboard/?refresh=1")
    assert {v: n for v, _l, n in response.context["complaints"].by_status}["received"] == 2
    assert _received(client) == 2  # and kept again
    assert 'data-testid="dash-as-of"' in response.content.decode()


def test_a_new_day_counts_again(cached, client_for, record, make_customer, monkeypatch):
    client = client_for("head")
    record(make_customer("ACME-01"))
    assert _received(client) == 1
    Complaint.objects.all().delete()
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr("dashboard.views.timezone.localdate", lambda *args: tomorrow)
    assert _received(client) == 0
