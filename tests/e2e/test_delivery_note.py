"""Customer Service delivers a confirmed order in a real browser: a delivery note, printed, then signed back."""

import io

import pytest
from pypdf import PdfReader

from delivery.models import DeliveryNote
from tests.delivery.conftest import TODAY, customer, deliverable, entered, order, plan, products, stock  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.6.1"), pytest.mark.clause("5.8.1")]


def test_customer_service_issues_prints_and_records_the_sign_back(page, login, users, order, tmp_path):  # noqa: F811
    batch = plan(users, order, quantity="400")
    stock(users, batch.line, "400")  # only goods in the warehouse go on a note
    login("cs")
    page.goto("/delivery/")
    page.get_by_test_id("new-note").click()
    page.select_option("select#customer", value=order.customer.code)
    page.wait_for_load_state()
    page.get_by_test_id(f"qty-{batch.pk}").fill("400")
    page.get_by_test_id("issue-note").click()
    page.wait_for_url("**/delivery/notes/**")
    note = DeliveryNote.objects.get()
    assert note.number in page.locator("h1").inner_text()

    href = page.get_by_test_id("print-a4").get_attribute("href")
    pdf = page.request.get(href)
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages).split())
    assert "东莞宏达电子有限公司" in text and note.number in text

    scan = tmp_path / "回签.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    form = page.get_by_test_id("signback-form")
    form.locator("input[type=file]").set_input_files(str(scan))
    form.locator("input[name=signed_by_name]").fill("李收货")
    form.locator("input[name=signed_on]").fill(TODAY.isoformat())
    page.get_by_test_id("record-signback").click()
    page.wait_for_load_state()
    assert "李收货" in page.get_by_test_id("sign-back").inner_text()
    note.refresh_from_db()
    assert note.sign_back.signed_by_name == "李收货"
