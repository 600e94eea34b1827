"""The analysis report's life (§5.12.5): started for a closed round, written and submitted by Customer Service
(the figures frozen then), confirmed or returned by the management representative; a confirmed report is a
record, a correction a new version that supersedes it once confirmed. Services first, then the pages."""

from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from common.errors import DomainError
from complaints.models import Complaint
from improvement import report as reports
from improvement.models import AnalysisReport
from satisfaction import services
from tests.improvement import test_report as base

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.5")]

survey_form = base.survey_form
sent_round = base.survey_fixtures.sent_round
make_customer = base.make_customer
deliver = base.deliver
customers = base.customers
history = base.history

CAUSES = "交期延误集中在第四季度。"
CONCLUSIONS = "与PMC一起改善排产。"


@pytest.fixture
def closed(users, survey_form, make_customer):
    """A closed ad-hoc round: X answered all 4 (80.0) with a comment, Y all 2 (40.0)."""
    x, y = make_customer("X-01"), make_customer("Y-01")
    return base.build_round(
        users,
        [x, y],
        {"X-01": (4, {}), "Y-01": (2, {})},
        name="Q4 round",
        start=date(2024, 10, 1),
        end=date(2024, 12, 31),
        comments={"X-01": "服务好"},
    )


@pytest.fixture
def draft(closed, users):
    return reports.report_create(user=users["cs"], survey_round=closed)


def _complaint_in_period(users, survey_round):
    return Complaint.objects.create(
        number=f"CP-{Complaint.objects.count() + 1}",
        customer=survey_round.customers.filter(included=True).first().customer,
        received_on=survey_round.period_start,
        description="x",
        category="quality",
        department="quality",
        recorded_by=users["cs"],
    )


def submit(users, report, causes=CAUSES, conclusions=CONCLUSIONS):
    return reports.report_submit(user=users["cs"], report=report, causes=causes, conclusions=conclusions)


def confirmed_report(users, report):
    return reports.report_confirm(user=users["rep"], report=submit(users, report))


# --- Starting ----------------------------------------------------------------------------------------------------


def test_it_starts_a_draft_for_a_closed_round(draft, closed, users):
    assert (draft.round, draft.version, draft.status, draft.previous) == (closed, 1, "draft", None)
    assert draft.created_by == users["cs"] and draft.figures == {}


def test_a_round_still_open_gets_no_report(users, survey_form, make_customer):
    sent = base.build_round(
        users, [make_customer("O-01")], {}, name="open", start=date(2024, 1, 1), end=date(2024, 1, 31), close=False
    )

    with pytest.raises(DomainError) as error:
        reports.report_create(user=users["cs"], survey_round=sent)

    assert error.value.code == "round_not_closed"
    assert not AnalysisReport.objects.exists()


def test_a_second_version_in_the_works_is_refused(draft, closed, users):
    with pytest.raises(DomainError) as error:
        reports.report_create(user=users["cs"], survey_round=closed)
    assert error.value.code == "open"
    # The database holds the rule too, whatever the code above it does.
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisReport.objects.create(round=closed, version=2, status="returned", created_by=users["cs"])
    assert AnalysisReport.objects.count() == 1


def test_only_customer_service_writes_the_report(closed, users):
    for name in ("rep", "qa", "marketing", "admin"):
        with pytest.raises(PermissionDenied):
            reports.report_create(user=users[name], survey_round=closed)


def test_a_round_with_a_confirmed_report_is_corrected_not_started_again(draft, closed, users):
    confirmed_report(users, draft)

    with pytest.raises(DomainError) as error:
        reports.report_create(user=users["cs"], survey_round=closed)

    assert error.value.code == "confirmed"


# --- Submitting, returning, confirming ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("causes", "conclusions", "code"),
    [("", CONCLUSIONS, "causes"), ("  ", CONCLUSIONS, "causes"), (CAUSES, "", "conclusions")],
)
def test_submitting_needs_the_causes_and_the_conclusions(draft, users, causes, conclusions, code):
    with pytest.raises(DomainError) as error:
        submit(users, draft, causes, conclusions)

    assert error.value.code == code
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.figures == {} and draft.submitted_at is None


def test_submitting_freezes_the_figures(draft, closed, users):
    report = submit(users, draft)

    assert report.status == "submitted" and report.submitted_by == users["cs"] and report.submitted_at
    assert report.figures["score"] == "60.0" and report.figures["round"]["id"] == closed.pk
    assert [c["text"] for c in report.figures["comments"]] == ["服务好"]
    # Data recorded later changes the live figures, never what was submitted.
    _complaint_in_period(users, closed)
    assert reports.report_figures(closed)["period"]["complaints"]["count"] == 1
    report.refresh_from_db()
    assert reports.figures_of(report)["period"]["complaints"]["count"] == 0


