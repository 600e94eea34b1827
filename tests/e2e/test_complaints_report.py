"""Issue 8 in a real browser: a quality complaint from receipt to closure with a return of goods (Customer Service
and Quality, each in their own browser), and the satisfaction analysis report from draft to the management
representative's confirmation, its PDF downloaded from the page's link with the Chinese text of its tables and
charts in the text layer. Only the preconditions (a delivery note, a closed survey round) are built with services."""

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from complaints.models import Complaint
from customers.models import QualityProblem
from delivery.models import Return
from improvement.models import AnalysisReport
from tests.improvement.test_report import build_round
from tests.satisfaction.conftest import TODAY, deliver, make_customer, survey_form  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.10.2")]

NUMBER = re.compile(r"^KS-\d{4}-\d{4}$")


@pytest.fixture
def login_as(browser, live_server):
    """login_as("qa") -> a page in a browser context of its own (another person at another desk)."""
    contexts = []

    def do(username: str, password: str = "pw-Secret-123"):
        context = browser.new_context(base_url=live_server.url, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/work/")
        return page

    yield do
    for context in contexts:
        context.close()


def status_of(page) -> str:
    return page.get_by_test_id("complaint-status").inner_text().strip()


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


# --- A complaint from receipt to closure ---------------------------------------------------------------------


def test_a_quality_complaint_goes_from_receipt_to_closure_with_a_return(
    page,
    login,
    login_as,
    users,
    make_customer,  # noqa: F811
    deliver,  # noqa: F811
):
    customer = make_customer("KS-E2E")
    make_customer("OTHER-E2E")
    note = deliver(customer, 1000, TODAY - timedelta(days=5))
    line = note.lines.get()

    # Customer Service records it: the customer's delivery notes appear once the customer is chosen.
    login("cs")
    page.goto("/complaints/new/")
    assert page.locator("select#id_notes").count() == 0
    page.select_option("select#id_customer", value="KS-E2E")
    page.locator("select#id_notes").wait_for()
    page.select_option("select#id_channel", value="phone")
    page.fill("input#id_received_on", TODAY.isoformat())
    page.select_option("select#id_category", value="quality")
    page.fill("textarea#id_description", "灯罩表面有划痕,约50只。")
    page.select_option("select#id_notes", value=str(note.pk))
    page.get_by_test_id("save-complaint").click()
    page.wait_for_url("**/complaints/KS-*/")

    complaint = Complaint.objects.get()
    number = complaint.number
    assert NUMBER.match(number) and number == f"KS-{TODAY.year}-0001"
    assert page.url.endswith(f"/complaints/{number}/")
    assert number in page.locator("h1").inner_text()
    assert status_of(page) == "Received"
    assert "Quality" in page.get_by_test_id("complaint-facts").inner_text()  # investigated by Quality by default
    assert page.get_by_test_id("complaint-notes").inner_text().strip() == note.number
    # A quality complaint is one of the customer's quality problems, open until the complaint is closed.
    assert "Open" in page.get_by_test_id("complaint-quality-problem").inner_text()
    # Customer Service does not investigate: the form is Quality's.
    assert page.get_by_test_id("investigate-form").count() == 0

    form = page.get_by_test_id("acknowledge-form")
    form.locator("textarea[name=text]").fill("已收到,三个工作日内回复。")
    page.get_by_test_id("acknowledge").click()
    page.wait_for_load_state()
    assert status_of(page) == "Acknowledged to the customer"
    assert "已收到,三个工作日内回复。" in page.get_by_test_id("step-acknowledged").inner_text()

    # Quality, at its own desk, finds it in its work and investigates.
    qa = login_as("qa")
    qa.get_by_role("link", name=re.compile(re.escape(number))).first.click()
    qa.wait_for_url(f"**/complaints/{number}/")
    assert qa.get_by_test_id("acknowledge-form").count() == 0
    investigate = qa.get_by_test_id("investigate-form")
    investigate.locator("textarea[name=cause]").fill("注塑模具磨损")
    investigate.locator("textarea[name=action]").fill("更换模具,加强出货检验")
    qa.get_by_test_id("investigate").click()
    qa.wait_for_load_state()
    assert status_of(qa) == "Investigated"
    assert "注塑模具磨损" in qa.get_by_test_id("step-investigated").inner_text()
    assert qa.get_by_test_id("answer-form").count() == 0

    # Customer Service arranges a return of the delivered line, from the complaint.
    page.reload()
    assert status_of(page) == "Investigated"
    assert "No returns." in page.get_by_test_id("complaint-returns").inner_text()
    page.locator("#arrange-return summary").click()
    returning = page.get_by_test_id("return-form")
    returning.locator("select[name=note_line]").select_option(value=str(line.pk))
    returning.locator("input[name=quantity]").fill("50")
    assert number in returning.locator("textarea[name=reason]").input_value()  # prefilled from the complaint
    page.get_by_test_id("arrange-return").click()
    page.wait_for_load_state()
    ret = Return.objects.get()
    assert (ret.note_line, ret.quantity) == (line, 50)
    returns = page.get_by_test_id("complaint-returns")
    row = returns.locator("tbody tr")
    assert row.count() == 1
    assert note.number in row.inner_text() and "50" in row.inner_text() and "Pickup to arrange" in row.inner_text()
    link = returns.get_by_role("link", name=note.number)
    assert link.get_attribute("href") == f"/delivery/returns/{ret.pk}/"
    assert status_of(page) == "Investigated"  # a return does not move the complaint on

    # The answer, then the customer's acceptance closes it.
    page.get_by_test_id("answer-form").locator("textarea[name=answer]").fill("8D报告已发客户,退货50只已安排。")
    page.get_by_test_id("answer").click()
    page.wait_for_load_state()
    assert status_of(page) == "Answer sent to the customer"
    close = page.get_by_test_id("close-form")
    close.locator("input[name=accepted_on]").fill(TODAY.isoformat())
    close.locator("textarea[name=note]").fill("客户接受")
    page.get_by_test_id("close").click()
    page.wait_for_load_state()
    assert status_of(page) == "Closed (accepted by the customer)"
    for step in ("received", "acknowledged", "investigated", "answered", "closed"):
        assert "✔" in page.get_by_test_id(f"step-{step}").inner_text(), step
    assert "Fixed" in page.get_by_test_id("complaint-quality-problem").inner_text()
    # Closed: nothing more is offered.
    for form_id in ("acknowledge-form", "investigate-form", "answer-form", "close-form", "return-form", "attach-form"):
        assert page.get_by_test_id(form_id).count() == 0, form_id
    # The return is still linked, and its own page is reachable from here.
    page.get_by_test_id("complaint-returns").get_by_role("link", name=note.number).click()
    page.wait_for_url(f"**/delivery/returns/{ret.pk}/")
    assert "Pickup to arrange" in page.get_by_test_id("return-status").inner_text()
    assert number in page.get_by_test_id("return-facts").inner_text()  # its reason names the complaint

    # The customer's quality problems (§5.2.4.5: Quality sees them when the next order is reviewed).
    qa.goto("/customers/KS-E2E/#quality")
    problems = qa.get_by_test_id("quality-problems")
    problems.wait_for(state="visible")
    (problem_row,) = [r for r in problems.locator("tbody tr").all() if number in r.inner_text()]
    assert "灯罩表面有划痕" in problem_row.inner_text() and "Fixed" in problem_row.inner_text()
    assert f"{number}: 更换模具,加强出货检验" in problem_row.inner_text()
    problem = QualityProblem.objects.get(complaint=complaint)
    assert (problem.customer, problem.status) == (customer, QualityProblem.Status.FIXED)

    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED
    assert list(complaint.returns.all()) == [ret] and list(complaint.notes.all()) == [note]
    assert (complaint.recorded_by, complaint.investigated_by, complaint.closed_by) == (
        users["cs"],
        users["qa"],
        users["cs"],
    )


# --- The analysis report from draft to confirmation -----------------------------------------------------------


CAUSES = "交期延误集中在第四季度,客户Y对产品质量不满意。"
CONCLUSIONS = "与PMC一起改善排产。"
REWORK = "请补充客户Y的改进措施。"
CONCLUSIONS_2 = "与PMC一起改善排产;品管部对客户Y的产品加严检验。"


def test_the_analysis_report_is_written_returned_corrected_confirmed_and_printed(
    page,
    login,
    login_as,
    users,
    survey_form,  # noqa: F811
    make_customer,  # noqa: F811
):
    x, y = make_customer("X-01"), make_customer("Y-01")
    survey_round = build_round(
        users,
        [x, y],
        {"X-01": (4, {}), "Y-01": (2, {})},
        name="2024 Q4 调查",
        start=date(2024, 10, 1),
        end=date(2024, 12, 31),
        comments={"Y-01": "交期太慢"},
    )

    # Customer Service finds the closed round without a report in its work, starts the report there and writes it.
    login("cs")
    page.get_by_role("link", name=survey_round.name, exact=True).click()
    page.wait_for_url(f"**/satisfaction/rounds/{survey_round.pk}/")
    page.get_by_test_id("analysis-report-new").click()
    page.wait_for_url("**/improvement/reports/*/")
    report = AnalysisReport.objects.get()
    assert page.get_by_test_id("report-status").inner_text().strip() == "Draft"
    assert page.get_by_test_id("decide").count() == 0  # not Customer Service's to confirm

    page.get_by_test_id("edit-report").click()
    page.wait_for_url(f"**/improvement/reports/{report.pk}/edit/")
    page.fill("textarea[name=causes]", CAUSES)
    page.fill("textarea[name=conclusions]", CONCLUSIONS)
    page.get_by_test_id("save-report").click()
    page.wait_for_url(f"**/improvement/reports/{report.pk}/")
    assert page.get_by_test_id("report-status").inner_text().strip() == "Draft"
    assert CAUSES in page.get_by_test_id("report-causes").inner_text()

    page.get_by_test_id("edit-report").click()
    page.wait_for_url(f"**/improvement/reports/{report.pk}/edit/")
    assert page.locator("textarea[name=conclusions]").input_value() == CONCLUSIONS
    page.get_by_test_id("submit-report").click()
    page.wait_for_url(f"**/improvement/reports/{report.pk}/")
    assert page.get_by_test_id("report-status").inner_text().strip() == "Waiting for the management representative"
    assert page.get_by_test_id("edit-report").count() == 0

    # The representative finds it in their work and returns it with a reason.
    rep = login_as("rep")
    rep.get_by_role("link", name=f"{survey_round.name} v1").click()
    rep.wait_for_url(f"**/improvement/reports/{report.pk}/")
    assert rep.get_by_test_id("edit-report").count() == 0
    rep.get_by_test_id("decide").locator("textarea[name=reason]").fill(REWORK)
    rep.get_by_test_id("return-report").click()
    rep.wait_for_load_state()
    assert rep.get_by_test_id("report-status").inner_text().strip() == "Returned for rework"
    assert REWORK in rep.get_by_test_id("return-reason").inner_text()
    assert rep.get_by_test_id("decide").count() == 0

    # Customer Service reads why, corrects and submits again.
    page.goto("/work/")
    page.get_by_role("link", name=f"{survey_round.name} v1").click()
    page.wait_for_url(f"**/improvement/reports/{report.pk}/")
    assert REWORK in page.get_by_test_id("return-reason").inner_text()
    page.get_by_test_id("edit-report").click()
    page.wait_for_url(f"**/improvement/reports/{report.pk}/edit/")
    assert REWORK in page.get_by_test_id("return-reason").inner_text()
    page.fill("textarea[name=conclusions]", CONCLUSIONS_2)
    page.get_by_test_id("submit-report").click()
    page.wait_for_url(f"**/improvement/reports/{report.pk}/")
    assert page.get_by_test_id("report-status").inner_text().strip() == "Waiting for the management representative"
    assert CONCLUSIONS_2 in page.get_by_test_id("report-conclusions").inner_text()

    # The representative confirms: the report is a record.
    rep.goto("/work/")
    rep.get_by_role("link", name=f"{survey_round.name} v1").click()
    rep.wait_for_url(f"**/improvement/reports/{report.pk}/")
    assert CONCLUSIONS_2 in rep.get_by_test_id("report-conclusions").inner_text()
    rep.get_by_test_id("confirm-report").click()
    rep.wait_for_load_state()
    assert rep.get_by_test_id("report-status").inner_text().strip() == "Confirmed"
    assert rep.get_by_test_id("record-note").is_visible()
    assert "rep" in rep.get_by_test_id("report-decided").inner_text()
    report.refresh_from_db()
    assert (report.status, report.version, report.decided_by) == ("confirmed", 1, users["rep"])

    # Its PDF, downloaded through the page's link.
    page.reload()
    assert page.get_by_test_id("report-status").inner_text().strip() == "Confirmed"
    link = page.get_by_test_id("report-pdf")
    data = download(page, link)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    # The tables' Chinese headings and labels.
    for label in (
        "客户满意度调查分析报告",
        "一、调查结果",
        "二、各调查项目",
        "三、各客户",
        "四、客户意见",
        "五、原因分析",
    ):
        assert label in text, label
    for label in ("六、结论及建议", "回收率", "调查项目", "答复数", "客诉", "交期达成率", "客户Y-01", "交期太慢"):
        assert label in text, label
    # The charts' own text (their titles and the round's label appear nowhere else in the document).
    for label in ("满意度得分趋势", "各满意等级客户数", "各调查项目平均分", "2024-12 临时", "1. 产品质量"):
        assert label in text, label
    # Customer Service's text as confirmed: the corrected conclusions, not the returned ones.
    assert CAUSES in text and CONCLUSIONS_2 in text and CONCLUSIONS not in text
    assert "已确认 / Confirmed" in text and "v1" in text and "rep" in text
    # Drawn with the CJK font embedded (the view refuses a PDF with missing glyphs, so none were drawn as boxes).
    fonts = {
        str(font.get_object()["/BaseFont"])
        for pdf_page in PdfReader(io.BytesIO(data)).pages
        for font in pdf_page["/Resources"]["/Font"].values()
    }
    assert "+DocCJK" in " ".join(fonts), fonts


def download(page, link) -> bytes:
    """Click the PDF link as the user does (it opens in a new tab) and return the bytes the server sent to the
    browser for it. Chromium shows a PDF in its own viewer, whose page is all a response exposes afterwards: the
    PDF's bytes are taken on their way to the browser instead."""
    received = []

    def capture(route):
        response = route.fetch()
        received.append((response.status, response.headers.get("content-type"), response.body()))
        route.fulfill(response=response)

    page.context.route("**/report.pdf", capture)
    try:
        with page.context.expect_page() as new_tab:
            link.click()
        tab = new_tab.value
        tab.wait_for_load_state()
    finally:
        page.context.unroute("**/report.pdf", capture)
    assert tab.url.endswith(link.get_attribute("href"))
    ((status, content_type, body),) = received
    assert (status, content_type) == (200, "application/pdf")
    tab.close()
    return body
