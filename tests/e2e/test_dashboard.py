"""Issue 11 in a real browser: the marketing head opens the dashboard, reads the orders in review, follows the
figure to the order list filtered the same way, and exports that list as .xlsx (``format=xlsx``): the workbook
holds exactly the orders the figure counted. The charts are drawn (inline SVG) with their tables."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from orders import services as order_services
from tests.orders.conftest import customer, entered, products  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.2.4"), pytest.mark.clause("5.5.2")]


@pytest.fixture
def orders_in_review(entered, users):  # noqa: F811
    made = [entered(customer_po=f"PO-DASH-{i}") for i in range(3)]
    for order in made[:2]:
        order_services.order_submit(user=users["cs"], order=order)
    return made  # two in review, one draft


def test_the_head_follows_a_figure_to_its_list_and_exports_it(page, login, orders_in_review):
    login("head")
    page.get_by_role("link", name="Dashboard").first.click()
    page.wait_for_url("**/dashboard/")
    assert page.locator("main svg").count() == 3  # on-time, orders by stage, review time (no survey round yet)
    assert page.get_by_test_id("dash-stages").is_visible()
    figure = page.get_by_test_id("stage-in_review").get_by_test_id("n")
    assert figure.inner_text().strip() == "2"

    figure.click()
    page.wait_for_url("**/orders/?status=in_review")
    rows = page.get_by_test_id("order-table").locator("tbody tr")
    assert rows.count() == 2
    listed = sorted(rows.nth(i).locator("td").first.inner_text().split()[0] for i in range(2))

    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    values = [row for row in book.active.iter_rows(values_only=True) if any(v is not None for v in row)]
    book.close()
    numbers = sorted(str(row[0]) for row in values[1:])  # after the header row
    assert numbers == listed


def test_the_dashboard_reads_on_a_phone(browser, live_server, users, orders_in_review):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        phone.goto("/login/")
        phone.fill("input[name=username]", "head")
        phone.fill("input[name=password]", "pw-Secret-123")
        phone.click("#login-form button[type=submit]")
        phone.wait_for_url("**/work/")
        phone.goto("/dashboard/")
        # Nothing wider than the screen: the charts shrink, the tables scroll in their own box.
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        assert phone.locator("main svg").first.bounding_box()["width"] <= 390
    finally:
        context.close()
