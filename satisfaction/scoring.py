"""Scores and bands (§5.12.4): pure functions on Decimals, no database.

A question's answer maps onto 0–100 as value ÷ the scale's maximum × 100 (as the customer's own scorecards:
score ÷ maximum × 100). A response's score is the weighted mean of its answered questions; "not applicable"
drops out and the remaining weights are rescaled. Every score is rounded half-up to one decimal.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)


def round1(value: Decimal) -> Decimal:
    return Decimal(value).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Band:
    key: str
    label: object  # lazy translation
    label_zh: str
    css: str


VERY_SATISFIED = Band("very_satisfied", _("Very satisfied"), "很满意", "success")
SATISFIED = Band("satisfied", _("Satisfied"), "满意", "primary")
FAIRLY_SATISFIED = Band("fairly_satisfied", _("Fairly satisfied"), "一般满意", "info")
DISSATISFIED = Band("dissatisfied", _("Dissatisfied"), "不满意", "warning")
VERY_DISSATISFIED = Band("very_dissatisfied", _("Very dissatisfied"), "非常不满意", "danger")
BANDS = [VERY_SATISFIED, SATISFIED, FAIRLY_SATISFIED, DISSATISFIED, VERY_DISSATISFIED]
BAND_BY_KEY = {band.key: band for band in BANDS}


def band_for(score: Decimal | None) -> Band | None:
    """The band of a score (rounded to one decimal first). SURVEY_BANDS holds the lowest score of each of the
    first four bands; below the last is very dissatisfied. Every one-decimal score falls in exactly one."""
    if score is None:
        return None
    score = round1(score)
    for band, lowest in zip(BANDS, settings.SURVEY_BANDS, strict=False):
        if score >= lowest:
            return band
    return VERY_DISSATISFIED


def answer_points(value: int, scale_max: int) -> Decimal:
    return Decimal(value) * HUNDRED / Decimal(scale_max)


def response_score(questions: Iterable, answers: dict) -> Decimal | None:
    """The weighted score of ``answers`` ({question id (str or int): value or None}) on ``questions``
    (objects with pk, weight, scale_max). None when nothing was answered."""
    total_weight = Decimal(0)
    total = Decimal(0)
    for question in questions:
        value = answers.get(str(question.pk), answers.get(question.pk))
        if value is None:
            continue
        weight = Decimal(question.weight)
        total_weight += weight
        total += weight * answer_points(int(value), question.scale_max)
    if not total_weight:
        return None
    return round1(total / total_weight)


def mean(values: Iterable[Decimal], weights: Iterable[Decimal] | None = None) -> Decimal | None:
    values = list(values)
    if not values:
        return None
    if weights is None:
        return round1(sum(values, Decimal(0)) / len(values))
    weights = list(weights)
    total_weight = sum(weights, Decimal(0))
    if not total_weight:
        return round1(sum(values, Decimal(0)) / len(values))
    return round1(sum((v * w for v, w in zip(values, weights, strict=True)), Decimal(0)) / total_weight)


def normalise_scorecard(score: Decimal, maximum: Decimal) -> Decimal:
    return round1(Decimal(score) * HUNDRED / Decimal(maximum))
