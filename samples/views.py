"""The sample pages: the list (filters, sorting, export), a request with its notes, receipts and verdicts, the
forms of each step, and the sample note's PDF. Each action checks the capability first; a form with an error
is shown again as it was sent, the error beside its field, status 422 (common.views.form_action)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.errors import DomainError
from common.listing import DATE, NUMBER, Column, Listing
from common.views import form_action
from orders.forms import chosen_again_note
from samples import printing, selectors, services
from samples.forms import CancelForm, NoteForm, ReceiptForm, RequestForm, SampleFilter, VerdictForm
from samples.models import SampleNote, SampleRequest

PAGE_SIZE = 50


def _files_again(form) -> None:
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            chosen_again_note(form, name)


def _with_files_note(page):
    """``page(form)`` that first says beside each file field that a chosen file must be chosen again."""

    def render_page(form):
        _files_again(form)
        return page(form)

    return render_page


# --- The list ----------------------------------------------------------------------------------------------------


def _asked_by(sample: SampleRequest) -> str:
    return sample.requested_by.get_full_name() or sample.requested_by.username


def _signed_receipts(sample: SampleRequest) -> int:
    return sum(1 for note in sample.issued_notes if hasattr(note, "receipt"))


def _outcome(sample: SampleRequest):
    verdict = selectors.latest_verdict(sample)
    return verdict.get_outcome_display() if verdict else None


def _conditions(sample: SampleRequest):
    verdict = selectors.latest_verdict(sample)
    return verdict.conditions if verdict else None


def _verdict_date(sample: SampleRequest):
    verdict = selectors.latest_verdict(sample)
    return verdict.document_date if verdict else None


SAMPLES = Listing(
    name="samples",
    sheet_title=gettext_lazy("Samples"),
    columns=[
        Column("reference", gettext_lazy("Request"), "reference", sort="pk"),
        Column(
            "customer",
            gettext_lazy("Customer"),
            lambda s: f"{s.customer.code} {s.customer.display_name}",
            sort="customer__code",
        ),
        Column(
            "product", gettext_lazy("Product"), lambda s: f"{s.product.code} {s.product.name}", sort="product__code"
        ),
        Column("kind", gettext_lazy("new or changed product"), "get_kind_display", sort="kind"),
        Column("description", gettext_lazy("what is asked"), "description"),
        Column("quantity", gettext_lazy("Quantity"), "quantity", NUMBER, sort="quantity"),
        Column("unit", gettext_lazy("unit"), "unit"),
        Column("requested_date", gettext_lazy("Wanted by"), "requested_date", DATE, sort="requested_date"),
        Column("department", gettext_lazy("Department"), "get_department_display", sort="department"),
        Column("requested_by", gettext_lazy("Asked by"), _asked_by),
        Column("status", gettext_lazy("Status"), "get_status_display", sort="status"),
        Column("requested_at", gettext_lazy("Asked on"), "requested_at", DATE, sort="requested_at"),
        # the export only: selectors.with_notes_and_verdicts reads these for every row at once
        Column("notes", gettext_lazy("Sample notes"), lambda s: ", ".join(n.number for n in s.issued_notes)),
        Column("receipts", gettext_lazy("sample receipts"), _signed_receipts, NUMBER),
        Column("verdict", gettext_lazy("the customer's verdict"), _outcome),
        Column("conditions", gettext_lazy("conditions"), _conditions),
        Column("verdict_date", gettext_lazy("date of the customer's document"), _verdict_date, DATE),
    ],
    default_sort="-requested_at",
    # The existing filter already narrows by the wanted-by date (requested_from/requested_to): the range is on
    # the day the request was made.
    date_field="requested_at",
    date_label=gettext_lazy("Asked on"),
)


@login_required
def sample_list(request):
    require(request.user, "sample.view")
    filterset = SampleFilter(request.GET, queryset=selectors.request_list())
    listed = SAMPLES.bind(request)
    rows = listed.apply(filterset.qs)
    if listed.export:
        return listed.xlsx_response(selectors.with_notes_and_verdicts(rows))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "samples/list.html",
        {
            "filter": filterset,
            "page": page,
            "query": listed.page_query,
            "listed": listed,
            "can_request": can(request.user, "sample.request"),
        },
    )


# --- A request ---------------------------------------------------------------------------------------------------


@login_required
def request_create(request):
    require(request.user, "sample.request")
    user = request.user

    def page(form):
        return render(request, "samples/request_form.html", {"form": form})

    if request.method != "POST":
        initial = {"requested_date": timezone.localdate()}
        for key in ("customer", "product"):
            if request.GET.get(key, "").isdigit():
                initial[key] = request.GET[key]
        return page(RequestForm(user=user, initial=initial))

    def create(data):
        sample = services.request_create(
            user=user,
            customer=data["customer"],
            product=data["product"],
            kind=data["kind"],
            description=data["description"],
            quantity=data["quantity"],
            unit=data["unit"],
            requested_date=data["requested_date"],
            department=data["department"],
            drawing=data.get("drawing"),
        )
        return _("Sample request %(ref)s recorded.") % {"ref": sample.reference}, sample.get_absolute_url()

    form = RequestForm(request.POST, request.FILES, user=user)
    return form_action(request, form, create, _with_files_note(page))


def _detail_context(user, sample: SampleRequest) -> dict:
    today = timezone.localdate()
    notes = list(sample.notes.all())
    for note in notes:
        note.signed = getattr(note, "receipt", None)
    return {
        "sample": sample,
        "notes": notes,
        "verdicts": list(sample.verdicts.all()),
        "history": selectors.request_history(sample),
        "can": {
            "deliver": can(user, "sample.deliver") and sample.status in services.NOTE_ALLOWED,
            "verdict": can(user, "sample.verdict") and sample.status == SampleRequest.Status.DELIVERED,
            "cancel": can(user, "sample.request") and sample.status == SampleRequest.Status.REQUESTED,
        },
        "cancel_form": CancelForm(),
        "today": today,
    }


@login_required
def request_detail(request, pk, *, bound: dict | None = None):
    require(request.user, "sample.view")
    sample = selectors.request_detail(pk)
    context = _detail_context(request.user, sample)
    context.update(bound or {})
    return render(request, "samples/request_detail.html", context)


@login_required
@require_POST
def request_cancel(request, pk):
    require(request.user, "sample.request")
    sample = get_object_or_404(SampleRequest, pk=pk)

    def cancel(data):
        services.request_cancel(user=request.user, request=sample, reason=data["reason"])
        return _("Sample request cancelled."), sample.get_absolute_url()

    def page(form):
        response = request_detail(request, pk, bound={"cancel_form": form, "cancel_open": True})
        return response

    return form_action(request, CancelForm(request.POST), cancel, page)


@login_required
def note_create(request, pk):
    require(request.user, "sample.deliver")
    sample = get_object_or_404(SampleRequest.objects.select_related("customer", "product"), pk=pk)

    def page(form):
        return render(request, "samples/note_form.html", {"form": form, "sample": sample})

    if request.method != "POST":
        if sample.status not in services.NOTE_ALLOWED:
            messages.error(
                request,
                _("No sample note can be issued for a request that is %(status)s.")
                % {"status": sample.get_status_display().lower()},
            )
            return redirect(sample.get_absolute_url())
        default = sample.customer.addresses.filter(active=True, is_default=True).first()
        initial = {"delivery_date": timezone.localdate(), "quantity": sample.quantity, "address": default}
        return page(NoteForm(request=sample, initial=initial))

    def issue(data):
        note = services.note_issue(
            user=request.user,
            request=sample,
            address=data["address"],
            delivery_date=data["delivery_date"],
            quantity=data["quantity"],
            remarks=data["remarks"],
        )
        return _("Sample note %(number)s issued.") % {"number": note.number}, note.get_absolute_url()

    return form_action(request, NoteForm(request.POST, request=sample), issue, page)


@login_required
def verdict_create(request, pk):
    require(request.user, "sample.verdict")
    sample = get_object_or_404(SampleRequest.objects.select_related("customer", "product"), pk=pk)

    def page(form):
        return render(request, "samples/verdict_form.html", {"form": form, "sample": sample})

    if request.method != "POST":
        if sample.status != SampleRequest.Status.DELIVERED:
            messages.error(request, _("The customer's verdict is recorded on delivered samples."))
            return redirect(sample.get_absolute_url())
        return page(VerdictForm(initial={"document_date": timezone.localdate()}))

    def record(data):
        services.verdict_record(
            user=request.user,
            request=sample,
            outcome=data["outcome"],
            conditions=data["conditions"],
            document=data["document"],
            document_date=data["document_date"],
        )
        return _("The customer's verdict is recorded."), sample.get_absolute_url()

    return form_action(request, VerdictForm(request.POST, request.FILES), record, _with_files_note(page))


# --- A sample note -----------------------------------------------------------------------------------------------


def _note(number) -> SampleNote:
    return get_object_or_404(
        SampleNote.objects.select_related(
            "request__product", "customer", "issued_by", "cancelled_by", "receipt__recorded_by"
        ),
        number=number,
    )


@login_required
def note_detail(request, number, *, bound: dict | None = None):
    require(request.user, "sample.view")
    note = _note(number)
    receipt = getattr(note, "receipt", None)
    user = request.user
    editable = can(user, "sample.deliver") and note.status == SampleNote.Status.ISSUED and receipt is None
    context = {
        "note": note,
        "receipt": receipt,
        "can_receipt": editable,
        "can_cancel": editable and not note.request.verdicts.filter(recorded_at__gte=note.issued_at).exists(),
        "receipt_form": ReceiptForm(initial={"signed_on": timezone.localdate()}),
        "cancel_form": CancelForm(),
        "history": note.history.select_related("history_user").order_by("-history_date"),
    }
    context.update(bound or {})
    return render(request, "samples/note_detail.html", context)


@login_required
def note_pdf(request, number, layout):
    require(request.user, "sample.view")
    note = _note(number)
    try:
        pdf = printing.note_pdf(note, layout if layout in printing.LAYOUTS else "a4")
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(note.get_absolute_url())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{note.number}-{layout}.pdf"'
    return response


@login_required
def note_receipt(request, number):
    require(request.user, "sample.deliver")
    note = _note(number)

    def page(form):
        return render(request, "samples/receipt_form.html", {"form": form, "note": note})

    if request.method != "POST":
        return page(ReceiptForm(initial={"signed_on": timezone.localdate()}))

    def record(data):
        services.receipt_record(user=request.user, note=note, **data)
        return _("Signed receipt recorded."), note.get_absolute_url()

    return form_action(request, ReceiptForm(request.POST, request.FILES), record, _with_files_note(page))


@login_required
@require_POST
def note_cancel(request, number):
    require(request.user, "sample.deliver")
    note = _note(number)

    def cancel(data):
        services.note_cancel(user=request.user, note=note, reason=data["reason"])
        return _("Cancelled; the number is kept."), note.get_absolute_url()

    def page(form):
        return note_detail(request, number, bound={"cancel_form": form, "cancel_open": True})

    return form_action(request, CancelForm(request.POST), cancel, page)
