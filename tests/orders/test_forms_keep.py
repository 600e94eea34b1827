"""A form with an error comes back as it was sent: everything typed and chosen, the reason beside its field, the
page scrolled back to the form (the form's action carries its anchor), status 422."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders import services
from orders.models import Objection, Order, ReviewStep
from tests.orders.conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.1")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def checked(page: str, name: str) -> str | None:
    """The value of the radio button ``name`` that is checked on ``page``."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def test_a_new_order_with_an_error_keeps_what_was_typed_and_asks_for_the_file_again(client_for, customer, products):
    data = {
        "customer": customer.pk,
        "customer_po": "PO-KEEP-7",
        "source": "phone",
        "delivery_address": customer.addresses.get().pk,
        "packaging": "每箱 50 个",
        "inspection": "AQL 0.65",
        "verbal": "交货前一天电话通知",
        "original": SimpleUploadedFile("传真.pdf", PDF),
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": products["lamp"].pk,
        "lines-0-quantity": "-3",
        "lines-0-unit_price": "1.50",
        "lines-0-requested_date": (TODAY + timedelta(days=9)).isoformat(),
    }
    response = client_for("cs").post(reverse("orders:create"), data)
    page = response.content.decode()
    assert response.status_code == 422 and not Order.objects.exists()
    assert 'value="PO-KEEP-7"' in page and "AQL 0.65</textarea>" in page and "交货前一天电话通知</textarea>" in page
    assert re.search(r'<option value="phone" selected>', page)
    # The error is beside the quantity it is about, not only at the top.
    quantity = re.search(r'name="lines-0-quantity"[^>]*>.{0,400}', page, re.S).group(0)
    assert 'value="-3"' in quantity and "The quantity must be more than zero." in quantity
    assert "传真.pdf" in page and "choose it again" in page


def test_a_review_step_with_an_unanswered_item_comes_back_with_the_other_answers(client_for, submitted):
    step = ReviewStep.objects.get(order=submitted, department="marketing")
    keys = [item["key"] for item in step.checklist.items]
    data = {"revision": 1, "comment": "价格已核对", **{f"item_{key}": "yes" for key in keys[:-1]}}
    response = client_for("marketing").post(reverse("orders:step_sign", args=[step.pk]), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert all(checked(page, f"item_{key}") == "yes" for key in keys[:-1])
    assert checked(page, f"item_{keys[-1]}") is None and "This field is required." in page
    assert "价格已核对</textarea>" in page
    assert f'action="{reverse("orders:step_sign", args=[step.pk])}#step-{step.pk}"' in page
    step.refresh_from_db()
    assert step.status == ReviewStep.Status.OPEN


def test_a_review_step_answered_no_is_refused_and_keeps_every_answer(client_for, submitted):
    step = ReviewStep.objects.get(order=submitted, department="marketing")
    keys = [item["key"] for item in step.checklist.items]
    data = {"revision": 1, "comment": "", **{f"item_{key}": "yes" for key in keys}}
    data[f"item_{keys[0]}"] = "no"
    response = client_for("marketing").post(reverse("orders:step_sign", args=[step.pk]), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert checked(page, f"item_{keys[0]}") == "no" and checked(page, f"item_{keys[1]}") == "yes"
    step.refresh_from_db()
    assert step.status == ReviewStep.Status.OPEN


def test_pmcs_dates_stay_as_typed_when_the_step_comes_back(client_for, submitted):
    step = ReviewStep.objects.get(order=submitted, department="pmc")
    typed = (TODAY + timedelta(days=44)).isoformat()
    data = {"revision": 1, "date_1": typed, "date_2": "not a date"}
    response = client_for("pmc").post(reverse("orders:step_sign", args=[step.pk]), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert f'name="date_1" value="{typed}"' in page and 'value="not a date"' in page


def test_an_objection_without_a_reason_comes_back_open(client_for, submitted):
    step = ReviewStep.objects.get(order=submitted, department="quality")
    response = client_for("qa").post(reverse("orders:step_object", args=[step.pk]), {"revision": 1, "reason": " "})
    page = response.content.decode()
    assert response.status_code == 422 and "This field is required." in page
    assert re.search(r"<details class=\"mt-2\" open>", page)
    assert not Objection.objects.exists()


def test_settling_without_an_outcome_comes_back_beside_that_objection(client_for, users, submitted):
    step = ReviewStep.objects.get(order=submitted, department="quality")
    objection = services.step_object(user=users["qa"], step=step, revision_seen=1, reason="包装不明确")
    response = client_for("marketing").post(reverse("orders:objection_settle", args=[objection.pk]), {"outcome": ""})
    page = response.content.decode()
    assert response.status_code == 422 and "This field is required." in page
    assert f'action="{reverse("orders:objection_settle", args=[objection.pk])}#objection-{objection.pk}"' in page
    objection.refresh_from_db()
    assert objection.settled_at is None


def test_a_written_confirmation_that_is_not_a_scan_is_refused_beside_it(client_for, entered):
    order = entered(verbal_requirements=["口头要求"])
    requirement = order.verbal_requirements.get()
    response = client_for("cs").post(
        reverse("orders:verbal_confirm", args=[requirement.pk]),
        {"confirmation": SimpleUploadedFile("note.txt", b"hello")},
    )
    page = response.content.decode()
    assert response.status_code == 422
    error = re.search(rf'id="verbal-{requirement.pk}".{{0,2000}}', page, re.S).group(0)
    assert "Attach a PDF or an image" in error and "Choose the file again." in error
    requirement.refresh_from_db()
    assert requirement.confirmed_at is None


def test_a_change_refused_by_the_service_keeps_the_form(client_for, submitted):
    data = {
        "revision": 1,
        "kind": "change",
        "origin": "company",
        "reason": "客户要求",
        "customer_po": submitted.customer_po,
        "delivery_address": submitted.delivery_address_id,
        "currency": submitted.currency,
        "payment_terms": submitted.payment_terms,
        "packaging": submitted.packaging,
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "2",
    }
    for line in submitted.lines.order_by("position"):
        index = line.position - 1
        data[f"lines-{index}-product"] = line.product_id
        data[f"lines-{index}-quantity"] = str(line.quantity)
        data[f"lines-{index}-unit_price"] = str(line.unit_price)
        data[f"lines-{index}-requested_date"] = line.requested_date.isoformat()
    response = client_for("cs").post(reverse("orders:change", args=[submitted.number]), data)
    page = response.content.decode()
    assert response.status_code == 422 and "Nothing was changed." in page and "客户要求</textarea>" in page


def test_a_customer_without_an_approved_evaluation_is_refused_beside_the_customer(client_for, users, products):
    from customers.models import Customer, DeliveryAddress

    unevaluated = Customer.objects.create(code="C-0009", name_en="Not Yet Co", status="active")
    address = DeliveryAddress.objects.create(customer=unevaluated, label="HQ", address="Somewhere 1")
    data = {
        "customer": unevaluated.pk,
        "customer_po": "PO-NOEVAL",
        "source": "fax",
        "delivery_address": address.pk,
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": products["lamp"].pk,
        "lines-0-quantity": "5",
        "lines-0-unit_price": "1.50",
        "lines-0-requested_date": (TODAY + timedelta(days=9)).isoformat(),
    }
    response = client_for("cs").post(reverse("orders:create"), data)
    page = response.content.decode()
    assert response.status_code == 422 and not Order.objects.exists()
    customer_field = re.search(r'id="div_id_customer".{0,3000}?</div>\s*</div>', page, re.S).group(0)
    assert "no approved customer evaluation form" in customer_field
