"""Customer Service chases the customer's signed receipt of a sample note in My work after the configured number of
days, exactly as for delivery notes' sign-backs (§5.8.1, 送样单据的回执情况)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from samples import services
from samples.models import SampleNote
from tests.samples.conftest import TODAY, deliver, receive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.8.1")]

TITLE = "Sample notes to chase for the signed receipt"


def delivered_days_ago(users, sample, days):
    note = deliver(users, sample)
    SampleNote.objects.filter(pk=note.pk).update(delivery_date=TODAY - timedelta(days=days))
    note.refresh_from_db()
    return note


def section(client):
    page = client.get(reverse("accounts:my_work")).content.decode()
    assert TITLE in page
    start = page.index(TITLE)
    return page[start : start + 3000]


def test_an_unsigned_note_is_chased_once_the_configured_days_have_passed(client_for, users, sample, settings):
    settings.SIGNBACK_CHASE_DAYS = 3  # the setting delivery notes' sign-backs use
    young = delivered_days_ago(users, sample, 2)
    client = client_for("cs")
    assert young.number not in section(client)
    SampleNote.objects.filter(pk=young.pk).update(delivery_date=TODAY - timedelta(days=3))
    assert young.number in section(client)
    settings.SIGNBACK_CHASE_DAYS = 5
    assert young.number not in section(client)


def test_a_signed_or_cancelled_note_is_no_longer_chased(client_for, users, sample, customer, products, settings):
    from tests.samples.conftest import ask

    settings.SIGNBACK_CHASE_DAYS = 3
    signed = delivered_days_ago(users, sample, 4)
    other = ask(users, customer, products["lamp"], kind="changed")
    cancelled = delivered_days_ago(users, other, 4)
    client = client_for("cs")
    assert signed.number in section(client) and cancelled.number in section(client)
    receive(users, signed)
    services.note_cancel(user=users["cs"], note=cancelled, reason="重发")
    shown = section(client)
    assert signed.number not in shown and cancelled.number not in shown


def test_only_customer_service_is_asked_to_chase(client_for, users, sample, settings):
    settings.SIGNBACK_CHASE_DAYS = 3
    note = delivered_days_ago(users, sample, 10)
    for name in ("tech", "marketing", "qa", "warehouse"):
        page = client_for(name).get(reverse("accounts:my_work")).content.decode()
        assert TITLE not in page and note.number not in page, name


def test_customer_service_sees_the_samples_still_to_deliver(client_for, users, sample):
    page = client_for("cs").get(reverse("accounts:my_work")).content.decode()
    assert "Samples to deliver" in page and sample.get_absolute_url() in page
    deliver(users, sample)
    page = client_for("cs").get(reverse("accounts:my_work")).content.decode()
    assert sample.get_absolute_url() not in page.split("Samples to deliver", 1)[1][:2000]
