"""A change of a confirmed order in a real browser: only the steps the change concerns reopen (§5.3)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, ReviewStep
from orders.services import LineInput
from tests.e2e.test_order_review import as_user, sign  # noqa: F401 - fixture and helper
from tests.orders.conftest import REVIEWERS, TODAY, customer, products  # noqa: F401 - fixtures
from tests.orders.conftest import sign as sign_with_services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.3.1")]

PACKAGING = "纸箱包装,每箱 50 PCS\n外箱贴客户条码\n托盘高度不超过 1.2 米"


@pytest.fixture
def confirmed(users, customer, products):  # noqa: F811
    order = services.order_create(
        user=users["cs"],
        customer=customer,
        customer_po="PO-E2E-CHG",
        delivery_address=customer.addresses.get(),
        packaging=PACKAGING,
        lines=[
            LineInput(products["lamp"], Decimal("1000"), Decimal("1.50"), TODAY + timedelta(days=30)),
            LineInput(products["base"], Decimal("500"), Decimal("2.20"), TODAY + timedelta(days=40)),
        ],
    )
    services.order_submit(user=users["cs"], order=order)
    for reviewer in REVIEWERS:
        sign_with_services(users, order, reviewer)
    services.head_signoff(user=users["head"], order=order, revision_seen=1)
    ack = services.order_confirm(user=users["cs"], order=order, revision_seen=1)
    services.acknowledgement_send(ack.pk)  # whether or not the queue already ran it: idempotent
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED and "\n" in order.packaging
    return order


def test_a_change_of_quantity_and_date_reopens_only_the_steps_it_concerns(as_user, confirmed, users):  # noqa: F811
    url = confirmed.get_absolute_url()
    cs = as_user("cs")
    cs.goto(url)
    cs.get_by_test_id("change-order").click()
    # The multi-line packaging text comes back from the browser with CRLF line endings: not a change.
    packaging = confirmed.packaging  # the customer's text and the environmental note, on several lines
    assert cs.input_value("textarea[name=packaging]").splitlines() == packaging.splitlines()
    cs.check("input[name=kind][value=change]")
    cs.check("input[name=origin][value=company]")
    cs.fill("textarea[name=reason]", "客户来电加量并推迟第 2 行交期")
    cs.fill("input[name=lines-0-quantity]", "1200")
    new_date = TODAY + timedelta(days=55)
    cs.fill("input[name=lines-1-requested_date]", new_date.isoformat())
    cs.click("#change-form button[type=submit]")
    cs.wait_for_url(f"**{url}#revisions")

    assert "In review" in cs.get_by_test_id("order-status").inner_text()
    revisions = cs.get_by_test_id("revisions").inner_text()
    assert "1200" in revisions and new_date.isoformat() in revisions
    assert "packaging" not in revisions.lower()
    # Quantity and date concern PMC and Marketing only (§5.3): their steps wait; the others stay signed.
    for department in ("pmc", "marketing"):
        assert "Waiting" in cs.get_by_test_id(f"step-{department}").inner_text()
    for department in ("quality", "technical", "product_group", "customer_service"):
        assert "Signed" in cs.get_by_test_id(f"step-{department}").inner_text()
    confirmed.refresh_from_db()
    assert confirmed.revision == 2 and confirmed.packaging == packaging
    open_steps = set(ReviewStep.objects.filter(order=confirmed, status="open").values_list("department", flat=True))
    assert open_steps == {"pmc", "marketing"}

    # PMC confirms the new date in the browser; once Marketing signs, the head is asked to sign off again.
    pmc = as_user("pmc")
    pmc.goto(url)
    card = pmc.get_by_test_id("step-pmc")
    assert card.locator("input[name=date_2]").input_value() == new_date.isoformat()
    sign(pmc, url, "pmc")
    sign(as_user("marketing"), url, "marketing")
    confirmed.refresh_from_db()
    assert confirmed.status == Order.Status.AWAITING_SIGNOFF
    assert confirmed.lines.get(position=2).confirmed_date == new_date
