"""Two people acting on a report at once, on PostgreSQL (row locks; SQLite serialises writers and cannot show
this): one version in the works per round, one decision per submission."""

from datetime import date

import pytest
from django.db import connection

from common.errors import DomainError
from improvement import report as reports
from improvement.models import AnalysisReport
from tests.improvement import test_report as base
from tests.improvement import test_report_flow as flow
from tests.orders.test_concurrency import at_once

pytestmark = [
    pytest.mark.clause("5.12.5"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]

survey_form = base.survey_form
make_customer = base.make_customer


@pytest.fixture
def closed(users, survey_form, make_customer):
    customer = make_customer("K-01")
    return base.build_round(
        users, [customer], {"K-01": (4, {})}, name="K", start=date(2024, 1, 1), end=date(2024, 6, 30)
    )


def test_two_reports_started_at_once_make_one(closed, users, make_user):
    second = make_user("cs2", "customer_service")

    results = at_once(
        *[
            lambda user=user: reports.report_create(user=user, survey_round=closed)
            for user in (users["cs"], second, users["cs"])
        ]
    )

    assert sum(isinstance(r, AnalysisReport) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 2, results
    assert AnalysisReport.objects.filter(round=closed).count() == 1


def test_a_confirmation_and_a_return_at_once_make_one_decision(closed, users, make_user):
    report = flow.submit(users, reports.report_create(user=users["cs"], survey_round=closed))
    deputy = make_user("rep2", "management_rep")

    results = at_once(
        lambda: reports.report_confirm(user=users["rep"], report=report),
        lambda: reports.report_return(user=deputy, report=report, reason="补充"),
    )

    assert sum(isinstance(r, AnalysisReport) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    report.refresh_from_db()
    assert report.status in ("confirmed", "returned")


def test_two_corrections_at_once_make_one_new_version(closed, users):
    confirmed = reports.report_confirm(
        user=users["rep"], report=flow.submit(users, reports.report_create(user=users["cs"], survey_round=closed))
    )

    results = at_once(*[lambda: reports.report_correct(user=users["cs"], report=confirmed, reason="x")] * 2)

    assert sum(isinstance(r, AnalysisReport) for r in results) == 1, results
    assert AnalysisReport.objects.filter(round=closed).count() == 2
