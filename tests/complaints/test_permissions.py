"""Who may use the complaint pages: every page and action is refused (403) to the departments without its
capability and open to those with it (accounts.roles.MATRIX: complaint.view, complaint.record,
complaint.investigate), investigating is the responsible department's alone, attaching is Customer Service's and
the investigating department's."""

from datetime import timedelta

import pytest
from django.urls import reverse

from complaints.models import Complaint
from tests.complaints.conftest import TODAY, pdf, return_of, walk
from tests.conftest import ROLE_USERS

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2")]

EVERYONE = set(ROLE_USERS)
# The procedure's reading (§5.10.2): Customer Service records, acknowledges, answers and closes; the department
# responsible investigates (Quality for a quality complaint: the complaints below are about quality).
ALLOWED = {
    "complaint.view": EVERYONE,
    "complaint.record": {"cs"},
    "investigator": {"qa"},
    "attach": {"cs", "qa"},
}


@pytest.fixture
def world(users, acme, note, record):
    received = record(acme, notes=[note], attachments=[pdf()])
    acknowledged = walk(users, record(acme, notes=[note]), "acknowledged")
    investigated = walk(users, record(acme), "investigated")
    answered = walk(users, record(acme), "answered")
    ret = return_of(users, note)
    received.returns.add(ret)
    return {
        "received": received,
        "acknowledged": acknowledged,
        "investigated": investigated,
        "answered": answered,
        "attachment": received.attachments.get(),
        "line": note.lines.get(),
        "ret": ret,
    }


def pages(w):
    """(who, method, url, data) for every page and action, each posted with valid data."""

    def u(name, *args):
        return reverse(f"complaints:{name}", args=args)

    today = TODAY.isoformat()
    received, acknowledged = w["received"].number, w["acknowledged"].number
    return [
        ("complaint.view", "get", u("list"), None),
        ("complaint.view", "get", u("list") + "?overdue=1&status=received", None),
        ("complaint.view", "get", u("detail", received), None),
        ("complaint.view", "get", u("detail", w["answered"].number), None),
        ("complaint.view", "get", u("attachment", received, w["attachment"].pk), None),
        ("complaint.record", "get", u("new"), None),
        ("complaint.record", "post", u("new"), {"customer": w["received"].customer.code, "channel": "phone"}),
        ("complaint.record", "post", u("acknowledge", received), {"on": today, "text": "已收到"}),
        ("investigator", "post", u("investigate", acknowledged), {"cause": "c", "action": "a"}),
        ("complaint.record", "post", u("answer", w["investigated"].number), {"answer": "a", "on": today}),
        ("complaint.record", "post", u("close", w["answered"].number), {"accepted_on": today}),
        ("attach", "post", u("attach", acknowledged), {"file": pdf(), "name": ""}),
        (
            "complaint.record",
            "post",
            u("return", acknowledged),
            {"note_line": w["line"].pk, "quantity": "5", "reason": "退货"},
        ),
        (
            "complaint.record",
            "post",
            u("replacement", received),
            {"ret": w["ret"].pk, "due_date": (TODAY + timedelta(days=2)).isoformat()},
        ),
    ]


def test_every_complaint_page_is_open_to_its_departments_and_refused_to_the_others(client_for, world):
    for role in ROLE_USERS:
        client = client_for(role)
        for who, method, address, data in pages(world):
            if data and "file" in data:
                data = {**data, "file": pdf()}  # an upload is read once
            response = getattr(client, method)(address, data or {})
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)  # read to the end, the served file is closed
            if role in ALLOWED[who]:
                assert response.status_code in (200, 302, 422), (role, method, address, response.status_code)
            else:
                assert response.status_code == 403, (role, method, address, response.status_code)
    # The allowed posts went through once each; none of the refused ones did.
    statuses = dict(Complaint.objects.values_list("number", "status"))
    assert statuses[world["received"].number] == "acknowledged"
    assert statuses[world["acknowledged"].number] == "investigated"
    assert statuses[world["investigated"].number] == "answered"
    assert statuses[world["answered"].number] == "closed"
    assert world["acknowledged"].attachments.count() == 2  # Customer Service's and Quality's
    assert world["acknowledged"].returns.count() == 1
    world["ret"].refresh_from_db()
    assert world["ret"].replacement is not None


def test_investigating_is_refused_to_customer_service_when_quality_is_responsible(
    client_for, world, users, acme, record
):
    address = reverse("complaints:investigate", args=[world["acknowledged"].number])
    assert client_for("cs").post(address, {"cause": "c", "action": "a"}).status_code == 403
    own = walk(users, record(acme, category="service"), "acknowledged")  # Customer Service's own
    response = client_for("cs").post(
        reverse("complaints:investigate", args=[own.number]), {"cause": "c", "action": "a"}
    )
    assert response.status_code == 302
    assert client_for("qa").post(reverse("complaints:attach", args=[own.number]), {"file": pdf()}).status_code == 403


def test_nothing_is_shown_to_a_visitor_who_is_not_signed_in(client, world):
    for _who, method, address, data in pages(world):
        response = getattr(client, method)(address, data or {})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), address


def test_the_forms_follow_who_may_do_the_step(client_for, world):
    received = reverse("complaints:detail", args=[world["received"].number])
    acknowledged = reverse("complaints:detail", args=[world["acknowledged"].number])
    cs = client_for("cs").get(received).content.decode()
    assert 'data-testid="acknowledge-form"' in cs and 'data-testid="return-form"' in cs
    assert 'data-testid="replacement-form"' in cs and 'data-testid="attach-form"' in cs
    for role in ("marketing", "pmc", "rep", "warehouse", "admin"):
        body = client_for(role).get(acknowledged).content.decode()
        for form in ("acknowledge", "investigate", "attach", "return", "replacement"):
            assert f'data-testid="{form}-form"' not in body, (role, form)
    qa = client_for("qa").get(acknowledged).content.decode()
    assert 'data-testid="investigate-form"' in qa and 'data-testid="attach-form"' in qa
    assert 'data-testid="return-form"' not in qa
    listing = client_for("qa").get(reverse("complaints:list")).content.decode()
    assert 'data-testid="new-complaint"' not in listing
    assert 'data-testid="new-complaint"' in client_for("cs").get(reverse("complaints:list")).content.decode()
