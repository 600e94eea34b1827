"""The survey records of §7 as files: the statistics and summary tables (.xlsx, PDF), the blank and answered
survey forms (PDF). Few PDFs are made (each takes WeasyPrint a fraction of a second)."""

import io
import logging
from datetime import timedelta

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pypdf import PdfReader

from common.pdf import MissingGlyphs
from satisfaction import records, services
from satisfaction.models import Response
from tests.satisfaction.conftest import TODAY, all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7.4"), pytest.mark.clause("7.5"), pytest.mark.clause("7.6")]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def sheet_rows(data: bytes, index: int = 0) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook.worksheets[index].iter_rows(values_only=True))


def row_starting(rows, first) -> int:
    return next(i for i, row in enumerate(rows) if row and row[0] == first)


def invitations(survey_round, code):
    return list(survey_round.invitations.filter(line__customer__code=code).order_by("contact__name"))


@pytest.fixture
def answered(sent_round):
    """A-01: one contact all 5 (100.0), the other all 4 with the last question not applicable (80.0) → 90.0,
    fairly satisfied. B-01 has not answered: response rate 50% of the 80% target."""
    form = sent_round.form
    first, second = invitations(sent_round, "A-01")
    services.response_submit(invitation=first, raw_answers=all_answers(form, 5), comment="=1+1 包装很好")
    answers = all_answers(form, 4)
    answers[str(form.questions.last().pk)] = "na"
    services.response_submit(invitation=second, raw_answers=answers)
    return sent_round


def test_the_statistics_workbook_counts_answers_means_and_the_distribution_per_question(answered, users):
    form = answered.form
    (b,) = invitations(answered, "B-01")
    services.response_submit(
        invitation=b, raw_answers=all_answers(form, 3), channel=Response.Channel.PAPER, user=users["cs"]
    )
    rows = sheet_rows(records.build_statistics_xlsx(answered))

    assert rows[0][0] == "客户满意度调查统计表 / Customer satisfaction survey statistics"
    header = row_starting(rows, "序号\nNo.")
    assert rows[header][4:8] == ("答复数\nAnswers", "不适用\nN/A", "平均分\nMean", "平均分(0–100)\nMean (0–100)")
    assert rows[header][8:] == tuple(f"{v}分\nRated {v}" for v in range(1, 6))
    first, *_middle, last = rows[header + 1 : header + 6]
    question = form.questions.first()
    assert first[:8] == (1, f"{question.text_zh}\n{question.text_en}", 30, "1–5", 3, 0, 4, 80)
    assert first[8:] == (0, 0, 1, 1, 1)
    # The last question: one "not applicable", two answers (5 and 3).
    assert last[4:8] == (2, 1, 4, 80)
    assert last[8:] == (0, 0, 1, 0, 1)
    assert ("答卷数 / Responses", 3) in [row[:2] for row in rows]
    # The comment is the customer's text, kept as typed and never a formula.
    comments = rows[row_starting(rows, "客户代码\nCode") + 1 :]
    assert [row[:4] for row in comments] == [("A-01", "客户A-01", "联系人1", "=1+1 包装很好")]


def test_the_summary_workbook_gives_each_customer_its_score_and_band_and_the_round_totals(answered):
    rows = sheet_rows(records.build_summary_xlsx(answered))

    assert rows[0][0] == "顾客满意度调查汇总表 / Customer satisfaction survey summary"
    header = row_starting(rows, "序号\nNo.")
    a, b = rows[header + 1], rows[header + 2]
    assert a == (1, "A-01", "客户A-01", "Customer A-01", 2, 2, "是 / Yes", 90, None, 90, "一般满意 / Fairly satisfied",
                 "本公司调查表 / Our survey form")  # fmt: skip
    assert b[:7] == (2, "B-01", "客户B-01", "Customer B-01", 1, 0, "否 / No")
    assert b[7:] == (None, None, None, None, None)
    totals = {row[0]: row[1:] for row in rows[header + 3 :] if row and row[0]}
    assert totals["调查客户数 / Customers surveyed"][0] == 2
    assert totals["回收率 (%) / Response rate (%)"][0] == 50
    assert totals["回收率目标 (%) / Response-rate target (%)"][:2] == (80, "否 / No 达标/target met")
    assert totals["本批次得分 / Round score"][:2] == (90, "一般满意 / Fairly satisfied")
    assert totals["一般满意 / Fairly satisfied"][0] == 1
    assert totals["很满意 / Very satisfied"][0] == 0


def test_formula_like_names_and_comments_are_written_as_text(users, survey_form, make_customer):
    customer = make_customer("=C-01")
    customer.name_zh, customer.name_en = '=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0"
    customer.save()
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="=1+1",
        reason="incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=10),
        customers=[customer],
    )
    services.round_send(survey_round=survey_round, user=users["cs"])
    invitation = survey_round.invitations.get()
    services.response_submit(invitation=invitation, raw_answers=all_answers(survey_form), comment="@SUM(A1:A9)")

    for data in (records.build_summary_xlsx(survey_round), records.build_statistics_xlsx(survey_round)):
        sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
        cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
        assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
        values = {cell.value: cell for cell in cells}
        for typed in ("=1+1", "@SUM(A1:A9)", customer.name_zh, customer.name_en, "=C-01"):
            if typed in values:
                assert values[typed].data_type == "s" and values[typed].quotePrefix
    summary = openpyxl.load_workbook(io.BytesIO(records.build_summary_xlsx(survey_round))).worksheets[0]
    texts = {cell.value for row in summary.iter_rows() for cell in row}
    assert {customer.name_zh, customer.name_en, "=C-01", "=1+1"} <= texts


