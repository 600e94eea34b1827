"""The dashboard's satisfaction figures equal the round pages': the open round's response rate against its
target with the days left (§5.11.1), the last rounds' scores and bands (§5.12.4)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from satisfaction import services
from satisfaction.models import SurveyRound
from tests.satisfaction.conftest import all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1"), pytest.mark.clause("5.12.4")]

TODAY = timezone.localdate()


def _answer(survey_round, code, value):
    invitation = survey_round.invitations.filter(line__customer__code=code).first()
    services.response_submit(invitation=invitation, raw_answers=all_answers(survey_round.form, value))


def test_the_open_round_shows_its_response_rate_and_days_left_as_its_page(sent_round, dashboard, page):
    _answer(sent_round, "A-01", 5)
    figures = dashboard()["satisfaction"]
    [item] = figures.open_rounds
    assert item.round == sent_round
    on_page = page(sent_round.get_absolute_url())["results"]
    assert item.results.rate == on_page.rate == 50
    assert item.results.days_left == on_page.days_left == 10
    assert item.results.behind_target == on_page.behind_target
    assert sent_round.target == 80  # the setting SURVEY_TARGET_PERCENT


def test_the_last_rounds_show_their_scores_and_bands_as_their_pages(sent_round, users, dashboard, page, make_customer):
    _answer(sent_round, "A-01", 5)
    _answer(sent_round, "B-01", 4)
    services.round_close(survey_round=sent_round, user=users["cs"])
    draft = services.round_create_ad_hoc(
        user=users["cs"],
        name="Draft round",
        reason="not sent",
        period_start=TODAY - timedelta(days=10),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=20),
        customers=[make_customer("D-01")],
    )
    figures = dashboard()["satisfaction"]
    assert figures.open_rounds == []
    assert [item.round for item in figures.rounds] == [sent_round]  # drafts are not results
    [item] = figures.rounds
    on_page = page(sent_round.get_absolute_url())["results"]
    assert item.results.score == on_page.score and item.results.score is not None
    assert item.results.band == on_page.band
    assert draft.status == SurveyRound.Status.DRAFT


def test_the_page_shows_the_rate_band_and_links_to_the_round(sent_round, client_for):
    _answer(sent_round, "A-01", 5)
    html = client_for("head").get("/dashboard/").content.decode()
    assert f'href="{sent_round.get_absolute_url()}"' in html
    assert 'data-testid="rate">50.0%' in html
    assert "10 days left" in html
