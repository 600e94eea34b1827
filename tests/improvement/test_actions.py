"""Corrective actions (§5.12.6, 《纠正与预防措施管制程序》): numbered without gaps, each source with its reference,
an owner of the department named, reported done by the owner only, verified after a set date by someone else
only; not effective reopens, effective closes; every step a record in the history."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.roles import Dept
from common.errors import DomainError
from improvement import actions as services
from improvement.models import Action, ActionCounter, Verification

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.6")]

TODAY = timezone.localdate()
YEAR = TODAY.year


def new_action(users, *, user="cs", owner="qa", owner_department=Dept.QA, **fields) -> Action:
    """An action from a meeting-less "other" source unless told otherwise; owner: Quality's user."""
    values = {
        "kind": Action.Kind.CORRECTIVE,
        "source": Action.Source.OTHER,
        "title": "Packaging damaged in transit",
        "problem": "Two customers found crushed cartons.",
        "plan": "Stronger cartons and corner guards.",
        "due_date": TODAY + timedelta(days=14),
    }
    values.update(fields)
    owner_user = users[owner] if isinstance(owner, str) else owner
    return services.action_create(user=users[user], owner=owner_user, owner_department=owner_department, **values)


def done(users, action, *, owner="qa", verify_after=TODAY, text="Cartons changed to 7-ply."):
    return services.action_done(user=users[owner], action=action, done_text=text, verify_after=verify_after)


# --- Numbering ------------------------------------------------------------------------------------------------


def test_actions_are_numbered_per_year_without_gaps(users):
    numbers = [new_action(users).number for _ in range(3)]
    assert numbers == [f"CA-{YEAR}-0001", f"CA-{YEAR}-0002", f"CA-{YEAR}-0003"]


def test_a_number_taken_by_a_rolled_back_creation_is_given_back(users):
    new_action(users)
    with pytest.raises(RuntimeError), transaction.atomic():
        new_action(users)  # takes 0002 …
        raise RuntimeError("the surrounding change failed")  # … and the rollback gives it back
    assert new_action(users).number == f"CA-{YEAR}-0002"
    assert ActionCounter.objects.get(year=YEAR).last == 2


def test_a_refused_creation_takes_no_number(users):
    with pytest.raises(DomainError):
        new_action(users, owner="warehouse")  # not in Quality
    assert new_action(users).number == f"CA-{YEAR}-0001"


# --- Creating: who, the source's reference, the owner's department ---------------------------------------------


@pytest.mark.parametrize("role", ["cs", "qa", "rep"])
def test_customer_service_quality_and_the_representative_create_actions(users, role):
    assert new_action(users, user=role).status == Action.Status.OPEN


@pytest.mark.parametrize("role", ["marketing", "head", "pmc", "warehouse", "admin", "tech"])
def test_the_other_departments_may_not_create_actions(users, role):
    with pytest.raises(PermissionDenied):
        new_action(users, user=role)
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ("round", "round"),
        ("question", "round"),
        ("customer", "round"),
        ("complaint", "complaint"),
        ("return", "ret"),
        ("on_time", "month"),
        ("meeting", "meeting"),
    ],
)
def test_a_source_without_its_reference_is_refused(users, source, field):
    with pytest.raises(DomainError) as refused:
        new_action(users, source=source)
    assert refused.value.code == field
    assert not Action.objects.exists()


@pytest.mark.parametrize("month", ["2025-13", "2025-3", "March", "2025/03"])
def test_a_month_not_written_yyyy_mm_is_refused(users, month):
    with pytest.raises(DomainError) as refused:
        new_action(users, source=Action.Source.ON_TIME, month=month)
    assert refused.value.code == "month"


def test_a_month_of_the_on_time_rate_is_kept(users):
    action = new_action(users, source=Action.Source.ON_TIME, month="2025-03")
    assert action.month == "2025-03"


def test_an_unknown_source_or_kind_is_refused(users):
    with pytest.raises(DomainError):
        new_action(users, source="gossip")
    with pytest.raises(DomainError):
        new_action(users, kind="wish")


def test_an_owner_outside_the_owner_department_is_refused(users):
    with pytest.raises(DomainError) as refused:
        new_action(users, owner="marketing", owner_department=Dept.QA)
    assert refused.value.code == "owner"
    assert "does not belong to Quality" in refused.value.message
    assert not Action.objects.exists()


def test_an_inactive_owner_is_refused(users):
    users["qa"].is_active = False
    users["qa"].save(update_fields=["is_active"])
    with pytest.raises(DomainError) as refused:
        new_action(users)
    assert refused.value.code == "owner"


def test_an_action_needs_a_title_a_finding_and_a_plan(users):
    for blank in ("title", "problem", "plan"):
        with pytest.raises(DomainError):
            new_action(users, **{blank: "  "})
    assert not Action.objects.exists()


def test_a_verification_date_in_the_past_is_refused_at_creation(users):
    with pytest.raises(DomainError) as refused:
        new_action(users, verify_after=TODAY - timedelta(days=1))
    assert refused.value.code == "verify_after"


# --- Done: the owner only ----------------------------------------------------------------------------------------


