"""The customer evaluation form 《客户资料评估表》 (§5.1.1) as a paper record: the company, the customer, every
field, who prepared, approved and filed it and when; linked from the form's page; drawn with the CJK font
(common.pdf refuses a PDF with missing glyphs)."""

import io

import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from customers.models import CustomerEvaluation

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.1.1"), pytest.mark.clause("7")]


def text_of(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_the_pdf_holds_the_company_the_customer_every_field_and_the_signatures(client_for, evaluation):
    client = client_for("qa")
    page = client.get(reverse("customers:evaluation", args=[evaluation.pk])).content.decode()
    url = reverse("customers:evaluation_pdf", args=[evaluation.pk])
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = text_of(response.content)
    assert settings.COMPANY_NAME_ZH in text and "客户资料评估表" in text
    assert "C-0001" in text and "东莞宏达电子" in text and "Hongda" in text
    for name in CustomerEvaluation.CONTENT_FIELDS:
        value = getattr(evaluation, name)
        shown = str(value) if name != "credit_rating" else "Good"
        assert shown.split()[0] in text, name
    for label in ("经营范围及主要产品", "信用评估", "营销部意见"):
        assert label in text
    # Who filled, approved and filed it, and when.
    from django.utils import timezone

    for who, when in (
        ("marketing", evaluation.created_at),
        ("marketing", evaluation.submitted_at),
        ("head", evaluation.decided_at),
        ("cs", evaluation.filed_at),
    ):
        assert f"{who} {timezone.localtime(when):%Y-%m-%d %H:%M}" in text
    assert "同意" in text


def test_the_pdf_is_for_those_who_may_see_customers(client, evaluation):
    response = client.get(reverse("customers:evaluation_pdf", args=[evaluation.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
