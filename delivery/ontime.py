"""The monthly on-time delivery rate (§5.5.2): ``(due − late) / due × 100%`` per month.

A batch is due in the month of its due date. It is on time when its whole quantity was delivered by issued
delivery notes dated on or before the due date; every other due batch is late: delivered late (the whole
quantity, but not all of it by the due date) or not delivered (nothing or only part, as of now).

Decisions taken with the issue:

* every committed order line is covered: its part nobody planned in batches counts as one batch due on the
  customer's date, never delivered (``selectors.unplanned_lines``), so an unplanned line can be late;
* batches of cancelled orders count only when they were due before the day of the cancellation: what was late
  before it stays late in its month; the rest is not due;
* the current month is provisional and counts only settled batches: those due before today, and those due
  later but already delivered in full; months after the current one are not shown;
* a month with no due batches has no rate (``None``), neither 0% nor 100%.

The numbers are read from each batch's stored delivery state (``delivered_quantity``, ``delivered_on``: the day
its whole quantity was delivered), which ``batch_state_recompute`` keeps up to date in the same transaction as the
notes that change it. Counting 24 months is then one plain indexed aggregate over the batches grouped by due date
(and one over the unplanned lines): no join over the delivery-note lines and no cache, so no month is ever stale.
Nothing loops over batches in Python.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError
from customers.models import Customer
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine, OnTimeMonth, OnTimeRestatement
from delivery.selectors import batches_counted, batches_with_delivery, cancelled_on, unplanned_lines
from orders.models import Order, OrderLine

MONTHS_SHOWN = 24
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class MonthRate:
    """One month's counts. ``delivered_late + not_delivered`` are the late batches."""

    month: date  # the first day of the month
    due: int
    on_time: int
    delivered_late: int
    not_delivered: int
    provisional: bool = False
    closed: "OnTimeMonth | None" = None  # the record, once the month is closed
    unexplained: bool = False  # closed, and the live count differs from the record with no restatement to say why

    @property
    def key(self) -> str:
        """``YYYY-MM``, as the page and the command take it."""
        return month_key(self.month)

    @property
    def late(self) -> int:
        return self.delivered_late + self.not_delivered

    @property
    def rate(self) -> Decimal | None:
        """Percent on time, one decimal; ``None`` when nothing was due (no rate, not 0% or 100%)."""
        if not self.due:
            return None
        return (Decimal(self.due - self.late) * 100 / self.due).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- Months ------------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """The last day of ``month``."""
    return date.fromordinal(add_months(month, 1).toordinal() - 1)


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(text: str) -> date:
    """``"2025-03"`` -> ``date(2025, 3, 1)``; anything else is a DomainError with a message for the user."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise DomainError(
            _("“%(month)s” is not a month: write it as YYYY-MM, for example 2025-03.") % {"month": text},
            code="bad_month",
        )
    return date(int(match[1]), int(match[2]), 1)


def find_customer(code: str) -> Customer:
    """The customer with this code (case as typed, then ignoring case); a DomainError when there is none."""
    code = (code or "").strip()
    customer = Customer.objects.filter(code=code).first() or Customer.objects.filter(code__iexact=code).first()
    if customer is None:
        raise DomainError(_("There is no customer with the code “%(code)s”.") % {"code": code}, code="no_customer")
    return customer


# --- The batches that count ----------------------------------------------------------------------------------


def due_batches(
    first: date, last: date, customer: Customer | None = None, batches: QuerySet[DeliveryBatch] | None = None
) -> QuerySet[DeliveryBatch]:
    """Batches due from ``first`` to ``last`` (inclusive) that count for the rate (``selectors.batches_counted``:
    a cancelled order's only when due before its cancellation)."""
    batches = batches_counted(batches).filter(due_date__gte=first, due_date__lte=last)
    if customer is not None:
        batches = batches.filter(line__order__customer=customer)
    return batches


_ON_TIME = Q(delivered_on__lte=F("due_date"))  # the whole quantity delivered on or before the due date
_LATE = Q(delivered_on__gt=F("due_date"))  # … after it (NULL: not delivered in full)


def _per_day(batches: QuerySet[DeliveryBatch]) -> dict[date, tuple[int, int, int]]:
    """``{due date: (batches, on time, delivered late)}`` of ``batches``, one grouped query."""
    rows = (
        batches.order_by()
        .values("due_date")
        .annotate(due=Count("pk"), on_time=Count("pk", filter=_ON_TIME), late=Count("pk", filter=_LATE))
        .values_list("due_date", "due", "on_time", "late")
    )
    return {_as_date(day): (due, on_time, late) for day, due, on_time, late in rows}


def _batch_day_counts(first: date, last: date, customer: Customer | None) -> dict[date, tuple[int, int, int]]:
    """Per due date from ``first`` to ``last``, the batches that count (as ``selectors.batches_counted``).

    All batches of the range are counted by a plain index-only scan of ``batch_ontime_idx`` (no join, for all
    customers). A cancelled order's batch counts only when due before the day of the cancellation
    (``selectors.cancelled_on``): the few cancelled orders' batches are read per order and due date, and those
    due on or after that day (or of an order with no cancellation on record) are taken out."""
    batches = DeliveryBatch.objects.filter(due_date__gte=first, due_date__lte=last)
    if customer is not None:
        batches = batches.filter(line__order__customer=customer)
    counts = _per_day(batches)
    cancelled = list(
        batches.filter(line__order__status=Order.Status.CANCELLED)
        .order_by()
        .values("line__order_id", "due_date")
        .annotate(due=Count("pk"), on_time=Count("pk", filter=_ON_TIME), late=Count("pk", filter=_LATE))
        .values_list("line__order_id", "due_date", "due", "on_time", "late")
    )
    if cancelled:
        until = dict(
            Order.objects.filter(pk__in={row[0] for row in cancelled})
            .annotate(day=cancelled_on("pk"))
            .values_list("pk", "day")
        )
        for order_id, day, *figures in cancelled:
            day, last_day = _as_date(day), until.get(order_id)
            if last_day is not None and day < _as_date(last_day):
                continue  # due before the cancellation: it counts
            before = counts[day]
            counts[day] = tuple(a - b for a, b in zip(before, figures, strict=True))
    return counts


def _day_counts(first: date, last: date, customer: Customer | None, today: date) -> dict[str, tuple[int, int, int]]:
    """``{"YYYY-MM": (due, on_time, delivered_late)}`` for the batches due from ``first`` to ``last``, as the rule
    counts them on ``today``.

    Each batch's delivery state is stored on it (``batch_state_recompute``): on time when ``delivered_on`` (the
    day its whole quantity was delivered) is on or before its due date, delivered late when after it, not
    delivered while NULL. So the batches are counted straight from the batch rows, grouped by due date, and the
    few hundred days are summed into months here (no month function of the database needed). A day from
    ``today`` on is provisional: only its batches already delivered on time count (they are on time whatever
    happens); the others can still be."""
    months: dict[str, list[int]] = {}
    for day, (due, on, late) in _batch_day_counts(first, last, customer).items():
        counts = months.setdefault(month_key(day), [0, 0, 0])
        if day < today:
            counts[0] += due
            counts[1] += on
            counts[2] += late
        else:
            counts[0] += on
            counts[1] += on
    settled = min(last, today - timedelta(days=1))
    if settled >= first:
        # An unplanned part of a line is one batch due on the customer's date, never delivered (never on time).
        lines = _unplanned(first, settled, customer).values("due").annotate(n=Count("pk")).values_list("due", "n")
        for day, n in lines:
            months.setdefault(month_key(_as_date(day)), [0, 0, 0])[0] += n
    return {key: (due, on, late) for key, (due, on, late) in months.items() if due}


def _as_date(value) -> date:
    """A date as the database gives it (a date; on SQLite an expression's result may come back as text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _unplanned(first: date, last: date, customer: Customer | None) -> QuerySet:
    """The unplanned parts of lines due from ``first`` to ``last``, each counted as one batch."""
    lines = unplanned_lines().filter(due__gte=first, due__lte=last).order_by()
    if customer is not None:
        lines = lines.filter(order__customer=customer)
    return lines


def monthly_rates(
    months: int = MONTHS_SHOWN, customer: Customer | None = None, today: date | None = None
) -> list[MonthRate]:
    """The last ``months`` months up to and including the current (provisional) one, oldest first; months
    without due batches are included with ``due == 0`` (no rate)."""
    today = today or timezone.localdate()
    current = month_start(today)
    first = add_months(current, -(months - 1))
    # Read live from the batches' stored delivery state on every call: no cache, so no month can be stale.
    counts = _day_counts(first, month_end(current), customer, today)
    records = {}
    if customer is None:  # the closed record is the company's rate, all customers
        records = {r.month: r for r in OnTimeMonth.objects.filter(month__gte=first).prefetch_related("restatements")}
    rates = []
    for i in range(months):
        month = add_months(first, i)
        due, on_time, delivered_late = counts.get(month_key(month), (0, 0, 0))
        record = records.get(month)
        recorded = standing(record) if record is not None else None
        rates.append(
            MonthRate(
                month=month,
                due=due,
                on_time=on_time,
                delivered_late=delivered_late,
                not_delivered=due - on_time - delivered_late,
                provisional=month == current,
                closed=record,
                unexplained=recorded is not None and (recorded.due, recorded.on_time) != (due, on_time),
            )
        )
    return rates


def month_rate(month: date, customer: Customer | None = None, today: date | None = None) -> MonthRate:
    """One month's rate (for the command). A month after the current one has nothing due yet."""
    today = today or timezone.localdate()
    month = month_start(month)
    current = month_start(today)
    if month > current:
        return MonthRate(month=month, due=0, on_time=0, delivered_late=0, not_delivered=0, provisional=True)
    counts = _day_counts(month, month_end(month), customer, today)
    due, on_time, delivered_late = counts.get(month_key(month), (0, 0, 0))
    return MonthRate(
        month=month,
        due=due,
        on_time=on_time,
        delivered_late=delivered_late,
        not_delivered=due - on_time - delivered_late,
        provisional=month == current,
    )


def late_batches(month: date, customer: Customer | None = None, today: date | None = None) -> QuerySet[DeliveryBatch]:
    """The late batches of ``month`` (delivered late or not delivered, from the stored state), annotated by
    ``batches_with_delivery`` (``delivered``, ``delivered_on_time``, ``outstanding``: shown for the page's rows
    only) and ``delivered_in_full``; earliest due first."""
    today = today or timezone.localdate()
    month = month_start(month)
    last = min(month_end(month), today - timedelta(days=1))  # a batch due today is not late yet
    late = Q(delivered_on__isnull=True) | Q(delivered_on__gt=F("due_date"))  # the stored state, as the counts
    return (
        due_batches(month, last, customer, batches=batches_with_delivery())
        .filter(late)
        .annotate(delivered_in_full=Q(delivered_on__isnull=False))
        .select_related("line__order__customer", "line__product")
        .order_by("due_date", "line__order__number", "line__position", "pk")
    )


def late_unplanned(month: date, customer: Customer | None = None, today: date | None = None) -> QuerySet:
    """The order lines of ``month`` whose unplanned part was due before today: each is a late batch, never
    delivered. Annotated as ``selectors.committed_lines`` (``due``, ``unplanned``)."""
    today = today or timezone.localdate()
    month = month_start(month)
    last = min(month_end(month), today - timedelta(days=1))
    return (
        _unplanned(month, last, customer)
        .select_related("order__customer", "product")
        .order_by("due", "order__number", "position")
    )


# --- The stored delivery state of each batch ------------------------------------------------------------------
#
# DeliveryBatch.delivered_quantity (what issued notes carry) and delivered_on (the day the whole quantity was
# delivered: the delivery date of the issued note that completed it, counting the notes in date order; NULL while
# part is outstanding). A batch is on time exactly when delivered_on <= due_date: the whole quantity was delivered
# on or before the due date. Neither depends on the due date, so moving a batch never needs them recomputed.
#
# batch_state_recompute is called in the same transaction as every change of what was delivered against a batch:
# by the services (note_issue, note_cancel: delivery/services.py), and, for writes made another way one row at a
# time (the admin, the shell, fixtures), by the signal receivers below. A bulk write or queryset.update() passes
# neither: ``manage.py ontime_recompute`` finds and repairs such rows, and the daily check records the change of a
# closed month as unexplained.


def delivery_states(batches) -> dict[int, tuple[Decimal, date | None]]:
    """``{batch pk: (delivered quantity, day delivered in full or None)}`` computed from the issued notes, for
    batches carrying ``pk`` and ``quantity``; one grouped query per 2,000 batches."""
    batches = list(batches)
    quantities = {b.pk: b.quantity for b in batches}
    states = {pk: (Decimal(0), None) for pk in quantities}
    pks = sorted(quantities)
    for start in range(0, len(pks), 2000):
        rows = (
            DeliveryNoteLine.objects.filter(
                batch_id__in=pks[start : start + 2000], note__status=DeliveryNote.Status.ISSUED
            )
            .order_by()
            .values("batch_id", "note__delivery_date")
            .annotate(total=Sum("quantity"))
            .order_by("batch_id", "note__delivery_date")
            .values_list("batch_id", "note__delivery_date", "total")
        )
        for pk, day, total in rows:
            delivered, on = states[pk]
            delivered += Decimal(total)
            if on is None and delivered >= quantities[pk]:
                on = day
            states[pk] = (delivered, on)
    return states


def batch_state_recompute(batches) -> list[DeliveryBatch]:
    """Recompute the stored delivery state of ``batches`` (batches or their pks) from their notes; returns the
    batches whose state changed, with ``state_before`` set to ``(delivered_quantity, delivered_on)`` as it was.

    Call it inside the transaction of the change (it joins it): the batch rows are locked first (in pk order,
    like note_issue), so a note issued or cancelled at the same moment on the same batch is counted after it
    commits, never lost."""
    pks = sorted({getattr(b, "pk", b) for b in batches if getattr(b, "pk", b) is not None})
    if not pks:
        return []
    changed = []
    with transaction.atomic():
        rows = list(
            DeliveryBatch.objects.select_for_update()
            .filter(pk__in=pks)
            .order_by("pk")
            .only("pk", "quantity", "delivered_quantity", "delivered_on")
        )
        states = delivery_states(rows)
        for batch in rows:
            before = (batch.delivered_quantity, batch.delivered_on)
            if before != states[batch.pk]:
                batch.state_before = before
                batch.delivered_quantity, batch.delivered_on = states[batch.pk]
                changed.append(batch)
        if changed:
            DeliveryBatch.objects.bulk_update(changed, ["delivered_quantity", "delivered_on"], batch_size=500)
            line_state_recompute(
                DeliveryBatch.objects.filter(pk__in=[b.pk for b in changed]).values_list("line_id", flat=True)
            )
    return changed


def line_states(pks) -> dict[int, tuple[Decimal, Decimal, date | None]]:
    """``{line pk: (planned, delivered, next batch due)}`` summed from the batches of the order lines ``pks`` (at most
    a few thousand), one grouped query: what ``line_state_recompute`` stores and ``ontime_recompute`` checks. A line
    without batches has (0, 0, None)."""
    sums = {
        line: (Decimal(planned or 0), Decimal(delivered or 0), _as_date(next_due) if next_due else None)
        for line, planned, delivered, next_due in DeliveryBatch.objects.filter(line__in=pks)
        .order_by()
        .values("line")
        .annotate(
            planned=Sum("quantity"),
            delivered=Sum("delivered_quantity"),
            next_due=Min("due_date", filter=Q(delivered_quantity__lt=F("quantity"))),
        )
        .values_list("line", "planned", "delivered", "next_due")
    }
    return {pk: sums.get(pk, (Decimal(0), Decimal(0), None)) for pk in pks}


def line_state_recompute(lines) -> None:
    """Recompute the stored state of order ``lines`` (lines or their pks) from their batches.

    Call it inside the transaction of the change, after the batches were written (it joins it). The line rows are
    locked first, in pk order, and their batches summed by a second statement: a change of another batch of the
    same line committed meanwhile is read, never overwritten (on PostgreSQL a statement that waited for a row lock
    would still read the sums as they were when it started). Every path writes batches before their lines, so the
    locks are always taken in the same order. One grouped query over the batches per 2,000 lines (not a correlated
    sum per line, which a planner with stale statistics, e.g. during a bulk load, turns into a scan per line)."""
    pks = sorted({getattr(line, "pk", line) for line in lines if getattr(line, "pk", line) is not None})
    fields = ["planned_quantity", "delivered_quantity", "next_batch_due"]
    with transaction.atomic():
        for start in range(0, len(pks), 2000):
            chunk = pks[start : start + 2000]
            locked = list(OrderLine.objects.select_for_update().filter(pk__in=chunk).order_by("pk").only("pk", *fields))
            states = line_states(chunk)
            changed = []
            for line in locked:
                state = states[line.pk]
                if (line.planned_quantity, line.delivered_quantity, line.next_batch_due) != state:
                    line.planned_quantity, line.delivered_quantity, line.next_batch_due = state
                    changed.append(line)
            if changed:
                # Small statements: bulk_update writes a CASE of every row per field, read for each row it sets.
                OrderLine.objects.bulk_update(changed, fields, batch_size=100)


def note_line_saved(sender, instance, raw=False, **kwargs) -> None:
    """Signal receiver (post_save/post_delete of a delivery-note line): its batch's state follows."""
    if not raw and instance.batch_id:
        batch_state_recompute([instance.batch_id])


def note_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs) -> None:
    """Signal receiver (post_save of a delivery note): its status or date may have changed its batches' state.
    A new note has no lines yet (they follow, with their own signal or the service's call)."""
    if raw or created or (update_fields is not None and not {"status", "delivery_date"} & set(update_fields)):
        return
    batch_state_recompute(DeliveryNoteLine.objects.filter(note=instance).values_list("batch_id", flat=True))


