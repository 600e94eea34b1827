"""The dashboard's charts: server-drawn SVG from improvement.charts (no JavaScript, no CDN), fed plain values.
Labels are the page's language; the SVG names the CJK fonts first so Chinese labels draw in the browser."""

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from improvement.charts import BAND_COLOURS, Bar, Threshold, TrendPoint, bars_svg, trend_svg
from satisfaction import scoring


def ontime_trend(figures) -> str:
    points = [
        TrendPoint(
            label_zh=date_format(m.month, "M") + ("*" if m.provisional else ""),
            label_en=str(m.month.year),
            score=m.rate,
        )
        for m in figures.months
    ]
    return trend_svg(
        points,
        title=_("On-time delivery rate, last %(n)d months (%%)") % {"n": len(points)},
        thresholds=[Threshold(figures.target, _("target %(target)s%%") % {"target": figures.target})],
    )


def satisfaction_trend(figures) -> str:
    points = [
        TrendPoint(
            label_zh=item.round.name[:14], label_en=date_format(item.round.period_end, "Y-m"), score=item.results.score
        )
        for item in figures.rounds
    ]
    thresholds = [
        Threshold(lowest, str(band.label)) for band, lowest in zip(scoring.BANDS, settings.SURVEY_BANDS, strict=False)
    ]
    return trend_svg(points, title=_("Satisfaction score of the last rounds"), thresholds=thresholds)


def stages_bars(figures) -> str:
    return bars_svg(
        [Bar(label=str(label), value=n) for _value, label, n in figures.stages],
        title=_("Orders by stage"),
        integer=True,
        label_width=230,
    )


def review_time_bars(figures) -> str:
    bars = [
        Bar(
            label=str(item.label),
            value=item.median_hours,
            sublabel=_("slowest %(hours)s h") % {"hours": item.slowest_hours} if item.slowest_hours is not None else "",
            colour=BAND_COLOURS["primary"],
        )
        for item in figures.departments
    ]
    return bars_svg(
        bars,
        title=_("Review time per department, median hours (last %(n)d days)") % {"n": figures.window_days},
        label_width=170,
    )
