"""The report's charts (server-side SVG) and its bilingual PDF: the Chinese labels of the charts and the tables
are in the PDF's text layer, drawn with the CJK font (no missing glyphs), with the version, the status and who
submitted and confirmed it."""

import io
import logging
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pypdf import PdfReader

from common.pdf import MissingGlyphs, render_document
from improvement import charts
from improvement import report as reports
from tests.improvement import test_report as base
from tests.improvement import test_report_flow as flow

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.5")]

survey_form = base.survey_form
make_customer = base.make_customer
deliver = base.deliver
customers = base.customers
history = base.history
closed = flow.closed
submit, CAUSES, CONCLUSIONS = flow.submit, flow.CAUSES, flow.CONCLUSIONS

SVG = "{http://www.w3.org/2000/svg}"


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def svg_texts(svg: str) -> list[str]:
    return [element.text for element in ElementTree.fromstring(svg).iter(f"{SVG}text")]


# --- Charts ----------------------------------------------------------------------------------------------------


def test_the_trend_is_a_line_through_the_scored_rounds_with_their_labels():
    points = [
        charts.TrendPoint("2023下半年", "2023 H2", "88.0"),
        charts.TrendPoint("2024上半年", "2024 H1", None),
        charts.TrendPoint("2024下半年", "2024 H2", Decimal("91.5")),
        charts.TrendPoint("2025上半年", "2025 H1", "93.0"),
    ]

    svg = charts.trend_svg(points, title="得分趋势 Trend", thresholds=[charts.Threshold("90.1", "满意")])

    texts = svg_texts(svg)
    assert {"得分趋势 Trend", "2024上半年", "2024 H1", "88.0", "91.5", "93.0", "满意", "—"} <= set(texts)
    root = ElementTree.fromstring(svg)
    # The round without a score breaks the line: one segment of two points, no line through the gap.
    (line,) = root.iter(f"{SVG}polyline")
    assert len(line.get("points").split()) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 3


def test_bars_scale_to_the_maximum_and_mark_the_last_value():
    bars = [
        charts.Bar("1. 产品质量", "80.0", sublabel="Product quality", previous="90.0"),
        charts.Bar("2. 交货", "40.0"),
        charts.Bar("3. 服务", None),
    ]

    svg = charts.bars_svg(bars, title="平均分", maximum=100, label_width=200, legend="上次 last")

    root = ElementTree.fromstring(svg)
    widths = [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] == pytest.approx(2 * widths[1])
    assert {"1. 产品质量", "Product quality", "80.0", "40.0", "—", "上次 last"} <= set(svg_texts(svg))
    ticks = [line for line in root.iter(f"{SVG}line") if line.get("stroke-width") == "2.5"]
    assert len(ticks) == 2  # the previous value's mark and the legend's


def test_chart_text_is_escaped():
    svg = charts.bars_svg([charts.Bar('<script>alert("x")</script> & 客户', 3)], title="a < b", integer=True)

    assert "<script>" not in svg
    assert '<script>alert("x")</script> & 客户' in svg_texts(svg)
    assert "a < b" in svg_texts(svg)


def test_the_reports_charts_label_bands_and_questions_in_chinese(history):
    figures = reports.report_figures(history["R2"])

    bands = svg_texts(reports.chart_svg(figures, "bands"))
    questions = svg_texts(reports.chart_svg(figures, "questions"))
    trend = svg_texts(reports.chart_svg(figures, "trend"))

    assert {"很满意", "满意", "一般满意", "不满意", "非常不满意", "Very satisfied"} <= set(bands)
    assert {"1. 交货", "2. 产品质量", "3. 服务与沟通", "75.0", "70.0"} <= set(questions)
    assert "上次调查平均分 Mean in the last round" in questions
    assert {"2024-03 临时", "2024-06 临时", "2024-12 临时", "73.3", "85.5", "73.5"} <= set(trend)
    with pytest.raises(ValueError):
        reports.chart_svg(figures, "pie")


