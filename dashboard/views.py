"""The managers' dashboard (issue 11): this month's figures and the trend behind them, each linked to the list
that shows it. Reads only (dashboard.selectors); nothing imports this app.

The figures are read together and kept in the cache for CACHE_SECONDS (five minutes), the time shown on the page:
some of them come from the heaviest reads of the app (the delivery-progress sheet's counts, the on-time rate over
a year), and a dashboard opened many times a day need not count them again each time. "Refresh" (``?refresh=1``)
counts them again at once."""

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from dashboard import charts, selectors

CACHE_SECONDS = 300
CACHE_KEY = "dashboard:figures:v1"


def _require_view(user) -> None:
    if not selectors.may_view(user):
        raise PermissionDenied


def figures(*, refresh: bool = False) -> dict:
    """Every figure group of the page, with the moment they were read; from the cache unless ``refresh`` or
    older than CACHE_SECONDS or read on another day."""
    today = timezone.localdate()
    snapshot = None if refresh else cache.get(CACHE_KEY)
    if snapshot is None or snapshot["today"] != today:
        snapshot = {
            "today": today,
            "at": timezone.now(),
            "ontime": selectors.ontime_figures(today),
            "satisfaction": selectors.satisfaction_figures(today),
            "review": selectors.review_figures(today),
            "delivery": selectors.delivery_figures(today),
            "complaints": selectors.complaint_figures(today),
        }
        if CACHE_SECONDS:
            cache.set(CACHE_KEY, snapshot, timeout=CACHE_SECONDS)
    return snapshot


@login_required
def home(request):
    _require_view(request.user)
    context = dict(figures(refresh=request.GET.get("refresh") == "1"))
    context.update(
        cache_minutes=CACHE_SECONDS // 60,
        ontime_chart=charts.ontime_trend(context["ontime"]),
        satisfaction_chart=charts.satisfaction_trend(context["satisfaction"]) if context["satisfaction"].rounds else "",
        stages_chart=charts.stages_bars(context["review"]),
        review_chart=charts.review_time_bars(context["review"]),
    )
    return render(request, "dashboard/home.html", context)
