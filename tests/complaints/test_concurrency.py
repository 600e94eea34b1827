"""People acting at once on PostgreSQL (row locks; SQLite serialises writers and cannot show this): complaints
recorded at the same moment get consecutive numbers, and a step done twice at once is done once."""

import pytest
from django.db import connection

from common.errors import DomainError
from complaints import services
from complaints.models import Complaint
from tests.complaints.conftest import TODAY, walk
from tests.orders.test_concurrency import at_once

pytestmark = [
    pytest.mark.clause("5.10.2"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]


def test_complaints_recorded_at_once_get_consecutive_numbers(users, acme, make_user):
    clerks = [users["cs"]] + [make_user(f"cs{i}", "customer_service") for i in range(5)]

    def recorder(user):
        return lambda: services.complaint_record(
            user=user, customer=acme, channel="phone", received_on=TODAY, description="划痕", category="quality"
        )

    results = at_once(*(recorder(user) for user in clerks))
    assert all(isinstance(r, Complaint) for r in results), results
    numbers = sorted(r.number for r in results)
    assert numbers == [f"KS-{TODAY.year}-{n:04d}" for n in range(1, len(clerks) + 1)]


def test_two_people_acknowledging_at_once_record_one_acknowledgement(users, acme, record, make_user):
    complaint = record(acme)
    second = make_user("cs2", "customer_service")

    def acknowledger(user):
        return lambda: services.complaint_acknowledge(user=user, complaint=complaint, on=TODAY, text=user.username)

    results = at_once(acknowledger(users["cs"]), acknowledger(second), acknowledger(users["cs"]))
    assert sum(isinstance(r, Complaint) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 2, results
    assert complaint.history.filter(status="acknowledged").count() == 1


def test_two_closes_at_once_fix_the_quality_problem_once(users, acme, record, make_user):
    complaint = walk(users, record(acme), "answered")
    second = make_user("cs2", "customer_service")

    def closer(user):
        return lambda: services.complaint_close(user=user, complaint=complaint, accepted_on=TODAY)

    results = at_once(closer(users["cs"]), closer(second))
    assert sum(isinstance(r, Complaint) for r in results) == 1, results
    assert complaint.quality_problem.history.filter(status="fixed").count() == 1
