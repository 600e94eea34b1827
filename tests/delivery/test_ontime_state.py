"""Each batch's stored delivery state, which the on-time rate (§5.5.2) reads: every change of what was delivered
against a batch updates it in the same transaction, the repair command finds and fixes a wrong row, and the
figures equal those of the old join over the delivery-note lines on a mixed data set."""

import importlib
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from delivery import dispatch, ontime, services
from delivery.models import DeliveryBatch, DeliveryNote, OnTimeMonth, OnTimeRestatement
from orders.models import Order, OrderRevision, SignOff
from tests.delivery.conftest import TODAY, issue, plan
from tests.delivery.test_ontime import Build

pytestmark = [pytest.mark.clause("5.5.2"), pytest.mark.django_db]


@pytest.fixture
def build(users, customer, products):  # noqa: F811
    return Build(users, customer, products)


def state(batch) -> tuple[Decimal, date | None]:
    batch = DeliveryBatch.objects.get(pk=batch.pk)
    return batch.delivered_quantity, batch.delivered_on


# --- Every path that changes what was delivered --------------------------------------------------------------


def test_issuing_a_note_stores_what_was_delivered_and_the_day_the_whole_quantity_was(users, order):
    batch = plan(users, order, quantity="400")
    assert state(batch) == (0, None)
    issue(users, (batch, "150"))
    assert state(batch) == (150, None)  # part delivered: not delivered in full
    issue(users, (batch, "250"))
    assert state(batch) == (400, TODAY)


def test_a_backdated_note_is_stored_with_its_date(users, order):
    batch = plan(users, order, quantity="400")
    issue(users, (batch, "400"), delivery_date=TODAY - timedelta(days=3))
    assert state(batch) == (400, TODAY - timedelta(days=3))


def test_the_day_in_full_is_the_date_of_the_note_that_completed_it_in_date_order(users, order):
    batch = plan(users, order, quantity="400")
    issue(users, (batch, "100"))  # today
    issue(users, (batch, "300"), delivery_date=TODAY - timedelta(days=5))  # entered later, dated earlier
    assert state(batch) == (400, TODAY)  # only the two together make the whole quantity: today


def test_one_note_over_several_batches_updates_each(users, order):
    first, second = plan(users, order, quantity="400"), plan(users, order, position=2, quantity="200")
    issue(users, (first, "400"), (second, "50"))
    assert state(first) == (400, TODAY) and state(second) == (50, None)


def test_cancelling_a_note_takes_its_quantities_back(users, order):
    batch = plan(users, order, quantity="400")
    early = issue(users, (batch, "100"), delivery_date=TODAY - timedelta(days=2))
    issue(users, (batch, "300"))
    assert state(batch) == (400, TODAY)
    services.note_cancel(user=users["cs"], note=early, reason="地址错误")
    assert state(batch) == (300, None)


def test_a_return_is_not_an_undelivery(users, order):
    batch = plan(users, order, quantity="400")
    note = issue(users, (batch, "400"))
    services.return_record(user=users["cs"], note_line=note.lines.get(), quantity=Decimal("40"), reason="破损")
    assert state(batch) == (400, TODAY)


def test_moving_a_batch_keeps_its_state_and_its_class_follows_the_new_date(users, order):
    batch = plan(users, order, quantity="400", due=TODAY + timedelta(days=5))
    issue(users, (batch, "100"))
    services.batch_move(user=users["cs"], batch=batch, due_date=TODAY + timedelta(days=2))
    assert state(batch) == (100, None)


def test_a_failure_in_the_note_issue_rolls_back_the_note_and_the_state(users, order, monkeypatch):
    batch = plan(users, order, quantity="400")

    def broken(**kwargs):
        raise RuntimeError("the dispatch request could not be opened")

    monkeypatch.setattr(dispatch, "dispatch_open", broken)
    with pytest.raises(RuntimeError):
        issue(users, (batch, "400"))
    assert not DeliveryNote.objects.exists() and state(batch) == (0, None)


def test_a_failure_in_the_cancellation_rolls_back_the_cancel_and_the_state(users, order, monkeypatch):
    # Due yesterday, delivered the day before: cancelling the note changes a past month, so it restates.
    batch = DeliveryBatch.objects.create(
        line=order.lines.get(position=1),
        quantity=Decimal("400"),
        due_date=TODAY - timedelta(days=1),
        created_by=users["cs"],
    )
    note = issue(users, (batch, "400"), delivery_date=TODAY - timedelta(days=2))
    assert state(batch) == (400, TODAY - timedelta(days=2))

    def broken(**kwargs):
        raise RuntimeError("the restatement could not be recorded")

    monkeypatch.setattr(ontime, "restate", broken)
    with pytest.raises(RuntimeError):
        services.note_cancel(user=users["cs"], note=note, reason="重复")
    note.refresh_from_db()
    assert note.status == DeliveryNote.Status.ISSUED and state(batch) == (400, TODAY - timedelta(days=2))


