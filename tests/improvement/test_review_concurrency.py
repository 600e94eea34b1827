"""Two representatives recording the same management review at once, on PostgreSQL (row locks; SQLite
serialises writers and cannot show this): the review is recorded once, the other is refused."""

from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from common.errors import DomainError
from improvement import review as reviews
from improvement.models import ManagementReview
from tests.orders.test_concurrency import at_once

pytestmark = [
    pytest.mark.clause("5.12.7"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]


def test_two_records_of_the_same_review_at_once_make_one(users, make_user):
    pack = reviews.review_prepare(user=users["cs"], period_start=date(2025, 1, 1), period_end=date(2025, 6, 30))
    deputy = make_user("rep2", "management_rep")
    today = timezone.localdate()

    results = at_once(
        lambda: reviews.review_record(user=users["rep"], review=pack, reviewed_on=today, decisions="甲"),
        lambda: reviews.review_record(user=deputy, review=pack, reviewed_on=today, decisions="乙"),
    )

    assert sum(isinstance(r, ManagementReview) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) and r.code == "state" for r in results) == 1, results
    pack.refresh_from_db()
    winner = next(r for r in results if isinstance(r, ManagementReview))
    assert (pack.decisions, pack.recorded_by) == (winner.decisions, winner.recorded_by)
    assert pack.history.filter(status="reviewed").count() == 1
