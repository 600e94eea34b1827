"""Deadlines in working days (Mon–Fri) from the previous step, and My work: Customer Service sees what it must
acknowledge, answer or close; the responsible department what it must investigate; overdue ones first, flagged."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.work import sections_for
from complaints import selectors
from complaints.models import Complaint
from orders.selectors import working_days_between
from tests.complaints.conftest import TODAY, acknowledge, answer, days_back, investigate, walk

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2")]

MONDAY = date(2026, 11, 23)
FRIDAY, SATURDAY, THURSDAY = MONDAY - timedelta(days=3), MONDAY - timedelta(days=2), MONDAY - timedelta(days=4)


def test_add_working_days_skips_the_weekend():
    assert selectors.add_working_days(FRIDAY, 1) == MONDAY
    assert selectors.add_working_days(THURSDAY, 2) == MONDAY
    assert selectors.add_working_days(SATURDAY, 1) == MONDAY
    assert selectors.add_working_days(MONDAY, 0) == MONDAY
    assert selectors.add_working_days(MONDAY, 5) == MONDAY + timedelta(days=7)


def test_a_weekend_does_not_count_towards_a_deadline(settings):
    settings.COMPLAINT_ACK_DAYS = 1
    received_friday = Complaint(status="received", received_on=FRIDAY)
    received_thursday = Complaint(status="received", received_on=THURSDAY)
    assert not selectors.is_overdue(received_friday, today=SATURDAY)
    assert not selectors.is_overdue(received_friday, today=MONDAY)  # Monday is the one working day after Friday
    assert selectors.is_overdue(received_friday, today=MONDAY + timedelta(days=1))
    assert not selectors.is_overdue(received_thursday, today=FRIDAY)
    assert selectors.is_overdue(received_thursday, today=MONDAY)
    assert selectors.due_on(received_friday) == MONDAY


def test_each_step_counts_its_own_days_from_the_previous_step(settings):
    settings.COMPLAINT_ACK_DAYS, settings.COMPLAINT_INVESTIGATE_DAYS = 1, 5
    settings.COMPLAINT_ANSWER_DAYS, settings.COMPLAINT_ACCEPT_DAYS = 2, 10
    investigated_at = timezone.make_aware(datetime.combine(THURSDAY, time(23, 30)))
    cases = [
        (Complaint(status="received", received_on=THURSDAY), 1),
        (Complaint(status="acknowledged", received_on=date(2020, 1, 1), acknowledged_on=THURSDAY), 5),
        (Complaint(status="investigated", acknowledged_on=date(2020, 1, 1), investigated_at=investigated_at), 2),
        (Complaint(status="answered", investigated_at=timezone.now(), answered_on=THURSDAY), 10),
    ]
    for complaint, days in cases:
        due = selectors.add_working_days(THURSDAY, days)
        assert selectors.due_on(complaint) == due, complaint.status
        assert not selectors.is_overdue(complaint, today=due), complaint.status
        assert selectors.is_overdue(complaint, today=selectors.add_working_days(due, 1)), complaint.status
    assert not selectors.is_overdue(Complaint(status="closed", received_on=date(2020, 1, 1)), today=MONDAY)
    assert selectors.due_on(Complaint(status="closed", received_on=date(2020, 1, 1))) is None


@pytest.mark.parametrize("days", [0, 1, 2, 5, 10])
def test_the_database_filter_agrees_with_the_rule_on_every_day(days):
    """overdue_q compares dates instead of counting days: it must say the same as is_overdue for every start day
    and every weekday of "today"."""
    for today in (MONDAY + timedelta(days=offset) for offset in range(7)):
        cutoff = selectors.overdue_before(days, today)
        for back in range(0, 30):
            start = today - timedelta(days=back)
            assert (start < cutoff) == (working_days_between(start, today) > days), (days, today, start)


def test_the_list_filter_finds_exactly_the_overdue_complaints(users, acme, record, settings):
    settings.COMPLAINT_ACK_DAYS, settings.COMPLAINT_INVESTIGATE_DAYS = 1, 5
    settings.COMPLAINT_ANSWER_DAYS, settings.COMPLAINT_ACCEPT_DAYS = 2, 10
    late_ack = record(acme, received_on=days_back(2))
    in_time_ack = record(acme, received_on=days_back(1))
    late_investigation = acknowledge(users, record(acme, received_on=days_back(6)))
    in_time_investigation = acknowledge(users, record(acme, received_on=days_back(5)))
    late_answer = investigate(users, acknowledge(users, record(acme, received_on=days_back(9))))
    Complaint.objects.filter(pk=late_answer.pk).update(
        investigated_at=timezone.make_aware(datetime.combine(days_back(3), time(23, 59)))
    )
    in_time_answer = investigate(users, acknowledge(users, record(acme, received_on=days_back(3))))
    Complaint.objects.filter(pk=in_time_answer.pk).update(
        investigated_at=timezone.make_aware(datetime.combine(days_back(2), time(0, 1)))
    )
    late_close = answer(users, walk(users, record(acme, received_on=days_back(20)), "investigated"))
    Complaint.objects.filter(pk=late_close.pk).update(answered_on=days_back(11))
    walk(users, record(acme, received_on=days_back(30)), "closed")
    overdue = set(selectors.complaint_list(overdue=True).values_list("number", flat=True))
    assert overdue == {late_ack.number, late_investigation.number, late_answer.number, late_close.number}
    for complaint in Complaint.objects.all():
        assert selectors.is_overdue(complaint) == (complaint.number in overdue), complaint.number
    assert in_time_ack.number not in overdue and in_time_investigation.number not in overdue


def _section(user, title):
    return next((s for s in sections_for(user) if s.title == title), None)


def test_customer_service_sees_what_to_acknowledge_answer_or_close_overdue_first(users, acme, record, settings):
    settings.COMPLAINT_ACK_DAYS = 1
    fresh = record(acme, received_on=TODAY)
    late = record(acme, received_on=days_back(2))
    being_investigated = walk(users, record(acme), "acknowledged")
    to_answer = walk(users, record(acme), "investigated")
    to_close = walk(users, record(acme), "answered")
    walk(users, record(acme), "closed")
    section = _section(users["cs"], "Complaints to acknowledge, answer or close")
    labels = [item.label.split()[0] for item in section.items]
    assert labels[0] == late.number and section.items[0].overdue
    assert set(labels) == {fresh.number, late.number, to_answer.number, to_close.number}
    assert being_investigated.number not in labels and section.total == 4
    assert [i.overdue for i in section.items].count(True) == 1
    assert "due" in section.items[0].detail and section.items[0].url == late.get_absolute_url()
    assert section.more_url == reverse("complaints:list")


def test_the_responsible_department_sees_what_it_must_investigate(users, acme, record, settings):
    settings.COMPLAINT_INVESTIGATE_DAYS = 5
    quality_late = acknowledge(users, record(acme, received_on=days_back(6)))
    quality_in_time = walk(users, record(acme), "acknowledged")
    planners = walk(users, record(acme, category="delivery", department="pmc"), "acknowledged")
    record(acme)  # not acknowledged yet: not Quality's turn
    section = _section(users["qa"], "Complaints to investigate")
    assert [i.label.split()[0] for i in section.items] == [quality_late.number, quality_in_time.number]
    assert [i.overdue for i in section.items] == [True, False]
    assert [i.label.split()[0] for i in _section(users["pmc"], "Complaints to investigate").items] == [planners.number]
    assert _section(users["qa"], "Complaints to acknowledge, answer or close") is None
    assert _section(users["rep"], "Complaints to investigate") is None


def test_my_work_reads_a_bounded_number_of_queries(users, acme, record, django_assert_max_num_queries):
    for _ in range(30):
        walk(users, record(acme), "acknowledged")
        record(acme)
    user = users["cs"]
    user._dept_cache = None
    with django_assert_max_num_queries(6):  # one of them reads the work calendar (then cached)
        sections = selectors.my_work(user)
    assert [s.total for s in sections] == [30, 0]  # Customer Service also investigates (its own categories)
    assert len(sections[0].items) == selectors.WORK_LIMIT