def test_the_state_is_written_inside_the_callers_transaction(users, order):
    batch = plan(users, order, quantity="400")
    with pytest.raises(RuntimeError), transaction.atomic():
        issue(users, (batch, "400"))
        assert state(batch) == (400, TODAY)  # seen inside the transaction …
        raise RuntimeError("something after it failed")
    assert state(batch) == (0, None)  # … and gone with it


def test_notes_and_lines_written_outside_the_services_update_the_state_too(build):
    """The admin, the shell, fixtures: a note line saved or deleted, a note's status or date changed, a batch's
    quantity changed, each recompute the batch's state in the same transaction (signals)."""
    batch = build.batch(date(2025, 5, 20), quantity="100")
    line = build.deliver(batch, date(2025, 5, 19), quantity="100")
    assert state(batch) == (100, date(2025, 5, 19))
    note = line.note
    note.delivery_date = date(2025, 5, 22)
    note.save()
    assert state(batch) == (100, date(2025, 5, 22))
    note.status = DeliveryNote.Status.CANCELLED
    note.save(update_fields=["status"])
    assert state(batch) == (0, None)
    note.status = DeliveryNote.Status.ISSUED
    note.save(update_fields=["status"])
    batch.quantity = Decimal("150")
    batch.save()
    assert state(batch) == (100, None)
    line.delete()
    assert state(batch) == (0, None)


# --- The repair command and the migration ---------------------------------------------------------------------


def test_the_repair_command_finds_and_fixes_a_corrupted_row(build, capsys):
    good = build.batch(date(2025, 5, 20))
    build.deliver(good, date(2025, 5, 19))
    bad = build.batch(date(2025, 5, 21))
    build.deliver(bad, date(2025, 5, 20))
    DeliveryBatch.objects.filter(pk=bad.pk).update(delivered_quantity=0, delivered_on=None)  # bypasses everything

    with pytest.raises(CommandError, match="1 differ"):
        call_command("ontime_recompute", "--check")
    out = capsys.readouterr().out
    assert f"Batch {bad.pk} due 2025-05-21" in out and f"Batch {good.pk} " not in out
    assert state(bad) == (0, None)  # --check changes nothing

    call_command("ontime_recompute")
    assert "1 differed from their notes and were repaired" in capsys.readouterr().out
    assert state(bad) == (100, date(2025, 5, 20))
    call_command("ontime_recompute", "--check")
    assert "every stored delivery state is right" in capsys.readouterr().out


def test_a_repair_that_changes_a_closed_month_is_a_restatement(build, capsys):
    batch = build.batch(date(2025, 5, 20))
    build.deliver(batch, date(2025, 5, 20))
    DeliveryBatch.objects.filter(pk=batch.pk).update(delivered_quantity=0, delivered_on=None)
    ontime.months_close(today=date(2025, 6, 18))
    record = OnTimeMonth.objects.get(month=date(2025, 5, 1))
    assert (record.due, record.on_time) == (1, 0)  # closed with the wrong state
    call_command("ontime_recompute")
    restatement = OnTimeRestatement.objects.get()
    assert (restatement.closed_month, restatement.due, restatement.on_time) == (record, 1, 1)
    assert "ontime_recompute" in restatement.reason


def test_the_migration_fills_in_the_state_of_existing_batches(build):
    on_time = build.batch(date(2025, 5, 20), quantity="100")
    build.deliver(on_time, date(2025, 5, 10), quantity="40")
    build.deliver(on_time, date(2025, 5, 20), quantity="60")
    partial = build.batch(date(2025, 5, 20), quantity="100")
    build.deliver(partial, date(2025, 5, 10), quantity="40")
    build.deliver(partial, date(2025, 5, 11), quantity="60", cancelled=True)
    DeliveryBatch.objects.update(delivered_quantity=0, delivered_on=None)  # as before the migration

    migration = importlib.import_module("delivery.migrations.0009_batch_delivery_state")
    migration.backfill(django_apps, type("Editor", (), {"connection": connection})())
    assert state(on_time) == (100, date(2025, 5, 20)) and state(partial) == (40, None)


# --- The figures: the old join as the reference -------------------------------------------------------------------

_QTY = DecimalField(max_digits=14, decimal_places=3)


