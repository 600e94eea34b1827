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

The numbers are computed in the database: the batches of the months asked for are annotated with their
delivered quantities (one grouped join over the delivery-note lines, so each batch is read once) and counted
per month with conditional aggregation. Nothing loops over batches in Python.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db import connections, router
from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError
from customers.models import Customer
from delivery.models import DeliveryBatch, DeliveryNote, OnTimeMonth, OnTimeRestatement
from delivery.selectors import batches_counted, batches_with_delivery, unplanned_lines

MONTHS_SHOWN = 24
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QTY = DecimalField(max_digits=14, decimal_places=3)
_ZERO = Value(Decimal(0), output_field=_QTY)


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


def _counted(first: date, last: date, customer: Customer | None) -> QuerySet[DeliveryBatch]:
    """One row per due batch: its month, quantity and delivered quantities, from ONE grouped join over the
    delivery-note lines (the same definitions as ``selectors.batches_with_delivery``, which the tests check)."""
    issued = Q(note_lines__note__status=DeliveryNote.Status.ISSUED)
    return (
        due_batches(first, last, customer)
        .order_by()
        .annotate(
            month=TruncMonth("due_date"),
            delivered=Coalesce(Sum("note_lines__quantity", filter=issued), _ZERO),
            delivered_on_time=Coalesce(
                Sum(
                    "note_lines__quantity",
                    filter=issued & Q(note_lines__note__delivery_date__lte=F("due_date")),
                ),
                _ZERO,
            ),
        )
        .values("month", "quantity", "delivered", "delivered_on_time")
    )


def _month_counts(
    first: date, last: date, customer: Customer | None, only_on_time: bool = False
) -> dict[str, tuple[int, int, int]]:
    """``{"YYYY-MM": (due, on_time, delivered_late)}`` for the months with due batches, in one query.

    The ORM builds the per-batch query (filters, joins, the month expression of the database in use); the
    outer GROUP BY over it is plain, portable SQL, because the ORM cannot aggregate over aggregates."""
    inner = _counted(first, last, customer)
    sql, params = inner.query.sql_with_params()
    sql = f"SELECT x.month, x.quantity, x.delivered, x.delivered_on_time FROM ({sql}) x"
    if not only_on_time:
        # An unplanned part of a line is one batch, never delivered (never on time): same query, UNION ALL.
        lines = _unplanned(first, last, customer).annotate(month=TruncMonth("due")).values("month", "unplanned")
        lines_sql, lines_params = lines.query.sql_with_params()
        sql += f" UNION ALL SELECT u.month, u.unplanned, 0, 0 FROM ({lines_sql}) u"
        params = (*params, *lines_params)
    outer = (
        "SELECT b.month, COUNT(*), "
        "SUM(CASE WHEN b.delivered_on_time >= b.quantity THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN b.delivered_on_time < b.quantity AND b.delivered >= b.quantity THEN 1 ELSE 0 END) "
        f"FROM ({sql}) b " + ("WHERE b.delivered_on_time >= b.quantity " if only_on_time else "") + "GROUP BY b.month"
    )
    connection = connections[router.db_for_read(DeliveryBatch)]
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        rows = cursor.fetchall()
    # TruncMonth gives a date on PostgreSQL and text (or a datetime string) on SQLite: keep "YYYY-MM".
    return {str(month)[:7]: (int(due), int(on_time or 0), int(late or 0)) for month, due, on_time, late in rows}


def _unplanned(first: date, last: date, customer: Customer | None) -> QuerySet:
    """The unplanned parts of lines due from ``first`` to ``last``, each counted as one batch."""
    lines = unplanned_lines().filter(due__gte=first, due__lte=last).order_by()
    if customer is not None:
        lines = lines.filter(order__customer=customer)
    return lines


def _current_month_counts(current: date, today: date, customer: Customer | None) -> dict[str, tuple[int, int, int]]:
    """The provisional month counts the batches whose outcome is already settled: those due before today (on
    time or late), and those due from today on that are already delivered in full (on time whatever happens).
    A batch due today or later and not yet delivered can still be on time: it is not counted yet."""
    settled = _month_counts(current, today - timedelta(days=1), customer) if today > current else {}
    early = _month_counts(today, month_end(current), customer, only_on_time=True)
    merged = dict(settled)
    for key, (due, on_time, late) in early.items():
        before = merged.get(key, (0, 0, 0))
        merged[key] = (before[0] + due, before[1] + on_time, before[2] + late)
    return merged


VERSION_KEY = "ontime:version"


def data_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def data_changed(**kwargs) -> None:
    """Signal receiver: a batch, a note, a note line or an order changed; cached month counts are stale."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def monthly_rates(
    months: int = MONTHS_SHOWN, customer: Customer | None = None, today: date | None = None
) -> list[MonthRate]:
    """The last ``months`` months up to and including the current (provisional) one, oldest first; months
    without due batches are included with ``due == 0`` (no rate)."""
    today = today or timezone.localdate()
    current = month_start(today)
    first = add_months(current, -(months - 1))
    # Closed months come from the cache (invalidated by any change to batches, notes or order status, see
    # data_version); the current month is always counted live. Counting 24 months of all customers reads every
    # due batch (bench/: ~1.5 s at 300,000 batches); the current month alone is a small slice.
    key = f"ontime:{data_version()}:{customer.pk if customer else 'all'}:{first}:{current}"
    counts = cache.get(key)
    if counts is None:
        counts = _month_counts(first, current - timedelta(days=1), customer) if first < current else {}
        cache.set(key, counts, timeout=24 * 3600)
    counts = {**counts, **_current_month_counts(current, today, customer)}
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
    if month == current:
        counts = _current_month_counts(current, today, customer)
    else:
        counts = _month_counts(month, month_end(month), customer)
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
    """The late batches of ``month`` (delivered late or not delivered), annotated by ``batches_with_delivery``
    (``delivered``, ``delivered_on_time``, ``outstanding``) and ``delivered_in_full``; earliest due first."""
    today = today or timezone.localdate()
    month = month_start(month)
    last = min(month_end(month), today - timedelta(days=1))  # a batch due today is not late yet
    return (
        due_batches(month, last, customer, batches=batches_with_delivery())
        .exclude(delivered_on_time__gte=F("quantity"))
        .annotate(delivered_in_full=Q(delivered__gte=F("quantity")))
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