def test_the_path_draft_submit_return_submit_confirm(draft, users):
    submit(users, draft)
    with pytest.raises(DomainError) as error:
        reports.report_return(user=users["rep"], report=draft, reason="  ")
    assert error.value.code == "reason"

    returned = reports.report_return(user=users["rep"], report=draft, reason="原因分析不够具体")
    assert returned.status == "returned" and returned.return_reason == "原因分析不够具体"
    assert returned.decided_by == users["rep"]
    # Back with Customer Service: its figures are live again (a complaint recorded since counts), its text
    # editable.
    _complaint_in_period(users, returned.round)
    assert returned.figures["period"]["complaints"]["count"] == 0
    assert reports.figures_of(returned)["period"]["complaints"]["count"] == 1
    reports.report_update(user=users["cs"], report=returned, causes=CAUSES + "补充", conclusions=CONCLUSIONS)

    again = reports.report_submit(user=users["cs"], report=returned)
    assert again.status == "submitted" and again.causes == CAUSES + "补充"
    assert again.decided_by is None and again.decided_at is None

    done = reports.report_confirm(user=users["rep"], report=again)
    assert done.status == "confirmed" and done.decided_by == users["rep"] and done.decided_at
    assert [h.status for h in done.history.order_by("history_date")] == [
        "draft",
        "submitted",
        "returned",
        "returned",
        "submitted",
        "confirmed",
    ]


def test_a_confirmed_report_is_never_edited_submitted_or_decided_again(draft, users):
    report = confirmed_report(users, draft)

    for attempt in (
        lambda: reports.report_update(user=users["cs"], report=report, causes="x", conclusions="y"),
        lambda: submit(users, report),
        lambda: reports.report_confirm(user=users["rep"], report=report),
        lambda: reports.report_return(user=users["rep"], report=report, reason="late"),
    ):
        with pytest.raises(DomainError):
            attempt()
    report.refresh_from_db()
    assert (report.status, report.causes) == ("confirmed", CAUSES)


def test_a_returned_report_cannot_be_confirmed_and_a_draft_cannot_be_decided(draft, users):
    with pytest.raises(DomainError):
        reports.report_confirm(user=users["rep"], report=draft)
    submit(users, draft)
    reports.report_return(user=users["rep"], report=draft, reason="redo")
    with pytest.raises(DomainError):
        reports.report_confirm(user=users["rep"], report=draft)
    with pytest.raises(DomainError):
        reports.report_return(user=users["rep"], report=draft, reason="again")


def test_a_submitted_report_waits_for_the_representative(draft, users):
    submit(users, draft)

    with pytest.raises(DomainError):
        submit(users, draft)
    with pytest.raises(DomainError):
        reports.report_update(user=users["cs"], report=draft, causes="x", conclusions="y")
    for name in ("cs", "qa", "head", "admin"):
        with pytest.raises(PermissionDenied):
            reports.report_confirm(user=users[name], report=draft)
        with pytest.raises(PermissionDenied):
            reports.report_return(user=users[name], report=draft, reason="no")
    draft.refresh_from_db()
    assert draft.status == "submitted"


# --- Corrections -------------------------------------------------------------------------------------------------


def test_a_correction_is_a_new_version_that_supersedes_the_old_once_confirmed(draft, closed, users):
    first = confirmed_report(users, draft)
    with pytest.raises(DomainError) as error:
        reports.report_correct(user=users["cs"], report=first, reason=" ")
    assert error.value.code == "reason"

    second = reports.report_correct(user=users["cs"], report=first, reason="漏了一份纸质问卷")

    assert (second.version, second.previous, second.status) == (2, first, "draft")
    assert (second.causes, second.conclusions, second.correction_reason) == (CAUSES, CONCLUSIONS, "漏了一份纸质问卷")
    first.refresh_from_db()
    assert first.status == "confirmed"  # in force until the correction is confirmed
    with pytest.raises(DomainError):
        reports.report_correct(user=users["cs"], report=first, reason="again")
    with pytest.raises(DomainError):
        reports.report_create(user=users["cs"], survey_round=closed)

    confirmed_report(users, second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "confirmed")
    assert first.figures and first.causes == CAUSES  # the old record is kept as it was
    with pytest.raises(DomainError):
        reports.report_correct(user=users["cs"], report=first, reason="old one")
    third = reports.report_correct(user=users["cs"], report=second, reason="再次更正")
    assert (third.version, third.previous) == (3, second)


