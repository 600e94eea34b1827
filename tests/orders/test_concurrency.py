"""Two people acting at once on PostgreSQL (row locks; SQLite serialises writers and cannot show this)."""

import threading

import pytest
from django.db import connection, connections

from common.errors import DomainError
from orders import services
from orders.models import ReviewStep, SignOff
from tests.orders.conftest import REVIEWERS, sign

pytestmark = [
    pytest.mark.clause("5.2.4"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]


def at_once(*calls):
    """Run the calls in threads released together; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each call raised
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_quality_engineers_signing_at_once_record_one_signature(submitted, users, make_user):
    second_qa = make_user("qa2", "quality")
    step = ReviewStep.objects.get(order=submitted, department="quality")
    answers = {item["key"]: True for item in step.checklist.items}

    def signer(user):
        return lambda: services.step_sign(user=user, step=step, revision_seen=1, answers=answers)

    results = at_once(signer(users["qa"]), signer(second_qa), signer(users["qa"]))
    signed = [r for r in results if isinstance(r, ReviewStep)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(signed) == 1 and len(refused) == 2, results
    assert ReviewStep.objects.filter(order=submitted, department="quality", status="signed").count() == 1


def test_the_head_signing_off_twice_at_once_records_one_sign_off(submitted, users, make_user):
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    deputy = make_user("head2", "marketing_head")

    def signoff(user):
        return lambda: services.head_signoff(user=user, order=submitted, revision_seen=1)

    results = at_once(signoff(users["head"]), signoff(deputy))
    assert sum(isinstance(r, SignOff) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    assert SignOff.objects.filter(order=submitted).count() == 1


def test_a_change_and_a_signature_at_once_leave_a_consistent_order(submitted, users):
    """Either the signature lands on revision 1 and the change re-opens it, or the change wins and the
    signature is refused as stale: never a signature counted for a revision it did not read."""
    from decimal import Decimal

    from orders.services import LineInput

    step = ReviewStep.objects.get(order=submitted, department="pmc")
    answers = {item["key"]: True for item in step.checklist.items}
    lines = list(submitted.lines.order_by("position"))
    dates = {line.position: line.requested_date for line in lines}
    new_lines = [
        LineInput(line.product, line.quantity + Decimal(10), line.unit_price, line.requested_date) for line in lines
    ]

    results = at_once(
        lambda: services.step_sign(
            user=users["pmc"], step=step, revision_seen=1, answers=answers, confirmed_dates=dates
        ),
        lambda: services.change_request(
            user=users["cs"], order=submitted, revision_seen=1, origin="company", reason="加量", lines=new_lines
        ),
    )
    assert not any(isinstance(r, Exception) and not isinstance(r, DomainError) for r in results), results
    live = ReviewStep.objects.get(order=submitted, department="pmc", status__in=["open", "signed"])
    submitted.refresh_from_db()
    assert submitted.revision == 2
    assert live.status == "open" and live.revision == 2  # PMC must review the new quantities either way
