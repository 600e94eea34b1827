"""The on-time delivery rate page (§5.5.2): the last 24 months as a chart and a table, per customer, with the
late batches of a chosen month linked to their orders."""

from itertools import chain

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import require
from common.errors import DomainError
from common.listing import DATE, NUMBER, Column, Listing
from customers.models import Customer
from delivery import ontime

LATE_PAGE_SIZE = 50

# The page's two lists share one ``sort`` parameter: a key names its table. ``table=months|late`` with
# ``format=xlsx`` exports one of them.
MONTHS = Listing(
    name="ontime-months",
    sheet_title=gettext_lazy("On-time delivery rate"),
    columns=[
        Column("month", gettext_lazy("Month"), "month", DATE, sort=True),
        Column("due", gettext_lazy("Due"), "due", NUMBER, sort=True),
        Column("on_time", gettext_lazy("On time"), "on_time", NUMBER, sort=True),
        Column("delivered_late", gettext_lazy("Delivered late"), "delivered_late", NUMBER, sort=True),
        Column("not_delivered", gettext_lazy("Not delivered"), "not_delivered", NUMBER, sort=True),
        Column("rate", gettext_lazy("Rate"), "rate", NUMBER, sort=True),
        Column("provisional", gettext_lazy("provisional"), "provisional"),
    ],
    date_field="month",
    date_label=gettext_lazy("Month"),
)


def _late(row, batch, unplanned):
    """One value of a late batch or of a late unplanned line (both are late-batch rows of the list)."""
    return unplanned(row) if hasattr(row, "unplanned") else batch(row)


def _late_status(row) -> str:
    if hasattr(row, "unplanned"):
        return _("Not planned")
    return _("Delivered late") if row.delivered_in_full else _("Not delivered")


def _late_line(row):
    return row.line if hasattr(row, "line") else row


LATE = Listing(
    name="late-batches",
    sheet_title=gettext_lazy("Late batches"),
    columns=[
        Column(
            "late_due",
            gettext_lazy("Due date"),
            lambda r: _late(r, lambda b: b.due_date, lambda x: x.due),
            DATE,
            sort="due_date",
        ),
        Column(
            "late_order", gettext_lazy("Order no."), lambda r: _late_line(r).order.number, sort="line__order__number"
        ),
        Column("late_line", gettext_lazy("Line"), lambda r: _late_line(r).position, NUMBER),
        Column(
            "late_customer",
            gettext_lazy("Customer"),
            lambda r: _late_line(r).order.customer.code,
            sort="line__order__customer__code",
        ),
        Column(
            "late_product", gettext_lazy("Product"), lambda r: _late_line(r).product.code, sort="line__product__code"
        ),
        Column(
            "late_qty",
            gettext_lazy("Quantity"),
            lambda r: _late(r, lambda b: b.quantity, lambda x: x.unplanned),
            NUMBER,
            sort="quantity",
        ),
        Column(
            "late_on_time",
            gettext_lazy("Delivered by the due date"),
            lambda r: _late(r, lambda b: b.delivered_on_time, lambda x: 0),
            NUMBER,
            sort="delivered_on_time",
        ),
        Column(
            "late_delivered",
            gettext_lazy("Delivered in all"),
            lambda r: _late(r, lambda b: b.delivered, lambda x: 0),
            NUMBER,
            sort="delivered",
        ),
        Column("late_status", gettext_lazy("Status"), _late_status),
    ],
)


def _chart_data(rates: list[ontime.MonthRate]) -> dict:
    """What static/js/ontime.js draws: labels, the rate (null when nothing was due) and the counts."""
    return {
        "months": [r.key for r in rates],
        "labels": [date_format(r.month, "YEAR_MONTH_FORMAT") for r in rates],
        "rate": [None if r.rate is None else float(r.rate) for r in rates],
        "on_time": [r.on_time for r in rates],
        "delivered_late": [r.delivered_late for r in rates],
        "not_delivered": [r.not_delivered for r in rates],
        "provisional": [r.provisional for r in rates],
        "text": {
            "rate": _("On-time rate (%)"),
            "on_time": _("On time"),
            "delivered_late": _("Delivered late"),
            "not_delivered": _("Not delivered"),
            "batches": _("Batches due"),
            "provisional": _("provisional"),
            "no_rate": _("no batches due"),
        },
    }


def _customer_options(chosen: Customer | None):
    """The customer choice's options, joined here: thousands of customers through the template's loop cost more
    than the rate itself (~100 ms a page at 2,400 customers)."""
    rows = Customer.objects.order_by("code").values_list("pk", "code", "name_zh", "name_en")
    return format_html_join(
        "",
        '<option value="{}"{}>{} {}</option>',
        (
            (code, mark_safe(" selected") if chosen and pk == chosen.pk else "", code, zh or en)
            for pk, code, zh, en in rows.iterator(chunk_size=2000)
        ),
    )


@login_required
def ontime_page(request):
    require(request.user, "delivery.view")
    today = timezone.localdate()
    customer = None
    code = request.GET.get("customer", "").strip()
    if code:
        try:
            customer = ontime.find_customer(code)
        except DomainError as error:
            raise Http404(str(error)) from None

    month = None
    month_text = request.GET.get("month", "").strip()
    if month_text:
        try:
            month = ontime.parse_month(month_text)
        except DomainError as error:
            messages.warning(request, str(error))

    ontime.months_close(today)  # idempotent; the daily job closes them too
    rates = ontime.monthly_rates(customer=customer, today=today)
    months_listed, late_listed = MONTHS.bind(request), LATE.bind(request)
    table = request.GET.get("table", "")
    if months_listed.export and table != "late":
        return months_listed.xlsx_response(months_listed.apply(list(reversed(rates))))
    restatements = []
    for r in rates:
        if r.closed is None:
            continue
        history = list(r.closed.restatements.all())
        previous = r.closed
        for item in history:
            restatements.append({"month": r, "before": previous, "after": item})
            previous = item
    shown = {r.month for r in rates}
    late_page = chosen = None
    if month is not None:
        if month not in shown:
            messages.warning(request, _("Choose one of the last %(n)d months.") % {"n": len(rates)})
        else:
            chosen = next(r for r in rates if r.month == month)
            late = late_listed.order(ontime.late_batches(month, customer=customer, today=today))
            if late_listed.export and table == "late":
                unplanned = ontime.late_unplanned(month, customer=customer, today=today)
                return late_listed.xlsx_response(
                    chain(late.iterator(chunk_size=2000), unplanned), filename=f"late-batches-{month_text}.xlsx"
                )
            late_page = Paginator(late, LATE_PAGE_SIZE).get_page(request.GET.get("page"))
    shown_rates = months_listed.apply(list(reversed(rates)))  # newest first in the table unless sorted
    return render(
        request,
        "delivery/ontime.html",
        {
            "rates": shown_rates,
            "chart": _chart_data(rates),
            "customer": customer,
            "customer_options": _customer_options(customer),
            "chosen": chosen,
            "restatements": sorted(restatements, key=lambda x: x["after"].recorded_at, reverse=True),
            "late_unplanned": ontime.late_unplanned(chosen.month, customer=customer, today=today) if chosen else [],
            "page": late_page,
            "query": months_listed.page_query,
            "months_listed": months_listed,
            "late_listed": late_listed,
            "listed": months_listed,
            "today": today,
        },
    )