def test_the_tables_print_as_bilingual_pdfs_with_chinese_names_and_bands(answered, client_for, caplog):
    client = client_for("qa")  # everyone may read the results
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        statistics = client.get(reverse("satisfaction:statistics_pdf", args=[answered.pk]))
        summary = client.get(reverse("satisfaction:summary_pdf", args=[answered.pk]))

    assert statistics.status_code == 200 and statistics["Content-Type"] == "application/pdf"
    assert f"survey-statistics-{answered.pk}-Test round.pdf" in statistics["Content-Disposition"]
    text = pdf_text(content(statistics))
    assert "客户满意度调查统计表" in text
    assert "产品质量" in text and "Product quality" in text
    text = pdf_text(content(summary))
    assert "顾客满意度调查汇总表" in text
    assert "客户A-01" in text and "客户B-01" in text
    assert "一般满意" in text and "很满意" in text and "非常不满意" in text
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


def test_the_answered_form_marks_the_answers_and_says_how_it_came_in(answered, client_for, users):
    (b,) = invitations(answered, "B-01")
    keyed = services.response_submit(
        invitation=b, raw_answers=all_answers(answered.form, 3), channel=Response.Channel.FAX, user=users["cs"]
    )

    response = client_for("cs").get(reverse("satisfaction:response_pdf", args=[keyed.pk]))

    assert response.status_code == 200
    text = pdf_text(content(response))
    assert "客户满意度调查表" in text and "客户B-01" in text and "Test round" in text
    assert "60.0" in text and "不满意" in text and "传真表" in text and "cs" in text
    assert "answered via personal link" not in text


def test_all_answered_forms_print_in_one_pdf(answered, client_for):
    response = client_for("cs").get(reverse("satisfaction:responses_pdf", args=[answered.pk]))

    assert response.status_code == 200
    text = pdf_text(content(response))
    assert text.count("客户满意度调查表") >= 2
    assert "100.0" in text and "80.0" in text and "answered via personal link" in text


def test_a_round_without_answers_has_no_forms_to_print(sent_round, client_for):
    response = client_for("cs").get(reverse("satisfaction:responses_pdf", args=[sent_round.pk]))

    assert response.status_code == 302 and response.url == sent_round.get_absolute_url()


def test_the_blank_form_names_the_customer_and_the_round(sent_round, client_for):
    line = sent_round.customers.get(customer__code="A-01")

    response = client_for("cs").get(reverse("satisfaction:blank_form_pdf_for", args=[sent_round.pk, line.pk]))

    assert response.status_code == 200
    text = pdf_text(content(response))
    assert "客户满意度调查表" in text and "Customer satisfaction survey" in text
    assert "客户A-01" in text and "Test round" in text and sent_round.deadline.isoformat() in text
    assert sent_round.form.questions.first().text_en in text and "N/A" in text


def test_the_blank_form_of_a_version_is_for_any_customer(survey_form, client_for):
    response = client_for("marketing").get(reverse("satisfaction:blank_form_pdf", args=[survey_form.version]))

    assert response.status_code == 200
    text = pdf_text(content(response))
    assert "客户满意度调查表" in text and survey_form.questions.first().text_zh in text
    assert f"survey-form-v{survey_form.version}.pdf" in response["Content-Disposition"]


def test_a_customer_line_of_another_round_is_not_found(sent_round, client_for, survey_form):
    line = sent_round.customers.first()
    response = client_for("cs").get(reverse("satisfaction:blank_form_pdf_for", args=[sent_round.pk + 1, line.pk]))
    assert response.status_code == 404


def test_the_workbooks_download_with_the_round_in_their_name(answered, client_for):
    client = client_for("rep")
    for name in ("statistics_xlsx", "summary_xlsx"):
        response = client.get(reverse(f"satisfaction:{name}", args=[answered.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == records.XLSX_CONTENT_TYPE
        assert response["Content-Disposition"].startswith("attachment;")
        assert f"-{answered.pk}-Test round.xlsx" in response["Content-Disposition"]
        openpyxl.load_workbook(io.BytesIO(content(response)))


def test_a_pdf_the_font_cannot_print_is_refused_with_a_message(answered, client_for, monkeypatch):
    def missing(*args, **kwargs):
        raise MissingGlyphs('.notdef glyph rendered for Unicode string unsupported by fonts: "𠮷" (U+20BB7)')

    monkeypatch.setattr(records, "render_pdf", missing)
    client = client_for("cs")

    response = client.get(reverse("satisfaction:summary_pdf", args=[answered.pk]))

    assert response.status_code == 302 and response.url == answered.get_absolute_url()
    (message,) = get_messages(response.wsgi_request)
    assert "𠮷" in str(message) and message.level_tag == "error"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("blank_form_pdf", [1]),
        ("blank_form_pdf_for", [1, 1]),
        ("response_pdf", [1]),
        ("responses_pdf", [1]),
        ("statistics_xlsx", [1]),
        ("statistics_pdf", [1]),
        ("summary_xlsx", [1]),
        ("summary_pdf", [1]),
    ],
)
def test_the_records_need_a_login(client, name, args):
    url = reverse(f"satisfaction:{name}", args=args)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
