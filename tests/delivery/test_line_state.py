"""Each order line's stored sums over its batches (planned, delivered, the next batch due), which the progress
sheet (§5.4.2), readiness (§5.5.1) and the unplanned parts of the on-time rate (§5.5.2) read instead of summing every
line's batches: kept in the transaction of every change, checked and repaired by ``ontime_recompute``, filled by
the migration, and right when two notes for one line are issued at once."""

import importlib
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import F

from delivery import ontime, services
from delivery.models import DeliveryBatch
from orders.models import OrderLine
from tests.delivery.conftest import TODAY, issue, plan, stock
from tests.orders.test_concurrency import at_once
from tests.orders.test_rules import change, lines_of

pytestmark = [pytest.mark.clause("5.4.2"), pytest.mark.django_db]


def stored(line) -> tuple:
    line = OrderLine.objects.get(pk=line.pk)
    return line.planned_quantity, line.delivered_quantity, line.next_batch_due


def from_batches(line) -> tuple:
    """The same three figures, summed from the line's batches here (the reference)."""
    batches = list(DeliveryBatch.objects.filter(line=line))
    outstanding = [b.due_date for b in batches if b.delivered_quantity < b.quantity]
    return (
        sum((b.quantity for b in batches), Decimal(0)),
        sum((b.delivered_quantity for b in batches), Decimal(0)),
        min(outstanding, default=None),
    )


def test_planning_delivering_cancelling_and_moving_keep_the_line_state(users, order):
    line = order.lines.get(position=1)
    assert stored(line) == (0, 0, None)
    first = plan(users, order, quantity="400", due=TODAY + timedelta(days=3))
    second = plan(users, order, quantity="300", due=TODAY + timedelta(days=1))
    assert stored(line) == (700, 0, TODAY + timedelta(days=1))

    issue(users, (second, "300"))  # the earlier batch delivered in full: the next due is the other one's
    assert stored(line) == (700, 300, TODAY + timedelta(days=3))
    note = issue(users, (first, "100"))
    assert stored(line) == (700, 400, TODAY + timedelta(days=3))
    services.note_cancel(user=users["cs"], note=note, reason="重开 issued by mistake")
    assert stored(line) == (700, 300, TODAY + timedelta(days=3))

    services.batch_move(user=users["cs"], batch=first, due_date=TODAY + timedelta(days=2))
    assert stored(line) == (700, 300, TODAY + timedelta(days=2)) == from_batches(line)


def test_batches_withdrawn_by_an_order_change_leave_the_line(users, order):
    line = order.lines.get(position=1)
    plan(users, order, quantity="400")
    second = plan(users, order, quantity="300", due=TODAY + timedelta(days=5))
    change(users, order, lines=lines_of(order, p1={"quantity": Decimal("500")}), withdraw=[second.pk])
    assert stored(line) == (400, 0, TODAY + timedelta(days=1)) == from_batches(line)


def test_the_sheet_reads_the_stored_state(users, order):
    """A line delivered in full leaves the sheet because its stored delivered quantity says so: set it wrong by
    hand and the sheet follows the stored figure (so the test fails if the sheet summed the batches again)."""
    from delivery.progress_sheet import open_lines

    line = order.lines.get(position=1)
    batch = plan(users, order, quantity=str(line.quantity))
    issue(users, (batch, str(line.quantity)))
    assert line.pk not in {row.line_id for row in open_lines(TODAY)}
    OrderLine.objects.filter(pk=line.pk).update(delivered_quantity=0)
    assert line.pk in {row.line_id for row in open_lines(TODAY)}


def test_the_command_finds_and_repairs_a_wrong_line(users, order, capsys):
    line = order.lines.get(position=1)
    batch = plan(users, order, quantity="400")
    stock(users, line, "400")
    issue(users, (batch, "150"), warehouse=False)
    OrderLine.objects.filter(pk=line.pk).update(planned_quantity=0, delivered_quantity=F("quantity"))  # bypasses all
    with pytest.raises(CommandError, match="1 order lines differ"):
        call_command("ontime_recompute", "--check")
    assert f"Order line {line.pk}: stored planned 0" in capsys.readouterr().out
    assert stored(line)[0] == 0  # --check changes nothing

    call_command("ontime_recompute")
    assert "1 order lines differed from their batches and were repaired" in capsys.readouterr().out
    assert stored(line) == (400, 150, batch.due_date) == from_batches(line)
    call_command("ontime_recompute", "--check")
    assert "every stored delivery state is right" in capsys.readouterr().out


def test_the_migration_fills_in_the_state_of_existing_lines(users, order):
    first = plan(users, order, quantity="400")
    issue(users, (first, "400"))
    second = plan(users, order, quantity="300", due=TODAY + timedelta(days=4))
    issue(users, (second, "100"))
    OrderLine.objects.update(planned_quantity=0, delivered_quantity=0, next_batch_due=None)  # before the migration

    migration = importlib.import_module("delivery.migrations.0011_line_delivery_state")
    migration.fill(django_apps, type("Editor", (), {"connection": connection})())
    line = order.lines.get(position=1)
    assert stored(line) == (700, 500, TODAY + timedelta(days=4)) == from_batches(line)
    assert stored(order.lines.get(position=2)) == (0, 0, None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there")
def test_two_changes_to_two_batches_of_one_line_at_once_both_count(users, order):
    """Each change locks its own batch only. The first holds its transaction open after writing the line; the second
    then reaches the line: without the line's row lock taken before its sums, its UPDATE would wait for the first
    and then write the sums as they were when the statement started, losing the first batch's quantity."""
    line = order.lines.get(position=1)
    first, second = plan(users, order, quantity="10"), plan(users, order, quantity="20")
    written = threading.Event()

    def deliver(batch, quantity, hold):
        with transaction.atomic():
            DeliveryBatch.objects.filter(pk=batch.pk).update(delivered_quantity=quantity)
            if hold:
                ontime.line_state_recompute([line.pk])
                written.set()
                time.sleep(1)  # the other one reaches the line meanwhile
            else:
                written.wait(10)
                ontime.line_state_recompute([line.pk])

    results = at_once(lambda: deliver(first, 10, True), lambda: deliver(second, 20, False))
    assert results == [None, None]
    assert stored(line) == (30, 30, None) == from_batches(line)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there")
def test_two_notes_for_two_batches_of_one_line_at_once_both_count(users, order):
    line = order.lines.get(position=1)
    stock(users, line, "1000")
    for _ in range(4):
        batches = [plan(users, order, quantity="10"), plan(users, order, quantity="10")]
        results = at_once(*[lambda b=b: issue(users, (b, "10"), warehouse=False) for b in batches])
        assert not [r for r in results if isinstance(r, Exception)], results
        assert stored(line) == from_batches(line)
    assert stored(line)[1] == 80