def test_the_owner_reports_the_action_done_with_a_verification_date_30_days_later_by_default(users):
    action = new_action(users)
    action = services.action_done(user=users["qa"], action=action, done_text="Cartons changed.")
    assert action.status == Action.Status.DONE
    assert action.verify_after == TODAY + timedelta(days=30)
    assert (action.done_by, action.done_text) == (users["qa"], "Cartons changed.")
    assert action.done_at is not None


@pytest.mark.parametrize("role", ["cs", "rep", "admin", "head"])
def test_nobody_but_the_owner_reports_it_done(users, role):
    action = new_action(users)
    with pytest.raises(PermissionDenied):
        services.action_done(user=users[role], action=action, done_text="done", verify_after=TODAY)
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN and action.done_by is None


def test_a_verification_date_before_today_is_refused(users):
    action = new_action(users)
    with pytest.raises(DomainError) as refused:
        done(users, action, verify_after=TODAY - timedelta(days=1))
    assert refused.value.code == "verify_after"
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN


def test_done_needs_what_was_done_and_cannot_be_reported_twice(users):
    action = new_action(users)
    with pytest.raises(DomainError):
        done(users, action, text="   ")
    done(users, action)
    with pytest.raises(DomainError):
        done(users, action)


# --- Verification: after the date, someone else ---------------------------------------------------------------


def test_the_owner_may_not_verify_the_action_even_with_the_right_to_verify(users, make_user):
    # The owner is in Customer Service (action.verify) and a superuser: still refused.
    owner = make_user("cs-chief", Dept.CS, is_superuser=True)
    users["cs-chief"] = owner
    action = new_action(users, owner="cs-chief", owner_department=Dept.CS)
    done(users, action, owner="cs-chief")
    with pytest.raises(DomainError) as refused:
        services.action_verify(user=owner, action=action, effective=True, evidence="I checked myself")
    assert refused.value.code == "owner"
    action.refresh_from_db()
    assert action.status == Action.Status.DONE
    assert not Verification.objects.exists()


def test_verifying_before_the_verification_date_is_refused(users):
    action = new_action(users)
    done(users, action, verify_after=TODAY + timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        services.action_verify(user=users["cs"], action=action, effective=True, evidence="looks fine")
    assert "can be verified from" in refused.value.message
    assert not Verification.objects.exists()


def test_an_open_action_cannot_be_verified(users):
    action = new_action(users)
    with pytest.raises(DomainError):
        services.action_verify(user=users["cs"], action=action, effective=True, evidence="x")


@pytest.mark.parametrize("role", ["marketing", "warehouse", "admin", "pmc"])
def test_departments_without_the_right_to_verify_are_refused(users, role):
    action = new_action(users)
    done(users, action)
    with pytest.raises(PermissionDenied):
        services.action_verify(user=users[role], action=action, effective=True, evidence="x")


def test_verification_needs_its_evidence(users):
    action = new_action(users)
    done(users, action)
    with pytest.raises(DomainError) as refused:
        services.action_verify(user=users["cs"], action=action, effective=True, evidence="  ")
    assert refused.value.code == "evidence"


def test_effective_closes_the_action(users):
    action = new_action(users)
    done(users, action)
    verification = services.action_verify(
        user=users["rep"], action=action, effective=True, evidence="No damage in 12 deliveries."
    )
    action.refresh_from_db()
    assert action.status == Action.Status.EFFECTIVE
    assert (verification.effective, verification.verified_by, verification.evidence) == (
        True,
        users["rep"],
        "No damage in 12 deliveries.",
    )
    with pytest.raises(DomainError):  # closed: nothing more to verify
        services.action_verify(user=users["cs"], action=action, effective=False, evidence="again")


def test_not_effective_reopens_it_and_the_owner_must_report_it_done_again(users):
    action = new_action(users)
    done(users, action)
    services.action_verify(user=users["cs"], action=action, effective=False, evidence="Two more crushed cartons.")
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN
    assert action.reopened == 1
    assert action.done_at is None and action.verify_after is None
    with pytest.raises(DomainError):  # open again: nothing to verify until the owner reports it done
        services.action_verify(user=users["rep"], action=action, effective=True, evidence="x")

    done(users, action, text="Corner guards added as well.")
    services.action_verify(user=users["rep"], action=action, effective=True, evidence="No damage since.")
    action.refresh_from_db()
    assert action.status == Action.Status.EFFECTIVE and action.reopened == 1
    assert list(action.verifications.order_by("pk").values_list("effective", "verified_by__username")) == [
        (False, "cs"),
        (True, "rep"),
    ]


def test_the_history_keeps_every_step_with_who_did_it(users):
    action = new_action(users)
    done(users, action, text="first try")
    services.action_verify(user=users["cs"], action=action, effective=False, evidence="no")
    done(users, action, text="second try")
    services.action_verify(user=users["rep"], action=action, effective=True, evidence="yes")
    steps = list(
        action.history.order_by("history_date", "history_id").values_list(
            "history_change_reason", "history_user__username", "status", "done_text"
        )
    )
    assert steps == [
        ("created", "cs", "open", ""),
        ("done", "qa", "done", "first try"),
        ("not_effective", "cs", "open", "first try"),
        ("done", "qa", "done", "second try"),
        ("effective", "rep", "effective", "second try"),
    ]
