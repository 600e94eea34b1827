"""The on-time delivery rate page (§5.5.2): the last 24 months as a chart and a table, per customer, with the
late batches of a chosen month linked to their orders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.roles import require
from common.errors import DomainError
from customers.models import Customer
from delivery import ontime

LATE_PAGE_SIZE = 50


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
            late_page = Paginator(ontime.late_batches(month, customer=customer, today=today), LATE_PAGE_SIZE).get_page(
                request.GET.get("page")
            )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "delivery/ontime.html",
        {
            "rates": list(reversed(rates)),  # newest first in the table
            "chart": _chart_data(rates),
            "customer": customer,
            "customers": Customer.objects.order_by("code").only("code", "name_zh", "name_en"),
            "chosen": chosen,
            "restatements": sorted(restatements, key=lambda x: x["after"].recorded_at, reverse=True),
            "late_unplanned": ontime.late_unplanned(chosen.month, customer=customer, today=today) if chosen else [],
            "page": late_page,
            "query": query.urlencode(),
            "today": today,
        },
    )
