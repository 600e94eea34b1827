"""Who may use the analysis report's pages: every page and action is refused (403) to the departments without
its capability and open to those with it (accounts.roles.MATRIX: improvement.view, report.write,
report.decide); a visitor who is not signed in is sent to the login page."""

from datetime import date

import pytest
from django.urls import reverse

from improvement import report as reports
from tests.conftest import ROLE_USERS
from tests.improvement import test_report as base
from tests.improvement import test_report_flow as flow

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.5")]

survey_form = base.survey_form
make_customer = base.make_customer

EVERYONE = set(ROLE_USERS)
# §5.12.5: Customer Service writes the report, the management representative confirms it; everyone reads it.
ALLOWED = {"improvement.view": EVERYONE, "report.write": {"cs"}, "report.decide": {"rep"}}


@pytest.fixture
def world(users, survey_form, make_customer, monkeypatch):
    """Four closed rounds: one without a report, one with a draft, one submitted, one confirmed."""
    monkeypatch.setattr(reports, "render_pdf", lambda template, context: b"%PDF-1.7 test")
    rounds = []
    for i in range(4):
        customer = make_customer(f"P-{i}")
        rounds.append(
            base.build_round(
                users,
                [customer],
                {customer.code: (4, {})},
                name=f"P{i}",
                start=date(2024, i + 1, 1),
                end=date(2024, i + 1, 28),
            )
        )
    cs, rep = users["cs"], users["rep"]
    draft = reports.report_create(user=cs, survey_round=rounds[1])
    submitted = flow.submit(users, reports.report_create(user=cs, survey_round=rounds[2]))
    confirmed = reports.report_confirm(
        user=rep, report=flow.submit(users, reports.report_create(user=cs, survey_round=rounds[3]))
    )
    return {"round": rounds[0], "draft": draft, "submitted": submitted, "confirmed": confirmed}


def pages(w):
    """(capability, method, url, data) for every page and action."""

    def u(name, *args):
        return reverse(f"improvement:{name}", args=args)

    draft, submitted, confirmed = w["draft"].pk, w["submitted"].pk, w["confirmed"].pk
    text = {"causes": flow.CAUSES, "conclusions": flow.CONCLUSIONS}
    return [
        ("improvement.view", "get", u("report", draft), None),
        ("improvement.view", "get", u("report", submitted), None),
        ("improvement.view", "get", u("report", confirmed), None),
        ("improvement.view", "get", u("report_pdf", confirmed), None),
        ("improvement.view", "get", u("report_pdf", draft), None),
        ("improvement.view", "get", u("report_chart", confirmed, "trend"), None),
        ("improvement.view", "get", u("report_chart", draft, "questions"), None),
        ("report.write", "post", u("report_new", w["round"].pk), {}),
        ("report.write", "get", u("report_edit", draft), None),
        ("report.write", "post", u("report_edit", draft), text),
        ("report.write", "post", u("report_submit", draft), text),
        ("report.write", "post", u("report_correct", confirmed), {"reason": "更正"}),
        ("report.decide", "post", u("report_return", submitted), {"reason": "补充"}),
        ("report.decide", "post", u("report_confirm", submitted), {}),
    ]


def test_every_report_page_is_open_to_its_departments_and_refused_to_the_others(client_for, world):
    for role in ROLE_USERS:
        client = client_for(role)
        for capability, method, address, data in pages(world):
            response = getattr(client, method)(address, data or {})
            if role in ALLOWED[capability]:
                assert response.status_code in (200, 302, 422), (role, method, address, response.status_code)
            else:
                assert response.status_code == 403, (role, method, address, response.status_code)
    # What the allowed departments did went through; nobody else's did.
    for report in ("draft", "submitted", "confirmed"):
        world[report].refresh_from_db()
    assert world["draft"].status == "submitted" and world["draft"].submitted_by.username == "cs"
    assert world["submitted"].status == "returned" and world["submitted"].decided_by.username == "rep"
    assert world["confirmed"].next_version.created_by.username == "cs"
    assert world["round"].reports.get().created_by.username == "cs"


def test_nothing_is_shown_to_a_visitor_who_is_not_signed_in(client, world):
    for _capability, method, address, data in pages(world):
        response = getattr(client, method)(address, data or {})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), address


def test_the_buttons_follow_the_capabilities(client_for, world):
    draft, submitted, confirmed = (world[k].get_absolute_url() for k in ("draft", "submitted", "confirmed"))
    assert 'data-testid="edit-report"' in client_for("cs").get(draft).content.decode()
    assert 'data-testid="edit-report"' not in client_for("rep").get(draft).content.decode()
    assert 'data-testid="decide"' in client_for("rep").get(submitted).content.decode()
    assert 'data-testid="decide"' not in client_for("cs").get(submitted).content.decode()
    assert 'data-testid="correct"' in client_for("cs").get(confirmed).content.decode()
    for role in EVERYONE - {"cs"}:
        page = client_for(role).get(confirmed).content.decode()
        assert 'data-testid="correct"' not in page and 'data-testid="decide"' not in page, role
