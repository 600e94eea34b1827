"""seed_demo as `make run` uses it: complaints in every state, the improvement loop on the closed survey round
(confirmed report, meeting, actions in their three states, the management review pack), a short summary, and a
second run that changes nothing.

Seeding takes several seconds, so it runs once for the module, for real: in its own transaction, committed, the
jobs queued after the commit run inline inside the command (as on a laptop). The tests then read what it made;
the database is emptied when the module ends."""

import io
import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from complaints.selectors import is_overdue
from complaints.selectors import my_work as complaints_work
from customers.models import QualityProblem
from improvement import demo as improvement_demo
from improvement.models import Action, AnalysisReport, ManagementReview, Meeting
from improvement.review import default_period
from improvement.selectors import my_work as improvement_work

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("seed_demo")]

SEEDED_SETTINGS = {
    "DEMO_MODE": True,
    "LANGUAGE_CODE": "en",
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _run() -> tuple[str, list[logging.LogRecord]]:
    """seed_demo's output and every log record made while it ran (what the console would have shown)."""
    out, records = io.StringIO(), _Records()
    root = logging.getLogger()
    root.addHandler(records)
    try:
        call_command("seed_demo", stdout=out)
    finally:
        root.removeHandler(records)
    return out.getvalue(), records.records


def _snapshot() -> dict:
    return {
        "complaints": sorted(Complaint.objects.values_list("number", "status", "received_on")),
        "problems": QualityProblem.objects.count(),
        "reports": sorted(AnalysisReport.objects.values_list("pk", "status", "version")),
        "meetings": Meeting.objects.count(),
        "actions": sorted(Action.objects.values_list("number", "status", "due_date", "verify_after")),
        "reviews": sorted(ManagementReview.objects.values_list("pk", "status", "period_start", "period_end")),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"), **SEEDED_SETTINGS):
        first_out, first_logs = _run()
        first = _snapshot()
        second_out, second_logs = _run()
        yield {
            "first": first,
            "first_out": first_out,
            "first_logs": first_logs,
            "second": _snapshot(),
            "second_out": second_out,
        }
        call_command("flush", interactive=False, verbosity=0)


def _user(name):
    return get_user_model().objects.get(username=name)


# --- Complaints ---------------------------------------------------------------------------------------------------


def test_it_makes_complaints_in_every_state_through_several_channels_and_categories(seeded):
    complaints = list(Complaint.objects.select_related("customer"))
    assert {c.status for c in complaints} == set(Complaint.Status.values)
    assert len({c.channel for c in complaints}) >= 4 and len({c.category for c in complaints}) >= 5
    # Each customer in its own language: Chinese customers' words in Chinese, the others' in English.
    for complaint in complaints:
        has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in complaint.description)
        assert has_chinese == bool(complaint.customer.name_zh), complaint.number
    # Every step that happened has its day, in order, none in the future.
    today = timezone.localdate()
    for c in complaints:
        days = [c.received_on, c.acknowledged_on, c.investigated_at and timezone.localdate(c.investigated_at)]
        days += [c.answered_on, c.accepted_on]
        reached = [d for d in days if d is not None]
        assert reached == sorted(reached) and reached[-1] <= today, c.number
        assert c.recorded_at <= timezone.now()


def test_one_complaint_waits_overdue_for_its_acknowledgement_in_customer_services_my_work(seeded):
    overdue = [c for c in Complaint.objects.filter(status=Complaint.Status.RECEIVED) if is_overdue(c)]
    assert len(overdue) == 1
    (section,) = [s for s in complaints_work(_user("cs")) if "acknowledge" in str(s.title)]
    flagged = [item.label for item in section.items if item.overdue]
    assert flagged and flagged[0].startswith(overdue[0].number)


def test_the_quality_complaint_is_the_customers_open_quality_problem_with_a_return_from_its_delivery_note(seeded):
    complaint = Complaint.objects.get(status=Complaint.Status.INVESTIGATED)
    problem = complaint.quality_problem
    assert complaint.category == "quality" and problem.customer == complaint.customer
    assert problem.status == QualityProblem.Status.OPEN and complaint.number in problem.description
    (ret,) = complaint.returns.select_related("note_line__note")
    assert ret.note_line.note in complaint.notes.all() and ret.note_line.note.customer == complaint.customer
    # A closed quality complaint fixed its problem with the action the investigation recorded.
    closed = Complaint.objects.get(status=Complaint.Status.CLOSED, category="quality")
    assert closed.quality_problem.status == QualityProblem.Status.FIXED


# --- The improvement loop -----------------------------------------------------------------------------------------


def test_the_closed_rounds_report_is_confirmed_by_the_management_representative_and_discussed_in_a_meeting(seeded):
    (confirmed,) = AnalysisReport.objects.select_related("round")
    assert confirmed.round.status == "closed" and confirmed.status == AnalysisReport.Status.CONFIRMED
    assert confirmed.decided_by.username == "rep" and confirmed.submitted_by.username == "cs"
    assert confirmed.round.closed_at <= confirmed.created_at <= confirmed.submitted_at <= confirmed.decided_at
    assert confirmed.figures["customers"] and confirmed.causes and confirmed.conclusions

    (meeting,) = Meeting.objects.select_related("memo")
    assert meeting.report == confirmed and meeting.attendees and meeting.decisions and meeting.memo
    assert timezone.localdate(confirmed.decided_at) <= meeting.held_on <= timezone.localdate()
    receipts = dict(meeting.memo.receipts.values_list("department", "acknowledged_at"))
    assert set(receipts) == set(meeting.departments) and None in receipts.values()


def test_the_meetings_actions_are_verified_effective_overdue_and_waiting_for_verification(seeded):
    today = timezone.localdate()
    actions = {a.status: a for a in Action.objects.select_related("owner")}
    assert set(actions) == {"open", "done", "effective"} and Action.objects.count() == 3
    assert all(a.meeting is not None and a.report is not None for a in actions.values())

    effective = actions["effective"]
    (check,) = effective.verifications.all()
    assert check.effective and check.verified_by != effective.owner
    assert effective.done_at <= check.verified_at and effective.verify_after <= timezone.localdate(check.verified_at)

    overdue = actions["open"]
    assert overdue.due_date < today
    (section,) = [s for s in improvement_work(overdue.owner) if s.items and s.items[0].overdue]
    assert section.items[0].label.startswith(overdue.number)

    waiting = actions["done"]
    assert waiting.verify_after <= today
    rep_waiting = [s for s in improvement_work(_user("rep")) if "verification" in str(s.title)]
    assert [item.label.split()[0] for item in rep_waiting[0].items] == [waiting.number]


def test_the_management_review_pack_covers_the_last_half_year_and_is_recorded_as_reviewed(seeded):
    (pack,) = ManagementReview.objects.all()
    assert (pack.period_start, pack.period_end) == default_period(timezone.localdate())
    assert pack.status == ManagementReview.Status.REVIEWED and pack.decisions and pack.recorded_by.username == "rep"
    assert timezone.localdate(pack.prepared_at) <= pack.reviewed_on <= timezone.localdate()
    assert pack.figures["as_of"] == timezone.localdate(pack.prepared_at).isoformat()
    assert pack.figures["complaints"]["count"] >= 2  # the two closed ones of the half-year


@pytest.mark.parametrize("days_ago", [0, 1, 20, 90, 200])
def test_the_story_keeps_its_order_and_stays_in_the_past_however_recently_the_round_closed(days_ago):
    today = timezone.localdate()
    days = improvement_demo.plan(today - timedelta(days=days_ago), today)
    ordered = [days[name] for name in improvement_demo.STEPS if name != "risk_review_due"]
    assert ordered == sorted(ordered) and max(days.values()) <= today
    assert days["risk_review_due"] < today  # overdue even when the round closed today


# --- Running it ---------------------------------------------------------------------------------------------------


def test_a_second_run_adds_nothing_and_says_so(seeded):
    assert seeded["second"] == seeded["first"]
    assert "nothing changed" in seeded["second_out"]


def test_it_prints_a_short_summary_and_no_log_line_per_background_task(seeded):
    lines = seeded["first_out"].strip().splitlines()
    assert len(lines) <= 4 and "Demo data ready" in lines[0]
    assert "complaints 7" in seeded["first_out"] and "corrective actions 3" in seeded["first_out"]
    shown = seeded["first_logs"]  # what reached the console's handler
    assert not [r.getMessage() for r in shown if r.name.startswith(("celery", "kombu"))]
    assert not [r.getMessage() for r in shown if r.levelno < logging.WARNING]


@pytest.mark.parametrize(
    "who, page",
    [
        ("cs", lambda: reverse("accounts:my_work")),
        ("cs", lambda: reverse("complaints:list")),
        ("qa", lambda: Complaint.objects.get(status="investigated").get_absolute_url()),
        ("cs", lambda: Complaint.objects.get(status="closed", category="quality").get_absolute_url()),
        ("rep", lambda: AnalysisReport.objects.get().get_absolute_url()),
        ("cs", lambda: Meeting.objects.get().get_absolute_url()),
        ("pmc", lambda: reverse("improvement:actions")),
        ("qa", lambda: Action.objects.get(status="effective").get_absolute_url()),
        ("rep", lambda: reverse("improvement:action_verify", args=[Action.objects.get(status="done").number])),
        ("rep", lambda: ManagementReview.objects.get().get_absolute_url()),
        ("pmc", lambda: reverse("accounts:my_work")),
        ("marketing", lambda: reverse("accounts:my_work")),
    ],
)
def test_the_demo_pages_open_for_the_people_who_use_them(seeded, client, who, page):
    client.force_login(_user(who))
    assert client.get(page()).status_code == 200
