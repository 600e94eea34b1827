"""My work's "rounds behind their response target" counts each round's rate in the database (round_progress): the
same figures as the round page's full results, a scorecard counting as an answer, in a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from satisfaction import selectors, services
from satisfaction.models import Invitation, SurveyRound
from tests.satisfaction.conftest import TODAY, all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1")]


def same(survey_round) -> tuple:
    full = selectors.round_results(survey_round)
    light = selectors.round_progress(survey_round)
    figures = ("surveyed", "answered", "rate", "behind_target", "days_left")
    assert tuple(getattr(light, f) for f in figures) == tuple(getattr(full, f) for f in figures)
    return light.answered, light.rate, light.behind_target


def test_round_progress_counts_as_the_full_results(users, sent_round, django_assert_num_queries):
    SurveyRound.objects.filter(pk=sent_round.pk).update(
        sent_at=timezone.now() - timedelta(days=10), deadline=TODAY + timedelta(days=2)
    )
    sent_round.refresh_from_db()
    assert same(sent_round) == (0, Decimal("0.0"), True)
    first, second = Invitation.objects.filter(line__customer__code="A-01").order_by("pk")
    services.response_submit(invitation=first, raw_answers=all_answers(sent_round.form))
    services.response_submit(invitation=second, raw_answers=all_answers(sent_round.form))
    assert same(sent_round) == (1, Decimal("50.0"), True)  # two contacts of one customer: one customer answered
    b = sent_round.customers.get(customer__code="B-01").customer
    services.scorecard_record(customer=b, rated_on=TODAY, score=Decimal("88"), maximum=Decimal("100"), user=users["cs"])
    assert same(sent_round) == (2, Decimal("100.0"), False)  # its own scorecard is its answer
    with django_assert_num_queries(1):
        assert not selectors.round_progress(sent_round).behind_target
