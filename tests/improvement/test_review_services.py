"""Preparing a management review pack and recording the review (§5.12.7): who may, the figures frozen when the
pack is prepared, a second pack for the same period beside the first, the review recorded once by the
management representative."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from common.errors import DomainError
from improvement import review as reviews
from improvement.models import ManagementReview
from tests.conftest import ROLE_USERS
from tests.improvement import test_review as base

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.7")]

survey_form = base.survey_form
make_customer = base.make_customer
deliver = base.deliver
world = base.world

START, END, TODAY = base.START, base.END, base.TODAY


@pytest.fixture
def pack(users):
    return reviews.review_prepare(user=users["cs"], period_start=START, period_end=END)


# --- Preparing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["cs", "rep"])
def test_customer_service_or_the_representative_prepares_a_pack(users, role):
    review = reviews.review_prepare(user=users[role], period_start=START, period_end=END, title="  H2 评审 ")

    assert review.status == ManagementReview.Status.PREPARED
    assert (review.period_start, review.period_end, review.title) == (START, END, "H2 评审")
    assert review.prepared_by == users[role]
    assert review.figures["period"]["start"] == "2025-07-01"
    assert review.history.get().history_user == users[role]


@pytest.mark.parametrize("role", sorted(set(ROLE_USERS) - {"cs", "rep"}))
def test_the_other_departments_cannot_prepare_a_pack(users, role):
    with pytest.raises(PermissionDenied):
        reviews.review_prepare(user=users[role], period_start=START, period_end=END)

    assert not ManagementReview.objects.exists()


def test_a_pack_without_a_title_gets_the_usual_one(pack):
    assert pack.title == "2025年下半年管理评审资料 / Management review pack 2025 H2"


def test_a_pack_without_a_period_is_for_the_last_completed_half_year(users):
    review = reviews.review_prepare(user=users["rep"])

    assert (review.period_start, review.period_end) == reviews.default_period(TODAY)


def test_a_pack_with_half_a_period_is_refused(users):
    with pytest.raises(DomainError) as refused:
        reviews.review_prepare(user=users["rep"], period_start=START)

    assert refused.value.code == "period_end"


def test_a_pack_for_a_period_that_cannot_have_one_is_refused(users):
    with pytest.raises(DomainError) as refused:
        reviews.review_prepare(user=users["cs"], period_start=END, period_end=START)

    assert refused.value.code == "period_end"
    assert not ManagementReview.objects.exists()


def test_the_figures_are_frozen_when_the_pack_is_prepared(world, users):
    review = reviews.review_prepare(user=users["cs"], period_start=START, period_end=END)
    frozen = review.figures
    assert frozen["complaints"]["count"] == 3 and frozen["returns"]["count"] == 3

    # Later data: a complaint and a return in the period, an overdue action.
    base.complaint(users, world.customers["A"], date(2025, 10, 1))
    base.a_return(users, world.returns["open"].note_line.note, "9", base.local(date(2025, 10, 1)))
    base.action(users, "other", due=TODAY - timedelta(days=2))

    review.refresh_from_db()
    assert review.figures == frozen
    again = reviews.review_prepare(user=users["rep"], period_start=START, period_end=END)
    assert again.pk != review.pk  # a new pack for the same period is a new row
    assert again.figures["complaints"]["count"] == 4
    assert again.figures["returns"]["count"] == 4
    assert again.figures["actions"]["totals"]["overdue"] == 2
    assert ManagementReview.objects.filter(period_start=START, period_end=END).count() == 2


# --- Recording the review -------------------------------------------------------------------------------------


def test_the_representative_records_the_review_meeting_and_its_decisions(pack, users):
    review = reviews.review_record(user=users["rep"], review=pack, reviewed_on=TODAY, decisions="  加强包装检验  ")

    review.refresh_from_db()
    assert review.status == ManagementReview.Status.REVIEWED
    assert (review.reviewed_on, review.decisions) == (TODAY, "加强包装检验")
    assert review.recorded_by == users["rep"] and review.recorded_at is not None
    assert review.history.latest().history_user == users["rep"]


@pytest.mark.parametrize("role", sorted(set(ROLE_USERS) - {"rep"}))
def test_only_the_representative_records_the_review(pack, users, role):
    with pytest.raises(PermissionDenied):
        reviews.review_record(user=users[role], review=pack, reviewed_on=TODAY, decisions="决议")

    pack.refresh_from_db()
    assert pack.status == ManagementReview.Status.PREPARED


def test_the_review_is_recorded_once(pack, users):
    reviews.review_record(user=users["rep"], review=pack, reviewed_on=TODAY, decisions="第一次")

    with pytest.raises(DomainError) as refused:
        reviews.review_record(user=users["rep"], review=pack, reviewed_on=TODAY, decisions="第二次")

    assert refused.value.code == "state"
    assert "already recorded" in str(refused.value)
    pack.refresh_from_db()
    assert pack.decisions == "第一次"


@pytest.mark.parametrize(
    ("reviewed_on", "decisions", "field"),
    [
        (None, "决议", "reviewed_on"),
        (TODAY + timedelta(days=1), "决议", "reviewed_on"),
        (TODAY - timedelta(days=1), "决议", "reviewed_on"),  # before the pack was prepared (today)
        (TODAY, "   ", "decisions"),
    ],
)
def test_a_review_without_a_possible_date_or_decisions_is_refused(pack, users, reviewed_on, decisions, field):
    with pytest.raises(DomainError) as refused:
        reviews.review_record(user=users["rep"], review=pack, reviewed_on=reviewed_on, decisions=decisions)

    assert refused.value.code == field
    pack.refresh_from_db()
    assert pack.status == ManagementReview.Status.PREPARED and pack.recorded_by is None


def test_a_meeting_on_a_day_after_the_pack_was_prepared_is_accepted(pack, users):
    ManagementReview.objects.filter(pk=pack.pk).update(prepared_at=timezone.now() - timedelta(days=20))

    review = reviews.review_record(
        user=users["rep"], review=pack, reviewed_on=TODAY - timedelta(days=5), decisions="决议"
    )

    assert review.reviewed_on == TODAY - timedelta(days=5)
