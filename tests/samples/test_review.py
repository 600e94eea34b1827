"""In the order review, Technical's "sample approved in writing" item (§5.2.4.3): its card shows the customer's
approved samples of each product, and the system flags a line for a new product without one. The flag informs;
it never blocks, and a "no" from Technical is an objection as any other."""

import pytest
from django.urls import reverse

from common.errors import DomainError
from orders import hooks
from orders import services as order_services
from orders.models import ReviewStep
from orders.selectors import prechecks, review_panels
from samples import selectors
from tests.orders.conftest import REVIEWERS, sign
from tests.samples.conftest import ask, deliver, judge

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.4.3")]

FLAG = "no approved sample (the customer's written approval)"


def sample_checks(order):
    return [c for c in prechecks(order) if "approved sample" in c.text]


def test_the_hooks_are_registered_once():
    from django.apps import apps

    apps.get_app_config("samples").ready()  # ready() may run again (tests, autoreload)
    assert hooks.prechecks.count(selectors.precheck) == 1
    assert hooks.review_panels.count(selectors.review_panel) == 1


def test_a_new_product_without_an_approved_sample_is_flagged_and_does_not_block(users, entered):
    order = entered()
    order_services.order_submit(user=users["cs"], order=order)
    [check] = sample_checks(order)
    assert not check.ok and FLAG in check.text and "line 1, 2" in check.text and "P-1, P-2" in check.text
    for reviewer in REVIEWERS:  # every department may still sign: the flag informs
        sign(users, order, reviewer)
    order.refresh_from_db()
    assert order.status == "awaiting_signoff"


def test_an_approved_sample_clears_the_flag_and_a_rejected_or_pending_one_does_not(users, entered, customer, products):
    rejected = ask(users, customer, products["lamp"])
    deliver(users, rejected)
    judge(users, rejected, outcome="rejected")
    ask(users, customer, products["base"])  # asked for, not delivered
    order = entered()
    [check] = sample_checks(order)
    assert not check.ok and "line 1, 2" in check.text
    approved = ask(users, customer, products["lamp"])
    deliver(users, approved)
    judge(users, approved, outcome="approved_cond", conditions="颜色按色板 C-3")
    [check] = sample_checks(order)
    assert not check.ok and "line 2 (P-2)" in check.text
    base = ask(users, customer, products["base"])
    deliver(users, base)
    judge(users, base)
    [check] = sample_checks(order)
    assert check.ok


def test_another_customers_approved_sample_does_not_count(users, entered, products):
    from customers.models import Customer

    other = Customer.objects.create(code="C-0042", name_en="Other", status="active")
    from customers.models import DeliveryAddress

    DeliveryAddress.objects.create(customer=other, label="x", address="y", is_default=True)
    for product in products.values():
        sample = ask(users, other, product)
        deliver(users, sample)
        judge(users, sample)
    [check] = sample_checks(entered())
    assert not check.ok


def test_a_product_the_customer_ordered_and_we_signed_off_before_is_not_new(users, deliverable, entered):
    deliverable()  # the head signed off an earlier order with both products
    assert sample_checks(entered()) == []
    # A draft or a cancelled earlier order does not make a product known.


def test_a_draft_or_cancelled_earlier_order_does_not_make_a_product_known(users, entered):
    entered()  # a draft
    cancelled = entered()
    order_services.order_submit(user=users["cs"], order=cancelled)
    order_services.change_request(
        user=users["cs"], order=cancelled, revision_seen=1, origin="company", reason="取消", kind="cancel"
    )
    [check] = sample_checks(entered())
    assert not check.ok


def test_technicals_card_shows_the_approved_samples_with_their_conditions(
    client_for, users, entered, customer, products
):
    approved = ask(users, customer, products["lamp"])
    deliver(users, approved)
    judge(users, approved, outcome="approved_cond", conditions="颜色按色板 C-3")
    order = entered()
    order_services.order_submit(user=users["cs"], order=order)
    assert review_panels(order, "quality") == []
    [(template, panel)] = review_panels(order, "technical")
    assert template == "samples/_review_panel.html"
    rows = {row["product"].code: row for row in panel["rows"]}
    assert [s.pk for s in rows["P-1"]["samples"]] == [approved.pk] and rows["P-2"]["samples"] == []
    page = client_for("tech").get(reverse("orders:detail", args=[order.number])).content.decode()
    assert approved.get_absolute_url() in page and "颜色按色板 C-3" in page
    assert 'data-testid="sample-panel"' in page and page.count('data-testid="sample-panel"') == 1
    assert FLAG.replace("'", "&#x27;") in page and "line 2 (P-2)" in page


def test_a_no_on_technicals_sample_item_is_an_objection_as_today(users, entered):
    order = entered()
    order_services.order_submit(user=users["cs"], order=order)
    step = ReviewStep.objects.get(order=order, department="technical", status="open")
    answers = {item["key"]: item["key"] != "sample_approved" for item in step.checklist.items}
    assert "sample_approved" in answers
    with pytest.raises(DomainError, match="objection"):  # the flag is the department's to judge, as before
        order_services.step_sign(user=users["tech"], step=step, revision_seen=1, answers=answers)
    order_services.step_object(user=users["tech"], step=step, revision_seen=1, reason="无客户书面样品承认书")
    step.refresh_from_db()
    order.refresh_from_db()
    assert step.status == "objected" and order.status == "on_hold"


def test_the_order_page_reads_the_samples_in_a_bounded_number_of_queries(
    client_for, users, entered, customer, products, django_assert_max_num_queries
):
    order = entered()
    order_services.order_submit(user=users["cs"], order=order)
    client = client_for("tech")
    url = reverse("orders:detail", args=[order.number])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for _ in range(5):
        for product in products.values():
            sample = ask(users, customer, product)
            deliver(users, sample)
            judge(users, sample)
    with django_assert_max_num_queries(len(before.captured_queries) + 2):
        client.get(url)
