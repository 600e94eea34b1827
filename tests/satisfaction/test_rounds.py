"""The beat job that opens the half-year rounds (§5.11.1, twice a year): on or after the opening day a draft
of the half-year is made once, however often the job fires, and nothing is sent without a person."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from common.models import OutboxMessage
from satisfaction import tasks
from satisfaction.models import SurveyRound

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1")]


@pytest.fixture
def on_day(monkeypatch):
    """on_day(date(2025, 6, 20)): the job runs as if today were that day."""
    real_localdate = timezone.localdate

    def set_day(day: date):
        def localdate(value=None, timezone=None):
            return day if value is None else real_localdate(value, timezone)

        monkeypatch.setattr("django.utils.timezone.localdate", localdate)

    return set_day


def half_years() -> list[tuple]:
    return list(SurveyRound.objects.order_by("year", "half").values_list("year", "half", "status", "kind"))


def test_before_the_opening_day_nothing_is_opened(settings, on_day, survey_form):
    settings.SURVEY_OPEN_DAYS = [(6, 20), (12, 20)]
    on_day(date(2025, 6, 19))
    assert tasks.open_due_rounds() == []
    assert half_years() == []


def test_on_the_opening_day_a_draft_of_the_half_year_is_opened_once_and_nothing_is_sent(
    settings, on_day, survey_form, make_customer
):
    settings.SURVEY_OPEN_DAYS = [(6, 20), (12, 20)]
    settings.SURVEY_RESPONSE_DAYS = 30
    make_customer("KEY", status="development", important_in_development=True)
    on_day(date(2025, 6, 20))

    [pk] = tasks.open_due_rounds()
    assert tasks.open_due_rounds() == []  # the beat fires again (a restart replays it): still one round

    survey_round = SurveyRound.objects.get(pk=pk)
    assert half_years() == [(2025, 1, "draft", "half_year")]
    assert (survey_round.period_start, survey_round.period_end) == (date(2025, 1, 1), date(2025, 6, 30))
    assert survey_round.deadline == date(2025, 6, 20) + timedelta(days=30)
    assert survey_round.form == survey_form
    assert list(survey_round.customers.values_list("customer__code", "included")) == [("KEY", True)]
    assert survey_round.sent_at is None and not survey_round.invitations.exists()
    assert not OutboxMessage.objects.exists()


def test_after_the_opening_day_the_missed_round_is_caught_up(settings, on_day, survey_form):
    settings.SURVEY_OPEN_DAYS = [(6, 20), (12, 20)]
    on_day(date(2025, 8, 3))  # the scheduler was down in late June
    assert len(tasks.open_due_rounds()) == 1
    assert half_years() == [(2025, 1, "draft", "half_year")]


def test_in_late_december_the_second_half_is_opened(settings, on_day, survey_form):
    settings.SURVEY_OPEN_DAYS = [(6, 20), (12, 20)]
    on_day(date(2025, 6, 20))
    tasks.open_due_rounds()
    on_day(date(2025, 12, 20))
    assert len(tasks.open_due_rounds()) == 1
    assert half_years() == [(2025, 1, "draft", "half_year"), (2025, 2, "draft", "half_year")]


def test_in_january_last_years_second_half_is_caught_up(settings, on_day, survey_form):
    settings.SURVEY_OPEN_DAYS = [(6, 20), (12, 20)]
    on_day(date(2026, 1, 4))  # down over the holidays

    [pk] = tasks.open_due_rounds()

    survey_round = SurveyRound.objects.get(pk=pk)
    assert half_years() == [(2025, 2, "draft", "half_year")]
    assert (survey_round.period_start, survey_round.period_end) == (date(2025, 7, 1), date(2025, 12, 31))
    assert survey_round.deadline > date(2026, 1, 4)  # answers are still possible
    on_day(date(2026, 1, 5))
    assert tasks.open_due_rounds() == []


def test_the_opening_days_are_a_setting(settings, on_day, survey_form):
    settings.SURVEY_OPEN_DAYS = [(6, 1), (11, 25)]
    on_day(date(2025, 6, 1))
    assert len(tasks.open_due_rounds()) == 1


def test_without_a_survey_form_nothing_is_opened(settings, on_day, db):
    settings.SURVEY_OPEN_DAYS = [(6, 20), (12, 20)]
    on_day(date(2025, 6, 20))
    assert tasks.open_due_rounds() == []
    assert half_years() == []


def test_a_round_already_sent_is_left_as_it_is(settings, on_day, users, survey_form, make_customer):
    from satisfaction import services

    settings.SURVEY_OPEN_DAYS = [(6, 20), (12, 20)]
    make_customer("KEY", status="development", important_in_development=True)
    on_day(date(2025, 6, 20))
    [pk] = tasks.open_due_rounds()
    services.round_send(survey_round=SurveyRound.objects.get(pk=pk), user=users["cs"])
    invitations = OutboxMessage.objects.count()

    on_day(date(2025, 6, 21))
    assert tasks.open_due_rounds() == []
    assert half_years() == [(2025, 1, "sent", "half_year")]
    assert OutboxMessage.objects.count() == invitations


# --- The demo data ----------------------------------------------------------------------------------------------


def test_seed_demo_shows_a_closed_round_in_several_bands_and_an_open_one_and_running_again_changes_nothing(
    settings, django_capture_on_commit_callbacks
):
    import io

    from django.core.management import call_command

    from satisfaction import selectors
    from satisfaction.models import Response, Scorecard, SurveyForm

    settings.DEMO_MODE = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())

    closed, open_ = SurveyRound.objects.order_by("period_start")
    assert (closed.status, open_.status) == ("closed", "sent")
    assert closed.sent_at < closed.closed_at <= timezone.now() and closed.deadline < timezone.localdate()
    assert open_.deadline > timezone.localdate()

    past = selectors.round_results(closed)
    bands = {c.band.key for c in past.customers if c.band}
    assert {"very_satisfied", "satisfied", "fairly_satisfied", "dissatisfied"} <= bands
    assert [c.source for c in past.customers if c.scorecard] == ["scorecard"]  # its own scorecard is its answer
    assert past.not_answered and past.rate >= closed.target
    assert not OutboxMessage.objects.filter(
        kind__startswith="survey.", status__in=["queued", "sending", "cancelled"]
    ).exists()

    current = selectors.round_results(open_)
    assert 0 < current.answered < current.surveyed
    assert OutboxMessage.objects.filter(kind="survey.reminder", status="sent").exists()
    assert OutboxMessage.objects.filter(status="failed").exists()  # one refused mailbox, to send again

    counts = (
        SurveyForm.objects.count(),
        SurveyRound.objects.count(),
        Response.objects.count(),
        Scorecard.objects.count(),
    )
    call_command("seed_demo", stdout=io.StringIO())
    assert (
        SurveyForm.objects.count(),
        SurveyRound.objects.count(),
        Response.objects.count(),
        Scorecard.objects.count(),
    ) == counts
