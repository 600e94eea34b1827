"""The demo has samples in every state (issue 12): requested, delivered waiting for the receipt, receipt overdue,
approved, approved with conditions, rejected, cancelled; seeding again changes nothing."""

import pytest
from django.conf import settings
from django.utils import timezone

from samples.models import SampleNote, SampleRequest

pytestmark = [pytest.mark.django_db, pytest.mark.clause("4.0.2")]


def test_the_demo_has_samples_in_every_state_and_is_idempotent(mailoutbox):
    from accounts.demo import seed_users
    from customers.demo import seed as customers
    from orders.demo import seed as orders
    from samples.demo import seed as samples
    from samples.selectors import review_panel, unsigned_notes

    users = seed_users()
    customers()
    orders()
    samples(users)
    statuses = set(SampleRequest.objects.values_list("status", flat=True))
    assert statuses == {"requested", "delivered", "approved", "approved_cond", "rejected", "cancelled"}
    overdue = unsigned_notes(timezone.localdate(), settings.SIGNBACK_CHASE_DAYS)
    assert overdue.count() == 1
    waiting = SampleNote.objects.filter(status="issued", receipt__isnull=True).exclude(pk__in=overdue)
    assert waiting.count() == 1
    assert SampleRequest.objects.get(status="approved_cond").verdicts.get().conditions
    # An order in review shows an approved sample to Technical.
    from orders.models import Order

    order = Order.objects.filter(status="in_review").order_by("number").first()
    if order is not None:
        assert SampleRequest.objects.filter(customer=order.customer, status="approved").exists()
        [(template, panel)] = review_panel(order, "technical")
        assert any(row["samples"] for row in panel["rows"])
    before = SampleRequest.objects.count(), SampleNote.objects.count()
    samples(users)
    assert (SampleRequest.objects.count(), SampleNote.objects.count()) == before