def batch_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs) -> None:
    """Signal receiver (post_save of a batch): a changed quantity changes when it was delivered in full, and a new,
    changed or moved batch changes its line's planned quantity and next due date. A new batch has no notes (its
    state, nothing delivered, is the default)."""
    if raw:
        return
    if not created and (update_fields is None or "quantity" in update_fields):
        batch_state_recompute([instance.pk])
    if created or update_fields is None or {"quantity", "due_date", "line"} & set(update_fields):
        line_state_recompute([instance.line_id])


def batch_deleted(sender, instance, **kwargs) -> None:
    """Signal receiver (post_delete of a batch, e.g. withdrawn by an order change): its line's state follows."""
    line_state_recompute([instance.line_id])


# --- Closed months and restatements ------------------------------------------------------------------------------
#
# A month is closed ONTIME_CLOSE_DAYS after its end (settings; 5 by default) and its figures are kept as a record
# (OnTimeMonth). Afterwards the figures can still change: a note dated back into the month, a note cancelled, a
# batch planned on a past customer date. Each such service records an OnTimeRestatement with its reason; the
# daily check records any change that came another way (the admin, the shell) as unexplained. The page shows the
# figures as they stand, the closed record, and every restatement with its reason: never a silent change.


def close_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "ONTIME_CLOSE_DAYS", 5))


