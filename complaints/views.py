"""Pages of complaints (§5.10.2): the list, the intake form, the complaint's page with its steps, attachments,
returns and replacements, and its timeline.

Every view checks access first (accounts.roles and complaints.services.may_*). An action goes through
``_attempt``: a valid form calls the service and redirects with a message; an invalid form or a refusal of the
procedure (DomainError) re-renders the page it came from with the bound form, the reason beside its field,
status 422 (CONVENTIONS.md, "Views and templates").
"""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.listing import DATE, Column, Listing
from common.views import form_action
from complaints import selectors, services
from complaints.forms import (
    AcknowledgeForm,
    AnswerForm,
    AttachmentForm,
    CloseForm,
    ComplaintForm,
    InvestigateForm,
    ReplacementForm,
    ReturnForm,
)
from complaints.models import Complaint, ComplaintAttachment
from orders.forms import SIGNATURES

PAGE_SIZE = 50
S = Complaint.Status


def _complaint(number: str) -> Complaint:
    try:
        return selectors.complaint_for_page(number)
    except Complaint.DoesNotExist:
        raise Http404 from None


# --- The list ---------------------------------------------------------------------------------------------------


COMPLAINTS = Listing(
    name="complaints",
    sheet_title=gettext_lazy("Complaints"),
    columns=[
        Column("number", gettext_lazy("No."), "number", sort="number"),
        Column("received", gettext_lazy("Received"), "received_on", DATE, sort="received_on"),
        Column("customer", gettext_lazy("Customer code"), "customer.code", sort="customer__code"),
        Column("customer_name", gettext_lazy("Customer"), "customer.display_name", sort="customer__name_zh"),
        Column("channel", gettext_lazy("received by"), "get_channel_display", sort="channel"),
        Column("category", gettext_lazy("Category"), "get_category_display", sort="category"),
        Column("description", gettext_lazy("What the customer says"), "description", sort="description"),
        Column(
            "department",
            gettext_lazy("Investigated by"),
            lambda c: selectors.dept_label(c.department),
            sort="department",
        ),
        Column("status", gettext_lazy("Status"), "get_status_display", sort="status"),
        Column("due", gettext_lazy("Next step due"), selectors.due_on, DATE),
        Column("overdue", gettext_lazy("overdue"), "overdue", sort="overdue"),
    ],
    default_sort="-received",
    date_field="received_on",
    date_label=gettext_lazy("Received"),
)


@login_required
def complaint_list(request):
    require(request.user, "complaint.view")
    get = request.GET
    status = get.get("status", "") if get.get("status") in S.values else ""
    category = get.get("category", "") if get.get("category") in Complaint.Category.values else ""
    customer = get.get("customer", "").replace("\x00", "").strip()
    overdue = get.get("overdue") == "1"
    q = get.get("q", "").replace("\x00", "")
    complaints = selectors.complaint_list(status=status, category=category, customer=customer, overdue=overdue, q=q)
    listed = COMPLAINTS.bind(request)
    complaints = listed.apply(complaints)
    if listed.export:
        return listed.xlsx_response(complaints)
    page = Paginator(complaints, PAGE_SIZE).get_page(get.get("page"))
    for complaint in page:
        complaint.due = selectors.due_on(complaint)
        complaint.department_label = selectors.dept_label(complaint.department)
    return render(
        request,
        "complaints/complaint_list.html",
        {
            "page": page,
            "status": status,
            "category": category,
            "customer": customer,
            "overdue": overdue,
            "q": q,
            "statuses": S.choices,
            "categories": Complaint.Category.choices,
            "query": listed.page_query,
            "listed": listed,
            "can_record": services.may_record(request.user),
        },
    )


# --- Intake -----------------------------------------------------------------------------------------------------


