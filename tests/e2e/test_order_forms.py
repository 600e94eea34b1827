"""The everyday order forms in a real browser: lines added with and without JavaScript, a draft edited then
deleted, a review step answered with an error then corrected, the acknowledgement previewed and sent."""

from datetime import timedelta

import pytest

from orders import services
from orders.models import Order, ReviewStep
from tests.e2e.test_order_review import as_user  # noqa: F401 - fixture
from tests.orders.conftest import REVIEWERS, TODAY, customer, entered, products, sign  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.2.1")]

SOON = (TODAY + timedelta(days=20)).isoformat()


def fill_line(page, index, product, quantity):
    page.select_option(f"select[name=lines-{index}-product]", value=str(product.pk))
    page.fill(f"input[name=lines-{index}-quantity]", quantity)
    page.fill(f"input[name=lines-{index}-unit_price]", "1.50")
    page.fill(f"input[name=lines-{index}-requested_date]", SOON)


def test_a_draft_with_lines_added_in_the_page_is_edited_then_deleted(as_user, customer, products):  # noqa: F811
    cs = as_user("cs")
    cs.goto("/orders/new/")
    cs.select_option("select[name=customer]", label=str(customer))
    cs.fill("input[name=customer_po]", "PO-E2E-DRAFT")
    cs.select_option("select[name=delivery_address]", index=1)
    rows = cs.get_by_test_id("line-row")
    assert rows.count() == 3
    cs.get_by_test_id("add-line").click()
    cs.get_by_test_id("add-line").click()
    assert rows.count() == 5  # added in the page: nothing was sent yet
    assert not Order.objects.exists()
    for index in range(5):
        fill_line(cs, index, products["lamp"], str(100 * (index + 1)))
    cs.get_by_test_id("save-order").click()
    cs.wait_for_url("**/orders/SO-*/")
    order = Order.objects.get()
    assert order.lines.count() == 5

    cs.get_by_test_id("edit-draft").click()
    cs.fill("input[name=customer_po]", "PO-E2E-DRAFT-B")
    cs.fill("input[name=lines-0-quantity]", "")  # an emptied line is removed …
    cs.select_option("select[name=lines-0-product]", value="")
    cs.fill("input[name=lines-0-unit_price]", "")
    cs.fill("input[name=lines-0-requested_date]", "")
    cs.get_by_test_id("add-line").click()  # … and one more is added
    last = cs.get_by_test_id("line-row").count() - 1
    fill_line(cs, last, products["base"], "777")
    cs.press("input[name=customer_po]", "Enter")  # Enter saves: "Add a line" is not the form's default button
    cs.wait_for_url(f"**{order.get_absolute_url()}")
    order.refresh_from_db()
    assert order.customer_po == "PO-E2E-DRAFT-B"
    assert [int(line.quantity) for line in order.lines.order_by("position")] == [200, 300, 400, 500, 777]

    cs.get_by_test_id("delete-draft").click()
    assert "PO-E2E-DRAFT-B" in cs.get_by_test_id("delete-summary").inner_text()
    cs.get_by_test_id("confirm-delete").click()
    cs.wait_for_url("**/orders/")
    assert not Order.objects.exists()


def test_add_a_line_works_without_javascript(browser, live_server, users, customer, products):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, locale="en-US", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/login/")
        page.fill("input[name=username]", "cs")
        page.fill("input[name=password]", "pw-Secret-123")
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/work/")
        page.goto("/orders/new/")
        page.select_option("select[name=customer]", label=str(customer))
        page.fill("input[name=customer_po]", "PO-NOJS")
        page.select_option("select[name=delivery_address]", index=1)
        for index in range(3):
            fill_line(page, index, products["lamp"], str(10 + index))
        page.get_by_test_id("add-line").click()  # a round trip to the server
        page.wait_for_load_state()
        assert page.get_by_test_id("line-row").count() == 4
        assert page.input_value("input[name=customer_po]") == "PO-NOJS"
        assert page.input_value("input[name=lines-2-quantity]") == "12"
        fill_line(page, 3, products["base"], "13")
        page.get_by_test_id("save-order").click()
        page.wait_for_url("**/orders/SO-*/")
        assert Order.objects.get().lines.count() == 4
    finally:
        context.close()


def test_a_review_step_answered_with_an_error_then_corrected(as_user, users, entered):  # noqa: F811
    order = services.order_submit(user=users["cs"], order=entered())
    url = order.get_absolute_url()
    marketing = as_user("marketing")
    marketing.goto(url)
    card = marketing.get_by_test_id("step-marketing")
    radios = card.locator("input[type=radio][value=yes]")
    for index in range(radios.count()):
        radios.nth(index).check()
    card.locator("input[type=radio][value=no]").first.check()  # a "no" cannot be signed: it is an objection
    card.locator("textarea[name=comment]").fill("价格需再确认")
    card.get_by_test_id("sign").click()
    marketing.wait_for_load_state()
    step = ReviewStep.objects.get(order=order, department="marketing", status="open")
    assert marketing.url.endswith(f"#step-{step.pk}")  # back at the form that was sent
    card = marketing.get_by_test_id("step-marketing")
    assert card.is_visible() and "is an objection" in card.inner_text()
    assert card.locator("input[type=radio][value=no]").first.is_checked()  # every answer kept
    assert card.locator("input[type=radio][value=yes]").nth(1).is_checked()
    assert card.locator("textarea[name=comment]").input_value() == "价格需再确认"

    card.locator("input[type=radio][value=yes]").first.check()
    card.get_by_test_id("sign").click()
    marketing.wait_for_load_state()
    assert "Signed" in marketing.get_by_test_id("step-marketing").inner_text()
    step.refresh_from_db()
    assert step.status == ReviewStep.Status.SIGNED


def test_the_acknowledgement_is_previewed_and_sent_with_a_copy(as_user, users, entered):  # noqa: F811
    order = services.order_submit(user=users["cs"], order=entered())
    for reviewer in REVIEWERS:
        sign(users, order, reviewer)
    services.head_signoff(user=users["head"], order=order, revision_seen=1)
    cs = as_user("cs")
    cs.goto(order.get_absolute_url())
    cs.get_by_test_id("confirm-order").click()
    assert cs.locator("input[name=to][value='zhang@hongda.example']").is_checked()
    response = cs.request.get(cs.get_by_test_id("ack-preview").get_attribute("src"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    cs.fill("textarea[name=cc]", "not an address")
    cs.get_by_test_id("send-ack").click()
    assert "Not an e-mail address" in cs.get_by_test_id("ack-form").inner_text()
    cs.fill("textarea[name=cc]", "sales@factory.example")
    cs.get_by_test_id("send-ack").click()
    confirmation = cs.get_by_test_id("confirmation").inner_text()
    assert "zhang@hongda.example" in confirmation and "sales@factory.example" in confirmation
