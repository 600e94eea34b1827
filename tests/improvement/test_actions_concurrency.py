"""Corrective actions touched by two at once, on PostgreSQL (row locks): numbers without gaps or repeats, one
verification of a done action, one reminder per owner per day when the job runs twice at once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.roles import Dept
from common.errors import DomainError
from common.models import OutboxMessage
from improvement import actions as services
from improvement.models import Action, Verification
from tests.improvement.test_actions import done, new_action
from tests.orders.test_concurrency import at_once

pytestmark = [
    pytest.mark.clause("5.12.6"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]

TODAY = timezone.localdate()


def test_actions_created_at_once_get_consecutive_numbers(users):
    results = at_once(*[lambda: new_action(users) for _ in range(4)])
    assert all(isinstance(r, Action) for r in results), results
    assert sorted(int(r.number.rsplit("-", 1)[1]) for r in results) == [1, 2, 3, 4]


def test_two_verifiers_at_once_record_one_verification(users):
    action = new_action(users)
    done(users, action)

    def verify(role, effective):
        return lambda: services.action_verify(user=users[role], action=action, effective=effective, evidence=role)

    results = at_once(verify("cs", True), verify("rep", False))
    assert sum(isinstance(r, Verification) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    assert Verification.objects.count() == 1
    action.refresh_from_db()
    assert action.status in (Action.Status.EFFECTIVE, Action.Status.OPEN)


def test_the_reminder_job_run_twice_at_once_writes_each_owner_once(users):
    for name in ("qa", "cs"):
        users[name].email = f"{name}@factory.example"
        users[name].save(update_fields=["email"])
    late = TODAY - timedelta(days=1)
    new_action(users, due_date=late)
    new_action(users, due_date=late)
    new_action(users, owner="cs", owner_department=Dept.CS, due_date=late)
    results = at_once(services.actions_remind, services.actions_remind, services.actions_remind)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 2
    assert OutboxMessage.objects.filter(kind=services.REMINDER).count() == 2
