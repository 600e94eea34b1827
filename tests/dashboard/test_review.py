"""The dashboard's order-review figures (§5.2.4): orders by stage as the order list counts them, review time per
department (median and slowest over the last 30 days), steps overdue per department by the rule of
orders.selectors.is_overdue, and the objections open."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import selectors as order_selectors
from orders import services as order_services
from orders.models import Order, ReviewStep
from tests.orders.conftest import sign

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.4"), pytest.mark.clause("5.2.1")]


@pytest.fixture
def reviews(entered, users):
    """Three orders in review; times set by hand: Product group signed after 2 h and 6 h (and once 40 days ago,
    outside the window), Marketing after 4 h; Quality's step of the first order waiting for ten days; an
    objection raised by Technical on the third."""
    now = timezone.now()
    first, second, third = (entered() for _ in range(3))
    for order in (first, second, third):
        order_services.order_submit(user=users["cs"], order=order)
    sign(users, first, "product")
    sign(users, second, "product")
    sign(users, second, "marketing")
    sign(users, third, "product")

    def times(order, department, opened_hours_ago, signed_hours_ago=None):
        fields = {"opened_at": now - timedelta(hours=opened_hours_ago)}
        if signed_hours_ago is not None:
            fields["signed_at"] = now - timedelta(hours=signed_hours_ago)
        ReviewStep.objects.filter(order=order, department=department).update(**fields)

    times(first, "product_group", 30, 28)  # 2 h
    times(second, "product_group", 10, 4)  # 6 h
    times(second, "marketing", 5, 1)  # 4 h
    times(third, "product_group", 40 * 24 + 5, 40 * 24)  # signed 40 days ago: outside the window
    times(first, "quality", 10 * 24)  # waiting for ten days: overdue
    step = ReviewStep.objects.get(order=third, department="technical", status="open")
    third.refresh_from_db()
    order_services.step_object(user=users["tech"], step=step, revision_seen=third.revision, reason="样品未确认")
    return first, second, third


def test_orders_by_stage_are_the_order_list_counts(reviews, entered, dashboard, page):
    entered()  # a draft
    review = dashboard()["review"]
    stages = {value: n for value, _label, n in review.stages}
    assert set(stages) == set(Order.Status.values)
    assert stages["in_review"] == 2 and stages["on_hold"] == 1 and stages["draft"] == 1
    for value, n in stages.items():
        assert page(f"{reverse('orders:list')}?status={value}")["page"].paginator.count == n
        assert order_selectors.order_list(status=value).count() == n


def test_review_time_per_department_is_the_median_and_slowest_of_the_last_30_days(reviews, dashboard):
    departments = {item.department: item for item in dashboard()["review"].departments}
    product = departments["product_group"]
    assert (product.signed, product.median_hours, product.slowest_hours) == (2, Decimal("4.0"), Decimal("6.0"))
    marketing = departments["marketing"]
    assert (marketing.signed, marketing.median_hours, marketing.slowest_hours) == (1, Decimal("4.0"), Decimal("4.0"))
    # The objection is not a signature; no department without signatures gets a time.
    assert departments["technical"].signed == 0 and departments["technical"].median_hours is None


def test_steps_overdue_per_department_follow_the_order_pages_rule(reviews, dashboard):
    departments = {item.department: item for item in dashboard()["review"].departments}
    today = timezone.localdate()
    open_steps = list(ReviewStep.objects.filter(status=ReviewStep.Status.OPEN))
    for department, item in departments.items():
        mine = [s for s in open_steps if s.department == department]
        assert item.waiting == len(mine)
        assert item.overdue == sum(1 for s in mine if order_selectors.is_overdue(s, today))
    assert departments["quality"].overdue == 1 and departments["quality"].waiting == 3
    assert sum(item.overdue for item in departments.values()) == 1


def test_objections_open_and_orders_on_hold(reviews, dashboard, page, users):
    review = dashboard()["review"]
    assert (review.objections_open, review.orders_on_hold) == (1, 1)
    assert page(f"{reverse('orders:list')}?status=on_hold")["page"].paginator.count == review.orders_on_hold
    objection = reviews[2].steps.get(status="objected").objection
    order_services.objection_settle(user=users["marketing"], objection=objection, outcome="客户已书面确认")
    review = dashboard()["review"]
    assert (review.objections_open, review.orders_on_hold) == (0, 0)
