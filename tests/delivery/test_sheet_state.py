"""The delivery-progress sheet, its counts and the readiness of lines read each batch's stored delivery state
(``delivered_quantity``): they must give what summing the issued notes gives, on a mixed set of lines."""

from datetime import timedelta
from decimal import Decimal

import pytest

from delivery import services
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
from delivery.progress_sheet import open_lines, summarize, summary_counts
from delivery.selectors import batches_with_delivery, lines_not_ready
from orders.models import OrderLine
from tests.delivery.conftest import issue, plan, stock
from tests.orders.conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.4.2")]

TOMORROW = TODAY + timedelta(days=1)


def delivered_from_notes() -> dict[int, Decimal]:
    """{batch pk: quantity of its issued note lines}: the definition, from the notes themselves."""
    totals: dict[int, Decimal] = {}
    for note_line in DeliveryNoteLine.objects.filter(note__status=DeliveryNote.Status.ISSUED):
        totals[note_line.batch_id] = totals.get(note_line.batch_id, Decimal(0)) + note_line.quantity
    return totals


def reference_rows(today) -> dict[int, tuple]:
    """{line pk: (delivered, outstanding, due)} of the open lines, computed in Python from the notes."""
    delivered = delivered_from_notes()
    rows = {}
    for line in OrderLine.objects.all():
        batches = list(DeliveryBatch.objects.filter(line=line))
        line_delivered = sum((delivered.get(b.pk, Decimal(0)) for b in batches), Decimal(0))
        if line.quantity - line_delivered <= 0:
            continue
        dues = [b.due_date for b in batches if b.quantity - delivered.get(b.pk, Decimal(0)) > 0]
        if line.quantity - sum((b.quantity for b in batches), Decimal(0)) > 0:
            dues.append(line.confirmed_date or line.requested_date)
        rows[line.pk] = (line_delivered, line.quantity - line_delivered, min(dues))
    return rows


def reference_not_ready(day) -> set[int]:
    delivered = delivered_from_notes()
    result = set()
    for line in OrderLine.objects.select_related("progress"):
        batches = list(DeliveryBatch.objects.filter(line=line))
        unplanned = max(line.quantity - sum((b.quantity for b in batches), Decimal(0)), Decimal(0))
        customer_day = line.confirmed_date or line.requested_date

        def outstanding(batch):
            return batch.quantity - delivered.get(batch.pk, Decimal(0))

        on_day = sum((outstanding(b) for b in batches if b.due_date == day), Decimal(0))
        on_day += unplanned if customer_day == day else 0
        needed = sum((outstanding(b) for b in batches if b.due_date <= day), Decimal(0))
        needed += unplanned if customer_day <= day else 0
        progress = getattr(line, "progress", None)
        stock_now = (progress.warehoused if progress else Decimal(0)) - sum(
            (delivered.get(b.pk, Decimal(0)) for b in batches), Decimal(0)
        )
        if on_day > 0 and needed - stock_now > 0:
            result.add(line.pk)
    return result


@pytest.fixture
def mixed(users, deliverable):
    """Line 1 (1000): a batch delivered in two notes, a batch partly delivered beside a cancelled note, 300
    unplanned. Line 2 (500): one batch due tomorrow, nothing delivered. A second order: a line delivered in full
    (not open) and a line with a cancelled note only, overdue."""
    order = deliverable()
    twice = plan(users, order, 1, "400", due=TODAY + timedelta(days=3))
    issue(users, (twice, "150"))
    issue(users, (twice, "250"))
    partly = plan(users, order, 1, "300", due=TODAY + timedelta(days=2))
    issue(users, (partly, "100"))
    cancelled = issue(users, (partly, "120"))
    services.note_cancel(user=users["cs"], note=cancelled, reason="地址错误 wrong address")
    plan(users, order, 2, "500", due=TOMORROW)
    stock(users, order.lines.get(position=2), "200")  # short for tomorrow

    other = deliverable()
    full = plan(users, other, 1, "1000", due=TODAY + timedelta(days=5))
    issue(users, (full, "600"))
    issue(users, (full, "400"))
    late = plan(users, other, 2, "500", due=TODAY + timedelta(days=4))
    services.note_cancel(user=users["cs"], note=issue(users, (late, "200")), reason="重复 twice")
    # Overdue: the batch and line 1's unplanned part are past their dates (moved in the database, as time passes).
    late.refresh_from_db()
    late.due_date = TODAY - timedelta(days=2)
    late.save(update_fields=["due_date"])
    OrderLine.objects.filter(pk=order.lines.get(position=1).pk).update(
        requested_date=TODAY - timedelta(days=1), confirmed_date=None
    )
    return order, other


def test_it_keeps_the_batch_state_equal_to_the_notes(mixed):
    delivered = delivered_from_notes()
    for batch in batches_with_delivery():
        assert batch.delivered == delivered.get(batch.pk, Decimal(0))
        assert batch.outstanding == batch.quantity - batch.delivered


def test_it_shows_the_rows_the_notes_give(mixed):
    expected = reference_rows(TODAY)
    rows = {row.line_id: (row.delivered, row.outstanding, row.due_date) for row in open_lines(TODAY)}
    assert rows == expected
    order, other = mixed
    assert other.lines.get(position=1).pk not in rows  # delivered in full in two notes
    line1 = order.lines.get(position=1)
    assert rows[line1.pk] == (Decimal(500), Decimal(500), TODAY - timedelta(days=1))  # the cancelled 120 not counted
    assert rows[other.lines.get(position=2).pk][0] == 0


def test_it_counts_what_the_rows_count(mixed):
    rows = open_lines(TODAY)
    summary = summary_counts(TODAY)
    assert summary == summarize(rows, TODAY)
    assert summary.open_lines == len(reference_rows(TODAY)) == 3
    assert summary.overdue == 2
    assert summary.due_tomorrow == 1


def test_it_finds_the_lines_not_ready_the_notes_give(mixed):
    for day in (TODAY - timedelta(days=1), TODAY, TOMORROW, TODAY + timedelta(days=2), TODAY + timedelta(days=3)):
        assert set(lines_not_ready(day).values_list("pk", flat=True)) == reference_not_ready(day), day
    order, _other = mixed
    assert order.lines.get(position=2).pk in reference_not_ready(TOMORROW)
