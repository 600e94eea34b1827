"""One meaning of "due", "overdue" and "ready" (§5.4, §5.5): the progress sheet, My work, the readiness
announcement and the on-time rate agree; a batch's due date is the customer's date and moves only with a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from common.errors import DomainError
from delivery import ontime, services
from delivery.models import BatchDueChange, DeliveryBatch
from delivery.notify import announce_not_ready
from delivery.progress_sheet import open_lines, summary_counts
from delivery.selectors import lines_not_ready, my_work, overdue_batches, overdue_unplanned
from orders.models import Order, OrderLine, OrderRevision
from tests.delivery.conftest import TODAY, issue, plan, stock

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.5.1"), pytest.mark.clause("5.4.2")]
TOMORROW = TODAY + timedelta(days=1)


def sheet_row(line):
    return next(r for r in open_lines(TODAY) if r.line_id == line.pk)


def section(user, title):
    return next(s for s in my_work(user) if str(s.title) == title)


def at_risk_in_my_work(user, line):
    items = section(user, "Order lines at risk").items
    return next((i for i in items if f"#line-{line.pk}" in i.url), None)


def late_in_rate(day):
    rate = ontime.month_rate(day, today=TODAY)
    return rate.late


def totals(*days):
    """(due, late) summed over the months of ``days`` (each month once)."""
    rates = [ontime.month_rate(month, today=TODAY) for month in {ontime.month_start(d) for d in days}]
    return sum(r.due for r in rates), sum(r.late for r in rates)


def set_due(batch, day):
    """Time passes: the batch planned for a future date is now past it."""
    batch.refresh_from_db()
    batch.due_date = day
    batch.save(update_fields=["due_date"])  # not the service (a past date); the line's stored next due follows
    return batch


# --- Every committed line is covered -----------------------------------------------------------------------


def test_a_line_nobody_planned_counts_as_one_batch_due_on_its_customer_date(users, order):
    line = order.lines.get(position=1)
    past = TODAY - timedelta(days=3)
    OrderLine.objects.filter(pk=line.pk).update(confirmed_date=past)
    assert list(overdue_unplanned(TODAY).values_list("pk", flat=True)) == [line.pk]
    # The rate: one batch due that day, not delivered.
    rate = ontime.month_rate(past, today=TODAY)
    assert (rate.due, rate.not_delivered) == (1, 1)
    assert [x.pk for x in ontime.late_unplanned(past, today=TODAY)] == [line.pk]
    # The sheet and My work: overdue, on the same date.
    row = sheet_row(line)
    assert row.due_date == past and "overdue" in row.risks
    item = at_risk_in_my_work(users["cs"], line)
    assert item is not None and item.overdue


def test_a_partly_planned_line_counts_its_unplanned_part_as_a_batch(users, order):
    line = order.lines.get(position=1)
    plan(users, order, quantity="400", due=line.requested_date)
    OrderLine.objects.filter(pk=line.pk).update(confirmed_date=line.requested_date)
    set_due(DeliveryBatch.objects.get(line=line), TODAY - timedelta(days=2))
    OrderLine.objects.filter(pk=line.pk).update(confirmed_date=TODAY - timedelta(days=1))
    # The batch and the 600 nobody planned: two late batches.
    assert totals(TODAY - timedelta(days=2), TODAY - timedelta(days=1)) == (2, 2)


# --- Overdue is overdue everywhere ------------------------------------------------------------------------


def test_a_batch_past_its_due_date_is_overdue_on_the_sheet_in_my_work_and_in_the_rate(users, order):
    line = order.lines.get(position=1)  # the customer's date is a month away
    batch = set_due(plan(users, order, quantity="400", due=TODAY), TODAY - timedelta(days=1))
    assert list(overdue_batches(TODAY)) == [batch]
    row = sheet_row(line)
    assert "overdue" in row.risks and row.due_date == batch.due_date
    assert at_risk_in_my_work(users["marketing"], line).overdue
    assert late_in_rate(batch.due_date) == 1
    assert summary_counts(TODAY).overdue == 1


def test_a_line_whose_batches_are_delivered_by_their_dates_is_not_overdue(users, order):
    line = order.lines.get(position=1)
    batch = plan(users, order, quantity="1000", due=TODAY)
    issue(users, (batch, "600"))
    assert "overdue" not in sheet_row(line).risks
    set_due(batch, TODAY - timedelta(days=1))  # 400 outstanding, past the date
    assert "overdue" in sheet_row(line).risks and late_in_rate(batch.due_date) == 1


# --- Ready --------------------------------------------------------------------------------------------------


def test_ready_means_the_outstanding_quantity_is_in_stock_not_that_a_note_exists(users, order):
    line = order.lines.get(position=1)
    batch = plan(users, order, quantity="300", due=TOMORROW)
    issue(users, (batch, "100"))  # warehoused 100, delivered 100: nothing in stock for the other 200
    assert list(lines_not_ready(TOMORROW)) == [line]
    stock(users, line, "150")
    assert list(lines_not_ready(TOMORROW)) == [line]  # 150 in stock, 200 outstanding
    stock(users, line, "50")
    assert not lines_not_ready(TOMORROW).exists()


def test_an_overdue_batch_takes_the_stock_before_tomorrows(users, order):
    line = order.lines.get(position=1)
    set_due(plan(users, order, quantity="200", due=TODAY), TODAY - timedelta(days=1))
    plan(users, order, quantity="100", due=TOMORROW)
    stock(users, line, "200")
    assert list(lines_not_ready(TOMORROW)) == [line]
    stock(users, line, "100")
    assert not lines_not_ready(TOMORROW).exists()


def test_the_sheet_counts_equal_my_work_and_the_announcement(users, order, mailoutbox):
    late, ready = order.lines.get(position=1), order.lines.get(position=2)
    plan(users, order, position=1, quantity="100", due=TOMORROW)  # nothing in stock: not ready
    plan(users, order, position=2, quantity="50", due=TOMORROW)
    stock(users, ready, "50")  # ready
    # A line of another order nobody planned, due tomorrow: one more not ready.
    other = Order.objects.create(
        number="SO-X-1", customer=order.customer, customer_po="X", status=Order.Status.CONFIRMED, created_by=users["cs"]
    )
    unplanned = OrderLine.objects.create(
        order=other, position=1, product=late.product, quantity=Decimal("10"), unit_price=1, requested_date=TOMORROW
    )
    expected = {late.pk, unplanned.pk}
    assert {x.pk for x in lines_not_ready(TOMORROW)} == expected
    work = section(users["cs"], "Due tomorrow and not ready")
    assert work.total == summary_counts(TODAY).not_ready_tomorrow == 2
    assert section(users["cs"], "Order lines at risk").total == summary_counts(TODAY).at_risk
    users["cs"].email = "cs@factory.example"
    users["cs"].save()
    assert announce_not_ready(TOMORROW) == 1
    body = mailoutbox[0].body
    assert f"{order.number}/1" in body and "SO-X-1/1" in body and f"{order.number}/2" not in body
    page = reverse("delivery:sheet")
    from django.test import Client

    client = Client()
    client.force_login(users["cs"])
    html = client.get(page).content.decode()
    assert 'data-testid="summary-not-ready">2<' in html


# --- A batch's due date -------------------------------------------------------------------------------------


def test_a_batch_due_after_the_customers_date_needs_the_reason_and_keeps_it(users, order):
    line = order.lines.get(position=1)
    later = line.requested_date + timedelta(days=5)
    with pytest.raises(DomainError, match="needs the reason") as refused:
        services.batch_plan(user=users["cs"], line=line, quantity=Decimal("100"), due_date=later)
    assert refused.value.code == "reason" and not DeliveryBatch.objects.exists()
    batch = services.batch_plan(
        user=users["cs"], line=line, quantity=Decimal("100"), due_date=later, reason="客户邮件同意分批延后 5 天"
    )
    assert batch.due_reason == "客户邮件同意分批延后 5 天"
    earlier = services.batch_plan(user=users["cs"], line=line, quantity=Decimal("100"), due_date=TODAY)
    assert earlier.due_reason == ""


def test_the_confirmed_date_is_the_customers_date(users, order):
    line = order.lines.get(position=1)
    OrderLine.objects.filter(pk=line.pk).update(confirmed_date=line.requested_date + timedelta(days=3))
    line.refresh_from_db()
    services.batch_plan(user=users["cs"], line=line, quantity=Decimal("100"), due_date=line.confirmed_date)
    with pytest.raises(DomainError, match="needs the reason"):
        services.batch_plan(
            user=users["cs"], line=line, quantity=Decimal("100"), due_date=line.confirmed_date + timedelta(days=1)
        )


def test_a_batch_cannot_be_planned_in_the_past(users, order):
    with pytest.raises(DomainError, match="cannot be due in the past"):
        plan(users, order, due=TODAY - timedelta(days=1))


def test_what_is_late_unplanned_is_planned_on_its_date_and_stays_late(users, order):
    line = order.lines.get(position=1)
    past = TODAY - timedelta(days=4)
    OrderLine.objects.filter(pk=line.pk).update(confirmed_date=past)
    line.refresh_from_db()
    with pytest.raises(DomainError, match="late since then"):
        services.batch_plan(
            user=users["cs"], line=line, quantity=Decimal("1000"), due_date=TODAY + timedelta(days=3), reason="x"
        )
    batch = services.batch_plan(user=users["cs"], line=line, quantity=Decimal("1000"), due_date=past)
    assert batch.due_date == past and late_in_rate(past) == 1


def test_moving_a_batch_later_needs_a_reason_and_is_recorded(users, order):
    batch = plan(users, order, quantity="100", due=TOMORROW)
    with pytest.raises(DomainError, match="needs the reason") as refused:
        services.batch_move(user=users["cs"], batch=batch, due_date=TOMORROW + timedelta(days=3))
    assert refused.value.code == "reason" and not BatchDueChange.objects.exists()
    change = services.batch_move(
        user=users["cs"], batch=batch, due_date=TOMORROW + timedelta(days=3), reason="客户要求延后三天"
    )
    batch.refresh_from_db()
    assert batch.due_date == TOMORROW + timedelta(days=3)
    assert (change.old_date, change.new_date, change.reason, change.changed_by) == (
        TOMORROW,
        TOMORROW + timedelta(days=3),
        "客户要求延后三天",
        users["cs"],
    )
    earlier = services.batch_move(user=users["cs"], batch=batch, due_date=TODAY)
    assert earlier.reason == "" and BatchDueChange.objects.count() == 2
    with pytest.raises(DomainError, match="in the past"):
        services.batch_move(user=users["cs"], batch=batch, due_date=TODAY - timedelta(days=1))


def test_a_late_batch_cannot_be_moved_to_be_on_time(users, order):
    batch = set_due(plan(users, order, quantity="100", due=TODAY), TODAY - timedelta(days=2))
    with pytest.raises(DomainError, match="cannot be moved"):
        services.batch_move(user=users["cs"], batch=batch, due_date=TODAY + timedelta(days=5), reason="客户同意")
    batch.refresh_from_db()
    assert batch.due_date == TODAY - timedelta(days=2) and late_in_rate(batch.due_date) == 1


def test_the_order_page_moves_a_batch_and_shows_the_move(client_for, users, order):
    batch = plan(users, order, quantity="100", due=TOMORROW)
    client = client_for("cs")
    response = client.post(
        reverse("delivery:batch_move", args=[batch.pk]),
        {"due_date": (TOMORROW + timedelta(days=2)).isoformat(), "reason": "客户仓库盘点"},
        follow=True,
    )
    page = response.content.decode()
    assert BatchDueChange.objects.filter(batch=batch, reason="客户仓库盘点").exists()
    assert 'data-testid="move"' in page and "客户仓库盘点" in page


# --- Cancelled orders ---------------------------------------------------------------------------------------


def cancel(order, users, on):
    OrderRevision.objects.create(
        order=order, number=order.revision + 1, kind=OrderRevision.Kind.CANCEL, snapshot={}, created_by=users["cs"]
    )
    from datetime import datetime, time

    from django.utils import timezone

    moment = timezone.make_aware(datetime.combine(on, time(10)))
    OrderRevision.objects.filter(order=order, kind=OrderRevision.Kind.CANCEL).update(created_at=moment)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED, revision=order.revision + 1)


def test_a_cancelled_orders_batches_late_before_the_cancellation_stay_late(users, order):
    late = set_due(plan(users, order, quantity="100", due=TODAY), TODAY - timedelta(days=3))
    plan(users, order, quantity="100", due=TOMORROW)  # not due yet when cancelled: not counted
    line2 = order.lines.get(position=2)
    OrderLine.objects.filter(pk=line2.pk).update(confirmed_date=TODAY - timedelta(days=2))  # unplanned, late
    days = (late.due_date, TODAY - timedelta(days=2))
    assert totals(*days) == (2, 2)  # the late batch and the late unplanned line
    cancel(order, users, on=TODAY - timedelta(days=1))
    assert totals(*days) == (2, 2)
    assert not ontime.due_batches(TOMORROW, TOMORROW).exists()


def test_the_analysis_report_counts_what_the_rate_counts(users, order):
    from improvement.report import _on_time

    line = order.lines.get(position=2)
    OrderLine.objects.filter(pk=line.pk).update(confirmed_date=TODAY - timedelta(days=2))  # unplanned, late
    late = set_due(plan(users, order, quantity="100", due=TODAY), TODAY - timedelta(days=3))
    start = ontime.month_start(late.due_date)
    due, on_time = _on_time(start, TODAY - timedelta(days=1), TODAY)[order.customer_id]
    assert (due, due - on_time) == totals(late.due_date, TODAY - timedelta(days=2)) == (2, 2)
