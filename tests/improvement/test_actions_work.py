# ruff: noqa: F811 - pytest fixtures imported from tests/satisfaction/conftest.py are parameters here
"""What waits in My work (the owner's overdue actions, the verifiers' actions to verify, the management
representative's reports to confirm and review pack to prepare) and the daily e-mail to the owners: one per owner
per day at most, in the owner's language, however often the job runs."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Dept
from common.models import OutboxMessage
from common.outbox import deliver_pending
from improvement import actions as services
from improvement import selectors, tasks
from improvement.models import Action, ManagementReview
from tests.improvement.test_actions import done, new_action
from tests.satisfaction.conftest import survey_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.6")]

TODAY = timezone.localdate()
YESTERDAY = TODAY - timedelta(days=1)


def sections(user) -> dict:
    return {str(s.title): s for s in selectors.my_work(user)}


def labels(section) -> list[str]:
    return [item.label for item in section.items]


OWNER = "Your corrective actions overdue or reopened"
VERIFY = "Corrective actions waiting for verification"


# --- My work ----------------------------------------------------------------------------------------------------


def test_the_owner_sees_his_overdue_actions_and_not_those_still_in_time(users):
    late = new_action(users, title="Late one", due_date=YESTERDAY)
    new_action(users, title="In time", due_date=TODAY)
    new_action(users, owner="cs", owner_department=Dept.CS, title="Someone else's", due_date=YESTERDAY)
    mine = sections(users["qa"])[OWNER]
    assert labels(mine) == [f"{late.number} Late one"]
    assert mine.items[0].overdue and mine.total == 1
    # Reported done, it is no longer overdue work of the owner.
    done(users, late, verify_after=TODAY + timedelta(days=5))
    assert OWNER not in sections(users["qa"])


def test_a_reopened_action_waits_for_its_owner_even_before_its_due_date(users):
    action = new_action(users, title="Reopened", due_date=TODAY + timedelta(days=10))
    done(users, action)
    services.action_verify(user=users["cs"], action=action, effective=False, evidence="no effect")
    [item] = sections(users["qa"])[OWNER].items
    assert item.label.endswith("Reopened") and not item.overdue and "reopened" in item.detail


def test_verifiers_see_actions_whose_verification_date_has_come_except_their_own(users):
    ready = new_action(users, title="Ready")
    done(users, ready)  # verify from today
    later = new_action(users, title="Later")
    done(users, later, verify_after=TODAY + timedelta(days=3))
    own = new_action(users, owner="cs", owner_department=Dept.CS, title="CS own")
    done(users, own, owner="cs")

    assert labels(sections(users["cs"])[VERIFY]) == [f"{ready.number} Ready"]
    assert labels(sections(users["rep"])[VERIFY]) == [f"{ready.number} Ready", f"{own.number} CS own"]
    assert labels(sections(users["head"])[VERIFY]) == [f"{ready.number} Ready", f"{own.number} CS own"]
    # Quality owns "Ready": it may verify others' actions but not its own.
    assert labels(sections(users["qa"])[VERIFY]) == [f"{own.number} CS own"]
    for role in ("marketing", "warehouse", "pmc", "admin"):
        assert VERIFY not in sections(users[role]), role
    assert sections(users["cs"])[VERIFY].items[0].url == reverse("improvement:action_verify", args=[ready.number])


def test_the_representative_sees_reports_to_confirm(users, survey_form):
    from improvement.models import AnalysisReport
    from satisfaction.models import SurveyRound

    def a_round(name, end):
        return SurveyRound.objects.create(
            kind="ad_hoc",
            name=name,
            period_start=end - timedelta(days=30),
            period_end=end,
            deadline=end,
            target=80,
            form=survey_form,
            status="closed",
        )

    submitted = AnalysisReport.objects.create(
        round=a_round("R1", YESTERDAY), created_by=users["cs"], status="submitted", submitted_at=timezone.now()
    )
    AnalysisReport.objects.create(round=a_round("R2", TODAY), created_by=users["cs"], status="draft")
    mine = sections(users["rep"])["Analysis reports to confirm"]
    assert labels(mine) == ["R1 v1"] and mine.items[0].url == submitted.get_absolute_url()
    assert "Analysis reports to confirm" not in sections(users["cs"])


def test_the_representative_has_a_pack_to_prepare_until_one_covers_the_last_half_year(users):
    start, end = selectors.last_completed_half_year(TODAY)
    packs = sections(users["rep"])["Management review packs to prepare"]
    assert packs.total == 1 and start.isoformat() in packs.items[0].label
    # A pack of a shorter period does not cover the half-year.
    ManagementReview.objects.create(
        period_start=start + timedelta(days=31), period_end=end, title="part", prepared_by=users["rep"]
    )
    assert sections(users["rep"])["Management review packs to prepare"].total == 1
    ManagementReview.objects.create(period_start=start, period_end=end, title="H", prepared_by=users["rep"])
    assert sections(users["rep"])["Management review packs to prepare"].items == []
    assert "Management review packs to prepare" not in sections(users["cs"])


@pytest.mark.parametrize(
    ("today", "half"),
    [
        (date(2025, 1, 1), (date(2024, 7, 1), date(2024, 12, 31))),
        (date(2025, 6, 30), (date(2024, 7, 1), date(2024, 12, 31))),
        (date(2025, 7, 1), (date(2025, 1, 1), date(2025, 6, 30))),
        (date(2025, 12, 31), (date(2025, 1, 1), date(2025, 6, 30))),
    ],
)
def test_the_last_completed_half_year(today, half):
    assert selectors.last_completed_half_year(today) == half


def test_my_work_page_shows_the_sections(users, client_for):
    late = new_action(users, title="Late one", due_date=YESTERDAY)
    html = client_for("qa").get(reverse("accounts:my_work")).content.decode()
    assert OWNER in html and late.number in html


# --- The daily e-mail -------------------------------------------------------------------------------------------


@pytest.fixture
def owners(users):
    for name, language in (("qa", "zh-hans"), ("cs", "en"), ("pmc", "")):
        users[name].email = f"{name}@factory.example"
        users[name].language = language
        users[name].save(update_fields=["email", "language"])
    return users


def reminders():
    return list(
        OutboxMessage.objects.filter(kind=services.REMINDER).order_by("pk").values_list("object_id", "to", "language")
    )


def test_each_owner_gets_one_email_listing_overdue_actions_and_those_waiting_for_verification(owners, settings):
    users = owners
    late = new_action(users, title="Late carton", due_date=YESTERDAY)
    waiting = new_action(users, title="Waiting carton")
    done(users, waiting)
    new_action(users, title="Still in time")  # nothing to say about it
    cs_late = new_action(users, owner="cs", owner_department=Dept.CS, title="CS late", due_date=YESTERDAY)
    new_action(users, owner="pmc", owner_department=Dept.PMC, title="PMC in time")

    assert tasks.remind_actions() == 2
    assert sorted(reminders()) == sorted(
        [(users["qa"].pk, "qa@factory.example", "zh-hans"), (users["cs"].pk, "cs@factory.example", "en")]
    )
    assert Action.objects.filter(last_reminded_on=TODAY).count() == 3

    deliver_pending()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {"qa@factory.example", "cs@factory.example"}
    qa_mail = by_to["qa@factory.example"].body
    assert late.number in qa_mail and waiting.number in qa_mail and "Still in time" not in qa_mail
    assert settings.SITE_URL.rstrip("/") + late.get_absolute_url() in qa_mail
    cs_mail = by_to["cs@factory.example"]
    assert cs_late.number in cs_mail.body and late.number not in cs_mail.body
    assert "1 overdue, 0 waiting for verification" in cs_mail.subject


def test_the_job_run_twice_a_day_writes_once_and_again_the_next_day(owners):
    users = owners
    new_action(users, title="Late", due_date=YESTERDAY)
    assert tasks.remind_actions() == 1
    assert tasks.remind_actions() == 0  # beat replayed the run, or a second worker
    # An action that became overdue later the same day does not cause a second e-mail that day …
    new_action(users, title="Later late", due_date=YESTERDAY)
    assert services.actions_remind(today=TODAY) == 0
    assert len(reminders()) == 1
    # … the next day the owner hears again, of both.
    assert services.actions_remind(today=TODAY + timedelta(days=1)) == 1
    assert services.actions_remind(today=TODAY + timedelta(days=1)) == 0
    assert len(reminders()) == 2


def test_an_owner_without_an_email_address_is_skipped_and_keeps_the_work_in_my_work(owners):
    users = owners
    users["qa"].email = ""
    users["qa"].save(update_fields=["email"])
    new_action(users, title="Late", due_date=YESTERDAY)
    assert tasks.remind_actions() == 0
    assert OWNER in sections(users["qa"])


def test_a_reminder_whose_actions_were_settled_before_sending_is_cancelled(owners):
    users = owners
    action = new_action(users, title="Late", due_date=YESTERDAY)
    tasks.remind_actions()
    done(users, action, verify_after=TODAY + timedelta(days=10))  # no longer overdue, not yet to verify
    deliver_pending()
    assert mail.outbox == []
    assert OutboxMessage.objects.get(kind=services.REMINDER).status == OutboxMessage.Status.CANCELLED


def test_the_email_is_written_in_the_owners_language(owners):
    """The outbox composes in the message's language: the owner's (zh-hans here), not the job's."""
    from django.utils import translation

    users = owners
    new_action(users, title="Late", due_date=YESTERDAY)
    tasks.remind_actions()
    seen = []
    from improvement import mail as improvement_mail

    real = improvement_mail.compose_action_reminder

    def spy(owner_id):
        seen.append(translation.get_language())
        return real(owner_id)

    from common import outbox

    outbox.register(services.REMINDER, spy)
    try:
        deliver_pending()
    finally:
        outbox.register(services.REMINDER, real)
    assert seen == ["zh-hans"]
    assert len(mail.outbox) == 1


def test_my_work_reads_a_bounded_number_of_queries_whatever_the_number_of_actions(users, django_assert_max_num_queries):
    for i in range(30):
        new_action(users, title=f"Late {i}", due_date=YESTERDAY)
        waiting = new_action(users, owner="cs", owner_department=Dept.CS, title=f"Waiting {i}")
        done(users, waiting, owner="cs")
    for role in ("qa", "rep"):  # Quality owns the late ones; the representative verifies Customer Service's
        user = type(users[role]).objects.get(pk=users[role].pk)  # departments not cached yet
        with django_assert_max_num_queries(8):
            found = sections(user)
        assert found[OWNER if role == "qa" else VERIFY].total == 30, role
        assert len(found[OWNER if role == "qa" else VERIFY].items) == selectors.WORK_LIMIT
