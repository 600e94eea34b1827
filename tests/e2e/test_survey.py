"""A survey round in a real browser: Customer Service sends it; the contact opens the link from the e-mail on
a phone, answers in Chinese; the round page then shows the response and the rate."""

import re
from datetime import timedelta

import pytest
from django.core import mail

from satisfaction import services
from satisfaction.models import Response
from tests.satisfaction.conftest import TODAY, make_customer, survey_form  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.11.1")]


def test_a_round_is_sent_answered_on_a_phone_and_counted(
    browser,
    live_server,
    page,
    login,
    users,
    survey_form,  # noqa: F811
    make_customer,  # noqa: F811
):
    answering = make_customer("E2E-1", contacts=1, language="zh-hans")
    make_customer("E2E-2", contacts=1, language="en")
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="2026 客户满意度(专项)",
        reason="重大异常后了解客户满意度",
        period_start=TODAY - timedelta(days=60),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=14),
        customers=[answering, answering.__class__.objects.get(code="E2E-2")],
    )

    login("cs")
    page.goto(f"/satisfaction/rounds/{survey_round.pk}/")
    page.get_by_role("button", name=re.compile("^Send")).click()
    page.wait_for_load_state()
    assert "Sent" in page.content()

    # The jobs run inline here (no REDIS_URL): the invitations went out through the outbox on commit.
    to_contact = [m for m in mail.outbox if m.to == ["c1@e2e-1.example"]]
    assert len(to_contact) == 1
    link = re.search(r"https?://\S+/s/[\w-]+/", to_contact[0].body).group(0)
    path = link[link.index("/s/") :]

    phone = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        java_script_enabled=False,
    )
    try:
        contact_page = phone.new_page()
        contact_page.goto(path)
        assert "客户E2E-1" in contact_page.content()
        fieldsets = contact_page.locator("fieldset")
        assert fieldsets.count() == len(services.form_current().questions.all())
        for i in range(fieldsets.count()):
            fieldset = fieldsets.nth(i)
            assert fieldset.locator("legend").count() == 1
            fieldset.locator("input[type=radio][value='4']").check()
        contact_page.locator("textarea").fill("交货及时,服务很好。")
        contact_page.locator("form button[type=submit], form input[type=submit]").first.click()
        contact_page.wait_for_load_state()
        assert "谢谢" in contact_page.content() or "感谢" in contact_page.content()
    finally:
        phone.close()

    response = Response.objects.get()
    assert response.score == 80 and response.comment == "交货及时,服务很好。"

    page.goto(f"/satisfaction/rounds/{survey_round.pk}/")
    body = page.locator("main").inner_text()
    assert "50.0%" in body and "E2E-2" in body  # one of two answered; the other still to chase
