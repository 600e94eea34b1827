"""The managers' dashboard (issue 11): this month's figures and the trend behind them, each linked to the list
that shows it. Reads only (dashboard.selectors); nothing imports this app.

The figures are counted in the background every few minutes and kept (dashboard.snapshot); the page shows them with
the moment they were counted. "Refresh" (``?refresh=1``) counts them again at once."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from dashboard import charts, selectors, snapshot


def _require_view(user) -> None:
    if not selectors.may_view(user):
        raise PermissionDenied


@login_required
def home(request):
    _require_view(request.user)
    context = dict(snapshot.figures(refresh=request.GET.get("refresh") == "1"))
    context.update(
        cache_minutes=snapshot.REFRESH_SECONDS // 60,
        ontime_chart=charts.ontime_trend(context["ontime"]),
        satisfaction_chart=charts.satisfaction_trend(context["satisfaction"]) if context["satisfaction"].rounds else "",
        stages_chart=charts.stages_bars(context["review"]),
        review_chart=charts.review_time_bars(context["review"]),
    )
    return render(request, "dashboard/home.html", context)
