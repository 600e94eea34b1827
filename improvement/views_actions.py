"""Pages of the improvement part (§5.12.6): the overview, the improvement meetings and the corrective actions.

Every view checks access first (accounts.roles). An action goes through ``_attempt``: a valid form calls the
service and redirects with a message; an invalid form or a refusal of the procedure (DomainError) re-renders the
page it came from with the bound form, the reason beside its field, status 422 (CONVENTIONS.md).
The analysis report is views_report.py's, the management review views_review.py's.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Dept, can, require
from common.listing import DATE, DATETIME, NUMBER, Column, Listing
from common.views import form_action
from improvement import actions as services
from improvement import selectors
from improvement.forms_actions import ActionForm, DoneForm, MeetingForm, VerifyForm
from improvement.models import Action, ManagementReview, Meeting
from satisfaction.models import SurveyRound

PAGE_SIZE = 50
HOME_ROUNDS = 10
HOME_ROWS = 10


def _with_labels(actions):
    """Each action with its owner department's label (templates cannot look a choice up by value)."""
    actions = list(actions)
    for action in actions:
        action.department_label = (
            Dept(action.owner_department).label if action.owner_department in Dept.values else action.owner_department
        )
    return actions


def _action(number: str) -> Action:
    return get_object_or_404(
        Action.objects.select_related(
            "owner",
            "created_by",
            "done_by",
            "round",
            "question__form",
            "customer",
            "complaint",
            "ret__note_line__note",
            "meeting",
            "report__round",
        ),
        number=number,
    )


# --- The overview ---------------------------------------------------------------------------------------------


@login_required
def home(request):
    require(request.user, "improvement.view")
    user = request.user
    today = timezone.localdate()
    rounds = SurveyRound.objects.exclude(status=SurveyRound.Status.DRAFT).order_by("-period_end", "-pk")
    rounds_page = Paginator(rounds, HOME_ROUNDS).get_page(request.GET.get("rpage"))
    selectors.rounds_with_reports(list(rounds_page))
    overdue = Action.objects.filter(selectors.overdue_q(today)).select_related("owner").order_by("due_date", "pk")
    waiting = Action.objects.filter(selectors.waiting_q(today)).select_related("owner")
    return render(
        request,
        "improvement/home.html",
        {
            "rounds_page": rounds_page,
            "meetings": list(selectors.meeting_list()[:HOME_ROWS]),
            "counts": selectors.action_counts(today),
            "overdue": _with_labels(overdue[:HOME_ROWS]),
            "waiting": _with_labels(waiting.order_by("verify_after", "pk")[:HOME_ROWS]),
            "reviews": list(ManagementReview.objects.order_by("-period_end", "-pk")[:5]),
            "can_write_report": can(user, "report.write"),
            "can_record": can(user, "meeting.record"),
            "can_create": can(user, "action.create"),
            "can_prepare": can(user, "review.prepare"),
        },
    )


# --- Meetings ---------------------------------------------------------------------------------------------------


@login_required
def meeting_list(request):
    require(request.user, "improvement.view")
    page = Paginator(selectors.meeting_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "improvement/meeting_list.html",
        {"page": page, "can_record": can(request.user, "meeting.record")},
    )


@login_required
def meeting_new(request):
    require(request.user, "meeting.record")

    def page(form):
        return render(request, "improvement/meeting_form.html", {"form": form})

    if request.method != "POST":
        initial = {}
        report = request.GET.get("report", "")
        if report.isdigit():
            initial["report"] = int(report)
        return page(MeetingForm(initial=initial))

    def action(data):
        meeting = services.meeting_record(
            user=request.user,
            held_on=data["held_on"],
            title=data["title"],
            departments=data["departments"],
            attendees=data["attendees"],
            minutes=data["minutes"],
            decisions=data["decisions"],
            report=data["report"],
        )
        message = _("Meeting recorded; its minutes went to the departments as memo %(number)s.") % {
            "number": meeting.memo.number
        }
        return message, meeting.get_absolute_url()

    return form_action(request, MeetingForm(request.POST), action, page)


@login_required
def meeting_detail(request, pk):
    require(request.user, "improvement.view")
    meeting = get_object_or_404(Meeting.objects.select_related("memo", "recorded_by", "report__round"), pk=pk)
    receipts = []
    if meeting.memo_id:
        receipts = list(meeting.memo.receipts.select_related("acknowledged_by").order_by("department"))
        for receipt in receipts:
            receipt.label = Dept(receipt.department).label if receipt.department in Dept.values else receipt.department
    return render(
        request,
        "improvement/meeting_detail.html",
        {
            "meeting": meeting,
            "departments": [Dept(d).label for d in meeting.departments if d in Dept.values],
            "receipts": receipts,
            "actions": _with_labels(meeting.actions.select_related("owner").order_by("number")),
            "can_create": can(request.user, "action.create"),
            "today": timezone.localdate(),
        },
    )


# --- Actions ----------------------------------------------------------------------------------------------------


def _department_label(code: str) -> str:
    return str(Dept(code).label) if code in Dept.values else code


