"""The figures of the managers' dashboard, read through each app's own selectors.

Every figure here is the figure some page of the app already shows, computed by the same public function that
page calls (delivery.ontime, delivery.progress_sheet, satisfaction.selectors, complaints.selectors,
improvement.selectors, orders.selectors), so that "due", "late", "overdue", "at risk" and "open" mean one thing
everywhere. Where a page filters a queryset itself (the order list by status, the delivery notes not signed
back) the dashboard applies the same filter and the tests compare the two. Each figure group costs a fixed
number of queries, aggregated in the database, whatever the number of orders, batches or responses.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, FloatField, Func, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.roles import Dept, can
from common.workdays import earliest_start_within
from complaints import selectors as complaint_selectors
from complaints.models import Complaint
from customers.models import Customer
from delivery import ontime
from delivery.models import DeliveryNote
from delivery.progress_sheet import summary_counts
from delivery.views_records import report_data
from improvement import selectors as improvement_selectors
from orders.models import REVIEW_DEPARTMENTS, Objection, Order, ReviewStep
from satisfaction import scoring
from satisfaction import selectors as survey_selectors
from satisfaction.models import SurveyRound

TREND_MONTHS = 12
TOP_LATE_CUSTOMERS = 5
LAST_ROUNDS = 6
REVIEW_WINDOW_DAYS = 30


def may_view(user) -> bool:
    """The departments of ``dashboard.view`` (marketing head, management representative, administrator), and
    anyone an administrator granted the permission ``dashboard.view_dashboard`` (a department head): both are
    ``can()``'s (accounts.roles.GRANTED_BY)."""
    return can(user, "dashboard.view")


def target() -> Decimal:
    return Decimal(str(settings.ONTIME_TARGET))


# --- On-time delivery (§5.5.2) ---------------------------------------------------------------------------------


@dataclass
class LateCustomer:
    customer: Customer
    late: int


@dataclass
class OnTimeFigures:
    months: list  # ontime.MonthRate, oldest first, the current (provisional) month last
    target: Decimal
    this_month: object
    last_month: object
    late_customers: list[LateCustomer]  # last month's customers with the most late batches

    @property
    def below_target(self) -> int:
        return sum(1 for m in self.months if m.rate is not None and m.rate < self.target)


def late_by_customer(month: date, today: date, limit: int = TOP_LATE_CUSTOMERS) -> list[LateCustomer]:
    """The customers with the most late batches in ``month``: the batches the on-time page lists for that month
    (``ontime.late_batches``) plus the unplanned parts of lines it lists (``ontime.late_unplanned``), counted per
    customer in the database. Two grouped queries and one for the customers' names."""
    counts: dict[int, int] = {}
    batches = ontime.late_batches(month, today=today).order_by().values("line__order__customer").annotate(n=Count("pk"))
    for row in batches:
        counts[row["line__order__customer"]] = counts.get(row["line__order__customer"], 0) + row["n"]
    lines = ontime.late_unplanned(month, today=today).order_by().values("order__customer").annotate(n=Count("pk"))
    for row in lines:
        counts[row["order__customer"]] = counts.get(row["order__customer"], 0) + row["n"]
    if not counts:
        return []
    customers = Customer.objects.in_bulk(list(counts)).values()
    ranked = sorted(customers, key=lambda c: (-counts[c.pk], c.code))[:limit]
    return [LateCustomer(customer=c, late=counts[c.pk]) for c in ranked]


def ontime_figures(today: date) -> OnTimeFigures:
    # The last 12 of the months the on-time page reads (the same counts: each month is counted on its own).
    rates = ontime.monthly_rates(months=TREND_MONTHS, today=today)
    last = rates[-2]
    return OnTimeFigures(
        months=rates,
        target=target(),
        this_month=rates[-1],
        last_month=last,
        late_customers=late_by_customer(last.month, today),
    )


