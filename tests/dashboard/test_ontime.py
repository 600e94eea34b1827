"""The dashboard's on-time figures (§5.5.2) equal the on-time page's: the last 12 months, this month
(provisional) and last month, the customers with the most late batches, against the ONTIME_TARGET setting."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery import ontime
from orders.models import OrderLine

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.5.2")]

TODAY = timezone.localdate()
THIS = ontime.month_start(TODAY)
LAST = ontime.add_months(THIS, -1)


@pytest.fixture
def history(build):
    """Last month: A has 3 due (1 on time, 1 delivered late, 1 not delivered), B 2 due (1 on time, 1 not
    delivered) and an unplanned line (late), C one on time. This month: A has one batch due before today (late)
    when today is not the 1st. Thirteen months ago: one late batch of C (outside the 12-month trend)."""
    a, b, c = build.customer("A-01"), build.customer("B-01"), build.customer("C-01")
    day = LAST.replace(day=10)
    build.deliver(build.batch(a, day), day)
    build.deliver(build.batch(a, day), day + timedelta(days=3))
    build.batch(a, day)
    build.deliver(build.batch(b, day), day - timedelta(days=1))
    build.batch(b, day)
    order = build.order(b)
    OrderLine.objects.create(
        order=order, position=1, product=build.product(), quantity=50, unit_price=Decimal("1.5"), requested_date=day
    )
    build.deliver(build.batch(c, day), day)
    if TODAY > THIS:
        build.batch(a, THIS)
    old = ontime.add_months(THIS, -13).replace(day=5)
    build.batch(c, old)
    return {"a": a, "b": b, "c": c}


def _figures(rates):
    return [(r.key, r.due, r.late, r.rate, r.provisional) for r in rates]


def test_it_shows_the_last_12_months_as_the_ontime_page_counts_them(history, dashboard, page):
    figures = dashboard()["ontime"]
    on_page = list(reversed(page(reverse("delivery:ontime"))["rates"]))  # the page shows newest first
    assert len(figures.months) == 12
    assert _figures(figures.months) == _figures(on_page[-12:])
    assert figures.months[-1].key == ontime.month_key(THIS) and figures.months[-1].provisional
    assert _figures([figures.this_month, figures.last_month]) == _figures([on_page[-1], on_page[-2]])
    # The hand-built month: 7 due (with the unplanned line), 4 late.
    assert (figures.last_month.due, figures.last_month.late) == (7, 4)
    assert figures.last_month.rate == Decimal("42.9")
    assert figures.this_month.late == (1 if TODAY > THIS else 0)
    # Thirteen months ago is in the page's 24 months, not in the dashboard's 12.
    assert ontime.month_key(ontime.add_months(THIS, -13)) not in [m.key for m in figures.months]


def test_the_customers_with_most_late_batches_are_those_of_the_late_list(history, dashboard, page):
    figures = dashboard()["ontime"]
    late = [(item.customer.code, item.late) for item in figures.late_customers]
    assert late == [("A-01", 2), ("B-01", 2)]  # C had nothing late; B's unplanned line is late too
    for item in figures.late_customers:
        url = f"{reverse('delivery:ontime')}?customer={item.customer.code}&month={ontime.month_key(LAST)}"
        context = page(url)
        assert context["page"].paginator.count + len(context["late_unplanned"]) == item.late


def test_the_page_links_each_month_and_customer_to_the_ontime_page(history, client_for):
    html = client_for("head").get(reverse("dashboard:home")).content.decode()
    assert f'href="/delivery/on-time/?month={ontime.month_key(LAST)}"' in html
    assert f'href="/delivery/on-time/?customer=A-01&amp;month={ontime.month_key(LAST)}"' in html


def test_the_target_is_a_setting(history, dashboard, settings, client_for):
    settings.ONTIME_TARGET = Decimal("97.5")
    figures = dashboard()["ontime"]
    assert figures.target == Decimal("97.5")
    rated = [m for m in figures.months if m.rate is not None]
    assert figures.below_target == sum(1 for m in rated if m.rate < Decimal("97.5"))
    html = client_for("head").get(reverse("dashboard:home")).content.decode()
    assert 'data-testid="ontime-target">97.5%' in html
    assert "target 97.5%" in html  # the dashed line of the chart
    settings.ONTIME_TARGET = Decimal("40")  # last month's 42.9% is above it; this month's 0% (if any) below
    assert dashboard()["ontime"].below_target == (1 if TODAY > THIS else 0)


def test_a_month_with_nothing_due_has_no_rate(dashboard):
    figures = dashboard()["ontime"]
    assert all(m.due == 0 and m.rate is None for m in figures.months)
    assert figures.late_customers == []