@login_required
def complaint_new(request):
    require(request.user, "complaint.record")

    def page(form):
        return render(request, "complaints/complaint_form.html", {"form": form})

    if request.method != "POST":
        # Choosing the customer (htmx, or the button without JavaScript) reloads the form with its orders,
        # delivery notes and returns; what was typed so far is carried over.
        keep = ("customer", "channel", "received_on", "category", "department", "description")
        form = ComplaintForm(initial={k: request.GET[k].replace("\x00", "") for k in keep if request.GET.get(k)})
        if request.htmx:
            return render(request, "complaints/_links.html", {"form": form})
        return page(form)

    def action(data):
        complaint = services.complaint_record(
            user=request.user,
            customer=data["customer"],
            channel=data["channel"],
            received_on=data["received_on"],
            description=data["description"],
            category=data["category"],
            department=data["department"] or None,
            orders=data["orders"],
            notes=data["notes"],
            returns=data["returns"],
            attachments=data["attachments"],
        )
        return (
            _("Complaint %(number)s recorded. Acknowledge it to the customer.") % {"number": complaint.number},
            complaint.get_absolute_url(),
        )

    return form_action(request, ComplaintForm(request.POST, request.FILES), action, page)


# --- The complaint's page --------------------------------------------------------------------------------------


def _steps(c: Complaint) -> list[dict]:
    return [
        {
            "key": "received",
            "title": _("Received"),
            "done": True,
            "on": c.received_on,
            "by": c.recorded_by,
            "at": c.recorded_at,
            "texts": [(_("what the customer says"), c.description)],
        },
        {
            "key": "acknowledged",
            "title": _("Acknowledged to the customer"),
            "done": c.acknowledged_at is not None,
            "on": c.acknowledged_on,
            "by": c.acknowledged_by,
            "at": c.acknowledged_at,
            "texts": [(_("what we told the customer"), c.acknowledgement)],
        },
        {
            "key": "investigated",
            "title": _("Investigated by %(dept)s") % {"dept": selectors.dept_label(c.department)},
            "done": c.investigated_at is not None,
            "on": None,
            "by": c.investigated_by,
            "at": c.investigated_at,
            "texts": [(_("cause found"), c.cause), (_("what is done about it"), c.action_taken)],
        },
        {
            "key": "answered",
            "title": _("Answer sent to the customer"),
            "done": c.answered_at is not None,
            "on": c.answered_on,
            "by": c.answered_by,
            "at": c.answered_at,
            "texts": [(_("answer to the customer"), c.answer)],
        },
        {
            "key": "closed",
            "title": _("Closed: the customer accepted"),
            "done": c.closed_at is not None,
            "on": c.accepted_on,
            "by": c.closed_by,
            "at": c.closed_at,
            "texts": [(_("closing note"), c.closing_note)],
        },
    ]


def _action_link(complaint: Complaint) -> str:
    """Improvement's "propose an action" form, prefilled with this complaint (when that app is installed)."""
    try:
        url = reverse("improvement:action_new")
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode({'source': 'complaint', 'complaint': complaint.number})}"


def _page(request, complaint: Complaint, **failed) -> HttpResponse:
    """The complaint's page; ``failed`` holds the bound form of a refused action, shown with its errors."""
    user = request.user
    c = complaint
    is_open = c.status != S.CLOSED
    record = services.may_record(user)
    allowed = {
        "acknowledge": record and c.status == S.RECEIVED,
        "investigate": services.may_investigate(user, c) and c.status == S.ACKNOWLEDGED,
        "answer": record and c.status == S.INVESTIGATED,
        "close": record and c.status == S.ANSWERED,
        "attach": services.may_attach(user, c) and is_open,
        "arrange_return": record and is_open and bool(c.notes.all()),
        "replace": record and is_open and any(r.replacement_id is None for r in c.returns.all()),
        "propose_action": can(user, "action.create"),
    }
    forms = {
        "acknowledge_form": AcknowledgeForm(),
        "investigate_form": InvestigateForm(),
        "answer_form": AnswerForm(),
        "close_form": CloseForm(),
        "attach_form": AttachmentForm(),
        "return_form": ReturnForm(complaint=c) if allowed["arrange_return"] else None,
        "replacement_form": ReplacementForm(complaint=c) if allowed["replace"] else None,
    }
    forms.update(failed)
    return render(
        request,
        "complaints/complaint_detail.html",
        {
            "complaint": c,
            "steps": _steps(c),
            "department_label": selectors.dept_label(c.department),
            "next_step": selectors.NEXT_STEP.get(c.status, ""),
            "due": selectors.due_on(c),
            "overdue": selectors.is_overdue(c),
            "orders": list(c.orders.all()),
            "notes": list(c.notes.all()),
            "returns": list(c.returns.all()),
            "attachments": list(c.attachments.all()),
            "timeline": selectors.timeline(c),
            "can": allowed,
            "action_link": _action_link(c) if allowed["propose_action"] else "",
            "failed": next(iter(failed.values()), None),
            **forms,
        },
    )