def closing_day(month: date) -> date:
    """The first day ``month`` is closed on."""
    return month_end(month) + timedelta(days=close_days() + 1)


def _figures(rate) -> tuple[int, int, int, int]:
    return rate.due, rate.on_time, rate.delivered_late, rate.not_delivered


def standing(record: OnTimeMonth):
    """The record's figures as they stand: the last restatement's, else those it was closed with."""
    restatements = list(record.restatements.all())
    return restatements[-1] if restatements else record


def months_close(today: date | None = None) -> list[OnTimeMonth]:
    """Close every month of the last MONTHS_SHOWN whose closing day has come and that is not closed yet.
    Idempotent (the month is unique): run daily, and by the page."""
    from django.db import IntegrityError, transaction

    today = today or timezone.localdate()
    first = add_months(month_start(today), -(MONTHS_SHOWN - 1))
    # The last month that can be closed today; once it is, nothing is left to do until the next closing day.
    last = add_months(month_start(today), -1)
    if closing_day(last) > today:
        last = add_months(last, -1)
    done_key = f"ontime:closed-through:{last}"
    if cache.get(done_key):
        return []
    month = first
    done = set(OnTimeMonth.objects.filter(month__gte=first).values_list("month", flat=True))
    closed = []
    while closing_day(month) <= today:
        if month not in done:
            rate = month_rate(month, today=today)
            try:
                with transaction.atomic():
                    closed.append(
                        OnTimeMonth.objects.create(
                            month=month,
                            due=rate.due,
                            on_time=rate.on_time,
                            delivered_late=rate.delivered_late,
                            not_delivered=rate.not_delivered,
                        )
                    )
            except IntegrityError:
                pass  # closed meanwhile by another run
        month = add_months(month, 1)
    cache.set(done_key, True, timeout=24 * 3600)
    return closed


