"""Reading complaints: the list and its filters, the page, deadlines and overdue steps, the timeline, My work.

Deadlines (§5.10.2 "within a configurable number of days") are working days (common.workdays: Monday to Friday
and the work calendar's make-up days, less its public holidays), counted from the
previous step: COMPLAINT_ACK_DAYS from the day received, COMPLAINT_INVESTIGATE_DAYS from the acknowledgement,
COMPLAINT_ANSWER_DAYS from the investigation, COMPLAINT_ACCEPT_DAYS from the answer. A step is overdue when more
working days than allowed have passed since the previous one (as order review steps: orders.selectors.is_overdue).
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.db.models import BooleanField, Case, Prefetch, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import MATRIX, Dept, can, departments_of
from accounts.work import WorkItem, WorkSection, work_limit
from common.workdays import add_working_days, earliest_start_within, working_days_between
from complaints.models import Complaint, ComplaintAttachment
from delivery.models import DeliveryNote, Return

S = Complaint.Status
WORK_LIMIT = 20

# What the open step of each status is, and who holds it.
NEXT_STEP = {
    S.RECEIVED: gettext_lazy("to acknowledge to the customer"),
    S.ACKNOWLEDGED: gettext_lazy("to investigate"),
    S.INVESTIGATED: gettext_lazy("to answer the customer"),
    S.ANSWERED: gettext_lazy("to close when the customer accepts"),
}
CUSTOMER_SERVICE_STEPS = (S.RECEIVED, S.INVESTIGATED, S.ANSWERED)


def step_days(status: str) -> int | None:
    """Working days the open step of a complaint in ``status`` may take; None when closed."""
    return {
        S.RECEIVED: settings.COMPLAINT_ACK_DAYS,
        S.ACKNOWLEDGED: settings.COMPLAINT_INVESTIGATE_DAYS,
        S.INVESTIGATED: settings.COMPLAINT_ANSWER_DAYS,
        S.ANSWERED: settings.COMPLAINT_ACCEPT_DAYS,
    }.get(status)


def step_start(complaint: Complaint) -> date | None:
    """The day the open step's time started: the day of the previous step."""
    if complaint.status == S.RECEIVED:
        return complaint.received_on
    if complaint.status == S.ACKNOWLEDGED:
        return complaint.acknowledged_on
    if complaint.status == S.INVESTIGATED:
        return timezone.localdate(complaint.investigated_at)
    if complaint.status == S.ANSWERED:
        return complaint.answered_on
    return None


def due_on(complaint: Complaint) -> date | None:
    start, days = step_start(complaint), step_days(complaint.status)
    if start is None or days is None:
        return None
    return add_working_days(start, days)


def is_overdue(complaint: Complaint, today: date | None = None) -> bool:
    start, days = step_start(complaint), step_days(complaint.status)
    if start is None or days is None:
        return False
    return working_days_between(start, today or timezone.localdate()) > days


def overdue_before(days: int, today: date) -> date:
    """The earliest start day whose step is not overdue ``today``: a step started before it is overdue."""
    return earliest_start_within(days, today)


def overdue_q(today: date | None = None) -> Q:
    """Complaints whose open step is overdue, as a filter the database evaluates (same rule as ``is_overdue``)."""
    today = today or timezone.localdate()

    def before(status) -> date:
        return overdue_before(step_days(status), today)

    investigated_cutoff = datetime.combine(before(S.INVESTIGATED), time.min, tzinfo=timezone.get_current_timezone())
    return (
        Q(status=S.RECEIVED, received_on__lt=before(S.RECEIVED))
        | Q(status=S.ACKNOWLEDGED, acknowledged_on__lt=before(S.ACKNOWLEDGED))
        | Q(status=S.INVESTIGATED, investigated_at__lt=investigated_cutoff)
        | Q(status=S.ANSWERED, answered_on__lt=before(S.ANSWERED))
    )


def with_overdue(complaints: QuerySet[Complaint], today: date | None = None) -> QuerySet[Complaint]:
    return complaints.annotate(
        overdue=Case(When(overdue_q(today), then=Value(True)), default=Value(False), output_field=BooleanField())
    )


def dept_label(code: str) -> str:
    return str(Dept(code).label) if code in Dept.values else code


# --- The list and the page --------------------------------------------------------------------------------------


def complaint_list(
    *, status: str = "", category: str = "", customer: str = "", overdue: bool = False, q: str = ""
) -> QuerySet[Complaint]:
    complaints = with_overdue(Complaint.objects.select_related("customer"))
    if status:
        complaints = complaints.filter(status=status)
    if category:
        complaints = complaints.filter(category=category)
    if customer:
        complaints = complaints.filter(customer__code=customer)
    if overdue:
        complaints = complaints.filter(overdue=True)
    q = q.replace("\x00", "").strip()
    if q:
        complaints = complaints.filter(
            Q(number__icontains=q)
            | Q(customer__code__icontains=q)
            | Q(customer__name_zh__icontains=q)
            | Q(customer__name_en__icontains=q)
        )
    return complaints.order_by("-received_on", "-pk")


