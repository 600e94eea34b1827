"""The review of an order in a real browser, each department as its own user."""

from datetime import timedelta

import pytest
from django.core import mail

from orders.models import Order
from tests.orders.conftest import TODAY, customer, products  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.2.4")]


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def open_as(username):
        context = browser.new_context(base_url=live_server.url, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "pw-Secret-123")
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/work/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def sign(page, order_url, dept):
    page.goto(order_url)
    card = page.get_by_test_id(f"step-{dept}")
    for radio in card.locator("input[type=radio][value=yes]").all():
        radio.check()
    card.get_by_test_id("sign").click()
    page.wait_for_load_state()
    assert "Signed" in page.get_by_test_id(f"step-{dept}").inner_text()


def test_an_order_is_entered_reviewed_signed_off_and_confirmed(as_user, users, customer, products):  # noqa: F811
    cs = as_user("cs")
    cs.goto("/orders/")
    cs.get_by_test_id("new-order").click()
    cs.select_option("select[name=customer]", label=str(customer))
    cs.fill("input[name=customer_po]", "PO-E2E-1")
    cs.select_option("select[name=delivery_address]", index=1)
    cs.fill("textarea[name=packaging]", "纸箱包装")
    cs.select_option("select[name=lines-0-product]", value=str(products["lamp"].pk))
    cs.fill("input[name=lines-0-quantity]", "800")
    cs.fill("input[name=lines-0-unit_price]", "1.50")
    cs.fill("input[name=lines-0-requested_date]", (TODAY + timedelta(days=20)).isoformat())
    cs.click("#order-form button[type=submit]")
    cs.get_by_test_id("submit-order").click()
    assert "In review" in cs.get_by_test_id("order-status").inner_text()
    order = Order.objects.get()
    url = order.get_absolute_url()
    assert "RoHS" in cs.get_by_test_id("packaging").inner_text()  # the environmental requirements came in

    sign(as_user("product"), url, "product_group")
    sign(as_user("tech"), url, "technical")

    qa = as_user("qa")
    qa.goto(url)
    card = qa.get_by_test_id("step-quality")
    card.locator("summary").click()
    card.locator("textarea[name=reason]").fill("包装方式需客户确认")
    card.get_by_test_id("object").click()
    assert "Objection raised" in qa.get_by_test_id("order-status").inner_text()

    marketing = as_user("marketing")
    marketing.goto(url)
    marketing.get_by_test_id("settle-form").locator("textarea[name=outcome]").fill("客户确认用标准纸箱")
    marketing.get_by_test_id("settle").click()
    assert "In review" in marketing.get_by_test_id("order-status").inner_text()
    sign(marketing, url, "marketing")
    sign(cs, url, "customer_service")
    sign(as_user("pmc"), url, "pmc")
    sign(qa, url, "quality")

    head = as_user("head")
    head.goto(url)
    head.get_by_test_id("head-signoff").click()
    assert "Signed off" in head.get_by_test_id("order-status").inner_text()

    cs.goto(url)
    cs.get_by_test_id("confirm-order").click()  # the preview, the primary contact ticked
    cs.get_by_test_id("send-ack").click()
    confirmation = cs.get_by_test_id("confirmation").inner_text()
    assert "zhang@hongda.example" in confirmation and "Sent" in confirmation
    assert "Confirmed to the customer" in cs.get_by_test_id("order-status").inner_text()
    [message] = [m for m in mail.outbox if m.to == ["zhang@hongda.example"]]
    assert message.attachments[0][2] == "application/pdf"
