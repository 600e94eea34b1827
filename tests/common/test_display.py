"""What every page shows the same way (issue 9, "the forms people use every day"): status words translated by
their meaning, the language switch naming each language in itself, field labels starting with a capital, and
quantities and prices with sensible decimals."""

import re
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation

from accounts.roles import Dept
from complaints.models import Complaint
from customers.models import QualityProblem
from delivery.forms import BatchForm
from delivery.models import DeliveryNote, Return
from improvement.models import Action
from satisfaction.models import SurveyRound
from tests.orders.conftest import customer, entered, products  # noqa: F401 - fixtures

# --- Status words by meaning -------------------------------------------------------------------------------------

# (the label, its context, the plain msgid used elsewhere for another meaning)
STATUS_WORDS = [
    (DeliveryNote.Status.ISSUED, "delivery note status", "Issued"),  # not "time of issue"
    (Return.Status.CLOSED, "return status", "Closed"),
    (SurveyRound.Status.CLOSED, "survey round status", "Closed"),
    (QualityProblem.Status.OPEN, "quality problem status", "Open"),
    (Action.Status.OPEN, "corrective action status", "Open"),
    (Complaint.Category.QUALITY, "complaint category", "Quality"),  # not the Quality department
]


@pytest.mark.parametrize("choice,context,msgid", STATUS_WORDS, ids=[c for _, c, _ in STATUS_WORDS])
def test_status_words_are_translated_by_their_meaning(zh_catalogue, choice, context, msgid):
    zh_catalogue({(context, msgid): "按含义", msgid: "另一含义"})
    with translation.override("zh-hans"):
        assert str(choice.label) == "按含义"
    with translation.override("en"):
        assert str(choice.label) == msgid


def test_the_quality_department_and_the_quality_category_are_two_words(zh_catalogue):
    zh_catalogue({("complaint category", "Quality"): "质量", "Quality": "品管部"})
    with translation.override("zh-hans"):
        assert str(Dept.QA.label) == "品管部" and str(Complaint.Category.QUALITY.label) == "质量"


@pytest.mark.django_db
def test_the_note_list_filter_says_issued_and_the_memo_list_says_when(zh_catalogue, client_for, users):
    zh_catalogue({("delivery note status", "Issued"): "已开单", "Issued": "发出时间"})
    users["cs"].language = "zh-hans"
    users["cs"].save(update_fields=["language"])
    client = client_for("cs")
    notes = client.get("/delivery/").content.decode()
    assert re.search(r'<option value="issued"[^>]*>已开单</option>', notes)
    memos = client.get("/orders/memos/").content.decode()
    assert re.search(r"<th[^>]*>(<a[^>]*>)?\s*发出时间", memos)


# --- The language switch ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_language_switch_names_each_language_in_itself(client_for, users, language):
    users["cs"].language = language
    users["cs"].save(update_fields=["language"])
    page = client_for("cs").get("/work/").content.decode()
    switch = re.search(r'data-testid="language-switch".*?</form>', page, re.S).group(0)
    buttons = re.findall(r'<button[^>]*lang="([a-z-]+)"[^>]*>([^<]+)</button>', switch)
    assert buttons == [("zh-hans", "简体中文"), ("en", "English")]  # Django's catalogue would say 英语


@pytest.mark.django_db
def test_the_switch_on_the_login_page_names_them_too(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">English</button>" in page and ">简体中文</button>" in page and "英语" not in page


# --- Field labels -------------------------------------------------------------------------------------------------


def test_a_label_written_in_lower_case_starts_with_a_capital():
    form = BatchForm()
    assert str(form["quantity"].label) == "Quantity" and str(form["due_date"].label) == "Due date"
    assert ">Quantity" in form["quantity"].label_tag()


def test_labels_in_chinese_are_left_as_they_are(zh_catalogue):
    zh_catalogue({"quantity": "数量"})
    with translation.override("zh-hans"):
        assert str(BatchForm()["quantity"].label) == "数量"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/customers/", "/orders/new/", "/complaints/new/"])
def test_no_label_on_the_everyday_forms_starts_with_a_small_letter(client_for, url):
    response = client_for("cs").get(url)
    assert response.status_code == 200
    labels = re.findall(r"<label[^>]*>\s*([^<]*)", response.content.decode())
    assert labels, "the page has a form"
    assert [text for text in labels if text[:1].islower()] == []


# --- Quantities and prices --------------------------------------------------------------------------------------


def render(text: str, **context) -> str:
    return Template("{% load numbers %}" + text).render(Context(context))


@pytest.mark.parametrize(
    "value,shown",
    [
        (Decimal("1200.000"), "1200"),
        (Decimal("12.500"), "12.5"),
        (Decimal("0.125"), "0.125"),
        (Decimal("200000"), "200000"),
        ("1000.000", "1000"),  # as the revisions keep it, in text
        (None, ""),
    ],
)
def test_quantities_show_without_trailing_zeros(value, shown):
    assert render("{{ v|qty }}", v=value) == shown


@pytest.mark.parametrize(
    "value,shown",
    [
        (Decimal("1.5000"), "1.50"),
        (Decimal("12"), "12.00"),
        (Decimal("0.0035"), "0.0035"),  # a price per piece keeps the decimals it has
        (Decimal("1234.5600"), "1234.56"),
        ("3.1", "3.10"),
        (None, ""),
    ],
)
def test_prices_show_at_least_two_decimals_and_no_useless_zeros(value, shown):
    assert render("{{ v|money }}", v=value) == shown


def test_a_form_shows_the_decimal_it_starts_from_as_people_write_it_and_keeps_what_was_typed():
    class LineForm(forms.Form):
        quantity = forms.DecimalField(max_digits=14, decimal_places=3)
        unit_price = forms.DecimalField(max_digits=14, decimal_places=4)

    unbound = LineForm(initial={"quantity": Decimal("1200.000"), "unit_price": Decimal("1.5000")})
    assert 'value="1200"' in str(unbound["quantity"]) and 'value="1.5"' in str(unbound["unit_price"])
    typed = LineForm(data={"quantity": "1200.000", "unit_price": "abc"})
    assert 'value="1200.000"' in str(typed["quantity"]) and 'value="abc"' in str(typed["unit_price"])


@pytest.mark.django_db
def test_the_order_page_shows_quantities_and_prices_with_sensible_decimals(entered, client_for):  # noqa: F811
    order = entered()
    page = client_for("cs").get(order.get_absolute_url()).content.decode()
    assert re.search(r">1000 [^<]*</td>", page) and "1000.000" not in page
    assert "1.50 CNY" in page and "2.20 CNY" in page and "1.5000" not in page


# --- The navigation bar -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_bar_marks_the_page_and_the_menu_holding_it(users):
    from accounts.navigation import nav_for

    entries = nav_for(users["cs"], "/delivery/on-time/")
    delivery = next(e for e in entries if str(e["label"]) == "Delivery")
    assert [str(c["label"]) for c in delivery["children"] if c["active"]] == ["On-time rate"]  # not Delivery notes
    assert delivery["active"] and [e for e in entries if e["active"]] == [delivery]
    assert [str(e["label"]) for e in entries][:4] == ["My work", "Orders", "Delivery", "Satisfaction"]
