"""Who may use the survey pages: every page and action is refused (403) to the departments without its
capability and open to those with it (accounts.roles.MATRIX: survey.view, survey.run, survey.form,
outbox.resend)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from common.models import OutboxMessage
from satisfaction import services
from tests.conftest import ROLE_USERS
from tests.satisfaction.conftest import TODAY, all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1"), pytest.mark.clause("4.0.2")]

EVERYONE = set(ROLE_USERS)
# The procedure's reading of who does what (§5.11.1: Customer Service runs the surveys).
ALLOWED = {
    "survey.view": EVERYONE,
    "survey.run": {"cs"},
    "survey.form": {"cs", "admin"},
    "outbox.resend": {"cs", "admin"},
}


@pytest.fixture
def world(users, sent_round, make_customer):
    """A sent round with one answer and one failed e-mail, and a draft round."""
    z = make_customer("Z-01", contacts=0)
    draft = services.round_create_ad_hoc(
        user=users["cs"],
        name="Draft",
        reason="incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=20),
        customers=[line.customer for line in sent_round.customers.filter(included=True)] + [z],
    )
    invitations = list(sent_round.invitations.order_by("pk"))
    response = services.response_submit(invitation=invitations[0], raw_answers=all_answers(sent_round.form, 4))
    message = OutboxMessage.objects.filter(object_id=invitations[1].pk, kind=services.INVITATION).get()
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", error="refused")
    return {
        "sent": sent_round,
        "draft": draft,
        "line": draft.customers.get(customer__code="Z-01"),
        "invitation": invitations[2],
        "response": response,
        "message": message,
    }


def pages(w):
    """(capability, method, url, data) for every page and action."""
    sent, draft = w["sent"].pk, w["draft"].pk
    question = w["sent"].form.questions.first().pk

    def u(name, *args):
        return reverse(f"satisfaction:{name}", args=args)

    return [
        ("survey.view", "get", u("rounds"), None),
        ("survey.view", "get", u("round", sent), None),
        ("survey.view", "get", u("round", draft), None),
        ("survey.view", "get", u("round_progress", sent), None),
        ("survey.view", "get", u("round_customers", draft), None),
        ("survey.view", "get", u("response", w["response"].pk), None),
        ("survey.view", "get", u("scorecards"), None),
        ("survey.run", "get", u("round_new"), None),
        ("survey.run", "post", u("round_new"), {"name": "x"}),
        ("survey.run", "post", u("round_open_half_year"), {"year": TODAY.year, "half": 1}),
        ("survey.run", "post", u("round_refresh", draft), {}),
        ("survey.run", "post", u("line_include", draft, w["line"].pk), {"included": "0", "reason": "r"}),
        ("survey.run", "post", u("round_deadline", sent), {"deadline": (TODAY + timedelta(days=40)).isoformat()}),
        ("survey.run", "post", u("round_remind", sent), {}),
        ("survey.run", "post", u("invitation_resend", w["invitation"].pk), {}),
        ("survey.run", "get", u("response_enter", w["invitation"].pk), None),
        ("survey.run", "post", u("response_enter", w["invitation"].pk), {f"q_{question}": "5"}),
        ("survey.run", "get", u("scorecard_new"), None),
        ("survey.run", "post", u("scorecard_new"), {"score": "1"}),
        ("survey.run", "post", u("round_send", draft), {}),
        ("survey.run", "post", u("round_close", sent), {}),
        ("survey.form", "get", u("form"), None),
        ("survey.form", "post", u("form"), {"q-TOTAL_FORMS": "0", "q-INITIAL_FORMS": "0"}),
        ("outbox.resend", "get", u("failed_mail"), None),
        ("outbox.resend", "post", u("mail_resend", w["message"].pk), {}),
    ]


def test_every_survey_page_is_open_to_its_departments_and_refused_to_the_others(client_for, world):
    for role in ROLE_USERS:
        client = client_for(role)
        for capability, method, address, data in pages(world):
            response = getattr(client, method)(address, data or {})
            if role in ALLOWED[capability]:
                assert response.status_code in (200, 302, 422), (role, method, address, response.status_code)
            else:
                assert response.status_code == 403, (role, method, address, response.status_code)
    world["sent"].refresh_from_db()
    assert world["sent"].status == "closed"  # Customer Service's own close went through, nobody else's did


def test_nothing_is_shown_to_a_visitor_who_is_not_signed_in(client, world):
    for _capability, method, address, data in pages(world):
        response = getattr(client, method)(address, data or {})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), address


def test_the_buttons_follow_the_capabilities(client_for, world):
    sent = world["sent"].get_absolute_url()
    assert 'data-testid="close-round"' in client_for("cs").get(sent).content.decode()
    page = client_for("admin").get(sent).content.decode()
    assert 'data-testid="close-round"' not in page and 'data-testid="resend"' not in page
    listing = client_for("admin").get(reverse("satisfaction:rounds")).content.decode()
    assert 'data-testid="edit-form"' in listing and 'data-testid="new-ad-hoc"' not in listing
    listing = client_for("warehouse").get(reverse("satisfaction:rounds")).content.decode()
    assert 'data-testid="edit-form"' not in listing
