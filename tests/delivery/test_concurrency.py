"""Two delivery notes issued at once on PostgreSQL: numbers without gaps or repeats, never over-delivered."""

import pytest
from django.db import connection

from common.errors import DomainError
from delivery.models import DeliveryNote
from tests.delivery.conftest import issue, plan, stock
from tests.orders.test_concurrency import at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]


def test_notes_issued_at_once_get_consecutive_numbers(users, order):
    batch = plan(users, order, quantity="1000")
    stock(users, batch.line, "1000")  # before: four threads adding to the same stock figure would race
    results = at_once(*[lambda: issue(users, (batch, "10"), warehouse=False) for _ in range(4)])
    assert all(isinstance(r, DeliveryNote) for r in results), results
    numbers = sorted(int(n.number.rsplit("-", 1)[1]) for n in results)
    assert numbers == [1, 2, 3, 4]


def test_two_notes_for_the_last_quantity_at_once_deliver_it_once(users, order):
    batch = plan(users, order, quantity="100")
    stock(users, batch.line, "100")
    results = at_once(*[lambda: issue(users, (batch, "100"), warehouse=False) for _ in range(2)])
    assert sum(isinstance(r, DeliveryNote) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    assert DeliveryNote.objects.count() == 1
    # The failed attempt left no gap: the next note takes number 2.
    assert issue(users, (plan(users, order, position=2, quantity="10"), "10")).number.endswith("-00002")