# --- Satisfaction (§5.11, §5.12.4) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundSummary:
    """The figures of ``satisfaction.selectors.RoundResults`` the dashboard shows, without its per-customer rows
    (thousands in a half-year round: too heavy to keep in the cache and read back on every request)."""

    rate: Decimal | None
    answered: int
    surveyed: int
    days_left: int
    behind_target: bool
    score: Decimal | None
    band: object

    @classmethod
    def of(cls, results) -> "RoundSummary":
        return cls(
            rate=results.rate,
            answered=results.answered,
            surveyed=results.surveyed,
            days_left=results.days_left,
            behind_target=results.behind_target,
            score=results.score,
            band=results.band,
        )


@dataclass
class RoundFigure:
    round: SurveyRound
    results: RoundSummary


@dataclass
class SatisfactionFigures:
    rounds: list[RoundFigure]  # the last rounds sent, oldest first
    open_rounds: list[RoundFigure]  # rounds still taking answers
    bands: list = field(default_factory=lambda: list(scoring.BANDS))


def satisfaction_figures(today: date) -> SatisfactionFigures:
    """The last rounds' scores and bands and the open rounds' response rates, from ``rounds_results`` (the round
    list's reader: a fixed number of queries for any number of rounds and responses)."""
    recent = list(
        SurveyRound.objects.exclude(status=SurveyRound.Status.DRAFT).order_by("-period_end", "-pk")[:LAST_ROUNDS]
    )
    open_rounds = list(SurveyRound.objects.filter(status=SurveyRound.Status.SENT).order_by("deadline", "pk"))
    everything = {r.pk: r for r in [*recent, *open_rounds]}
    results = survey_selectors.rounds_results(list(everything.values()), today=today)
    summaries = {pk: RoundSummary.of(item) for pk, item in results.items()}
    return SatisfactionFigures(
        rounds=[RoundFigure(r, summaries[r.pk]) for r in reversed(recent)],
        open_rounds=[RoundFigure(r, summaries[r.pk]) for r in open_rounds],
    )


# --- Order review (§5.2) ------------------------------------------------------------------------------------------


@dataclass
class DepartmentReview:
    department: str
    label: object  # lazy: the figures may be cached and shown in either language
    signed: int = 0  # steps signed in the window
    median_hours: Decimal | None = None
    slowest_hours: Decimal | None = None
    waiting: int = 0  # steps open now
    overdue: int = 0  # of which overdue (orders.selectors.is_overdue)


@dataclass
class ReviewFigures:
    stages: list[tuple[str, str, int]]  # (status, label, orders), in the order of the flow
    departments: list[DepartmentReview]
    objections_open: int
    orders_on_hold: int
    window_days: int = REVIEW_WINDOW_DAYS


def _hours(delta: timedelta) -> Decimal:
    return scoring.round1(Decimal(delta.total_seconds()) / 3600)


def overdue_cutoff(today: date) -> datetime:
    """A review step opened before this moment is overdue today: the same rule as ``orders.selectors.is_overdue``
    (more than REVIEW_OVERDUE_WORKING_DAYS working days since the day it was opened, in local time)."""
    start = earliest_start_within(settings.REVIEW_OVERDUE_WORKING_DAYS, today)
    return datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())


