"""The public survey page: what the customer's contact sees and does through the personal link, no login."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from satisfaction import services
from satisfaction.models import Response, ResponseVersion, SurveyRound
from tests.satisfaction.conftest import TODAY, all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1")]

NOT_OPEN = "This survey link is not open"


def url(invitation, query=""):
    return reverse("survey_public", args=[invitation.token]) + query


def posted(form, value=5, comment=""):
    """What the page posts: one radio group per question, named q<id>."""
    data = {f"q{pk}": v for pk, v in all_answers(form, value).items()}
    data["comment"] = comment
    return data


@pytest.fixture
def english(sent_round):
    """The invitation of customer B's contact, who reads English."""
    return sent_round.invitations.get(line__customer__code="B-01")


@pytest.fixture
def chinese(sent_round):
    return sent_round.invitations.filter(line__customer__code="A-01").order_by("pk").first()


def questions_of(invitation):
    return list(invitation.round.form.questions.all())


# --- What the page shows --------------------------------------------------------------------------------------


def test_it_shows_the_customer_the_round_and_each_question_as_a_native_radio_group(client, english):
    response = client.get(url(english))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Customer B-01" in html and "Test round" in html
    assert english.round.deadline.isoformat() in html
    assert settings.COMPANY_NAME_EN in html
    questions = questions_of(english)
    assert html.count("<fieldset") == len(questions)
    for question in questions:
        assert re.search(rf"<legend[^>]*>\s*\d+\. {re.escape(question.text_en)}\s*</legend>", html)
        for value in ["1", "5", "na"]:
            assert f'<label class="survey-choice" for="q{question.pk}-{value}">' in html
            assert f'type="radio" name="q{question.pk}" id="q{question.pk}-{value}" value="{value}"' in html
    assert "1</span> = very dissatisfied" in html and "5</span> = very satisfied" in html
    assert "Not applicable" in html
    assert '<label for="comment"' in html and '<textarea class="form-control" id="comment"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'name="viewport"' in html


def test_it_works_without_javascript_and_is_never_cached_indexed_or_referred(client, english):
    response = client.get(url(english))

    assert "<script" not in response.content.decode().lower()
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "same-origin"


def test_it_speaks_the_contacts_language_and_switches_with_a_link(client, chinese):
    question = questions_of(chinese)[0]

    default = client.get(url(chinese)).content.decode()
    assert question.text_zh in default and question.text_en not in default
    assert '<html lang="zh-hans">' in default and settings.COMPANY_NAME_ZH in default
    assert "客户A-01" in default
    assert 'href="?lang=en"' in default

    switched = client.get(url(chinese, "?lang=en"))
    html = switched.content.decode()
    assert question.text_en in html and question.text_zh not in html
    assert '<html lang="en">' in html and switched["Content-Language"] == "en"
    assert "Customer A-01" in html


# --- Answering ------------------------------------------------------------------------------------------------


def test_it_records_the_answers_and_thanks_with_a_summary(client, english):
    form = english.round.form

    response = client.post(url(english), posted(form, 4, comment="Good packaging"))

    assert response.status_code == 303
    assert response["Location"] == url(english, "?done=1")
    saved = Response.objects.get(invitation=english)
    assert saved.score == Decimal("80.0") and saved.version == 1 and saved.comment == "Good packaging"
    assert saved.channel == Response.Channel.LINK and saved.entered_by is None

    thanks = client.get(response["Location"])
    html = thanks.content.decode()
    assert thanks.status_code == 200
    assert "Thank you" in html and "Good packaging" in html
    assert html.count("4 of 5") == form.questions.count()
    assert "you can open the link in the e-mail again to correct your answers" in html
    assert "<script" not in html.lower()


def test_a_second_identical_submit_changes_nothing(client, english):
    data = posted(english.round.form)

    first = client.post(url(english), data)
    second = client.post(url(english), data)  # double click, back button, forwarded link

    assert first.status_code == second.status_code == 303
    assert Response.objects.filter(invitation=english).count() == 1
    assert ResponseVersion.objects.filter(response__invitation=english).count() == 1
    assert Response.objects.get(invitation=english).version == 1


def test_a_correction_before_the_deadline_is_a_new_version_with_history(client, english):
    form = english.round.form
    client.post(url(english), posted(form, 5))

    reopened = client.get(url(english)).content.decode()
    assert "You answered this survey on" in reopened
    first = questions_of(english)[0]
    assert f'id="q{first.pk}-5" value="5" checked' in reopened

    client.post(url(english), posted(form, 3))

    saved = Response.objects.get(invitation=english)
    assert saved.version == 2 and saved.score == Decimal("60.0")
    versions = list(saved.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].score == Decimal("100.0") and versions[1].score == Decimal("60.0")
    assert f'id="q{first.pk}-3" value="3" checked' in client.get(url(english)).content.decode()