def test_a_chart_is_served_as_svg(history, users, client_for):
    report = reports.report_create(user=users["cs"], survey_round=history["R2"])
    client = client_for("pmc")

    response = client.get(reverse("improvement:report_chart", args=[report.pk, "questions"]))

    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    assert "2. 产品质量" in svg_texts(response.content.decode())
    assert client.get(reverse("improvement:report_chart", args=[report.pk, "nope"])).status_code == 404


# --- The PDF -----------------------------------------------------------------------------------------------------


@pytest.fixture
def confirmed(history, users):
    report = reports.report_create(user=users["cs"], survey_round=history["R2"])
    submit(users, report)
    return reports.report_confirm(user=users["rep"], report=report)


def test_the_pdf_holds_the_chinese_chart_labels_and_tables_without_missing_glyphs(confirmed, client_for, caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        response = client_for("marketing").get(reverse("improvement:report_pdf", args=[confirmed.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"analysis-report-{confirmed.round_id}-v1.pdf" in response["Content-Disposition"]
    text = pdf_text(b"".join(response.streaming_content))
    # The charts' own text (titles, axis labels), which appears nowhere else in the document.
    for label in ("满意度得分趋势", "各满意等级客户数", "各调查项目平均分", "2024-06 临时", "上次调查平均分"):
        assert label in text, label
    # The tables and the text.
    assert "客户满意度调查分析报告" in text and "Customer satisfaction analysis report" in text
    assert "产品质量" in text and "服务与沟通" in text and "客户C" in text and "交期太慢" in text
    assert "非常不满意" in text and "Very dissatisfied" in text
    assert CAUSES in text and CONCLUSIONS in text
    # Version, status, who submitted and confirmed it.
    assert "v1" in text and "已确认 / Confirmed" in text
    assert "cs" in text and "rep" in text and confirmed.decided_at is not None
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


def test_the_pdf_of_a_draft_says_its_figures_are_not_frozen(closed, users):
    report = reports.report_create(user=users["cs"], survey_round=closed)

    text = pdf_text(reports.report_pdf(report))

    assert "草稿 / Draft" in text and "Draft: figures as of printing" in text


def test_a_pdf_the_font_cannot_print_is_refused_with_a_message(closed, users, client_for, monkeypatch):
    report = reports.report_create(user=users["cs"], survey_round=closed)

    def missing(*args, **kwargs):
        raise MissingGlyphs('.notdef glyph rendered for Unicode string unsupported by fonts: "𠮷" (U+20BB7)')

    monkeypatch.setattr(reports, "render_pdf", missing)

    response = client_for("cs").get(reverse("improvement:report_pdf", args=[report.pk]))

    assert response.status_code == 302 and response.url == report.get_absolute_url()
    (message,) = get_messages(response.wsgi_request)
    assert "𠮷" in str(message) and message.level_tag == "error"


def _replaced_boxes(box):
    for child in getattr(box, "children", []):
        if type(child).__name__ == "InlineReplacedBox":
            yield child
        yield from _replaced_boxes(child)


def test_the_pdf_draws_the_charts_in_their_proportions_within_the_page(confirmed):
    """WeasyPrint draws an SVG whose root says ``height: auto`` as a square: the PDF's charts must not."""
    context = reports.pdf_context(confirmed)
    assert all("style=" not in svg for svg in context["charts"].values())
    # Their text in the document's CJK face, named explicitly (a generic fallback may miss glyphs, PITFALLS.md).
    assert all('font-family="DocCJK"' in svg for svg in context["charts"].values())

    document = render_document(reports.PDF_TEMPLATE, context)

    boxes = [box for page in document.pages for box in _replaced_boxes(page._page_box)]
    assert len(boxes) == 3
    content_width = document.pages[0]._page_box.children[0].width
    for box, name in zip(boxes, ("trend", "bands", "questions"), strict=True):
        root = ElementTree.fromstring(context["charts"][name])
        ratio = float(root.get("width")) / float(root.get("height"))
        assert box.width / box.height == pytest.approx(ratio, rel=0.01), name
        assert box.width <= content_width
