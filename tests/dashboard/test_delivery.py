"""The dashboard's delivery figures equal those of the pages behind them: order lines at risk (§5.4.1) and due
tomorrow and not ready (§5.5.1) as the delivery-progress sheet counts them, delivery notes not signed back as the
note list's filter (§5.8.1), processing-trade transfers still to complete as the reports page (§5.9.2)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import DeliveryNote
from delivery.progress_sheet import summary_counts
from tests.delivery.conftest import issue, plan

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clause("5.4.1"),
    pytest.mark.clause("5.5.1"),
    pytest.mark.clause("5.8.1"),
    pytest.mark.clause("5.9.2"),
]

TODAY = timezone.localdate()


@pytest.fixture
def goods(order, users, build):
    """The signed-off order: 400 of line 1 due tomorrow and not in stock, 200 of line 2 delivered today (a note
    not signed back). A transfer customer with a delivered note (its transfer not completed) and an overdue
    batch never delivered."""
    plan(users, order, position=1, quantity="400", due=TODAY + timedelta(days=1))
    delivered = plan(users, order, position=2, quantity="200", due=TODAY + timedelta(days=5))
    issue(users, (delivered, "200"))
    transfer = build.customer("T-01")
    transfer.trade = "transfer"
    transfer.save(update_fields=["trade"])
    build.deliver(build.batch(transfer, TODAY - timedelta(days=3)), TODAY - timedelta(days=3))
    build.batch(transfer, TODAY - timedelta(days=2))  # overdue: at risk
    return order


def test_lines_at_risk_and_not_ready_are_the_sheets_counts(goods, dashboard, page):
    delivery = dashboard()["delivery"]
    summary = page(reverse("delivery:sheet"))["summary"]
    assert delivery.at_risk == summary.at_risk >= 1
    assert delivery.not_ready_tomorrow == summary.not_ready_tomorrow == 1
    assert delivery.open_lines == summary.open_lines
    assert page(f"{reverse('delivery:sheet')}?risk=1")["page"].paginator.count == delivery.at_risk
    assert summary_counts(TODAY).at_risk == delivery.at_risk


def test_notes_not_signed_back_are_the_note_lists_filter(goods, dashboard, page):
    delivery = dashboard()["delivery"]
    assert delivery.unsigned_notes == 2  # the order's note and the transfer customer's
    listed = page(f"{reverse('delivery:notes')}?status=unsigned")["page"].paginator.count
    assert delivery.unsigned_notes == listed == DeliveryNote.objects.filter(status="issued").count()
    note = DeliveryNote.objects.filter(customer__code="T-01").get()
    note.status = DeliveryNote.Status.CANCELLED  # a cancelled note is not waiting for its signed copy
    note.save(update_fields=["status"])
    assert dashboard()["delivery"].unsigned_notes == 1


def test_open_transfers_are_the_reports_pages(goods, dashboard, page):
    delivery = dashboard()["delivery"]
    assert delivery.open_transfers == len(page(reverse("delivery:reports"))["data"].transfers) == 1