def test_a_missing_answer_re_renders_with_the_error_and_every_answer_kept(client, english):
    form = english.round.form
    first, second, *_rest = questions_of(english)
    data = posted(form, 4, comment="Keep this")
    del data[f"q{first.pk}"]
    data[f"q{second.pk}"] = "na"

    response = client.post(url(english), data)

    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html and "Please answer every question" in html
    assert f'id="q{first.pk}-error"' in html and f'aria-describedby="q{first.pk}-error"' in html
    assert f'id="q{second.pk}-na" value="na" checked' in html
    assert f'id="q{_rest[0].pk}-4" value="4" checked' in html
    assert "checked" not in html.split(f'id="q{first.pk}"', 1)[1].split("</fieldset>", 1)[0]
    assert "Keep this</textarea>" in html
    assert not Response.objects.filter(invitation=english).exists()


def test_an_answer_outside_the_scale_is_refused(client, english):
    data = posted(english.round.form)
    first = questions_of(english)[0]
    data[f"q{first.pk}"] = "9"

    response = client.post(url(english), data)

    assert response.status_code == 422
    assert f'id="q{first.pk}-error"' in response.content.decode()
    assert not Response.objects.filter(invitation=english).exists()


def test_the_form_is_csrf_protected_without_a_login(english):
    browser = Client(enforce_csrf_checks=True)
    data = posted(english.round.form)

    assert browser.post(url(english), data).status_code == 403

    page = browser.get(url(english)).content.decode()
    data["csrfmiddlewaretoken"] = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post(url(english), data).status_code == 303
    assert Response.objects.filter(invitation=english).exists()


# --- Links that cannot be answered ---------------------------------------------------------------------------


def assert_not_open(response):
    html = response.content.decode()
    assert response.status_code == 404
    assert NOT_OPEN in html and "Customer B-01" not in html and "Test round" not in html
    assert "<form" not in html and "<script" not in html.lower()
    assert "noindex" in response["X-Robots-Tag"] and response["Referrer-Policy"] == "same-origin"
    return html


def test_after_the_deadline_the_link_says_so_politely_and_saves_nothing(client, english):
    SurveyRound.objects.filter(pk=english.round_id).update(deadline=TODAY - timedelta(days=1))

    assert_not_open(client.get(url(english)))
    assert_not_open(client.post(url(english), posted(english.round.form)))
    assert not Response.objects.filter(invitation=english).exists()


def test_a_closed_round_gives_the_same_polite_page(client, users, english):
    services.round_close(survey_round=english.round, user=users["cs"])

    assert_not_open(client.get(url(english)))
    assert_not_open(client.post(url(english), posted(english.round.form)))
    assert not Response.objects.filter(invitation=english).exists()


def test_unknown_tampered_and_closed_links_are_indistinguishable(client, users, english):
    tampered = english.token[:-1] + ("A" if english.token[-1] != "A" else "B")
    unknown = client.get(reverse("survey_public", args=["x" * 43]))
    changed = client.get(reverse("survey_public", args=[tampered]))
    services.round_close(survey_round=english.round, user=users["cs"])
    closed = client.get(url(english))

    assert assert_not_open(unknown) == assert_not_open(changed) == assert_not_open(closed)


@pytest.mark.parametrize("token", ["x" * 101, "abc.def", "abc def", "abc%2Bdef", "%E4%B8%AD"])
def test_a_malformed_token_gets_the_same_page_without_touching_the_database(
    client, english, token, django_assert_num_queries
):
    expected = client.get(reverse("survey_public", args=["x" * 43])).content

    with django_assert_num_queries(0):
        response = client.get(f"/s/{token}/")

    assert_not_open(response)
    assert response.content == expected


def test_a_resend_retires_the_old_link_and_the_new_one_works(client, users, english):
    old = url(english)
    services.invitation_resend(invitation=english, user=users["cs"])
    english.refresh_from_db()

    assert_not_open(client.get(old))
    assert_not_open(client.post(old, posted(english.round.form)))
    assert not Response.objects.filter(invitation=english).exists()
    assert client.get(url(english)).status_code == 200
    assert client.post(url(english), posted(english.round.form)).status_code == 303
    assert Response.objects.filter(invitation=english).count() == 1


# --- Rate limit ----------------------------------------------------------------------------------------------


def test_it_limits_the_requests_per_minute_from_one_address(client, settings, english):
    settings.SURVEY_PUBLIC_RATE_LIMIT = 3

    for _ in range(3):
        assert client.get(url(english), REMOTE_ADDR="10.0.0.1").status_code == 200
    limited = client.get(url(english), REMOTE_ADDR="10.0.0.1")

    assert limited.status_code == 429
    html = limited.content.decode()
    assert "Please wait a minute" in html and "Customer B-01" not in html and "<script" not in html.lower()
    assert limited["Retry-After"] == "60"
    assert client.post(url(english), posted(english.round.form), REMOTE_ADDR="10.0.0.1").status_code == 429
    assert not Response.objects.filter(invitation=english).exists()
    assert client.get(url(english), REMOTE_ADDR="10.0.0.2").status_code == 200
