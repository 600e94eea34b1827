"""A sample in a real browser from the request to the customer's written approval (§4.0.2, §5.8.1), and then an
order for that customer and new product: Technical's step shows the approved sample and the system's checks
flag nothing about samples (§5.2.4.3)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from orders import services as order_services
from orders.services import LineInput
from samples.models import SampleNote, SampleRequest
from tests.orders.conftest import TODAY, customer, products  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("4.0.2")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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


def test_a_sample_to_written_approval_then_technicals_check(as_user, users, customer, products, tmp_path):  # noqa: F811
    drawing = tmp_path / "drawing.pdf"
    drawing.write_bytes(PDF)
    base = products["base"]

    tech = as_user("tech")
    tech.goto("/samples/")
    tech.get_by_test_id("new-sample").click()
    tech.select_option("select[name=customer]", value=str(customer.pk))
    tech.select_option("select[name=product]", value=str(base.pk))
    tech.check("input[name=kind][value=new]")
    tech.fill("textarea[name=description]", "新底座样品 5 件, 按图纸")
    tech.fill("input[name=quantity]", "5")
    tech.fill("input[name=requested_date]", (TODAY + timedelta(days=7)).isoformat())
    tech.set_input_files("input[name=drawing]", str(drawing))
    tech.get_by_test_id("save-request").click()
    assert "Requested" in tech.get_by_test_id("sample-status").inner_text()
    sample = SampleRequest.objects.get()
    assert sample.drawing.name.startswith("samples/drawings/")

    cs = as_user("cs")
    cs.goto(sample.get_absolute_url())
    cs.get_by_test_id("issue-note-link").click()
    cs.get_by_test_id("issue-note").click()  # the default address, today, the quantity asked
    note = SampleNote.objects.get()
    assert note.number in cs.locator("h1").inner_text()
    cs.get_by_test_id("receipt-link").click()
    cs.set_input_files("input[name=scan]", str(drawing))
    cs.fill("input[name=signed_by_name]", "王采购")
    cs.get_by_test_id("save-receipt").click()
    assert "王采购" in cs.get_by_test_id("receipt").inner_text()

    tech.goto(sample.get_absolute_url())
    assert "Delivered" in tech.get_by_test_id("sample-status").inner_text()
    tech.get_by_test_id("verdict-link").click()
    tech.check("input[name=outcome][value=approved]")
    tech.get_by_test_id("save-verdict").click()  # without the customer's document: refused, shown again
    assert "This field is required" in tech.get_by_test_id("verdict-form").inner_text()
    tech.check("input[name=outcome][value=approved]")
    tech.set_input_files("input[name=document]", str(drawing))
    tech.get_by_test_id("save-verdict").click()
    assert "Approved" in tech.get_by_test_id("sample-status").inner_text()
    assert "the customer's document" in tech.get_by_test_id("verdicts").inner_text()

    order = order_services.order_create(
        user=users["cs"],
        customer=customer,
        customer_po="PO-SAMPLE-1",
        delivery_address=customer.addresses.get(),
        lines=[LineInput(base, Decimal("500"), Decimal("2.20"), TODAY + timedelta(days=40))],
    )
    order_services.order_submit(user=users["cs"], order=order)
    tech.goto(order.get_absolute_url())
    panel = tech.get_by_test_id("step-technical").get_by_test_id("sample-panel")
    assert sample.reference in panel.inner_text()
    panel.get_by_test_id("approved-sample").click()
    tech.wait_for_url(f"**{sample.get_absolute_url()}")
    tech.goto(order.get_absolute_url())
    checks = tech.get_by_test_id("prechecks").inner_text()
    assert "no approved sample" not in checks and "every new product has an approved sample" in checks