def test_only_the_confirmed_report_is_corrected(draft, users):
    with pytest.raises(DomainError):
        reports.report_correct(user=users["cs"], report=draft, reason="x")
    submit(users, draft)
    with pytest.raises(DomainError):
        reports.report_correct(user=users["cs"], report=draft, reason="x")
    reports.report_confirm(user=users["rep"], report=draft)
    with pytest.raises(PermissionDenied):
        reports.report_correct(user=users["rep"], report=draft, reason="x")


def test_two_confirmed_versions_of_a_round_are_refused_by_the_database(draft, users):
    first = confirmed_report(users, draft)
    second = reports.report_correct(user=users["cs"], report=first, reason="x")
    submit(users, second)

    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisReport.objects.filter(pk=second.pk).update(status="confirmed")


# --- The pages ---------------------------------------------------------------------------------------------------


def test_customer_service_starts_the_report_from_the_closed_rounds_page(closed, client_for):
    client = client_for("cs")
    page = client.get(closed.get_absolute_url()).content.decode()
    assert 'data-testid="analysis-report-new"' in page

    response = client.post(reverse("improvement:report_new", args=[closed.pk]))

    report = AnalysisReport.objects.get()
    assert response.status_code == 302 and response.url == report.get_absolute_url()
    page = client.get(closed.get_absolute_url()).content.decode()
    assert 'data-testid="analysis-report"' in page and report.get_absolute_url() in page
    assert 'data-testid="analysis-report-new"' not in page


def test_the_rounds_page_offers_the_report_only_to_customer_service_and_only_when_closed(
    closed, sent_round, client_for
):
    assert 'data-testid="analysis-report-new"' not in client_for("qa").get(closed.get_absolute_url()).content.decode()
    page = client_for("cs").get(sent_round.get_absolute_url()).content.decode()
    assert "analysis-report" not in page


def test_a_refused_start_shows_the_rounds_page_again_with_the_reason(sent_round, client_for):
    response = client_for("cs").post(reverse("improvement:report_new", args=[sent_round.pk]))

    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="action-error"' in page and "once the round is closed" in page
    assert not AnalysisReport.objects.exists()


def test_the_report_page_shows_the_live_figures_and_charts_of_a_draft(draft, client_for):
    response = client_for("warehouse").get(draft.get_absolute_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="live-note"' in page and 'data-testid="report-charts"' in page
    assert page.count("<svg") == 3 and "满意度得分趋势" in page
    assert "服务好" in page and "X-01" in page
    assert 'data-testid="edit-report"' not in page and 'data-testid="decide"' not in page


def test_writing_and_submitting_through_the_pages(draft, client_for):
    client = client_for("cs")
    assert client.get(reverse("improvement:report_edit", args=[draft.pk])).status_code == 200

    response = client.post(reverse("improvement:report_submit", args=[draft.pk]), {"causes": "", "conclusions": "结论"})

    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["causes"] and form["conclusions"].value() == "结论"
    assert "结论" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"

    response = client.post(reverse("improvement:report_edit", args=[draft.pk]), {"causes": CAUSES, "conclusions": ""})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.causes, draft.status) == (CAUSES, "draft")

    response = client.post(
        reverse("improvement:report_submit", args=[draft.pk]), {"causes": CAUSES, "conclusions": CONCLUSIONS}
    )
    assert response.status_code == 302 and response.url == draft.get_absolute_url()
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.figures["score"] == "60.0"
    # Submitted: no longer editable.
    response = client.get(reverse("improvement:report_edit", args=[draft.pk]))
    assert response.status_code == 302
    response = client.post(reverse("improvement:report_edit", args=[draft.pk]), {"causes": "x", "conclusions": "y"})
    assert response.status_code == 422
    draft.refresh_from_db()
    assert draft.causes == CAUSES


