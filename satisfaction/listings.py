"""The columns of the satisfaction lists (§5.11): sorted, filtered by date and exported through common.listing."""

from django.utils.translation import gettext_lazy as _

from common.listing import DATE, DATETIME, NUMBER, Column, Listing
from satisfaction import scoring


def _band_label(band) -> str:
    return str(band.label) if band else ""


# Rounds are few (two a year and the ad-hoc ones) and their figures are computed in Python for the whole list
# (selectors.rounds_results, a fixed number of queries), so the list sorts in Python.
ROUNDS = Listing(
    name="survey-rounds",
    sheet_title=_("Survey rounds"),
    columns=[
        Column("name", _("Round"), "name", sort=True),
        Column("kind", _("Kind"), "get_kind_display", sort=True),
        Column("start", _("period from"), "period_start", DATE, sort=True),
        Column("end", _("period to"), "period_end", DATE, sort=True),
        Column("deadline", _("Answers by"), "deadline", DATE, sort=True),
        Column("status", _("Status"), "get_status_display", sort=True),
        Column("surveyed", _("Surveyed"), "results.surveyed", NUMBER, sort=True),
        Column(
            "answered", _("Answered"), lambda r: r.results.answered if r.status != "draft" else None, NUMBER, sort=True
        ),
        Column(
            "rate", _("Response rate"), lambda r: r.results.rate if r.status != "draft" else None, NUMBER, sort=True
        ),
        Column("target", _("response-rate target (%)"), "target", NUMBER, sort=True),
        Column("score", _("Score"), "results.score", NUMBER, sort=True),
        Column("band", _("Band"), lambda r: _band_label(r.results.band)),
    ],
    default_sort="-end",
    date_field="period_end",
    date_label=_("Period"),
)

SCORECARDS = Listing(
    name="scorecards",
    sheet_title=_("Customers' own scorecards"),
    columns=[
        Column("customer", _("Customer code"), "customer.code", sort="customer__code"),
        Column("customer_name", _("Customer"), "customer.display_name", sort="customer__name_zh"),
        Column("rated_on", _("Date of the rating"), "rated_on", DATE, sort="rated_on"),
        Column("score", _("Their score"), "score", NUMBER, sort="score"),
        Column("maximum", _("maximum score"), "maximum", NUMBER, sort="maximum"),
        Column("grade", _("Grade"), "grade", sort="grade"),
        Column("normalised", _("Score (0–100)"), "normalised", NUMBER, sort="normalised"),
        Column("band", _("Band"), lambda c: _band_label(scoring.band_for(c.normalised))),
        Column("note", _("Note"), "note"),
        Column("recorded_by", _("Recorded by"), lambda c: str(c.recorded_by), sort="recorded_by__username"),
        Column("recorded", _("Recorded"), "recorded_at", DATETIME, sort="recorded_at"),
    ],
    default_sort="-rated_on",
    date_field="rated_on",
    date_label=_("Date of the rating"),
)
