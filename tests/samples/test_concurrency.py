"""Sample notes issued at once on PostgreSQL: numbers without gaps or repeats (§4.0.2); a cancel and a receipt
at once, exactly one wins (§5.8.1)."""

import pytest
from django.db import connection

from common.errors import DomainError
from samples import services
from samples.models import SampleNote, SampleReceipt
from tests.orders.test_concurrency import at_once
from tests.samples.conftest import TODAY, ask, deliver, pdf_file

pytestmark = [
    pytest.mark.clause("4.0.2"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]


def test_sample_notes_issued_at_once_get_consecutive_numbers(users, customer, products):
    requests = [ask(users, customer, products["base"]) for _ in range(3)] + [ask(users, customer, products["lamp"])]
    results = at_once(*[lambda r=r: deliver(users, r) for r in requests])
    assert all(isinstance(r, SampleNote) for r in results), results
    assert sorted(int(n.number.rsplit("-", 1)[1]) for n in results) == [1, 2, 3, 4]
    # Two notes for the same request at once are both fine (more samples) and numbered apart.
    again = at_once(*[lambda: deliver(users, requests[0]) for _ in range(2)])
    assert sorted(n.number for n in again) == [f"SN-{TODAY.year}-00005", f"SN-{TODAY.year}-00006"]


@pytest.mark.clause("5.8.1")
def test_a_cancel_and_a_receipt_at_once_one_wins(users, customer, products):
    for _ in range(4):
        note = deliver(users, ask(users, customer, products["base"]))

        def cancel(note=note):
            return services.note_cancel(user=users["cs"], note=note, reason="客户取消")

        def receipt(note=note):
            return services.receipt_record(
                user=users["cs"], note=note, scan=pdf_file(), signed_by_name="李收货", signed_on=TODAY
            )

        results = at_once(cancel, receipt)
        assert sum(isinstance(r, DomainError) for r in results) == 1, results
        note.refresh_from_db()
        assert SampleReceipt.objects.filter(note=note).exists() != (note.status == "cancelled")
