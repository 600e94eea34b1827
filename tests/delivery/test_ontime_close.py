"""Closed months of the on-time rate (§5.5.2): closed a set number of days after their end and kept as a record;
a later change to a closed month is a restatement with its reason, never silent."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from delivery import ontime, services
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine, OnTimeMonth, OnTimeRestatement
from tests.delivery.conftest import TODAY, issue
from tests.delivery.test_ontime import Build

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.5.2")]


@pytest.fixture
def build(users, customer, products):  # noqa: F811
    return Build(users, customer, products)


def test_a_month_closes_the_set_number_of_days_after_its_end_and_is_kept(build, settings):
    settings.ONTIME_CLOSE_DAYS = 5
    may = date(2025, 5, 1)
    build.deliver(build.batch(date(2025, 5, 20)), date(2025, 5, 20))
    build.batch(date(2025, 5, 28))  # never delivered
    ontime.months_close(today=date(2025, 6, 5))
    assert not OnTimeMonth.objects.filter(month=may).exists()  # five days after May 31 is still open
    closed = ontime.months_close(today=date(2025, 6, 6))
    record = OnTimeMonth.objects.get(month=may)
    assert [c.month for c in closed] == [may]
    assert (record.due, record.on_time, record.delivered_late, record.not_delivered) == (2, 1, 0, 1)
    assert ontime.months_close(today=date(2025, 6, 7)) == []  # kept: closing again changes nothing
    assert OnTimeMonth.objects.filter(month=may).count() == 1


@pytest.fixture
def closed_batch(users, order):
    """A batch of the signed-off order due in a month that is closed today, not delivered."""
    month = ontime.add_months(ontime.month_start(TODAY), -2)
    batch = DeliveryBatch.objects.create(
        line=order.lines.get(position=1),
        quantity=Decimal("100"),
        due_date=month + timedelta(days=9),
        created_by=users["cs"],
    )
    ontime.months_close(today=TODAY)
    record = OnTimeMonth.objects.get(month=month)
    assert (record.due, record.on_time) == (1, 0)
    batch.record = record
    return batch


def test_a_note_dated_back_into_a_closed_month_is_a_restatement_with_its_reason(users, closed_batch, client_for):
    record = closed_batch.record
    note = issue(users, (closed_batch, "100"), delivery_date=closed_batch.due_date, backdate_reason="补录漏开的送货单")
    restatement = OnTimeRestatement.objects.get()
    assert restatement.closed_month == record and (restatement.due, restatement.on_time) == (1, 1)
    assert "补录漏开的送货单" in restatement.reason and note.number in restatement.reason
    assert restatement.recorded_by == users["cs"]
    record.refresh_from_db()
    assert (record.due, record.on_time) == (1, 0)  # the record as it closed is kept
    page = client_for("qa").get(reverse("delivery:ontime")).content.decode()
    assert 'data-testid="restated"' in page and "补录漏开的送货单" in page
    assert 'data-testid="unexplained"' not in page

    services.note_cancel(user=users["cs"], note=note, reason="单据重复")
    latest = OnTimeRestatement.objects.order_by("-pk").first()
    assert (latest.due, latest.on_time) == (1, 0) and "单据重复" in latest.reason
    assert OnTimeRestatement.objects.count() == 2


def test_a_late_delivery_of_a_closed_months_batch_restates_nothing(users, closed_batch):
    issue(users, (closed_batch, "100"))  # today: delivered late, the month's rate stands
    assert not OnTimeRestatement.objects.exists()


def test_a_change_made_outside_the_services_is_shown_then_recorded_by_the_daily_check(users, closed_batch, client_for):
    note = DeliveryNote.objects.create(
        number="DN-HAND-1",
        customer=closed_batch.line.order.customer,
        address=closed_batch.line.order.delivery_address,
        delivery_date=closed_batch.due_date,
        issued_by=users["cs"],
    )
    DeliveryNoteLine.objects.create(note=note, batch=closed_batch, quantity=Decimal("100"))
    page = client_for("cs").get(reverse("delivery:ontime")).content.decode()
    assert 'data-testid="unexplained"' in page  # shown at once, not silently replaced
    from delivery.tasks import close_ontime_months

    close_ontime_months()
    restatement = OnTimeRestatement.objects.get()
    assert (restatement.due, restatement.on_time) == (1, 1) and "without a recorded reason" in restatement.reason
    page = client_for("cs").get(reverse("delivery:ontime")).content.decode()
    assert 'data-testid="unexplained"' not in page and 'data-testid="restated"' in page


def test_the_daily_job_closes_the_months(settings):
    assert settings.CELERY_BEAT_SCHEDULE["ontime-close-months"]["task"] == "delivery.tasks.close_ontime_months"
    assert settings.ONTIME_CLOSE_DAYS == 5
