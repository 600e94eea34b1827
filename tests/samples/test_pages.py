"""The sample pages as people use them: each step's form, a refused form shown again with its errors (422), the
list with its filters, sorting and export, and the printed sample note with its Chinese text (§4.0.2, §5.8.1)."""

import io
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from samples.models import SampleNote, SampleRequest, SampleVerdict
from samples.views import SAMPLES
from tests.lists.conftest import (
    assert_text_cells,
    at,
    check_bad_date,
    check_bilingual,
    check_sorting,
    column,
    export,
    export_queries,
)
from tests.samples.conftest import PNG, TODAY, ask, deliver, judge, pdf_file, receive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("4.0.2")]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


# --- Each step through its page ------------------------------------------------------------------------------------


def test_technical_asks_for_samples_with_a_drawing(client_for, customer, products):
    client = client_for("tech")
    assert client.get(reverse("samples:create")).status_code == 200
    data = {
        "customer": customer.pk,
        "product": products["base"].pk,
        "kind": "new",
        "description": "按图纸做 5 件",
        "quantity": "5",
        "unit": "",
        "requested_date": (TODAY + timedelta(days=5)).isoformat(),
        "department": "technical",
        "drawing": pdf_file("图纸 D-12.pdf"),
    }
    response = client.post(reverse("samples:create"), data)
    sample = SampleRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == sample.get_absolute_url()
    assert sample.drawing.name.startswith("samples/drawings/") and sample.drawing.name.endswith(".pdf")
    assert sample.drawing_name == "图纸 D-12.pdf" and sample.unit == "PCS"
    page = client.get(sample.get_absolute_url()).content.decode()
    assert "图纸 D-12.pdf" in page and sample.drawing.url in page
    drawing = client_for("warehouse").get(sample.drawing.url)  # everyone may read samples: the drawing too
    assert drawing.status_code == 200 and b"".join(drawing.streaming_content).startswith(b"%PDF")