def test_the_representative_returns_then_confirms_through_the_page(draft, users, client_for):
    submit(users, draft)
    client = client_for("rep")
    page = client.get(draft.get_absolute_url()).content.decode()
    assert 'data-testid="decide"' in page and 'data-testid="frozen-note"' in page

    response = client.post(reverse("improvement:report_return", args=[draft.pk]), {"reason": ""})
    assert response.status_code == 422 and response.context["return_form"].errors["reason"]

    response = client.post(reverse("improvement:report_return", args=[draft.pk]), {"reason": "补充原因"})
    assert response.status_code == 302
    page = client_for("cs").get(draft.get_absolute_url()).content.decode()
    assert 'data-testid="return-reason"' in page and "补充原因" in page

    client = client_for("cs")
    client.post(reverse("improvement:report_submit", args=[draft.pk]), {"causes": CAUSES, "conclusions": CONCLUSIONS})
    client = client_for("rep")
    response = client.post(reverse("improvement:report_confirm", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "confirmed" and draft.decided_by == users["rep"]

    response = client.post(reverse("improvement:report_confirm", args=[draft.pk]))
    assert response.status_code == 422 and "not waiting for confirmation" in response.content.decode()


def test_a_correction_through_the_page(draft, users, client_for):
    confirmed_report(users, draft)
    client = client_for("cs")
    assert 'data-testid="correct"' in client.get(draft.get_absolute_url()).content.decode()

    response = client.post(reverse("improvement:report_correct", args=[draft.pk]), {"reason": ""})
    assert response.status_code == 422 and response.context["correct_form"].errors["reason"]

    response = client.post(reverse("improvement:report_correct", args=[draft.pk]), {"reason": "更正得分"})

    new = AnalysisReport.objects.get(version=2)
    assert response.status_code == 302 and response.url == new.get_absolute_url()
    page = client.get(new.get_absolute_url()).content.decode()
    assert 'data-testid="corrects"' in page and "更正得分" in page
    page = client.get(draft.get_absolute_url()).content.decode()
    assert 'data-testid="correct"' not in page  # a correction is already in progress


# --- Proposing actions from low results ----------------------------------------------------------------------------


def test_low_customers_and_falling_questions_propose_an_action_with_their_source(history, users, client_for):
    r2 = history["R2"]
    report = reports.report_create(user=users["cs"], survey_round=r2)

    response = client_for("qa").get(report.get_absolute_url())

    page = response.content.decode()
    shown = response.context["f"]
    low = {c["code"]: c for c in shown["customers"] if c.get("propose_url")}
    assert set(low) == {"B", "C"}
    query = parse_qs(urlparse(low["C"]["propose_url"]).query)
    assert urlparse(low["C"]["propose_url"]).path == reverse("improvement:action_new")
    assert query["source"] == ["customer"] and query["customer"] == [str(low["C"]["id"])]
    assert query["round"] == [str(r2.pk)] and query["report"] == [str(report.pk)]
    assert "C" in query["title"][0] and "40.0" in query["problem"][0]
    fallen = [q for q in shown["questions"] if q.get("propose_url")]
    assert [q["text_en"] for q in fallen] == [q["text_en"] for q in shown["questions"] if q["fell"]]
    assert len(fallen) == 4  # price rose: nothing to propose
    query = parse_qs(urlparse(fallen[0]["propose_url"]).query)
    assert query["source"] == ["question"] and query["question"] == [str(fallen[0]["id"])]
    assert query["round"] == [str(r2.pk)] and query["report"] == [str(report.pk)]
    assert "90.0" in query["problem"][0] and "75.0" in query["problem"][0]
    assert page.count('data-testid="propose-customer"') == 2 and page.count('data-testid="propose-question"') == 4


def test_who_cannot_create_actions_sees_no_proposals(history, users, client_for):
    report = reports.report_create(user=users["cs"], survey_round=history["R2"])

    page = client_for("marketing").get(report.get_absolute_url()).content.decode()

    assert "propose-customer" not in page and "propose-question" not in page


# --- My work -----------------------------------------------------------------------------------------------------


def test_my_work_lists_returned_reports_and_closed_rounds_without_one(closed, draft, users, sent_round):
    assert reports.my_work(users["cs"]) == []
    submit(users, draft)
    assert reports.my_work(users["cs"]) == []

    reports.report_return(user=users["rep"], report=draft, reason="补充")
    services.round_close(survey_round=sent_round, user=users["cs"])

    titles = {s.title: s for s in reports.my_work(users["cs"])}
    assert titles["Analysis reports returned for rework"].items[0].detail == "补充"
    assert titles["Analysis reports returned for rework"].items[0].url == draft.get_absolute_url()
    assert [i.label for i in titles["Closed survey rounds without an analysis report"].items] == ["Test round"]
    assert reports.my_work(users["qa"]) == [] and reports.my_work(users["rep"]) == []
