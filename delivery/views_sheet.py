"""The delivery-progress sheet as a page, its download, and "send again now" (§5.4.2)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.errors import DomainError
from common.listing import DATE, NUMBER, Column, Listing
from delivery.models import DailySheetRun
from delivery.progress_sheet import (
    VALUE_FIELDS,
    XLSX_CONTENT_TYPE,
    build_workbook,
    open_lines,
    open_lines_queryset,
    rows_from_values,
    sheet_filename,
    summary_counts,
)
from delivery.sheet_jobs import sheet_retry, sheet_runs_fail_stale, sheet_trigger

PAGE_SIZE = 100
RECENT_RUNS = 10
EXPORT_CHUNK = 2000

SHEET = Listing(
    name="delivery-progress",
    sheet_title=gettext_lazy("Delivery progress sheet"),
    columns=[
        Column("order", gettext_lazy("Order no."), "order_number", sort="order__number"),
        Column("customer", gettext_lazy("Customer"), "customer", sort="order__customer__code"),
        Column("po", gettext_lazy("Customer PO"), "customer_po", sort="order__customer_po"),
        Column("line", gettext_lazy("Line"), "position", NUMBER, sort=("order__number", "position")),
        Column("product", gettext_lazy("Product"), "product_code", sort="product__code"),
        Column("product_name", gettext_lazy("Name"), "product_name"),
        Column("quantity", gettext_lazy("Quantity"), "quantity", NUMBER, sort="quantity"),
        Column("requested", gettext_lazy("Requested date"), "requested_date", DATE, sort="requested_date"),
        Column("confirmed", gettext_lazy("Confirmed date"), "confirmed_date", DATE, sort="confirmed_date"),
        Column("due", gettext_lazy("Due date"), "due_date", DATE, sort="due"),
        Column("planned", gettext_lazy("Planned completion"), "planned_completion", DATE, sort="planned"),
        Column("produced", gettext_lazy("Produced"), "produced", NUMBER, sort="produced"),
        Column("warehoused", gettext_lazy("Warehoused"), "warehoused", NUMBER, sort="warehoused"),
        Column("delivered", gettext_lazy("Delivered"), "delivered", NUMBER, sort="delivered"),
        Column("outstanding", gettext_lazy("Outstanding"), "outstanding", NUMBER, sort="outstanding"),
        Column("status", gettext_lazy("Status"), "status"),
        Column("risk", gettext_lazy("Why at risk"), "at_risk_reason"),
    ],
    date_field="due",
    date_label=gettext_lazy("Due date"),
)


@login_required
def sheet(request):
    require(request.user, "delivery.view")
    sheet_runs_fail_stale()  # a sending whose worker stopped shows failed, with "try again"
    today = timezone.localdate()
    lines = open_lines_queryset(today)
    risk_only = request.GET.get("risk") == "1"
    q = request.GET.get("q", "").strip()
    if risk_only:
        lines = lines.filter(at_risk=True)
    if q:
        lines = lines.filter(
            Q(order__number__icontains=q)
            | Q(order__customer_po__icontains=q)
            | Q(order__customer__code__icontains=q)
            | Q(order__customer__name_zh__icontains=q)
            | Q(order__customer__name_en__icontains=q)
            | Q(product__code__icontains=q)
        )
    listed = SHEET.bind(request)
    lines = listed.apply(lines)  # by due date, order, line unless a column is chosen
    if listed.export:
        values = lines.values(*VALUE_FIELDS).iterator(chunk_size=EXPORT_CHUNK)
        return listed.xlsx_response(rows_from_values(values), filename=f"delivery-progress-{today.isoformat()}.xlsx")
    summary = summary_counts(today)
    paginator = Paginator(lines.values(*VALUE_FIELDS), PAGE_SIZE)
    if not (risk_only or q or listed.filtered_by_date):
        paginator.count = summary.open_lines  # every open line is listed: the count just made, not a second one
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(rows_from_values(page.object_list))
    return render(
        request,
        "delivery/sheet.html",
        {
            "today": today,
            "page": page,
            "summary": summary,
            "risk_only": risk_only,
            "q": q,
            "query": listed.page_query,
            "listed": listed,
            "runs": DailySheetRun.objects.order_by("-started_at", "-pk")[:RECENT_RUNS],
            "can_send": can(request.user, "sheet.send"),
        },
    )


@login_required
def sheet_download(request):
    """Today's sheet, made now; ``?run=<id>`` gives the sheet a sending stored (the one e-mailed)."""
    require(request.user, "delivery.view")
    run_id = request.GET.get("run", "")
    if run_id:
        if not run_id.isdigit():
            raise Http404
        run = get_object_or_404(DailySheetRun, pk=run_id)
        if not run.workbook:
            raise Http404
        return FileResponse(
            run.workbook.open("rb"),
            as_attachment=True,
            filename=sheet_filename(run.day),
            content_type=XLSX_CONTENT_TYPE,
        )
    today = timezone.localdate()
    response = HttpResponse(build_workbook(open_lines(today), today), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{sheet_filename(today)}"'
    return response


@login_required
@require_POST
def sheet_send(request):
    """Send today's sheet again now (a forced run, besides the morning's)."""
    require(request.user, "sheet.send")
    trigger = sheet_trigger(day=timezone.localdate(), forced=True)
    trigger.run.refresh_from_db()
    if trigger.run.status == DailySheetRun.Status.SENT:
        messages.success(request, _("The delivery-progress sheet was sent again."))
    elif trigger.run.status == DailySheetRun.Status.FAILED:
        messages.error(request, _("Sending the sheet failed: %(error)s") % {"error": trigger.run.error})
    else:
        messages.info(request, _("The delivery-progress sheet is being sent again."))
    return redirect("delivery:sheet")


@login_required
@require_POST
def sheet_run_retry(request, pk):
    """Try a failed sending again (the same run)."""
    require(request.user, "sheet.send")
    run = get_object_or_404(DailySheetRun, pk=pk)
    try:
        sheet_retry(user=request.user, run=run)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, _("The delivery-progress sheet is being sent again."))
    return redirect("delivery:sheet")