def test_a_refused_request_is_shown_again_with_every_answer_kept(client_for, customer, products):
    client = client_for("tech")
    data = {
        "customer": customer.pk,
        "product": products["base"].pk,
        "kind": "new",
        "description": "按图纸做 5 件",
        "quantity": "0",
        "requested_date": TODAY.isoformat(),
        "department": "technical",
        "drawing": io.BytesIO(b"<html>not a drawing</html>"),
    }
    response = client.post(reverse("samples:create"), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "按图纸做 5 件" in page and "Attach a PDF or an image" in page and "choose it again" in page
    assert not SampleRequest.objects.exists()


def test_the_department_offered_is_the_users_own(client, client_for, make_user):
    page = client_for("marketing").get(reverse("samples:create")).content.decode()
    assert 'value="marketing"' in page and 'value="technical"' not in page
    client.force_login(make_user("both", "marketing", "technical"))
    page = client.get(reverse("samples:create")).content.decode()
    assert 'value="marketing"' in page and 'value="technical"' in page


def test_customer_service_issues_a_note_and_records_the_signed_receipt(client_for, users, sample):
    client = client_for("cs")
    url = reverse("samples:note_create", args=[sample.pk])
    assert client.get(url).status_code == 200
    address = sample.customer.addresses.get()
    response = client.post(url, {"address": address.pk, "delivery_date": TODAY.isoformat(), "quantity": "5"})
    note = SampleNote.objects.get()
    assert response.status_code == 302 and response["Location"] == note.get_absolute_url()
    receipt_url = reverse("samples:note_receipt", args=[note.number])
    bad = client.post(receipt_url, {"scan": pdf_file(), "signed_by_name": "李收货", "signed_on": ""})
    assert bad.status_code == 422 and "李收货" in bad.content.decode()
    refused = client.post(
        receipt_url,
        {"scan": pdf_file(), "signed_by_name": "李收货", "signed_on": (TODAY + timedelta(days=2)).isoformat()},
    )
    assert refused.status_code == 422 and "in the future" in refused.content.decode()
    done = client.post(receipt_url, {"scan": pdf_file(), "signed_by_name": "李收货", "signed_on": TODAY.isoformat()})
    assert done.status_code == 302
    page = client.get(note.get_absolute_url()).content.decode()
    assert "李收货" in page and "Record the signed receipt" not in page


def test_a_refused_note_keeps_what_was_typed(client_for, sample):
    response = client_for("cs").post(
        reverse("samples:note_create", args=[sample.pk]),
        {
            "address": sample.customer.addresses.get().pk,
            "delivery_date": (TODAY + timedelta(days=1)).isoformat(),
            "quantity": "4",
            "remarks": "小心轻放",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "cannot be in the future" in page and "小心轻放" in page
    assert not SampleNote.objects.exists()


def test_cancelling_a_note_needs_a_reason_and_keeps_the_number(client_for, users, sample):
    note = deliver(users, sample)
    client = client_for("cs")
    url = reverse("samples:note_cancel", args=[note.number])
    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "地址错误"}).status_code == 302
    note.refresh_from_db()
    assert note.status == "cancelled" and note.cancel_reason == "地址错误"


def test_the_customers_written_verdict_is_recorded_with_its_document(client_for, users, sample):
    deliver(users, sample)
    client = client_for("marketing")
    url = reverse("samples:verdict", args=[sample.pk])
    assert client.get(url).status_code == 200
    missing = client.post(url, {"outcome": "approved_cond", "conditions": "", "document_date": TODAY.isoformat()})
    page = missing.content.decode()
    assert missing.status_code == 422 and "Write down the customer&#x27;s conditions" in page
    assert "This field is required" in page  # the document
    response = client.post(
        url,
        {
            "outcome": "approved_cond",
            "conditions": "颜色按色板 C-3",
            "document": io.BytesIO(PNG),
            "document_date": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    verdict = SampleVerdict.objects.get()
    assert verdict.document.name.endswith(".png") and verdict.conditions == "颜色按色板 C-3"
    detail = client.get(sample.get_absolute_url()).content.decode()
    assert "颜色按色板 C-3" in detail and "Approved with conditions" in detail


def test_the_request_page_shows_notes_receipts_verdicts_and_history(client_for, users, sample):
    note = deliver(users, sample)
    receive(users, note)
    judge(users, sample)
    page = client_for("qa").get(sample.get_absolute_url()).content.decode()
    assert note.number in page and "李收货" in page and "the customer's document" in page
    assert 'data-testid="history"' in page and page.count("<tr><td>") >= 4


def test_a_waiting_request_is_cancelled_from_its_page(client_for, sample):
    client = client_for("tech")
    url = reverse("samples:cancel", args=[sample.pk])
    refused = client.post(url, {"reason": " "})
    assert refused.status_code == 422
    assert client.post(url, {"reason": "项目取消"}).status_code == 302
    sample.refresh_from_db()
    assert sample.status == "cancelled"


# --- The printed note ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout,width_mm", [("a4", 210), ("form241", 241)])
def test_the_printed_sample_note_has_its_chinese_text_in_both_layouts(
    client_for, users, sample, layout, width_mm, caplog
):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    note = deliver(users, sample, remarks="易碎品")
    response = client_for("warehouse").get(reverse("samples:note_pdf", args=[note.number, layout]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "送样单",
        "Sample delivery note",
        "东莞宏达电子有限公司",
        "底座",
        "易碎品",
        note.number,
        "客户签收",
    ):
        assert expected in text, expected
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    assert abs(float(page.mediabox.width) - width_mm / 25.4 * 72) < 1
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


# --- The list ----------------------------------------------------------------------------------------------------


@pytest.fixture
def many(users, customer, products):
    from customers.models import Customer, DeliveryAddress

    other = Customer.objects.create(code="C-0002", name_en="=HYPERLINK(evil)", status="active")
    DeliveryAddress.objects.create(customer=other, label="HQ", address="Shenzhen", is_default=True)
    made = {
        "waiting": ask(users, customer, products["base"], requested_date=TODAY + timedelta(days=3)),
        "marketing": ask(
            users, customer, products["lamp"], who="marketing", kind="changed", requested_date=TODAY + timedelta(days=9)
        ),
        "other": ask(users, other, products["base"], description="=1+1", requested_date=TODAY + timedelta(days=20)),
    }
    deliver(users, made["marketing"])
    judge(users, made["marketing"], outcome="approved_cond", conditions="-按色板", who="marketing")
    return made


def _rows(response) -> list[str]:
    import re

    return re.findall(r'data-sample="(\d+)"', response.content.decode())


def test_the_list_filters_by_customer_product_status_dates_and_department(client_for, many, customer):
    client = client_for("qa")
    url = reverse("samples:list")
    waiting, marketing, other = (str(many[k].pk) for k in ("waiting", "marketing", "other"))
    assert sorted(_rows(client.get(url))) == sorted([waiting, marketing, other])
    assert sorted(_rows(client.get(url, {"customer": customer.pk}))) == sorted([waiting, marketing])
    assert _rows(client.get(url, {"product": "P-1"})) == [marketing]
    assert _rows(client.get(url, {"product": "底座", "customer": customer.pk})) == [waiting]
    assert _rows(client.get(url, {"status": "approved_cond"})) == [marketing]
    assert _rows(client.get(url, {"department": "marketing"})) == [marketing]
    window = {
        "requested_from": (TODAY + timedelta(days=5)).isoformat(),
        "requested_to": (TODAY + timedelta(days=10)).isoformat(),
    }
    assert _rows(client.get(url, window)) == [marketing]


def test_the_list_sorts_by_its_columns(client_for, many):
    client = client_for("qa")
    url = reverse("samples:list")
    by_date = [many[k].pk for k in ("waiting", "marketing", "other")]
    assert _rows(client.get(url, {"sort": "requested_date"})) == [str(pk) for pk in by_date]
    assert _rows(client.get(url, {"sort": "-requested_date"})) == [str(pk) for pk in reversed(by_date)]
    page = client.get(url, {"sort": "requested_date", "status": ""}).content.decode()
    assert "sort=-requested_date" in page  # the column header now sorts the other way
    assert _rows(client.get(url, {"sort": "password"})) == _rows(client.get(url))  # unknown keys are ignored
    check_sorting(client, url, SAMPLES, "Request", monotonic={"reference", "quantity", "requested_date"})


def test_the_list_filters_by_the_day_the_request_was_made(client_for, many):
    SampleRequest.objects.filter(pk=many["other"].pk).update(requested_at=at(-20))
    client = client_for("qa")
    url = reverse("samples:list")
    recent = {"from": (TODAY - timedelta(days=3)).isoformat()}
    assert sorted(_rows(client.get(url, recent))) == sorted(str(many[k].pk) for k in ("waiting", "marketing"))
    header, rows = export(client, url, recent)
    assert sorted(column(header, rows, "Request")) == sorted(many[k].reference for k in ("waiting", "marketing"))
    assert _rows(client.get(url, {"to": (TODAY - timedelta(days=3)).isoformat()})) == [str(many["other"].pk)]
    check_bad_date(client, url, "Request", 3)


def test_the_list_is_read_in_a_bounded_number_of_queries(
    client_for, users, customer, products, django_assert_max_num_queries
):
    for _ in range(30):
        ask(users, customer, products["base"])
    client = client_for("qa")
    with django_assert_max_num_queries(15):
        response = client.get(reverse("samples:list"))
    assert len(_rows(response)) == 30


def test_the_export_has_exactly_the_filtered_rows_with_real_numbers_and_dates_and_text_kept_as_text(client_for, many):
    client = client_for("qa")
    url = reverse("samples:list")
    header, rows = export(client, url, {"product": "P-2", "sort": "requested_date"})
    check_bilingual(header)
    assert header[0] == "样品申请 / Request" and "客户 / Customer" in header and "数量 / Quantity" in header
    assert column(header, rows, "Request") == [many["waiting"].reference, many["other"].reference]  # P-2, sorted
    waiting = dict(zip(header, rows[0], strict=True))
    assert waiting["数量 / Quantity"] == 5 and isinstance(waiting["数量 / Quantity"], int | float)
    assert waiting["要求日期 / Wanted by"].date() == TODAY + timedelta(days=3)
    assert waiting["申请日期 / Asked on"].date() == TODAY
    assert_text_cells(client.get(url, {"format": "xlsx"}), ["=1+1", "C-0002 =HYPERLINK(evil)"])
    for query, expected in (({}, 3), ({"status": "approved_cond"}, 1), ({"customer": many["other"].customer_id}, 1)):
        page_rows = _rows(client.get(url, query))
        header, rows = export(client, url, query)
        assert len(rows) == len(page_rows) == expected, query
        assert sorted(column(header, rows, "Request")) == sorted(
            SampleRequest.objects.get(pk=pk).reference for pk in page_rows
        ), query
    header, rows = export(client, url)
    marketing = dict(zip(header, rows[column(header, rows, "Request").index(many["marketing"].reference)], strict=True))
    assert marketing["客户确认结果 / the customer's verdict"] == "Approved with conditions"
    assert marketing["附加条件 / conditions"] == "-按色板"
    assert marketing["送样单 / Sample notes"].startswith("SN-")
    assert marketing["客户文件日期 / date of the customer's document"].date() == TODAY
    other = dict(zip(header, rows[column(header, rows, "Request").index(many["other"].reference)], strict=True))
    assert other["客户确认结果 / the customer's verdict"] is None and other["送样单 / Sample notes"] is None


def test_the_export_reads_the_notes_and_verdicts_in_a_fixed_number_of_queries(
    client_for, many, users, customer, products
):
    client = client_for("qa")
    url = reverse("samples:list")
    few = export_queries(client, url)
    for _ in range(10):
        sample = ask(users, customer, products["lamp"])
        deliver(users, sample)
        judge(users, sample)
    assert export_queries(client, url) == few


def test_the_navigation_leads_to_the_samples(client_for):
    page = client_for("warehouse").get(reverse("accounts:my_work")).content.decode()
    assert reverse("samples:list") in page
