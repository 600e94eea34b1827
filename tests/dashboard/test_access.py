"""Who sees the dashboard: the marketing head, the management representative and the administrator (capability
``dashboard.view``), and anyone an administrator granted the permission ``dashboard.view_dashboard`` (a
department head), directly or through a group. Everybody else gets 403, and no menu entry."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.7")]

URL = "/dashboard/"


def _grant():
    return Permission.objects.get(content_type__app_label="dashboard", codename="view_dashboard")


def test_the_url_is_the_named_one():
    assert reverse("dashboard:home") == URL


@pytest.mark.parametrize("who", ["head", "rep", "admin"])
def test_the_managers_see_it_and_the_menu_entry(client_for, who):
    response = client_for(who).get(URL)
    assert response.status_code == 200
    assert f'href="{URL}"' in response.content.decode()


@pytest.mark.parametrize("who", ["marketing", "product", "cs", "tech", "pmc", "qa", "warehouse", "customs"])
def test_the_others_get_403_and_no_menu_entry(client_for, who):
    client = client_for(who)
    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get(reverse("accounts:my_work")).content.decode()


def test_signed_out_visitors_are_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_department_head_granted_the_permission_sees_it(client, users):
    qa_head = users["qa"]
    client.force_login(qa_head)
    assert client.get(URL).status_code == 403
    qa_head.user_permissions.add(_grant())
    qa_head = type(qa_head).objects.get(pk=qa_head.pk)  # permissions are cached on the user object
    client.force_login(qa_head)
    assert client.get(URL).status_code == 200
    assert f'href="{URL}"' in client.get(reverse("accounts:my_work")).content.decode()


def test_the_grant_works_through_a_group(client, users):
    group = Group.objects.create(name="dashboard")
    group.permissions.add(_grant())
    pmc_head = users["pmc"]
    pmc_head.groups.add(group)
    client.force_login(pmc_head)
    assert client.get(URL).status_code == 200
    group.permissions.clear()
    assert client.get(URL).status_code == 403
