"""Who sees the dashboard: the marketing head, the management representative and the administrator (capability
``dashboard.view``), and anyone an administrator granted the permission ``dashboard.view_dashboard`` (a
department head), directly or through a group. Everybody else gets 403, and no menu entry."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.navigation import nav_for
from accounts.roles import can, departments_of

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


def test_a_user_granted_the_permission_through_a_group_sees_it_and_the_menu_entry(client, users):
    group = Group.objects.create(name="dashboard")  # not a department
    group.permissions.add(_grant())
    qa_head = users["qa"]
    qa_head.groups.add(group)
    client.force_login(qa_head)
    assert client.get(URL).status_code == 200
    assert f'href="{URL}"' in client.get(reverse("accounts:my_work")).content.decode()


def _fresh(user):
    return type(user).objects.get(pk=user.pk)  # nothing cached on it yet


@pytest.mark.parametrize("granted", [False, True])
def test_the_menu_reads_the_departments_and_the_grant_in_one_query(users, granted, django_assert_num_queries):
    qa_head = users["qa"]
    if granted:
        group = Group.objects.create(name="dashboard")
        group.permissions.add(_grant())
        qa_head.groups.add(group)
    qa_head = _fresh(qa_head)
    with django_assert_num_queries(1):  # as before the grant existed: the departments' query only
        entries = nav_for(qa_head, "/")
        assert can(qa_head, "dashboard.view") is granted and departments_of(qa_head) == {"quality"}
    assert any(entry.get("url") == URL for entry in entries) is granted


def test_a_page_asks_no_permission_query_besides_the_departments(client_for):
    client = client_for("qa")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("accounts:my_work")).status_code == 200
    reading_permissions = [q["sql"] for q in queries if "auth_permission" in q["sql"]]
    assert len(reading_permissions) == 1 and "auth_group" in reading_permissions[0]


def test_an_inactive_user_loses_the_grant_and_a_superuser_keeps_the_page(users):
    qa_head = users["qa"]
    qa_head.user_permissions.add(_grant())
    assert can(_fresh(qa_head), "dashboard.view")
    qa_head.is_active = False
    qa_head.save(update_fields=["is_active"])
    assert not can(_fresh(qa_head), "dashboard.view")  # as has_perm(): an inactive user holds no permission

    boss = type(qa_head).objects.create_superuser("boss", password="x" * 12)
    assert can(_fresh(boss), "dashboard.view") and departments_of(_fresh(boss)) == {"administrator"}
    boss.is_active = False
    boss.save(update_fields=["is_active"])
    assert can(_fresh(boss), "dashboard.view")  # a superuser administers, active or not, as before
