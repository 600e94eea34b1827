"""Samples do not count in the on-time delivery rate (§5.5.2): they are their own records, not delivery batches."""

from datetime import timedelta

import pytest

from delivery import ontime
from delivery.models import DeliveryBatch, DeliveryNote
from tests.delivery.conftest import issue, plan
from tests.samples.conftest import TODAY, ask, deliver, judge, receive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("4.0.2")]


def figures(customer):
    return [
        (r.due, r.on_time, r.delivered_late, r.not_delivered)
        for r in (ontime.month_rate(TODAY, today=TODAY), ontime.month_rate(TODAY, customer=customer, today=TODAY))
    ]


def test_issuing_sample_notes_leaves_the_on_time_figures_unchanged(users, order, customer, products):
    issue(users, (plan(users, order, quantity="100", due=TODAY), "100"))  # one batch due today, on time
    plan(users, order, position=2, quantity="50", due=TODAY)  # and one not delivered yet
    before = figures(customer)
    assert before[0][0] >= 1  # something is counted, so "unchanged" means something
    notes = DeliveryNote.objects.count(), DeliveryBatch.objects.count()
    sample = ask(users, customer, products["lamp"], requested_date=TODAY, kind="changed")
    receive(users, deliver(users, sample))
    judge(users, sample)
    late = ask(users, customer, products["base"], requested_date=TODAY - timedelta(days=1))
    deliver(users, late)
    ask(users, customer, products["base"], requested_date=TODAY - timedelta(days=2))  # never delivered
    assert figures(customer) == before
    assert (DeliveryNote.objects.count(), DeliveryBatch.objects.count()) == notes
