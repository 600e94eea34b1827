"""My work shows the first ten items of each section and "show all (N)" lists the section in full with its count
(not only what fits on the overview)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.work import SHOWN, sections_for, work_limit
from improvement.models import Action

pytestmark = [pytest.mark.clause("7"), pytest.mark.clause("5.12.6")]

URL = reverse("accounts:my_work")
TITLE = "Your corrective actions overdue or reopened"


@pytest.fixture
def overdue_actions(users):
    today = timezone.localdate()
    return [
        Action.objects.create(
            number=f"CA-W{n:03d}",
            source="complaint",
            title=f"Action {n}",
            problem="p",
            plan="q",
            owner_department="quality",
            owner=users["qa"],
            due_date=today - timedelta(days=30 - n),
            created_by=users["qa"],
        )
        for n in range(25)  # more than the overview shows and more than a provider lists by default (20)
    ]


def _section(sections):
    return next(s for s in sections if str(s.title) == TITLE)


def test_the_overview_shows_ten_and_a_show_all_link_with_the_count(client_for, overdue_actions):
    response = client_for("qa").get(URL)
    section = _section(response.context["sections"])
    assert section.count == 25 and len(section.shown) == SHOWN == 10
    html = response.content.decode()
    assert f'href="?all={section.key}"' in html and "Show all (25)" in html
    assert html.count(">CA-W0") == 10  # the labels of CA-W000 … CA-W009 only


def test_show_all_lists_every_item_with_its_count(client_for, overdue_actions):
    client = client_for("qa")
    key = _section(client.get(URL).context["sections"]).key
    response = client.get(URL, {"all": key})
    assert response.status_code == 200
    section = response.context["section"]
    assert len(section.items) == 25 and section.count == 25
    html = response.content.decode()
    assert all(a.number in html for a in overdue_actions)
    assert 'data-testid="work-all-count">25<' in html
    assert 'data-testid="work-all-truncated"' not in html


def test_a_section_of_twelve_shows_ten_then_all_twelve(client_for, overdue_actions):
    Action.objects.filter(number__in=[a.number for a in overdue_actions[12:]]).delete()
    client = client_for("qa")
    section = _section(client.get(URL).context["sections"])
    assert section.count == 12 and len(section.shown) == 10
    full = client.get(URL, {"all": section.key}).context["section"]
    assert len(full.items) == 12


def test_an_unknown_section_key_falls_back_to_the_overview(client_for, overdue_actions):
    response = client_for("qa").get(URL, {"all": "nope"})
    assert response.status_code == 200 and "sections" in response.context
    assert "That list has nothing waiting any more." in response.content.decode()


def test_providers_list_everything_only_while_show_all_asks(users, overdue_actions):
    assert work_limit(20) == 20
    assert len(_section(sections_for(users["qa"])).items) == 20
    assert len(_section(sections_for(users["qa"], show_all=True)).items) == 25
    assert work_limit(20) == 20  # reset afterwards


def test_a_small_section_has_no_show_all_link(client_for, overdue_actions):
    Action.objects.filter(number__in=[a.number for a in overdue_actions[3:]]).delete()
    response = client_for("qa").get(URL)
    section = _section(response.context["sections"])
    assert section.count == 3 and not section.has_more
    assert f"?all={section.key}" not in response.content.decode()
