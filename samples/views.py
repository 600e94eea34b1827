"""The sample pages: the list (filters, sorting, export), a request with its notes, receipts and verdicts, the
forms of each step, and the sample note's PDF. Each action checks the capability first; a form with an error
is shown again as it was sent, the error beside its field, status 422 (common.views.form_action)."""

from io import BytesIO

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.errors import DomainError
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


def _filtered(request):
    return SampleFilter(request.GET, queryset=selectors.request_list().order_by("-requested_at", "-pk"))


@login_required
def sample_list(request):
    require(request.user, "sample.view")
    filterset = _filtered(request)
    rows = filterset.qs
    if request.GET.get("export") == "xlsx":
        return _export(rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("o", None)
    export_query = query.copy()
    export_query["export"] = "xlsx"
    return render(
        request,
        "samples/list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "export_query": export_query.urlencode(),
            "order": request.GET.get("o", ""),
            "can_request": can(request.user, "sample.request"),
        },
    )


EXPORT_HEADER = [
    "样品申请 Request",
    "客户 Customer",
    "产品 Product",
    "新/变更 New or changed",
    "要求 What is asked",
    "数量 Quantity",
    "单位 Unit",
    "需求日期 Wanted by",
    "申请部门 Department",
    "申请人 Asked by",
    "申请日期 Asked on",
    "状态 Status",
    "送样单 Sample notes",
    "已签收 Signed receipts",
    "客户结论 Verdict",
    "条件 Conditions",
    "结论日期 Verdict date",
]


def _export(rows) -> HttpResponse:
    """Exactly the filtered rows (every page), numbers and dates as such, people's text forced to text."""
    from openpyxl import Workbook

    from common.xlsx import XLSX_CONTENT_TYPE, text_cell

    requests = list(rows.prefetch_related("notes__receipt"))
    verdicts = selectors.latest_verdicts(requests)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("样品 Samples")
    sheet.append(EXPORT_HEADER)
    for r in requests:
        notes = [n for n in r.notes.all() if n.status == SampleNote.Status.ISSUED]
        verdict = verdicts.get(r.pk)
        values = [
            r.reference,
            f"{r.customer.code} {r.customer.display_name}",
            f"{r.product.code} {r.product.name}",
            r.get_kind_display(),
            r.description,
            r.quantity,
            r.unit,
            r.requested_date,
            r.get_department_display(),
            r.requested_by.get_full_name() or r.requested_by.username,
            timezone.localtime(r.requested_at).date(),
            r.get_status_display(),
            ", ".join(n.number for n in notes),
            sum(1 for n in notes if hasattr(n, "receipt")),
            verdict.get_outcome_display() if verdict else "",
            verdict.conditions if verdict else "",
            verdict.document_date if verdict else None,
        ]
        sheet.append([text_cell(sheet, v) for v in values])
    out = BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="samples-{timezone.localdate().isoformat()}.xlsx"'
    return response


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
