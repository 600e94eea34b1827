"""Pages around delivery notes: carriers (§5.5.3), the vehicle dispatch request (§5.6.1), customs work (§5.6.2,
§5.9.2) and the reports of §5.9 with their totals and export."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.errors import DomainError
from common.listing import DATE, DATETIME, NUMBER, Column, Listing
from common.views import form_action
from delivery import carriers as carrier_services
from delivery import customs, dispatch
from delivery.forms import CARRIER_FORMS, AgreementForm, CarrierForm, TransferForm, VehicleForm
from delivery.models import Carrier, CustomsWork, DeliveryNote

# --- Carriers ---------------------------------------------------------------------------------------------------

CARRIER_TITLES = {
    "carrier": (gettext_lazy("Add a carrier"), gettext_lazy("Edit the carrier")),
    "agreement": (gettext_lazy("Add an agreement"), gettext_lazy("Edit the agreement")),
    "vehicle": (gettext_lazy("Add a vehicle"), gettext_lazy("Edit the vehicle")),
}


@login_required
def carrier_list(request):
    require(request.user, "delivery.view")
    today = timezone.localdate()
    soon = today + timedelta(days=30)
    carriers = list(Carrier.objects.prefetch_related("agreements", "vehicles").order_by("-active", "name"))
    for carrier in carriers:
        valid = [a for a in carrier.agreements.all() if a.active and a.valid_from <= today <= a.valid_to]
        carrier.usable = carrier.active and bool(valid)
        carrier.expiring = bool(valid) and max(a.valid_to for a in valid) <= soon
    editing = can(request.user, "carrier.edit")
    forms_ = {}
    if editing:
        forms_ = {"carrier_form": CarrierForm(), "agreement_form": AgreementForm(), "vehicle_form": VehicleForm()}
    return render(
        request,
        "delivery/carriers.html",
        {"carriers": carriers, "today": today, "soon": soon, "can_edit": editing, **forms_},
    )


def _carrier_record(kind: str, pk: int | None):
    model = carrier_services.MODELS.get(kind)
    if model is None:
        raise Http404
    return get_object_or_404(model, pk=pk) if pk is not None else model()


@login_required
def carrier_edit(request, kind, pk=None):
    """Add (no ``pk``) or edit a carrier, an agreement or a vehicle; errors beside their field, input kept."""
    require(request.user, "carrier.edit")
    obj = _carrier_record(kind, pk)
    form_class = CARRIER_FORMS[kind]
    title = CARRIER_TITLES[kind][0 if pk is None else 1]

    def page(form):
        return render(request, "delivery/carrier_form.html", {"form": form, "title": title, "obj": obj, "kind": kind})

    if request.method != "POST":
        return page(form_class(instance=obj))

    def save(data):
        carrier_services.carrier_record_save(user=request.user, obj=form.save(commit=False))
        return _("Saved."), "delivery:carriers"

    form = form_class(request.POST, request.FILES, instance=obj)
    return form_action(request, form, save, page)


@login_required
@require_POST
def carrier_retire(request, kind, pk):
    require(request.user, "carrier.edit")
    obj = _carrier_record(kind, pk)
    retire = request.POST.get("retire", "1") == "1"
    try:
        carrier_services.carrier_record_retire(user=request.user, obj=obj, retire=retire)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Retired: it can no longer be chosen.") if retire else _("Back in use."))
    return redirect("delivery:carriers")


# --- The vehicle dispatch request -------------------------------------------------------------------------------


@login_required
def dispatch_pdf(request, number, layout):
    require(request.user, "delivery.view")
    if layout not in dispatch.LAYOUTS:
        raise Http404
    request_ = get_object_or_404(dispatch.requests_with_notes(), number=number)
    response = HttpResponse(dispatch.dispatch_pdf([request_], layout), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{request_.number}-{layout}.pdf"'
    return response


# --- Customs work -------------------------------------------------------------------------------------------------


@login_required
@require_POST
def export_item(request, number, key):
    require(request.user, "customs.edit")
    note = get_object_or_404(DeliveryNote, number=number)
    try:
        customs.export_item_done(user=request.user, note=note, key=key)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Paperwork recorded as done."))
    return redirect(note.get_absolute_url() + "#customs")


@login_required
@require_POST
def note_transfer(request, number):
    require(request.user, "customs.edit")
    note = get_object_or_404(DeliveryNote.objects.select_related("customer"), number=number)
    form = TransferForm(request.POST)

    def complete(data):
        customs.transfer_complete(user=request.user, note=note, on=data["completed_on"])
        return _("Transfer recorded as completed."), note.get_absolute_url() + "#customs"

    def page(form):
        from delivery.views import note_detail

        return note_detail(request, number, transfer_form=form)

    return form_action(request, form, complete, page)


# --- Reports (§5.8, §5.9) -----------------------------------------------------------------------------------------


@dataclass
class ReportData:
    start: date
    end: date
    signed: list
    signed_total: Decimal
    transfers: list
    transfers_total: Decimal
    completed: list


def report_data(start: date, end: date) -> ReportData:
    """Signed-back notes in the period with their quantities; transfers still to complete; transfers completed in
    the period with who and when."""
    signed = list(
        DeliveryNote.objects.filter(sign_back__signed_on__range=(start, end))
        .select_related("customer", "sign_back")
        .annotate(total=Sum("lines__quantity"))
        .order_by("sign_back__signed_on", "number")
    )
    works = CustomsWork.objects.filter(kind=CustomsWork.Kind.TRANSFER, note__status=DeliveryNote.Status.ISSUED)
    transfers = list(
        DeliveryNote.objects.filter(status=DeliveryNote.Status.ISSUED, customer__trade="transfer")
        .exclude(customs_work__completed_at__isnull=False)
        .select_related("customer")
        .annotate(total=Sum("lines__quantity"))
        .order_by("delivery_date", "number")
    )
    completed = list(
        works.filter(completed_on__range=(start, end))
        .select_related("note__customer", "completed_by")
        .order_by("completed_on", "note__number")
    )
    return ReportData(
        start=start,
        end=end,
        signed=signed,
        signed_total=sum((n.total or 0 for n in signed), Decimal(0)),
        transfers=transfers,
        transfers_total=sum((n.total or 0 for n in transfers), Decimal(0)),
        completed=completed,
    )


def _customer_text(customer) -> str:
    return f"{customer.code} {customer.display_name}"


# One sort parameter for the page's three tables: each key names its table, so a sort applies to one table only.
REPORT_SIGNED = Listing(
    name="signed-back",
    sheet_title=gettext_lazy("Signed back"),
    columns=[
        Column("signed_note", gettext_lazy("Note no."), "number", sort=True),
        Column("signed_customer", gettext_lazy("Customer"), lambda n: _customer_text(n.customer), sort=True),
        Column("signed_delivery", gettext_lazy("Delivery date"), "delivery_date", DATE, sort=True),
        Column("signed_on", gettext_lazy("Signed on"), "sign_back.signed_on", DATE, sort=True),
        Column("signed_by", gettext_lazy("Signed by"), "sign_back.signed_by_name", sort=True),
        Column("signed_qty", gettext_lazy("Quantity"), lambda n: n.total or 0, NUMBER, sort=True),
    ],
)
REPORT_TRANSFERS = Listing(
    name="transfers-open",
    sheet_title=gettext_lazy("Transfers open"),
    columns=[
        Column("open_note", gettext_lazy("Note no."), "number", sort=True),
        Column("open_customer", gettext_lazy("Customer"), lambda n: _customer_text(n.customer), sort=True),
        Column("open_delivery", gettext_lazy("Delivery date"), "delivery_date", DATE, sort=True),
        Column("open_qty", gettext_lazy("Quantity"), lambda n: n.total or 0, NUMBER, sort=True),
    ],
)
REPORT_COMPLETED = Listing(
    name="transfers-done",
    sheet_title=gettext_lazy("Transfers done"),
    columns=[
        Column("done_note", gettext_lazy("Note no."), "note.number", sort=True),
        Column("done_customer", gettext_lazy("Customer"), lambda w: _customer_text(w.note.customer), sort=True),
        Column("done_on", gettext_lazy("Completed on"), "completed_on", DATE, sort=True),
        Column("done_by", gettext_lazy("Recorded by"), lambda w: str(w.completed_by), sort=True),
        Column("done_at", gettext_lazy("recorded at"), "completed_at", DATETIME, sort=True),
    ],
)
REPORT_TABLES = {"signed": REPORT_SIGNED, "transfers": REPORT_TRANSFERS, "completed": REPORT_COMPLETED}


def _total(n: int) -> str:
    return f"合计 Total: {n}"


def report_workbook(data: ReportData, params=None) -> bytes:
    """The three reports as sheets of one workbook, each sorted as on the page, with its total line."""
    from openpyxl import Workbook

    params = params if params is not None else {}
    book = Workbook(write_only=True)
    REPORT_SIGNED.bind(params=params).write_sheet(
        book, data.signed, footer=[_total(len(data.signed)), "", "", "", "", data.signed_total]
    )
    REPORT_TRANSFERS.bind(params=params).write_sheet(
        book, data.transfers, footer=[_total(len(data.transfers)), "", "", data.transfers_total]
    )
    REPORT_COMPLETED.bind(params=params).write_sheet(book, data.completed, footer=[_total(len(data.completed))])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
def reports(request):
    """The reports of a period (``from``/``to``, this month by default). ``format=xlsx`` (or the older
    ``export=xlsx``) downloads the three as one workbook; with ``table=signed|transfers|completed``, that table
    alone. ``sort`` names a column of one table."""
    require(request.user, "delivery.view")
    today = timezone.localdate()
    listed = {name: listing.bind(request) for name, listing in REPORT_TABLES.items()}
    first = listed["signed"]  # the three read the same from/to (and report a bad date once)
    start = first.date_from or today.replace(day=1)
    end = first.date_to or today
    if end < start:
        start, end = end, start
    data = report_data(start, end)
    data.signed = listed["signed"].order(data.signed)
    data.transfers = listed["transfers"].order(data.transfers)
    data.completed = listed["completed"].order(data.completed)
    if first.export or request.GET.get("export") == "xlsx":
        from common.xlsx import XLSX_CONTENT_TYPE

        table = request.GET.get("table", "")
        if table in REPORT_TABLES:
            rows = {"signed": data.signed, "transfers": data.transfers, "completed": data.completed}[table]
            return listed[table].xlsx_response(rows, filename=f"delivery-{table}-{start}-{end}.xlsx")
        response = HttpResponse(report_workbook(data, request.GET), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="delivery-reports-{start}-{end}.xlsx"'
        return response
    return render(
        request,
        "delivery/reports.html",
        {"data": data, "start": start, "end": end, "listed": listed, "errors": first.errors},
    )
