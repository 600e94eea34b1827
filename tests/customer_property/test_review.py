"""An order for a product made with customer property (§5.10.3 with §5.2.4): Quality's and Technical's review
cards show the property the product uses, its condition and last check; the system's checks warn of a damaged
or overdue mould, or of a product flagged customer-owned mould whose mould is not in the register. Informing,
never blocking."""

from datetime import timedelta

import pytest
from django.urls import reverse

from customer_property import services
from orders import selectors
from orders.models import REVIEW_DEPARTMENTS
from tests.customer_property.conftest import TODAY, check
from tests.orders.conftest import customer, entered, products, sign, submitted  # noqa: F401

pytestmark = [pytest.mark.clause("5.10.3"), pytest.mark.django_db]


def cards(client, order) -> dict[str, str]:
    """Each department's review card on the order page, by department code."""
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    found = {}
    for part in page.split('data-testid="step-')[1:]:
        department = part[: part.index('"')]
        if department in REVIEW_DEPARTMENTS:
            found[department] = part
    assert set(found) == set(REVIEW_DEPARTMENTS)
    return found


def mould(users, customer, products, **extra):  # noqa: F811
    values = dict(
        user=users["warehouse"],
        customer=customer,
        kind="mould",
        name="灯罩模",
        mould_no="M-0815",
        cavities=2,
        location="模具房 A-01",
        received_on=TODAY - timedelta(days=30),
        products=[products["lamp"]],
    )
    values.update(extra)
    return services.item_register(**values)


def test_quality_and_technical_see_the_property_beside_their_checklists(
    users,
    client_for,
    customer,  # noqa: F811
    products,  # noqa: F811
    submitted,  # noqa: F811
):
    item = mould(users, customer, products)
    check(users, item, on=TODAY - timedelta(days=3))
    shown = cards(client_for("cs"), submitted)
    for department in REVIEW_DEPARTMENTS:
        has_panel = 'data-testid="property-panel"' in shown[department]
        assert has_panel == (department in ("quality", "technical")), department
    panel = shown["quality"]
    assert "M-0815" in panel and "Good" in panel and "P-1" in panel and item.get_absolute_url() in panel
    assert (TODAY - timedelta(days=3)).strftime("%m/%d/%Y") in panel and "check overdue" not in panel


def test_the_panel_says_damaged_and_check_overdue(users, client_for, customer, products, submitted):  # noqa: F811
    item = mould(users, customer, products, received_on=TODAY - timedelta(days=200))
    panel = cards(client_for("qa"), submitted)["technical"]
    assert "check overdue" in panel and "not checked yet" in panel
    check(users, item, "damaged", who="qa")
    panel = cards(client_for("qa"), submitted)["technical"]
    assert "Damaged" in panel and "check overdue" not in panel


def test_the_systems_checks_inform_of_the_property(users, customer, products, submitted):  # noqa: F811
    def texts():
        return [(c.ok, c.text) for c in selectors.prechecks(submitted) if "customer" in c.text and "mould" in c.text]

    assert texts() == []  # no property, no flag: nothing to say
    lamp = products["lamp"]
    lamp.customer_owned_mould = True
    lamp.save()
    assert texts() == [(False, "P-1 is made with the customer's mould, but no mould of it is in the register.")]
    item = mould(users, customer, products, received_on=TODAY - timedelta(days=200))
    assert texts() == [(False, "P-1 is made with the customer's mould M-0815 灯罩模 (check overdue).")]
    check(users, item, "damaged", who="qa")
    assert texts() == [(False, "P-1 is made with the customer's mould M-0815 灯罩模 (damaged).")]
    check(users, item, "good", who="qa")
    ok = [c for c in selectors.prechecks(submitted) if c.text.startswith("P-1:")]
    assert ok and ok[0].ok


def test_a_damaged_mould_does_not_block_the_review(users, customer, products, submitted):  # noqa: F811
    item = mould(users, customer, products)
    check(users, item, "damaged", who="qa")
    step = sign(users, submitted, "qa")
    assert step.status == "signed"


def test_the_order_page_keeps_to_a_bounded_number_of_queries_with_property(
    users,
    client_for,
    customer,  # noqa: F811
    products,  # noqa: F811
    submitted,  # noqa: F811
    django_assert_max_num_queries,
):
    client = client_for("qa")
    page = reverse("orders:detail", args=[submitted.number])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(page)
    for n in range(10):
        mould(users, customer, products, mould_no=f"M-{n}")
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(page)