def complaint_for_page(number: str) -> Complaint:
    returns = Return.objects.select_related(
        "note_line__note", "note_line__batch__line__product", "replacement__created_by", "recorded_by"
    ).order_by("recorded_at", "pk")
    return (
        Complaint.objects.select_related(
            "customer",
            "quality_problem",
            "recorded_by",
            "acknowledged_by",
            "investigated_by",
            "answered_by",
            "closed_by",
        )
        .prefetch_related(
            "orders",
            Prefetch("notes", queryset=DeliveryNote.objects.order_by("delivery_date", "pk")),
            Prefetch("returns", queryset=returns),
            Prefetch("attachments", queryset=ComplaintAttachment.objects.select_related("uploaded_by")),
        )
        .get(number=number)
    )


# --- The timeline: who did what, when ---------------------------------------------------------------------------


@dataclass
class Event:
    at: datetime
    who: object
    text: str


STEP_DONE = {
    S.ACKNOWLEDGED: gettext_lazy("Acknowledged to the customer"),
    S.INVESTIGATED: gettext_lazy("Investigated"),
    S.ANSWERED: gettext_lazy("Answer sent to the customer"),
    S.CLOSED: gettext_lazy("Closed: the customer accepted the answer"),
}


def timeline(complaint: Complaint) -> list[Event]:
    """From the complaint's history (every saved version, with its user) and its attachments and returns."""
    events = []
    previous = None
    for version in complaint.history.select_related("history_user").order_by("history_date", "history_id"):
        if version.history_type == "+":
            events.append(Event(version.history_date, version.history_user, str(_("Recorded"))))
        elif previous is not None and version.status != previous:
            text = STEP_DONE.get(version.status)
            events.append(Event(version.history_date, version.history_user, str(text or version.get_status_display())))
        previous = version.status
    for attachment in complaint.attachments.all():
        events.append(
            Event(attachment.uploaded_at, attachment.uploaded_by, _("Attached %(name)s") % {"name": attachment.name})
        )
    for ret in complaint.returns.all():
        events.append(
            Event(
                ret.recorded_at,
                ret.recorded_by,
                _("Return recorded: %(note)s %(product)s")
                % {"note": ret.note_line.note.number, "product": ret.note_line.batch.line.product.code},
            )
        )
        if ret.replacement is not None:
            events.append(
                Event(
                    ret.replacement.created_at,
                    ret.replacement.created_by,
                    _("Replacement planned, due %(date)s") % {"date": ret.replacement.due_date.isoformat()},
                )
            )
    return sorted(events, key=lambda e: e.at)


# --- My work ---------------------------------------------------------------------------------------------------


def _items(complaints) -> list[WorkItem]:
    items = []
    for c in complaints:
        due = due_on(c)
        items.append(
            WorkItem(
                label=f"{c.number} {c.customer.display_name}",
                url=c.get_absolute_url(),
                detail=_("%(step)s, due %(date)s") % {"step": NEXT_STEP[c.status], "date": due.isoformat()},
                overdue=c.overdue,
            )
        )
    return items


def my_work(user) -> list[WorkSection]:
    """Customer Service: complaints to acknowledge, answer or close; the responsible departments: complaints to
    investigate. Overdue ones first and flagged. Two queries per section, however many complaints are open."""
    sections: list[WorkSection] = []
    if not can(user, "complaint.view"):
        return sections
    base = with_overdue(Complaint.objects.select_related("customer")).order_by("-overdue", "received_on", "pk")
    more = reverse("complaints:list")
    if can(user, "complaint.record"):
        waiting = base.filter(status__in=CUSTOMER_SERVICE_STEPS)
        sections.append(
            WorkSection(
                title=_("Complaints to acknowledge, answer or close"),
                items=_items(waiting[: work_limit(WORK_LIMIT)]),
                total=waiting.count(),
                more_url=more,
            )
        )
    mine = sorted(departments_of(user) & MATRIX["complaint.investigate"])
    if mine:
        waiting = base.filter(status=S.ACKNOWLEDGED, department__in=mine)
        sections.append(
            WorkSection(
                title=_("Complaints to investigate"),
                items=_items(waiting[: work_limit(WORK_LIMIT)]),
                total=waiting.count(),
                more_url=f"{more}?status={S.ACKNOWLEDGED}",
            )
        )
    return sections
