"""403, 404 and 500 are the app's own pages, in both languages, with the navigation (issue 9), as served in
production: DEBUG off, and the exception not raised into the test."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path

from config import urls as root

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
CJK = re.compile(r"[\u4e00-\u9fff]")


def boom(request):
    raise RuntimeError("something broke")


def refuse(request):
    raise PermissionDenied("Only Quality can write the return memo.")


# The real URLs and handlers, and two views that fail.
urlpatterns = [*root.urlpatterns, path("boom/", boom), path("refuse/", refuse)]
handler500 = root.handler500

MESSAGES = {
    "Page not found": "页面不存在",
    "Server error": "服务器错误",
    "You may not open this page": "无权打开此页面",
}


@pytest.fixture
def production(settings, zh_catalogue):
    settings.DEBUG = False
    zh_catalogue(MESSAGES)


def client_as(users, name, language="en"):
    client = Client(raise_request_exception=False)
    users[name].language = language
    users[name].save(update_fields=["language"])
    client.force_login(users[name])
    return client


def sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section lang="([a-z-]+)" data-testid="error-[a-z-]+"[^>]*>(.*?)</section>', page, re.S))


@pytest.mark.parametrize(
    "url,status,title", [("/no-such-page/", 404, "Page not found"), ("/boom/", 500, "Server error")]
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_error_pages_are_the_apps_own_in_both_languages_with_the_navigation(
    production, users, url, status, title, language
):
    response = client_as(users, "cs", language).get(url)
    assert response.status_code == status
    page = response.content.decode()
    assert 'data-testid="error-page"' in page and f'data-status="{status}"' in page
    assert 'href="/orders/"' in page and 'data-testid="user-menu"' in page  # the navigation
    both = sections(page)
    assert list(both) == ([language] + [c for c in ("zh-hans", "en") if c != language])  # the reader's first
    assert title in both["en"] and not CJK.search(both["en"])
    assert MESSAGES[title] in both["zh-hans"]


def test_the_403_page_says_why_in_both_languages(production, users):
    response = client_as(users, "cs").get("/refuse/")
    assert response.status_code == 403
    page = response.content.decode()
    both = sections(page)
    assert "You may not open this page" in both["en"] and MESSAGES["You may not open this page"] in both["zh-hans"]
    assert "Only Quality can write the return memo." in page
    assert 'href="/orders/"' in page


def test_a_page_of_another_department_shows_the_403_page(production, users):
    response = client_as(users, "warehouse").get("/orders/new/")  # entering orders is Customer Service's
    assert response.status_code == 403
    assert set(sections(response.content.decode())) == {"en", "zh-hans"}


def test_the_error_pages_work_for_someone_not_logged_in(production):
    client = Client(raise_request_exception=False)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert set(sections(page)) == {"en", "zh-hans"} and 'data-testid="language-switch"' in page
    assert client.get("/boom/").status_code == 500


def test_the_500_page_is_still_served_when_building_the_navigation_fails(production, users, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("accounts.context_processors.nav_for", broken)
    response = client_as(users, "cs").get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert set(sections(page)) == {"en", "zh-hans"} and "Server error" in page
    assert 'href="/orders/"' not in page  # without the navigation this time, but the app's page