ACTIONS = Listing(
    name="corrective-actions",
    sheet_title=gettext_lazy("Corrective actions"),
    columns=[
        Column("number", gettext_lazy("Action no."), "number", sort="number"),
        Column("title", gettext_lazy("Title"), "title", sort="title"),
        Column("kind", gettext_lazy("Kind"), "get_kind_display", sort="kind"),
        Column("source", gettext_lazy("Source"), "get_source_display", sort="source"),
        Column("owner", gettext_lazy("Owner"), lambda a: str(a.owner), sort="owner__username"),
        Column(
            "department",
            gettext_lazy("owner department"),
            lambda a: _department_label(a.owner_department),
            sort="owner_department",
        ),
        Column("due", gettext_lazy("Due"), "due_date", DATE, sort="due_date"),
        Column("status", gettext_lazy("Status"), "get_status_display", sort="status"),
        Column("verify_after", gettext_lazy("verify the effect after"), "verify_after", DATE, sort="verify_after"),
        Column("reopened", gettext_lazy("times reopened"), "reopened", NUMBER, sort="reopened"),
        Column("created", gettext_lazy("created"), "created_at", DATETIME, sort="created_at"),
    ],
    default_sort="due",
    date_field="due_date",
    date_label=gettext_lazy("Due"),
)


@login_required
def action_list(request):
    require(request.user, "improvement.view")
    status = request.GET.get("status", "")
    if status not in selectors.FILTERS:
        status = ""
    mine = request.GET.get("mine") == "1"
    q = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    actions = selectors.action_list(status=status, owner=request.user if mine else None, q=q)
    listed = ACTIONS.bind(request)
    actions = listed.apply(actions)
    if listed.export:
        return listed.xlsx_response(actions)
    page = Paginator(actions, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_labels(page.object_list)
    return render(
        request,
        "improvement/action_list.html",
        {
            "page": page,
            "status": status,
            "mine": mine,
            "q": q,
            "filters": selectors.FILTERS.items(),
            "query": listed.page_query,
            "listed": listed,
            "today": timezone.localdate(),
            "can_create": can(request.user, "action.create"),
        },
    )


@login_required
def action_new(request):
    """The form, prefilled from the link that proposes the action (the analysis report, a complaint, a
    meeting): ``?source=question&round=3&question=12&report=5&title=…&problem=…``."""
    require(request.user, "action.create")

    def page(form):
        return render(request, "improvement/action_form.html", {"form": form})

    if request.method != "POST":
        return page(ActionForm(initial=ActionForm.initial_from_query(request.GET)))

    def action(data):
        created = services.action_create(
            user=request.user,
            kind=data["kind"],
            source=data["source"],
            title=data["title"],
            problem=data["problem"],
            plan=data["plan"],
            owner=data["owner"],
            owner_department=data["owner_department"],
            due_date=data["due_date"],
            verify_after=data["verify_after"],
            round=data["round"],
            question=data["question"],
            customer=data["customer"],
            complaint=data["complaint"],
            ret=data["ret"],
            month=data["month"],
            meeting=data["meeting"],
            report=data["report"],
        )
        return _("Action %(number)s created.") % {"number": created.number}, created.get_absolute_url()

    return form_action(request, ActionForm(request.POST), action, page)


@login_required
def action_detail(request, number):
    require(request.user, "improvement.view")
    action = _action(number)
    _with_labels([action])
    user = request.user
    return render(
        request,
        "improvement/action_detail.html",
        {
            "action": action,
            "history": selectors.history_rows(action),
            "verifications": list(action.verifications.select_related("verified_by").order_by("verified_at")),
            "today": timezone.localdate(),
            "can_done": action.owner_id == user.pk and action.status == Action.Status.OPEN,
            "can_verify": services.can_verify(user, action),
            "is_verifier": can(user, "action.verify") and action.owner_id != user.pk,
        },
    )


@login_required
def action_done(request, number):
    action = _action(number)
    # Only the owner reports their action done (the service refuses the others too).
    if action.owner_id != request.user.pk:
        raise PermissionDenied

    def page(form):
        return render(request, "improvement/action_done.html", {"action": action, "form": form})

    if request.method != "POST":
        initial = {"done_text": action.done_text, "verify_after": action.verify_after}
        return page(DoneForm(initial=initial))

    def submit(data):
        services.action_done(
            user=request.user, action=action, done_text=data["done_text"], verify_after=data["verify_after"]
        )
        return _("Action %(number)s reported done.") % {"number": action.number}, action.get_absolute_url()

    return form_action(request, DoneForm(request.POST), submit, page)


@login_required
def action_verify(request, number):
    require(request.user, "action.verify")
    action = _action(number)
    # Nobody verifies their own action, whatever their rights (the service refuses it too).
    if action.owner_id == request.user.pk:
        raise PermissionDenied
    evidence = selectors.survey_evidence(action) or selectors.ontime_evidence(action)

    def page(form):
        return render(
            request,
            "improvement/action_verify.html",
            {
                "action": action,
                "form": form,
                "evidence": evidence,
                "can_verify": services.can_verify(request.user, action),
                "verifications": list(action.verifications.select_related("verified_by").order_by("verified_at")),
            },
        )

    if request.method != "POST":
        return page(VerifyForm(initial={"evidence": evidence.summary() if evidence else ""}))

    def submit(data):
        verification = services.action_verify(
            user=request.user, action=action, effective=data["effective"], evidence=data["evidence"]
        )
        if verification.effective:
            message = _("Action %(number)s verified effective and closed.")
        else:
            message = _("Action %(number)s verified not effective: it is open again for its owner.")
        return message % {"number": action.number}, action.get_absolute_url()

    return form_action(request, VerifyForm(request.POST), submit, page)
