"""The dashboard's complaint figures equal the complaint list's filters (§5.10.2): open ones per step and the
overdue ones; and the corrective actions open, overdue, waiting for verification as the action list (§5.12.6)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from improvement.models import Action

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2"), pytest.mark.clause("5.12.6")]

TODAY = timezone.localdate()


@pytest.fixture
def complaints(record, make_customer):
    """Four complaints recorded today; one received three weeks ago (overdue); one moved on to 'answered' and one
    closed (by hand: the figures read the status and its dates)."""
    acme = make_customer("ACME-01")
    made = [record(acme) for _ in range(4)]
    Complaint.objects.filter(pk=made[0].pk).update(received_on=TODAY - timedelta(days=21))
    Complaint.objects.filter(pk=made[1].pk).update(status="answered", answered_on=TODAY)
    Complaint.objects.filter(pk=made[2].pk).update(status="closed")
    return made


@pytest.fixture
def actions(users):
    def make(n, **fields):
        values = dict(
            number=f"CA-T-{n}",
            source="other",
            title="改善包装",
            problem="划痕",
            plan="加护角",
            owner_department="quality",
            owner=users["qa"],
            due_date=TODAY + timedelta(days=10),
            created_by=users["cs"],
        )
        values.update(fields)
        return Action.objects.create(**values)

    make(1)
    make(2, due_date=TODAY - timedelta(days=3))  # overdue
    make(3, status="done", verify_after=TODAY - timedelta(days=1))  # done, ready to verify
    make(4, status="done", verify_after=TODAY + timedelta(days=30))  # done, too early to verify
    make(5, status="effective")


def test_open_and_overdue_complaints_are_the_complaint_lists(complaints, dashboard, page):
    figures = dashboard()["complaints"]
    counts = {value: n for value, _label, n in figures.by_status}
    assert "closed" not in counts
    assert (figures.open, counts["received"], counts["answered"]) == (3, 2, 1)
    for value, n in counts.items():
        assert page(f"{reverse('complaints:list')}?status={value}")["page"].paginator.count == n
    assert figures.overdue == page(f"{reverse('complaints:list')}?overdue=1")["page"].paginator.count == 1


def test_corrective_actions_are_the_action_lists(actions, dashboard, page):
    counts = dashboard()["complaints"].actions
    assert (counts["open"], counts["overdue"], counts["done"], counts["waiting"]) == (2, 1, 2, 1)
    for key in ("open", "overdue", "done", "waiting"):
        assert page(f"{reverse('improvement:actions')}?status={key}")["page"].paginator.count == counts[key]
