"""Two delivery notes issued at once on PostgreSQL: numbers without gaps or repeats, never over-delivered."""

import pytest
from django.db import connection

from common.errors import DomainError
from delivery.models import DeliveryNote
from tests.delivery.conftest import issue, plan, stock
from tests.orders.test_concurrency import at_once

pytestmark = [
    pytest.mark.clause("5.6.1"),
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


def test_a_cancel_and_a_sign_back_at_once_one_wins(users, order):
    """The note's row lock (§5.8): a signed note cannot be cancelled, a cancelled one cannot be signed back, even
    when both arrive together. Several rounds, since one round may happen not to overlap."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from delivery import services
    from delivery.models import SignBack
    from tests.delivery.conftest import TODAY

    batch = plan(users, order, quantity="1000")
    stock(users, batch.line, "1000")
    for _ in range(6):
        note = issue(users, (batch, "10"), warehouse=False)

        def cancel(note=note):
            return services.note_cancel(user=users["cs"], note=note, reason="客户取消 cancelled by the customer")

        def sign_back(note=note):
            scan = SimpleUploadedFile("s.pdf", b"%PDF-1.4\n%%EOF\n")
            return services.signback_record(
                user=users["cs"], note=note, scan=scan, signed_by_name="李收货", signed_on=TODAY
            )

        results = at_once(cancel, sign_back)
        assert sum(isinstance(r, DomainError) for r in results) == 1, results
        note.refresh_from_db()
        signed = SignBack.objects.filter(note=note).exists()
        assert signed != (note.status == DeliveryNote.Status.CANCELLED), (results, note.status)
