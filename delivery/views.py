from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import Dept, can, require
from common.errors import DomainError
from common.listing import DATE, DATETIME, NUMBER, Column, Listing
from delivery import printing, services
from delivery.customs import customs_rows
from delivery.forms import (
    BatchForm,
    BatchMoveForm,
    CancelForm,
    DelayForm,
    IncidentForm,
    NoteForm,
    OutcomeForm,
    PickUpForm,
    ProgressForm,
    ReplacementForm,
    ReturnCloseForm,
    ReturnForm,
    ReturnMemoForm,
    SignBackForm,
    TransferForm,
)
from delivery.models import (
    BatchDueChange,
    DelayReport,
    DeliveryBatch,
    DeliveryNote,
    DeliveryNoteLine,
    PrintJob,
    Return,
)
from delivery.selectors import batches_with_delivery, stock_by_line
from orders.forms import chosen_again_note
from orders.models import Order, OrderLine
from orders.selectors import shipping_refusal

PAGE_SIZE = 50


def _form_errors(request, form) -> None:
    """Each error of a form posted from a detail page, as a message naming its field."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _refused(request, error: DomainError, to: str):
    messages.error(request, error.message)
    return redirect(to)


# --- Delivery notes ------------------------------------------------------------------------------------


NOTES = Listing(
    name="delivery-notes",
    sheet_title=gettext_lazy("Delivery notes"),
    columns=[
        Column("number", gettext_lazy("Note no."), "number", sort="number"),
        Column("customer", gettext_lazy("Customer code"), "customer.code", sort="customer__code"),
        Column("customer_name", gettext_lazy("Customer"), "customer.display_name", sort="customer__name_zh"),
        Column("date", gettext_lazy("Delivery date"), "delivery_date", DATE, sort="delivery_date"),
        Column("quantity", gettext_lazy("Quantity"), "total", NUMBER, sort="total"),
        Column("status", gettext_lazy("Status"), "get_status_display", sort="status"),
        Column("signed_on", gettext_lazy("Signed back"), "sign_back.signed_on", DATE, sort="sign_back__signed_on"),
        Column("signed_by", gettext_lazy("Signed by"), "sign_back.signed_by_name", sort="sign_back__signed_by_name"),
    ],
    default_sort="-date",
    date_field="delivery_date",
    date_label=gettext_lazy("Delivery date"),
)


@login_required
def note_list(request):
    require(request.user, "delivery.view")
    notes = DeliveryNote.objects.select_related("customer", "sign_back").order_by("-delivery_date", "-pk")
    status = request.GET.get("status", "")
    if status == "unsigned":
        notes = notes.filter(status=DeliveryNote.Status.ISSUED, sign_back__isnull=True)
    elif status in DeliveryNote.Status.values:
        notes = notes.filter(status=status)
    q = request.GET.get("q", "").replace("\x00", "").strip()
    if q:
        notes = notes.filter(Q(number__icontains=q) | Q(customer__code__icontains=q))
    listed = NOTES.bind(request)
    # Each note's total as a subquery: summed for the page's rows only (a join with GROUP BY summed every note).
    totals = DeliveryNoteLine.objects.filter(note=OuterRef("pk")).order_by().values("note").annotate(t=Sum("quantity"))
    notes = listed.apply(notes.annotate(total=Subquery(totals.values("t"))))
    if listed.export:
        return listed.xlsx_response(notes)
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "delivery/note_list.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "query": listed.page_query,
            "listed": listed,
            "can_edit": can(request.user, "delivery.edit"),
        },
    )


@login_required
def note_create(request):
    require(request.user, "delivery.edit")
    from customers.models import Customer

    code = request.GET.get("customer") or request.POST.get("customer") or ""
    customer = Customer.objects.filter(code=code).first() if code else None
    batches = []
    if customer is not None:
        batches = list(
            batches_with_delivery()
            .filter(line__order__customer=customer, line__order__status__in=services.DELIVERABLE)
            .select_related("line__product", "line__order__delivery_address", "line__progress")
            .order_by("line__order__delivery_address", "due_date", "pk")
        )
        batches = [b for b in batches if b.outstanding > 0]
        # What is in the warehouse now (§5.5.1: goods go on a note only from stock), per line.
        stock = stock_by_line({b.line_id: b.line for b in batches}.values())
        for batch in batches:
            batch.stock = stock[batch.line_id]
    # The export checklist is for direct exports only (§5.6.2).
    customs = services.CUSTOMS_CHECKLIST if customer and customer.trade == customer.Trade.EXPORT else []
    form = NoteForm(request.POST or None, customs=customs)
    chosen = {}
    if request.method == "POST":
        errors = []
        for batch in batches:
            raw = request.POST.get(f"qty_{batch.pk}", "").strip()
            if raw:
                try:
                    from decimal import Decimal, InvalidOperation

                    chosen[batch.pk] = Decimal(raw)
                except InvalidOperation:
                    errors.append(_("'%(value)s' is not a number") % {"value": raw})
        for error in errors:
            form.add_error(None, error)
        if form.is_valid() and not errors:
            by_id = {b.pk: b for b in batches}
            try:
                note = services.note_issue(
                    user=request.user,
                    items=[services.NoteItem(by_id[pk], qty) for pk, qty in chosen.items()],
                    delivery_date=form.cleaned_data["delivery_date"],
                    carrier=form.cleaned_data["carrier"],
                    vehicle=form.cleaned_data["vehicle"],
                    expected_arrival=form.cleaned_data["expected_arrival"],
                    customs_checklist=form.customs_checklist(),
                    remarks=form.cleaned_data["remarks"],
                    backdate_reason=form.cleaned_data["backdate_reason"],
                )
            except DomainError as error:
                form.add_error(error.code if error.code in form.fields else None, error.message)
            else:
                messages.success(request, _("Delivery note %(number)s issued.") % {"number": note.number})
                return redirect(note.get_absolute_url())
    for batch in batches:
        batch.chosen = chosen.get(batch.pk, "")
    customers = Customer.objects.filter(orders__status__in=services.DELIVERABLE).distinct().order_by("code")
    return render(
        request,
        "delivery/note_form.html",
        {"form": form, "customer": customer, "customers": customers, "batches": batches},
    )


def _note(number):
    returns = Return.objects.select_related("replacement").annotate(memo_count=Count("memos")).order_by("recorded_at")
    lines = DeliveryNoteLine.objects.select_related("batch__line__product", "batch__line__order").prefetch_related(
        Prefetch("returns", queryset=returns)
    )
    return get_object_or_404(
        DeliveryNote.objects.select_related(
            "customer", "address", "carrier", "vehicle", "issued_by", "dispatch", "customs_work__completed_by"
        ).prefetch_related(Prefetch("lines", queryset=lines), "incidents"),
        number=number,
    )


@login_required
def note_detail(request, number, *, transfer_form=None, bound: dict | None = None, status: int = 200):
    """The note page; ``bound``: forms posted with an error, shown again as they were sent (status 422)."""
    require(request.user, "delivery.view")
    note = _note(number)
    user = request.user
    work = getattr(note, "customs_work", None)
    return render(
        request,
        "delivery/note_detail.html",
        {
            "note": note,
            "sign_back": getattr(note, "sign_back", None),
            "dispatch": getattr(note, "dispatch", None),
            "customs_work": work,
            "customs_rows": customs_rows(work),
            "transfer_form": transfer_form or TransferForm(initial={"completed_on": timezone.localdate()}),
            "transfer_history": work.history.select_related("history_user").order_by("-history_date") if work else [],
            "can": {"edit": can(user, "delivery.edit"), "customs": can(user, "customs.edit")},
            "cancel_form": CancelForm(),
            "signback_form": SignBackForm(initial={"signed_on": timezone.localdate()}),
            "incident_form": IncidentForm(initial={"happened_on": timezone.localdate()}),
            "return_form": ReturnForm(),
            "customs_items": services.CUSTOMS_CHECKLIST,
            "today": timezone.localdate(),
            "return_line_pk": None,
            **(bound or {}),
        },
        status=status,
    )


@login_required
def note_pdf(request, number, layout):
    require(request.user, "delivery.view")
    if layout not in printing.LAYOUTS:
        layout = "a4"
    note = _note(number)
    try:
        pdf = printing.notes_pdf_or_refuse([note], layout)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(note.get_absolute_url())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{note.number}-{layout}.pdf"'
    return response


def _post_form(request, form_class, number, action, key: str, extra: dict | None = None):
    """Run ``action(note, form.cleaned_data)`` for a valid form and go back to the note. A form with an error, or
    refused by the service, is shown again on the note page as it was sent, the error beside it (422)."""
    note = get_object_or_404(DeliveryNote, number=number)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            message = action(note, form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, message)
            return redirect(note.get_absolute_url())
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            chosen_again_note(form, name)
    return note_detail(request, number, bound={key: form, **(extra or {})}, status=422)


@login_required
@require_POST
def note_cancel(request, number):
    require(request.user, "delivery.edit")
    return _post_form(
        request,
        CancelForm,
        number,
        lambda note, data: (
            services.note_cancel(user=request.user, note=note, reason=data["reason"])
            and _("Cancelled; the number is kept.")
        ),
        "cancel_form",
    )


@login_required
@require_POST
def note_signback(request, number):
    require(request.user, "delivery.edit")
    return _post_form(
        request,
        SignBackForm,
        number,
        lambda note, data: services.signback_record(user=request.user, note=note, **data) and _("Sign-back recorded."),
        "signback_form",
    )


@login_required
@require_POST
def note_incident(request, number):
    require(request.user, "delivery.edit")
    return _post_form(
        request,
        IncidentForm,
        number,
        lambda note, data: services.incident_record(user=request.user, note=note, **data) and _("Incident recorded."),
        "incident_form",
    )


@login_required
@require_POST
def return_add(request, pk):
    require(request.user, "delivery.edit")
    line = get_object_or_404(DeliveryNoteLine.objects.select_related("note"), pk=pk)

    def action(note, data):
        services.return_record(user=request.user, note_line=line, **data)
        return _("Return recorded; Customer Service arranges the pickup.")

    return _post_form(request, ReturnForm, line.note.number, action, "bound_return", {"return_line_pk": line.pk})


# --- Returns (§5.7): open → picked up → closed, with Quality's write-ups as numbered memos ----------------------


def _return(pk: int) -> Return:
    return get_object_or_404(
        Return.objects.select_related(
            "note_line__note__customer",
            "note_line__batch__line__order",
            "note_line__batch__line__product",
            "recorded_by",
            "picked_up_by",
            "closed_by",
            "replacement",
        ),
        pk=pk,
    )


def _return_page(request, ret: Return, *, memo_form=None, pick_up_form=None, close_form=None, replacement_form=None):
    user = request.user
    memos = list(ret.memos.select_related("issued_by").prefetch_related("receipts").order_by("-issued_at", "-pk"))
    for memo in memos:
        receipts = list(memo.receipts.all())
        memo.waiting = [Dept(r.department).label for r in receipts if r.acknowledged_at is None]
        memo.acknowledged = len(receipts) - len(memo.waiting)
        memo.total = len(receipts)
    is_open = ret.status != Return.Status.CLOSED
    if memo_form is not None and memo_form.is_bound:
        # The page now shows every memo issued so far: sending the write-up again is a deliberate new memo.
        memo_form.data = memo_form.data.copy()
        memo_form.data["memos_seen"] = len(memos)
    return render(
        request,
        "delivery/return_detail.html",
        {
            "ret": ret,
            "note": ret.note_line.note,
            "order_line": ret.note_line.batch.line,
            "memos": memos,
            "can": {
                "memo": can(user, "return.memo") and is_open,
                "pick_up": can(user, "return.progress") and ret.status == Return.Status.OPEN,
                "close": can(user, "return.progress") and ret.status == Return.Status.PICKED_UP,
                "replace": can(user, "delivery.edit") and not ret.replacement_id,
            },
            "failed": next((f for f in (memo_form, pick_up_form, close_form, replacement_form) if f is not None), None),
            "memo_form": memo_form or ReturnMemoForm(initial={"memos_seen": len(memos)}),
            "pick_up_form": pick_up_form or PickUpForm(initial={"picked_up_on": timezone.localdate()}),
            "replacement_form": replacement_form
            or ReplacementForm(initial={"due_date": timezone.localdate() + timedelta(days=3)}),
        },
    )


def _return_action(request, pk, form_class, action, form_name: str):
    """A form on the return page: ``action(ret, cleaned_data)`` returns the message, then back to the page; an
    invalid form or a refusal of the procedure re-renders the page with the bound form and the reason, 422."""
    ret = _return(pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            message = action(ret, form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, message)
            return redirect("delivery:return", ret.pk)
    response = _return_page(request, ret, **{form_name: form})
    response.status_code = 422
    return response


RETURNS = Listing(
    name="returns",
    sheet_title=gettext_lazy("Returns"),
    columns=[
        Column("recorded", gettext_lazy("Recorded"), "recorded_at", DATETIME, sort="recorded_at"),
        Column("note", gettext_lazy("Note no."), "note_line.note.number", sort="note_line__note__number"),
        Column(
            "customer",
            gettext_lazy("Customer code"),
            "note_line.note.customer.code",
            sort="note_line__note__customer__code",
        ),
        Column(
            "product",
            gettext_lazy("Product"),
            "note_line.batch.line.product.code",
            sort="note_line__batch__line__product__code",
        ),
        Column("quantity", gettext_lazy("Quantity"), "quantity", NUMBER, sort="quantity"),
        Column("reason", gettext_lazy("Reason"), "reason", sort="reason"),
        Column("status", gettext_lazy("Status"), "get_status_display", sort="status"),
        Column("memos", gettext_lazy("Memos"), "memo_count", NUMBER, sort="memo_count"),
    ],
    default_sort="-recorded",
    date_field="recorded_at",
    date_label=gettext_lazy("Recorded"),
)


@login_required
def return_list(request):
    require(request.user, "delivery.view")
    status = request.GET.get("status", "")
    returns = (
        Return.objects.select_related(
            "note_line__note__customer", "note_line__batch__line__product", "note_line__batch__line__order"
        )
        .annotate(memo_count=Count("memos"))
        .order_by("-recorded_at", "-pk")
    )
    if status in Return.Status.values:
        returns = returns.filter(status=status)
    else:
        status = ""
    listed = RETURNS.bind(request)
    returns = listed.apply(returns)
    if listed.export:
        return listed.xlsx_response(returns)
    page = Paginator(returns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "delivery/return_list.html",
        {
            "page": page,
            "status": status,
            "statuses": Return.Status.choices,
            "query": listed.page_query,
            "listed": listed,
        },
    )


@login_required
def return_detail(request, pk):
    require(request.user, "delivery.view")
    return _return_page(request, _return(pk))


@login_required
@require_POST
def return_memo(request, pk):
    require(request.user, "return.memo")

    def write(ret, data):
        memo = services.return_memo(
            user=request.user,
            ret=ret,
            memo=data["memo"],
            subject=data["subject"],
            departments=data["departments"],
            memos_seen=data["memos_seen"],
        )
        return _("Memo %(number)s issued to the departments concerned.") % {"number": memo.number}

    return _return_action(request, pk, ReturnMemoForm, write, "memo_form")


@login_required
@require_POST
def return_pick_up(request, pk):
    require(request.user, "return.progress")

    def pick_up(ret, data):
        services.return_pick_up(user=request.user, ret=ret, on=data["picked_up_on"])
        return _("Pickup recorded.")

    return _return_action(request, pk, PickUpForm, pick_up, "pick_up_form")


@login_required
@require_POST
def return_close(request, pk):
    require(request.user, "return.progress")

    def close(ret, data):
        services.return_close(user=request.user, ret=ret)
        return _("The return is closed.")

    return _return_action(request, pk, ReturnCloseForm, close, "close_form")


@login_required
@require_POST
def return_replace(request, pk):
    require(request.user, "delivery.edit")

    def replace(ret, data):
        services.return_replace(user=request.user, ret=ret, due_date=data["due_date"])
        return _("Replacement batch planned.")

    return _return_action(request, pk, ReplacementForm, replace, "replacement_form")


# --- Printing many notes -----------------------------------------------------------------------------


@login_required
@require_POST
def print_notes(request):
    require(request.user, "delivery.view")
    ids = [int(i) for i in request.POST.getlist("note") if i.isdigit()]
    layout = request.POST.get("layout", "a4")
    if layout not in printing.LAYOUTS:
        layout = "a4"
    if not ids:
        messages.error(request, _("Choose the delivery notes to print."))
        return redirect("delivery:notes")
    if len(ids) <= printing.PRINT_JOB_INLINE_MAX:
        try:
            pdf = printing.notes_pdf_or_refuse(printing._notes(ids), layout)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("delivery:notes")
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="delivery-notes.pdf"'
        return response
    job = printing.print_job_create(user=request.user, note_ids=ids, layout=layout)
    return redirect("delivery:print_job", job.pk)


@login_required
def print_job(request, pk):
    require(request.user, "delivery.view")
    printing.print_jobs_fail_stale()  # a job whose worker stopped shows failed, with "try again"
    job = get_object_or_404(PrintJob, pk=pk, requested_by=request.user)
    template = "delivery/_print_progress.html" if request.htmx else "delivery/print_job.html"
    return render(request, template, {"job": job, "total": len(job.notes)})


@login_required
@require_POST
def print_job_retry(request, pk):
    require(request.user, "delivery.view")
    job = get_object_or_404(PrintJob, pk=pk, requested_by=request.user)
    try:
        printing.print_job_retry(user=request.user, job=job)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("delivery:print_job", job.pk)


@login_required
def print_job_pdf(request, pk):
    require(request.user, "delivery.view")
    job = get_object_or_404(PrintJob, pk=pk, requested_by=request.user, status=PrintJob.Status.DONE)
    return FileResponse(job.pdf.open("rb"), content_type="application/pdf", filename=f"delivery-notes-{job.pk}.pdf")


# --- An order's delivery: batches, progress, delays ------------------------------------------------------


@login_required
def order_delivery(request, number):
    require(request.user, "delivery.view")
    order = get_object_or_404(Order.objects.select_related("customer"), number=number)
    lines = list(OrderLine.objects.filter(order=order).select_related("product", "progress").order_by("position"))
    batches = {}
    for batch in batches_with_delivery().filter(line__order=order).order_by("due_date", "pk"):
        batches.setdefault(batch.line_id, []).append(batch)
    delays = {}
    for report in DelayReport.objects.filter(line__order=order).select_related("reported_by", "settled_by"):
        delays.setdefault(report.line_id, []).append(report)
    moves = {}
    for change in BatchDueChange.objects.filter(batch__line__order=order).select_related("changed_by"):
        moves.setdefault(change.batch_id, []).append(change)
    today = timezone.localdate()
    for line in lines:
        line.batch_list = batches.get(line.pk, [])
        line.planned = sum((b.quantity for b in line.batch_list), 0)
        line.delivered = sum((b.delivered for b in line.batch_list), 0)
        # What nobody planned counts as one batch due on the customer's date (delivery.selectors).
        line.customer_date = services.customer_date(line)
        line.unplanned = max(line.quantity - line.planned, 0)
        line.unplanned_overdue = line.unplanned > 0 and line.customer_date < today
        line.batch_form = BatchForm(initial={"due_date": line.customer_date}, auto_id=f"id_line{line.pk}_%s")
        for batch in line.batch_list:
            batch.overdue = batch.due_date < today and batch.outstanding > 0
            batch.movable = batch.due_date >= today and batch.outstanding > 0
            batch.moves = moves.get(batch.pk, [])
        line.delays = delays.get(line.pk, [])
        progress = getattr(line, "progress", None)
        line.progress_form = ProgressForm(
            initial={
                "planned_completion": progress.planned_completion if progress else None,
                "produced": progress.produced if progress else None,
                "warehoused": progress.warehoused if progress else None,
            }
        )
    user = request.user
    return render(
        request,
        "delivery/order_delivery.html",
        {
            "order": order,
            "lines": lines,
            "move_form": BatchMoveForm(),
            "delay_form": DelayForm(),
            "outcome_form": OutcomeForm(),
            "can": {
                # Also an order back in review whose change left delivery alone (orders.selectors.shipping_refusal).
                "edit": can(user, "delivery.edit") and not shipping_refusal(order),
                "progress": can(user, "progress.edit"),
                "settle": can(user, "delivery.edit"),
            },
        },
    )


def _line_action(request, pk, form_class, action, success):
    line = get_object_or_404(OrderLine.objects.select_related("order"), pk=pk)
    to = f"{redirect('delivery:order', line.order.number).url}#line-{line.pk}"
    form = form_class(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(to)
    try:
        action(line, form.cleaned_data)
    except DomainError as error:
        return _refused(request, error, to)
    messages.success(request, success)
    return redirect(to)


@login_required
@require_POST
def batch_add(request, pk):
    require(request.user, "delivery.edit")
    return _line_action(
        request,
        pk,
        BatchForm,
        lambda line, data: services.batch_plan(user=request.user, line=line, **data),
        _("Batch planned."),
    )


@login_required
@require_POST
def batch_move(request, pk):
    require(request.user, "delivery.edit")
    batch = get_object_or_404(DeliveryBatch, pk=pk)
    return _line_action(
        request,
        batch.line_id,
        BatchMoveForm,
        lambda line, data: services.batch_move(user=request.user, batch=batch, **data),
        _("Due date moved; the change is recorded."),
    )


@login_required
@require_POST
def progress_save(request, pk):
    require(request.user, "progress.edit")
    return _line_action(
        request,
        pk,
        ProgressForm,
        lambda line, data: services.progress_update(user=request.user, line=line, **data),
        _("Progress saved."),
    )


@login_required
@require_POST
def delay_add(request, pk):
    require(request.user, "progress.edit")
    return _line_action(
        request,
        pk,
        DelayForm,
        lambda line, data: services.delay_report(user=request.user, line=line, **data),
        _("Delay reported; Customer Service and Marketing have been told."),
    )


@login_required
@require_POST
def delay_settle(request, pk):
    require(request.user, "delivery.edit")
    report = get_object_or_404(DelayReport.objects.select_related("line__order"), pk=pk)
    return _line_action(
        request,
        report.line_id,
        OutcomeForm,
        lambda line, data: services.delay_settle(user=request.user, report=report, outcome=data["outcome"]),
        _("Outcome recorded; the departments have the memo."),
    )


# Carriers, customs work, the dispatch request and the reports: delivery/views_records.py.
