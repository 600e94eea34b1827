"""Cancelling an order asks for confirmation first, with a summary of what will happen (§5.3)."""

import re

import pytest
from django.urls import reverse

from orders.cancellation import cancellation_preview
from orders.models import ChangeRequest, Memo, Order, OrderRevision, ReviewStep
from tests.orders.conftest import sign

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.3.1")]


def cancel_data(order, origin="company", **extra):
    return {"revision": order.revision, "kind": "cancel", "origin": origin, "reason": "客户取消订单", **extra}


def test_cancelling_first_shows_what_will_happen_and_changes_nothing(
    client_for, users, submitted, django_capture_on_commit_callbacks
):
    sign(users, submitted, "product")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for("cs").post(reverse("orders:change", args=[submitted.number]), cancel_data(submitted))
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="cancel-summary"' in page
    assert "this happens at once and cannot be undone" in page
    # The open steps it closes are named; the product group's signed step is not among them.
    steps = re.search(r'data-testid="cancel-steps">([^<]*)<', page).group(1)
    assert "Marketing" in steps and "Quality" in steps and "Product group" not in steps
    assert "An internal memo goes to: Product group, Marketing" in page and 'data-testid="cancel-memo"' in page
    assert 'name="confirm_cancel"' in page and 'value="客户取消订单"' in page
    # Nothing was written, nothing queued: the summary came from a cancellation that was rolled back.
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.IN_REVIEW and submitted.revision == 1
    assert not ChangeRequest.objects.exists() and not Memo.objects.exists()
    assert ReviewStep.objects.filter(order=submitted, status="open").count() == 5
    assert not callbacks


def test_confirming_the_summary_cancels_the_order(client_for, submitted):
    client = client_for("cs")
    data = cancel_data(submitted, confirm_cancel="1")
    response = client.post(reverse("orders:change", args=[submitted.number]), data)
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.CANCELLED
    assert OrderRevision.objects.filter(order=submitted, kind="cancel").exists()


def test_a_cancellation_the_customer_asked_for_says_it_waits_for_the_sales_head(client_for, submitted):
    page = (
        client_for("cs")
        .post(reverse("orders:change", args=[submitted.number]), cancel_data(submitted, origin="customer"))
        .content.decode()
    )
    assert "waits for the sales head's confirmation" in page
    assert "Record the cancellation for the sales head" in page
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.IN_REVIEW


def test_back_returns_to_the_change_form_with_the_reason_kept(client_for, submitted):
    response = client_for("cs").post(
        reverse("orders:change", args=[submitted.number]), cancel_data(submitted, back="1")
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="change-form"' in page and "客户取消订单</textarea>" in page
    assert "is-invalid" not in page
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.IN_REVIEW


def test_the_summary_says_when_the_cancellation_would_be_refused(users, submitted):
    submitted.status = Order.Status.CANCELLED
    submitted.save()
    preview = cancellation_preview(user=users["cs"], order=submitted, origin="company", reason="x")
    assert preview.refused and not preview.memo_body