@login_required
def complaint_detail(request, number):
    require(request.user, "complaint.view")
    return _page(request, _complaint(number))


def _step(request, number, form, form_name: str, action: Callable):
    complaint = _complaint(number)
    return form_action(
        request,
        form,
        lambda data: (action(complaint, data), complaint.get_absolute_url()),
        lambda bound: _page(request, _complaint(number), **{form_name: bound}),
    )


@login_required
@require_POST
def complaint_acknowledge(request, number):
    require(request.user, "complaint.record")

    def act(complaint, data):
        services.complaint_acknowledge(user=request.user, complaint=complaint, on=data["on"], text=data["text"])
        return _("Acknowledgement to the customer recorded; the department responsible investigates next.")

    return _step(request, number, AcknowledgeForm(request.POST), "acknowledge_form", act)


@login_required
@require_POST
def complaint_investigate(request, number):
    require(request.user, "complaint.investigate")
    if not services.may_investigate(request.user, _complaint(number)):
        raise PermissionDenied

    def act(complaint, data):
        services.complaint_investigate(
            user=request.user, complaint=complaint, cause=data["cause"], action=data["action"]
        )
        return _("Investigation recorded; Customer Service answers the customer next.")

    return _step(request, number, InvestigateForm(request.POST), "investigate_form", act)


@login_required
@require_POST
def complaint_answer(request, number):
    require(request.user, "complaint.record")

    def act(complaint, data):
        services.complaint_answer(user=request.user, complaint=complaint, answer=data["answer"], on=data["on"])
        return _("Answer recorded; close the complaint when the customer accepts it.")

    return _step(request, number, AnswerForm(request.POST), "answer_form", act)


@login_required
@require_POST
def complaint_close(request, number):
    require(request.user, "complaint.record")

    def act(complaint, data):
        services.complaint_close(
            user=request.user, complaint=complaint, accepted_on=data["accepted_on"], note=data["note"]
        )
        return _("The complaint is closed.")

    return _step(request, number, CloseForm(request.POST), "close_form", act)


@login_required
@require_POST
def complaint_attach(request, number):
    require(request.user, "complaint.view")
    if not services.may_attach(request.user, _complaint(number)):
        raise PermissionDenied

    def act(complaint, data):
        attachment = services.complaint_attach(
            user=request.user, complaint=complaint, upload=data["file"], name=data["name"]
        )
        return _("%(name)s attached.") % {"name": attachment.name}

    return _step(request, number, AttachmentForm(request.POST, request.FILES), "attach_form", act)


@login_required
@require_POST
def complaint_return(request, number):
    require(request.user, "complaint.record")
    complaint = _complaint(number)

    def act(complaint, data):
        services.complaint_arrange_return(user=request.user, complaint=complaint, **data)
        return _("Return recorded; Customer Service arranges the pickup and Quality writes its memo.")

    return _step(request, number, ReturnForm(request.POST, complaint=complaint), "return_form", act)


@login_required
@require_POST
def complaint_replacement(request, number):
    require(request.user, "complaint.record")
    complaint = _complaint(number)

    def act(complaint, data):
        services.complaint_arrange_replacement(
            user=request.user, complaint=complaint, ret=data["ret"], due_date=data["due_date"]
        )
        return _("Replacement delivery planned.")

    return _step(request, number, ReplacementForm(request.POST, complaint=complaint), "replacement_form", act)


@login_required
def complaint_attachment(request, number, pk):
    require(request.user, "complaint.view")
    attachment = get_object_or_404(ComplaintAttachment.objects.select_related("complaint"), pk=pk)
    if attachment.complaint.number != number:
        raise Http404
    handle = attachment.file.open("rb")
    head = handle.read(8)
    handle.seek(0)
    kind = next((k for signature, k in SIGNATURES.items() if head.startswith(signature)), None)
    content_type = {
        "pdf": "application/pdf",
        "png": "image/png",
        "jpeg": "image/jpeg",
        "tiff": "image/tiff",
    }.get(kind, "application/octet-stream")
    # Only checked PDFs and images are stored; anything else is offered as a download, never shown inline.
    return FileResponse(
        handle, content_type=content_type, as_attachment=kind is None, filename=attachment.file.name.split("/")[-1]
    )