def restate(*, months, reason: str, user=None, today: date | None = None) -> list[OnTimeRestatement]:
    """After a change that may touch closed months: for each closed one whose due or on-time count is no longer
    what its record says, record a restatement with the new figures and ``reason``. Call inside the change's
    transaction, after the change."""
    today = today or timezone.localdate()
    wanted = {month_start(m) for m in months}
    made = []
    for record in OnTimeMonth.objects.filter(month__in=wanted).prefetch_related("restatements"):
        live = month_rate(record.month, today=today)
        before = standing(record)
        if (live.due, live.on_time) == (before.due, before.on_time):
            continue
        made.append(
            OnTimeRestatement.objects.create(
                closed_month=record,
                due=live.due,
                on_time=live.on_time,
                delivered_late=live.delivered_late,
                not_delivered=live.not_delivered,
                reason=reason,
                recorded_by=user,
            )
        )
    return made


def both_languages(text, **params) -> str:
    """A (lazy) message in Chinese and English, for a reason kept on a record that both readers read."""
    from django.utils import translation

    with translation.override("zh-hans"):
        zh = str(text) % params if params else str(text)
    with translation.override("en"):
        en = str(text) % params if params else str(text)
    return zh if zh == en else f"{zh} / {en}"


def months_check(today: date | None = None) -> list[OnTimeRestatement]:
    """The daily check: a closed month whose figures changed without a restatement gets one, marked unexplained."""
    return restate(
        months=OnTimeMonth.objects.values_list("month", flat=True),
        reason=both_languages(gettext_lazy("Changed without a recorded reason (found by the daily check).")),
        today=today,
    )
