"""The dashboard reads every figure group with a fixed number of queries, aggregated in the database: more
orders, batches, notes, responses and complaints do not add queries (bench/bench_dashboard.py times it)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delivery import ontime
from tests.satisfaction.conftest import all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.5.2"), pytest.mark.clause("5.12.4")]

TODAY = timezone.localdate()
MAX_QUERIES = 40


def _add(build, record, n, tag):
    """n customers, each with late, on-time and not-yet-due batches over the last months, a delivered note not
    signed back, an unplanned order and a complaint."""
    for i in range(n):
        customer = build.customer(f"{tag}-{i:03d}")
        for months_back in range(3):
            day = ontime.add_months(ontime.month_start(TODAY), -months_back).replace(day=2)
            build.deliver(build.batch(customer, day), day + timedelta(days=i % 3))
            build.batch(customer, day)
        build.batch(customer, TODAY + timedelta(days=1))
        record(customer)


def test_the_query_count_is_bounded_and_does_not_grow_with_the_data(
    client_for, build, record, sent_round, django_assert_max_num_queries
):
    client = client_for("head")
    invitation = sent_round.invitations.first()
    from satisfaction import services

    services.response_submit(invitation=invitation, raw_answers=all_answers(sent_round.form, 4))
    _add(build, record, 2, "S")
    client.get("/dashboard/")  # warm up: session, content types, the work calendar
    with CaptureQueriesContext(connection) as few:
        assert client.get("/dashboard/").status_code == 200
    _add(build, record, 20, "M")
    with django_assert_max_num_queries(MAX_QUERIES):
        with CaptureQueriesContext(connection) as many:
            assert client.get("/dashboard/").status_code == 200
    assert len(many) == len(few)
