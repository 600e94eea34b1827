"""Working days follow the work calendar administrators keep: public holidays are not counted, make-up working
days on a weekend are (issue 9). Review steps and complaint steps become overdue by it."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from common import workdays
from common.models import WorkCalendarDay
from common.workdays import add_working_days, earliest_start_within, is_working_day, working_days_between
from complaints import selectors as complaint_selectors
from complaints.models import Complaint
from orders.models import ReviewStep
from orders.selectors import is_overdue
from tests.complaints.conftest import acme, record  # noqa: F401 - fixtures
from tests.satisfaction.conftest import make_customer  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.4"), pytest.mark.clause("5.10.2")]

WED = date(2026, 9, 30)
THU, FRI, SAT, SUN, MON = (WED + timedelta(days=n) for n in range(1, 6))
NEXT_SAT = date(2026, 10, 10)


@pytest.fixture
def national_day():
    """Thursday and Friday are public holidays; the Saturday of the next week is worked instead."""
    WorkCalendarDay.objects.create(date=THU, kind="holiday", name="国庆节")
    WorkCalendarDay.objects.create(date=FRI, kind="holiday", name="国庆节")
    WorkCalendarDay.objects.create(date=NEXT_SAT, kind="workday", name="国庆节调休")


def test_without_a_calendar_the_week_is_monday_to_friday():
    assert [is_working_day(WED + timedelta(days=n)) for n in range(7)] == [True, True, True, False, False, True, True]
    assert working_days_between(WED, MON) == 3  # Thu, Fri, Mon


def test_public_holidays_are_not_counted_and_make_up_days_are(national_day):
    assert not is_working_day(THU) and not is_working_day(FRI) and not is_working_day(SAT)
    assert is_working_day(NEXT_SAT) and not is_working_day(NEXT_SAT + timedelta(days=1))
    assert working_days_between(WED, MON) == 1  # only Monday
    assert working_days_between(date(2026, 10, 9), date(2026, 10, 12)) == 2  # Saturday worked, then Monday
    assert add_working_days(WED, 1) == MON
    assert add_working_days(date(2026, 10, 9), 1) == NEXT_SAT


def test_the_earliest_start_agrees_with_counting_days(national_day):
    for today in (MON, date(2026, 10, 6), NEXT_SAT, date(2026, 10, 12)):
        for allowed in range(5):
            cutoff = earliest_start_within(allowed, today)
            assert working_days_between(cutoff, today) <= allowed
            assert working_days_between(cutoff - timedelta(days=1), today) > allowed


def test_a_review_step_is_not_overdue_over_a_public_holiday(settings, national_day):
    settings.REVIEW_OVERDUE_WORKING_DAYS = 2
    # is_overdue reads only the step's state and when it was opened.
    step = ReviewStep(status=ReviewStep.Status.OPEN, opened_at=timezone.make_aware(datetime(2026, 9, 30, 9, 0)))
    # Thursday and Friday are holidays: by Monday one working day has passed, by Wednesday three.
    assert not is_overdue(step, today=MON)
    assert not is_overdue(step, today=date(2026, 10, 6))
    assert is_overdue(step, today=date(2026, 10, 7))
    WorkCalendarDay.objects.all().delete()
    assert is_overdue(step, today=MON)


def test_a_complaint_step_is_not_overdue_over_a_public_holiday(users, acme, record, settings, national_day):  # noqa: F811
    settings.COMPLAINT_ACK_DAYS = 1
    complaint = record(acme, received_on=WED)
    assert complaint.status == Complaint.Status.RECEIVED
    assert not complaint_selectors.is_overdue(complaint, today=MON)
    assert complaint_selectors.due_on(complaint) == MON
    overdue_on = lambda day: set(Complaint.objects.filter(complaint_selectors.overdue_q(day)))  # noqa: E731
    assert overdue_on(MON) == set()
    assert overdue_on(date(2026, 10, 6)) == {complaint}
    assert complaint_selectors.is_overdue(complaint, today=date(2026, 10, 6))


def test_counting_many_steps_reads_the_calendar_once(national_day, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        counts = [working_days_between(WED - timedelta(days=n), date(2026, 10, 12)) for n in range(100)]
        add_working_days(WED, 10)
        earliest_start_within(5, MON)
    assert counts[0] == 7  # Mon 5 to Fri 9, the make-up Saturday, Mon 12
    with django_assert_max_num_queries(0):
        working_days_between(WED, MON)


def test_a_change_to_the_calendar_is_seen_at_once(national_day):
    assert working_days_between(WED, MON) == 1  # now cached
    WorkCalendarDay.objects.filter(date=FRI).delete()
    assert working_days_between(WED, MON) == 2
    WorkCalendarDay.objects.create(date=SAT, kind="workday", name="调休")
    assert working_days_between(WED, MON) == 3
    assert workdays.CACHE_KEY  # the key the signals clear


def test_administrators_keep_the_calendar_in_the_admin(client_for):
    client = client_for("admin")
    assert client.get("/admin/common/workcalendarday/").status_code == 200
    response = client.post(
        "/admin/common/workcalendarday/add/", {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"}
    )
    assert response.status_code == 302
    assert working_days_between(WED, MON) == 2


def test_a_make_up_working_day_must_be_a_weekend_day(client_for):
    response = client_for("admin").post(
        "/admin/common/workcalendarday/add/", {"date": "2026-10-01", "kind": "workday", "name": "调休"}
    )
    assert response.status_code == 200
    assert "only a Saturday or Sunday can be a make-up day" in response.content.decode()
    assert not WorkCalendarDay.objects.exists()


def test_other_departments_cannot_change_the_calendar(client_for, users):
    users["cs"].is_staff = True  # even let into the admin, Customer Service has no permission on it
    users["cs"].save(update_fields=["is_staff"])
    client = client_for("cs")
    assert client.get("/admin/common/workcalendarday/add/").status_code == 403