def old_join_counts(first: date, last: date, today: date, customer=None) -> dict[str, tuple[int, int, int]]:
    """The computation before the stored state (kept here only as the reference): each due batch annotated with
    its delivered quantities by one grouped join over the note lines; the unplanned parts of lines added."""
    issued = Q(note_lines__note__status=DeliveryNote.Status.ISSUED)
    zero = Value(Decimal(0), output_field=_QTY)
    rows = ontime.due_batches(first, last, customer).annotate(
        delivered=Coalesce(Sum("note_lines__quantity", filter=issued), zero),
        delivered_on_time=Coalesce(
            Sum("note_lines__quantity", filter=issued & Q(note_lines__note__delivery_date__lte=F("due_date"))), zero
        ),
    )
    counts: dict[str, list[int]] = {}
    for b in rows:
        on = b.delivered_on_time >= b.quantity
        if b.due_date >= today and not on:
            continue  # may still be on time
        c = counts.setdefault(ontime.month_key(b.due_date), [0, 0, 0])
        c[0] += 1
        c[1] += on
        c[2] += not on and b.delivered >= b.quantity
    for line in ontime._unplanned(first, min(last, today - timedelta(days=1)), customer):
        counts.setdefault(ontime.month_key(line.due), [0, 0, 0])[0] += 1
    return {k: tuple(v) for k, v in counts.items()}


def test_the_figures_equal_the_old_joins_on_a_mixed_data_set(build, users):
    """Batches over six months up to and past today (due today, delivered early, partly, late, through notes
    cancelled and issued again), two customers, a cancelled order with batches due before and after the day of
    its cancellation, and lines with a part nobody planned."""
    today = timezone.localdate()
    rng = random.Random(5520)
    other = build.other_customer()
    cancelled = build.order(status=Order.Status.CANCELLED)
    OrderRevision.objects.create(order=cancelled, number=2, kind="cancel", snapshot={}, created_by=build.user)
    SignOff.objects.create(order=cancelled, revision=1, signed_by=build.user)
    cancel_day = today - timedelta(days=40)
    OrderRevision.objects.filter(order=cancelled).update(
        created_at=timezone.make_aware(datetime.combine(cancel_day, datetime.min.time()).replace(hour=10))
    )
    batches = []
    for i in range(90):
        due = today + timedelta(days=rng.randint(-150, 20)) if i % 9 else today
        quantity = str(rng.choice([10, 25, 100]))
        if i % 15 == 0:
            batch = build.batch(cancel_day + timedelta(days=rng.randint(-20, 20)), quantity=quantity, order=cancelled)
        else:
            batch = build.batch(due, quantity=quantity, buyer=other if i % 3 else None)
        if i % 11 == 0:  # part of the line nobody planned
            batch.line.quantity += 5
            batch.line.save()
        batches.append(batch)
        for _ in range(rng.randint(0, 3)):
            day = min(batch.due_date + timedelta(days=rng.randint(-5, 5)), today)
            part = Decimal(rng.choice([5, 10, 25, 100]))
            build.deliver(batch, day, quantity=part, cancelled=rng.random() < 0.15)
    first = ontime.add_months(ontime.month_start(today), -(ontime.MONTHS_SHOWN - 1))
    last = ontime.month_end(today)
    for customer in (None, build.customer, other):
        got = {r.key: (r.due, r.on_time, r.delivered_late) for r in ontime.monthly_rates(customer=customer) if r.due}
        assert got == old_join_counts(first, last, today, customer)
    assert sum(r.due for r in ontime.monthly_rates()) > 50
    due_today = [b for b in batches if b.due_date == today]
    assert due_today and any(state(b)[1] is None for b in due_today)
    for month in {ontime.month_start(b.due_date) for b in batches if b.due_date <= last}:
        rate = ontime.month_rate(month)
        assert (rate.due, rate.on_time, rate.delivered_late) == old_join_counts(
            month, ontime.month_end(month), today
        ).get(ontime.month_key(month), (0, 0, 0))


def test_the_page_for_all_customers_takes_a_bounded_number_of_queries(client_for, build, django_assert_max_num_queries):
    today = timezone.localdate()
    for i in range(80):
        batch = build.batch(today - timedelta(days=3 + i * 9))
        if i % 3:
            build.deliver(batch, batch.due_date + timedelta(days=i % 2))
    ontime.months_close(today)
    client = client_for("cs")
    client.get(reverse("delivery:ontime"))  # warm up (session, content types)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("delivery:ontime"))
    assert response.status_code == 200 and sum(r.due for r in response.context["rates"]) > 50
