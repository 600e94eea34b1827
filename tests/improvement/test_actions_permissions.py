"""Who may use the pages of the improvement meeting and the corrective actions: every page and action is refused
(403) to the departments without its capability and open to those with it (accounts.roles.MATRIX:
improvement.view, meeting.record, action.create, action.verify), reporting done is the owner's alone and
verifying is never the owner's."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Dept
from improvement import actions as services
from improvement.models import Action, Meeting, Verification
from tests.conftest import ROLE_USERS
from tests.improvement.test_actions import done, new_action

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.6")]

TODAY = timezone.localdate()
EVERYONE = set(ROLE_USERS)
# The procedure's reading: Customer Service records the meeting (§5.12.6); Customer Service, Quality and the
# management representative raise actions; a department other than the owner's verifies.
ALLOWED = {
    "improvement.view": EVERYONE,
    "meeting.record": {"cs"},
    "action.create": {"cs", "qa", "rep"},
    "owner": {"qa"},  # the actions below are owned by Quality's user
    "verifier": {"cs", "rep", "head"},  # action.verify without the owner
}


@pytest.fixture
def world(users):
    meeting = services.meeting_record(
        user=users["cs"], held_on=TODAY, title="H1", departments=[Dept.QA], attendees="a", minutes="m"
    )
    open_action = new_action(users, title="Open one", source="meeting", meeting=meeting)
    to_verify = new_action(users, title="To verify")
    done(users, to_verify)
    return {"meeting": meeting, "open": open_action, "to_verify": to_verify}


def pages(w):
    """(who, method, url, data) for every page and action of this part."""
    meeting, open_action, to_verify = w["meeting"], w["open"], w["to_verify"]

    def u(name, *args):
        return reverse(f"improvement:{name}", args=args)

    return [
        ("improvement.view", "get", u("home"), None),
        ("improvement.view", "get", u("meetings"), None),
        ("improvement.view", "get", u("meeting", meeting.pk), None),
        ("improvement.view", "get", u("actions"), None),
        ("improvement.view", "get", u("action", open_action.number), None),
        ("improvement.view", "get", u("action", to_verify.number), None),
        ("meeting.record", "get", u("meeting_new"), None),
        ("meeting.record", "post", u("meeting_new"), {"title": "x"}),
        ("action.create", "get", u("action_new") + "?source=meeting&meeting=" + str(meeting.pk), None),
        ("action.create", "post", u("action_new"), {"title": "x"}),
        ("owner", "get", u("action_done", open_action.number), None),
        ("owner", "post", u("action_done", open_action.number), {"done_text": ""}),
        ("verifier", "get", u("action_verify", to_verify.number), None),
        ("verifier", "post", u("action_verify", to_verify.number), {"evidence": ""}),
    ]


def test_every_page_is_open_to_its_departments_and_refused_to_the_others(client_for, world):
    for role in ROLE_USERS:
        client = client_for(role)
        for who, method, address, data in pages(world):
            response = getattr(client, method)(address, data or {})
            if role in ALLOWED[who]:
                assert response.status_code in (200, 302, 422), (role, method, address, response.status_code)
            else:
                assert response.status_code == 403, (role, method, address, response.status_code)
    # The refused posts changed nothing; the allowed ones were incomplete (422).
    assert Meeting.objects.count() == 1 and Action.objects.count() == 2
    assert not Verification.objects.exists()
    assert Action.objects.get(pk=world["open"].pk).status == Action.Status.OPEN


def test_valid_posts_of_the_refused_change_nothing(client_for, users, world):
    meeting_post = {
        "held_on": TODAY.isoformat(),
        "title": "Sneaky",
        "departments": [Dept.QA],
        "attendees": "me",
        "minutes": "m",
    }
    assert client_for("qa").post(reverse("improvement:meeting_new"), meeting_post).status_code == 403
    action_post = {
        "kind": "corrective",
        "source": "other",
        "title": "Sneaky",
        "problem": "p",
        "plan": "p",
        "owner_department": Dept.QA,
        "owner": users["qa"].pk,
        "due_date": (TODAY + timedelta(days=3)).isoformat(),
    }
    assert client_for("marketing").post(reverse("improvement:action_new"), action_post).status_code == 403
    done_post = {"done_text": "done by someone else", "verify_after": TODAY.isoformat()}
    open_number = world["open"].number
    assert client_for("cs").post(reverse("improvement:action_done", args=[open_number]), done_post).status_code == 403
    verify_post = {"effective": "1", "evidence": "checked my own work"}
    number = world["to_verify"].number
    assert client_for("qa").post(reverse("improvement:action_verify", args=[number]), verify_post).status_code == 403
    assert (
        client_for("warehouse").post(reverse("improvement:action_verify", args=[number]), verify_post).status_code
        == 403
    )
    assert Meeting.objects.count() == 1 and Action.objects.count() == 2
    assert Action.objects.get(number=open_number).status == "open"
    assert Action.objects.get(number=number).status == "done" and not Verification.objects.exists()
    # The same posts by those allowed go through.
    assert client_for("cs").post(reverse("improvement:meeting_new"), meeting_post).status_code == 302
    assert client_for("rep").post(reverse("improvement:action_new"), action_post).status_code == 302
    assert client_for("qa").post(reverse("improvement:action_done", args=[open_number]), done_post).status_code == 302
    assert client_for("head").post(reverse("improvement:action_verify", args=[number]), verify_post).status_code == 302


def test_nothing_is_shown_to_a_visitor_who_is_not_signed_in(client, world):
    for _who, method, address, data in pages(world):
        response = getattr(client, method)(address, data or {})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), address


def test_an_unknown_action_or_meeting_is_not_found(client_for, world):
    client = client_for("cs")
    assert client.get(reverse("improvement:action", args=["CA-1999-0001"])).status_code == 404
    assert client.get(reverse("improvement:action_verify", args=["CA-1999-0001"])).status_code == 404
    assert client.get(reverse("improvement:meeting", args=[999999])).status_code == 404


def test_the_buttons_follow_who_may_act(client_for, world):
    open_url = world["open"].get_absolute_url()
    verify_url = world["to_verify"].get_absolute_url()
    assert 'data-testid="report-done"' in client_for("qa").get(open_url).content.decode()
    assert 'data-testid="report-done"' not in client_for("cs").get(open_url).content.decode()
    assert 'data-testid="verify"' in client_for("cs").get(verify_url).content.decode()
    assert 'data-testid="verify"' not in client_for("qa").get(verify_url).content.decode()  # the owner
    assert 'data-testid="verify"' not in client_for("marketing").get(verify_url).content.decode()
