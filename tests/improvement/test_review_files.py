"""The management review pack as files: the bilingual PDF (its text layer has the Chinese labels and figures,
drawn with the CJK font: common.pdf refuses missing glyphs) and the .xlsx (one sheet per part, people's text never
a formula)."""

import io
import logging
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from common.pdf import MissingGlyphs
from customers.models import Customer
from improvement import review as reviews
from tests.improvement import test_review as base

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.7")]

survey_form = base.survey_form
make_customer = base.make_customer
deliver = base.deliver
world = base.world

START, END, TODAY = base.START, base.END, base.TODAY


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


@pytest.fixture
def pack(world, users):
    # People's text that a spreadsheet would read as a formula.
    Customer.objects.filter(pk=world.customers["B"].pk).update(name_zh='=HYPERLINK("http://x","点我")')
    review = reviews.review_prepare(user=users["cs"], period_start=START, period_end=END)
    return reviews.review_record(user=users["rep"], review=review, reviewed_on=TODAY, decisions="+加强来料检验")


# --- PDF ------------------------------------------------------------------------------------------------------------


def test_the_pdf_has_the_chinese_labels_and_figures_in_its_text_layer(client_for, pack, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")

    response = client_for("warehouse").get(reverse("improvement:review_pdf", args=[pack.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(response.streaming_content))
    for label in (
        "管理评审资料",
        "顾客满意度",
        "客户投诉",
        "退货",
        "纠正与预防措施",
        "每月交期达成率",
        "管理评审决议",
        "非常不满意",  # customer B's band, in the customers below "fairly satisfied"
        "已结案",
        "质量",
        "已经管理评审",
        "加强来料检验",
    ):
        assert label in text, label
    for figure in ("P2", "70.0", "66.7%", "170.5", "2025-07", "50.0%", "Management review pack"):
        assert figure in text, figure
    # Drawn, not boxes: WeasyPrint warns of each missing glyph (PITFALLS.md; common.pdf also refuses).
    assert not [r for r in caplog.records if ".notdef glyph" in r.getMessage()]


def test_the_pdf_is_bilingual_whatever_the_readers_language(pack):
    with translation.override("zh-hans"):
        text = pdf_text(reviews.review_pdf(pack))

    assert "已经管理评审 / Reviewed by the management" in text
    assert "已结案 Closed (accepted by the customer)" in text
    assert "非常不满意 Very dissatisfied" in text


def test_a_pack_not_yet_reviewed_says_so_in_the_pdf(users):
    review = reviews.review_prepare(user=users["rep"], period_start=START, period_end=END)

    text = pdf_text(reviews.review_pdf(review))

    assert "尚未评审 Not reviewed yet" in text and "已编制 / Prepared" in text


def test_a_pdf_the_font_cannot_draw_goes_back_to_the_pack_with_the_reason(client_for, pack, monkeypatch):
    def refuse(review):
        raise MissingGlyphs('Missing glyph for "𠮷"')

    monkeypatch.setattr(reviews, "review_pdf", refuse)
    client = client_for("qa")

    response = client.get(reverse("improvement:review_pdf", args=[pack.pk]))

    assert response.status_code == 302 and response["Location"] == pack.get_absolute_url()
    (message,) = get_messages(response.wsgi_request)
    assert "𠮷" in str(message)


# --- xlsx -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def workbook(client_for, pack):
    response = client_for("pmc").get(reverse("improvement:review_xlsx", args=[pack.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == reviews.XLSX_CONTENT_TYPE
    assert f"management-review-{pack.pk}-2025-07-01_2025-12-31.xlsx" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows(sheet) -> list[list]:
    return [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]


def find(sheet, first) -> list:
    return next(row for row in rows(sheet) if row and row[0] == first)


def test_the_workbook_has_one_sheet_per_part(workbook):
    assert workbook.sheetnames == [
        "概要 Summary",
        "满意度 Satisfaction",
        "客诉 Complaints",
        "退货 Returns",
        "纠正措施 Actions",
        "交期达成率 On-time",
    ]


def test_the_workbook_cells_hold_the_figures(workbook, world):
    summary = workbook["概要 Summary"]
    assert find(summary, "期间 / Period")[1] == "2025-07-01 – 2025-12-31"
    assert find(summary, "状态 / Status")[1] == "已经管理评审 / Reviewed by the management"

    satisfaction = workbook["满意度 Satisfaction"]
    p1 = find(satisfaction, "P1")
    assert p1[5:12] == [3, 2, 66.7, 80, 80, "一般满意 / Fairly satisfied", -20]
    assert [row[0] for row in rows(satisfaction)[1:5]] == ["B1", "B2", "P1", "P2"]

    complaints = workbook["客诉 Complaints"]
    assert find(complaints, "本期客诉 / Complaints received in the period")[1] == 3
    assert find(complaints, "平均结案天数 / Average days to close")[1] == 7
    assert find(complaints, world.complaints["older"].number)[7] == (TODAY - date(2025, 6, 15)).days

    returns = workbook["退货 Returns"]
    assert find(returns, "合计 / Total")[1:] == [3, 170.5]

    actions = workbook["纠正措施 Actions"]
    assert find(actions, "合计 / Total")[1:9] == [3, 2, 1, 1, 2, 1, 1, 1]

    on_time = workbook["交期达成率 On-time"]
    assert find(on_time, "2025-07")[1:6] == [2, 1, 1, 0, 50]
    assert find(on_time, "2025-09")[5] in (None, "")


def test_peoples_text_is_written_as_text_never_as_a_formula(workbook, world):
    satisfaction = workbook["满意度 Satisfaction"]
    low = next(row for row in satisfaction.iter_rows() if row[0].value == "B")
    assert low[1].value.startswith("=HYPERLINK(") and low[1].data_type == "s"

    actions = workbook["纠正措施 Actions"]
    title = next(row[1] for row in actions.iter_rows() if row[0].value == world.actions["overdue"].number)
    assert title.value == "=1+1 逾期" and title.data_type == "s"

    decisions = next(
        row[1] for row in workbook["概要 Summary"].iter_rows() if row[0].value == "评审决议 / Decisions of the review"
    )
    assert decisions.value == "+加强来料检验" and decisions.data_type == "s"
