import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_users_to_the_login_page(client):
    response = client.get(reverse("accounts:my_work"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_logs_in_with_the_right_password_and_lands_on_my_work(client, users):
    response = client.post(reverse("login"), {"username": "cs", "password": "pw-Secret-123"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:my_work")
    assert client.get(response.url).status_code == 200


def test_it_locks_a_user_name_out_after_repeated_failures(client, users, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "cs", "password": "wrong"})
    # Even the right password is refused during the cool-off.
    response = client.post(reverse("login"), {"username": "cs", "password": "pw-Secret-123"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_behind_the_proxy_a_strangers_failures_do_not_lock_out_the_user(client, users, settings):
    settings.BEHIND_TLS_PROXY = True
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # every request reaches the app from the proxy
    stranger = {**proxy, "HTTP_X_FORWARDED_FOR": "10.0.0.1, 203.0.113.9"}  # the first part is the client's own lie
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "cs", "password": "wrong"}, **stranger)
    assert client.post(reverse("login"), {"username": "cs", "password": "pw-Secret-123"}, **stranger).status_code == 429
    # The stranger cannot dodge the lock by changing the part of the header it writes itself.
    spoofed = {**proxy, "HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.9"}
    assert client.post(reverse("login"), {"username": "cs", "password": "pw-Secret-123"}, **spoofed).status_code == 429
    # The user, at their own desk, still signs in.
    own = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    response = client.post(reverse("login"), {"username": "cs", "password": "pw-Secret-123"}, **own)
    assert response.status_code == 302 and response.url == reverse("accounts:my_work")


def test_it_logs_out_only_by_post(client_for):
    client = client_for("cs")
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_changes_the_password(client_for, users):
    client = client_for("qa")
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-Secret-123", "new_password1": "Another-Pw-456", "new_password2": "Another-Pw-456"},
    )
    assert response.status_code == 302
    users["qa"].refresh_from_db()
    assert users["qa"].check_password("Another-Pw-456")


def test_it_remembers_the_language_on_the_user_and_serves_chinese(client_for, users):
    client = client_for("cs")
    response = client.post(reverse("accounts:set_language"), {"language": "zh-hans", "next": "/work/"})
    assert response.status_code == 302 and response.url == "/work/"
    users["cs"].refresh_from_db()
    assert users["cs"].language == "zh-hans"
    page = client.get("/work/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "我的工作" in page and "My work" not in page


def test_it_serves_english_to_a_user_who_chose_english_whatever_the_browser_says(client_for, users):
    users["pmc"].language = "en"
    users["pmc"].save()
    page = client_for("pmc").get("/work/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "My work" in page and "我的工作" not in page


def test_it_refuses_an_unknown_language_and_an_outside_redirect(client_for, users):
    client = client_for("cs")
    assert client.post(reverse("accounts:set_language"), {"language": "xx"}).status_code == 400
    response = client.post(reverse("accounts:set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response.url == reverse("accounts:my_work")


def test_it_shows_each_user_only_the_navigation_of_their_departments(client_for):
    page = client_for("warehouse").get("/work/").content.decode()
    assert reverse("admin:index") not in page
    admin_page = client_for("admin").get("/work/").content.decode()
    assert reverse("admin:index") in admin_page


def test_it_refuses_a_post_without_a_csrf_token(users):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["cs"])
    assert strict.post(reverse("accounts:set_language"), {"language": "en"}).status_code == 403


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 24 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
