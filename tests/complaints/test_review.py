"""A complaint about quality becomes one of the customer's quality problems, which Quality sees beside its
checklist when the customer's next order is reviewed (§5.2.4.5: earlier quality problems fixed?)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.complaints.conftest import TODAY, walk
from tests.orders.conftest import customer, entered, products, submitted  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2"), pytest.mark.clause("5.2.4.5")]


def prechecks(client, order) -> str:
    body = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    start = body.index('data-testid="prechecks"')
    return body[start : body.index("</ul>", start)]


def test_qualitys_review_shows_the_complaints_open_problem_then_that_it_is_fixed(
    users,
    client_for,
    customer,  # noqa: F811
    submitted,  # noqa: F811
    record,
):
    assert "quality problem" not in prechecks(client_for("qa"), submitted)
    complaint = record(customer, received_on=TODAY - timedelta(days=1))
    shown = prechecks(client_for("qa"), submitted)
    assert "1 earlier quality problem(s) still open" in shown and complaint.number in shown
    # A complaint of another category is not a quality problem of the goods.
    record(customer, category="delivery")
    assert "1 earlier quality problem(s) still open" in prechecks(client_for("qa"), submitted)
    walk(users, complaint, "closed")
    shown = prechecks(client_for("qa"), submitted)
    assert "all 1 earlier quality problem(s) are fixed" in shown and "still open" not in shown


def test_the_problem_is_on_the_customers_page_with_the_quality_problems(
    users,
    client_for,
    customer,  # noqa: F811
    record,
):
    complaint = record(customer)
    body = client_for("qa").get(reverse("customers:detail", args=[customer.code])).content.decode()
    table = body[body.index('data-testid="quality-problems"') :]
    assert complaint.number in table[: table.index("</table>")]