class SecondsBetween(Func):
    """Seconds from the second datetime to the first, in the database's own arithmetic. Django's portable datetime
    difference calls a Python function per row on SQLite, slow over a month of signatures. SQLite and PostgreSQL
    (the databases the app runs on)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s)) * 86400.0)", arg_joiner=") - julianday("
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ")


def _review_times(since: datetime) -> list[tuple[str, int, timedelta, timedelta]]:
    """``[(department, steps signed, slowest, median)]`` of the review steps signed since ``since``."""
    took = SecondsBetween("signed_at", "opened_at")
    by_department = {"partition_by": [F("department")]}
    rows = (
        ReviewStep.objects.filter(signed_at__isnull=False, signed_at__gte=since)
        .exclude(status=ReviewStep.Status.OBJECTED)
        .annotate(
            took=took,
            position=Window(RowNumber(), order_by=[took.asc(), F("pk").asc()], **by_department),
            n=Window(Count("pk"), **by_department),
            slowest=Window(Max(took), **by_department),
        )
        # The middle row (odd count) or the two middle rows (even count): integer division in SQL.
        .filter(Q(position=(F("n") + 1) / 2) | Q(position=(F("n") + 2) / 2))
        .order_by("department", "position")
        .values_list("department", "n", "slowest", "took")
    )
    middles: dict[str, list] = {}
    for department, n, slowest, value in rows:
        middles.setdefault(department, [n, slowest, []])[2].append(value)
    return [
        (department, n, timedelta(seconds=max(slowest, 0)), timedelta(seconds=max(sum(values) / len(values), 0)))
        for department, (n, slowest, values) in middles.items()
    ]


def review_figures(today: date, now: datetime | None = None) -> ReviewFigures:
    now = now or timezone.now()
    counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("pk")))
    stages = [(value, label, counts.get(value, 0)) for value, label in Order.Status.choices]

    departments = {d: DepartmentReview(department=d, label=Dept(d).label) for d in REVIEW_DEPARTMENTS}
    cutoff = overdue_cutoff(today)
    waiting = (
        ReviewStep.objects.filter(status=ReviewStep.Status.OPEN)
        .order_by()
        .values("department")
        .annotate(waiting=Count("pk"), overdue=Count("pk", filter=Q(opened_at__lt=cutoff)))
    )
    for row in waiting:
        item = departments.setdefault(
            row["department"], DepartmentReview(department=row["department"], label=row["department"])
        )
        item.waiting, item.overdue = row["waiting"], row["overdue"]

    # Review time: from the step's opening to its signature, for the steps signed in the window (an objection also
    # stamps signed_at: not a signature). The median and the slowest per department in ONE query: window functions
    # number each department's steps by duration; only the one or two middle rows of each come back.
    for department, n, slowest, middle in _review_times(now - timedelta(days=REVIEW_WINDOW_DAYS)):
        item = departments.setdefault(department, DepartmentReview(department=department, label=department))
        item.signed, item.slowest_hours, item.median_hours = n, _hours(slowest), _hours(middle)

    objections = Objection.objects.filter(settled_at__isnull=True).aggregate(
        n=Count("pk"), orders=Count("step__order", distinct=True)
    )
    return ReviewFigures(
        stages=stages,
        departments=list(departments.values()),
        objections_open=objections["n"],
        orders_on_hold=counts.get(Order.Status.ON_HOLD, 0),
    )


# --- Delivery (§5.4 to §5.9) --------------------------------------------------------------------------------------


@dataclass
class DeliveryFigures:
    at_risk: int
    open_lines: int
    not_ready_tomorrow: int
    unsigned_notes: int
    open_transfers: int


def unsigned_notes():
    """Issued delivery notes whose signed copy has not come back: the delivery-note list's ``status=unsigned``."""
    return DeliveryNote.objects.filter(status=DeliveryNote.Status.ISSUED, sign_back__isnull=True)


def delivery_figures(today: date) -> DeliveryFigures:
    summary = summary_counts(today)  # the delivery-progress sheet's counts (and My work's "not ready")
    transfers = report_data(today, today).transfers  # the reports page's "transfers still to complete"
    return DeliveryFigures(
        at_risk=summary.at_risk,
        open_lines=summary.open_lines,
        not_ready_tomorrow=summary.not_ready_tomorrow,
        unsigned_notes=unsigned_notes().count(),
        open_transfers=len(transfers),
    )


# --- Complaints (§5.10.2) and corrective actions (§5.12.6) -------------------------------------------------------


@dataclass
class ComplaintFigures:
    by_status: list[tuple[str, str, int]]  # the open steps: (status, label, complaints)
    open: int
    overdue: int
    actions: dict[str, int]  # improvement.selectors.action_counts: open, overdue, done, waiting, effective


def complaint_figures(today: date) -> ComplaintFigures:
    S = Complaint.Status
    open_statuses = [value for value in S.values if value != S.CLOSED]
    counts = Complaint.objects.aggregate(
        overdue=Count("pk", filter=complaint_selectors.overdue_q(today)),
        **{value: Count("pk", filter=Q(status=value)) for value in open_statuses},
    )
    by_status = [(value, label, counts[value]) for value, label in S.choices if value != S.CLOSED]
    return ComplaintFigures(
        by_status=by_status,
        open=sum(n for _, _, n in by_status),
        overdue=counts["overdue"],
        actions=improvement_selectors.action_counts(today),
    )
