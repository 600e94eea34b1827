"""§5.12.4: a response's weighted score on 0–100 and the five bands, at every boundary."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from satisfaction import scoring

pytestmark = [pytest.mark.clause("5.11.3"), pytest.mark.clause("5.12.4")]


@dataclass
class Q:
    pk: int
    weight: Decimal
    scale_max: int = 5


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("100", "very_satisfied"),
        ("98.1", "very_satisfied"),
        ("98.0", "satisfied"),
        ("90.1", "satisfied"),
        ("90.0", "fairly_satisfied"),
        ("75.1", "fairly_satisfied"),
        ("75.0", "dissatisfied"),
        ("60.0", "dissatisfied"),
        ("59.9", "very_dissatisfied"),
        ("0", "very_dissatisfied"),
    ],
)
def test_it_puts_each_boundary_score_in_the_procedures_band(score, band):
    assert scoring.band_for(Decimal(score)).key == band


def test_it_puts_every_one_decimal_score_in_exactly_one_band():
    seen = set()
    for tenths in range(0, 1001):
        band = scoring.band_for(Decimal(tenths) / 10)
        assert band in scoring.BANDS
        seen.add(band.key)
    assert seen == {b.key for b in scoring.BANDS}


def test_it_reads_the_bands_from_the_settings(settings):
    settings.SURVEY_BANDS = [Decimal("95"), Decimal("85"), Decimal("70"), Decimal("50")]
    assert scoring.band_for(Decimal("95.0")).key == "very_satisfied"
    assert scoring.band_for(Decimal("94.9")).key == "satisfied"
    assert scoring.band_for(Decimal("50")).key == "dissatisfied"
    assert scoring.band_for(Decimal("49.9")).key == "very_dissatisfied"


def test_it_weights_the_answers_and_maps_them_onto_0_to_100():
    questions = [Q(1, Decimal(30)), Q(2, Decimal(70), scale_max=10)]
    # 4/5 -> 80 at weight 30; 9/10 -> 90 at weight 70: (2400 + 6300) / 100 = 87.0
    assert scoring.response_score(questions, {"1": 4, "2": 9}) == Decimal("87.0")


def test_it_drops_not_applicable_answers_and_rescales_the_other_weights():
    questions = [Q(1, Decimal(50)), Q(2, Decimal(25)), Q(3, Decimal(25))]
    # Q1 not applicable: (25*100 + 25*60) / 50 = 80.0
    assert scoring.response_score(questions, {"1": None, "2": 5, "3": 3}) == Decimal("80.0")
    assert scoring.response_score(questions, {"1": None, "2": None, "3": None}) is None


def test_it_rounds_half_up_to_one_decimal():
    questions = [Q(1, Decimal(1)), Q(2, Decimal(1)), Q(3, Decimal(1)), Q(4, Decimal(1))]
    # (100 + 100 + 100 + 80) / 4 = 95.0 ; with scale 8: 7/8 = 87.5 exactly, mean with 100 = 93.75 -> 93.8
    assert scoring.response_score(questions, {"1": 5, "2": 5, "3": 5, "4": 4}) == Decimal("95.0")
    eighths = [Q(1, Decimal(1), scale_max=8), Q(2, Decimal(1), scale_max=8)]
    assert scoring.response_score(eighths, {"1": 7, "2": 8}) == Decimal("93.8")
    assert scoring.round1(Decimal("75.05")) == Decimal("75.1")
    assert scoring.round1(Decimal("75.04")) == Decimal("75.0")


def test_it_normalises_a_customers_own_scorecard():
    assert scoring.normalise_scorecard(Decimal("4.2"), Decimal("5")) == Decimal("84.0")
    assert scoring.normalise_scorecard(Decimal("88"), Decimal("120")) == Decimal("73.3")
