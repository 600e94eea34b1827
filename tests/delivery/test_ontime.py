"""The monthly on-time delivery rate (§5.5.2): the rules on hand-built batches, the page, the command, and a
query count that does not grow with the batches."""

import random
import re
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, DeliveryAddress
from delivery import ontime
from delivery.management.commands.on_time_rate import Command as OnTimeRateCommand
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
from delivery.selectors import batches_with_delivery
from orders.models import Order, OrderLine
from tests.orders.conftest import customer, products  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.5.2")]

# A fixed "today" for the rules: June 2025 is the current, provisional month.
TODAY = date(2025, 6, 18)
MAY, JUNE = date(2025, 5, 1), date(2025, 6, 1)
_numbers = count(1)


class Build:
    """Orders, lines, batches and delivery notes straight through the ORM (no service rules in the way)."""

    def __init__(self, users, customer, products):  # noqa: F811
        self.user = users["cs"]
        self.customer = customer
        self.product = products["lamp"]

    def other_customer(self, code="C-0002"):
        other = Customer.objects.create(code=code, name_zh="苏州精诚科技", name_en="Suzhou Jingcheng", status="active")
        DeliveryAddress.objects.create(customer=other, label="厂", address="苏州", is_default=True)
        return other

    def order(self, buyer=None, status=Order.Status.CONFIRMED):
        n = next(_numbers)
        return Order.objects.create(
            number=f"SO-T-{n:05d}",
            customer=buyer or self.customer,
            customer_po=f"PO-{n}",
            status=status,
            created_by=self.user,
        )

    def batch(self, due, quantity="100", order=None, buyer=None):
        order = order or self.order(buyer=buyer)
        line = OrderLine.objects.create(
            order=order,
            position=order.lines.count() + 1,
            product=self.product,
            quantity=Decimal(quantity),
            unit_price=Decimal("1.50"),
            requested_date=due,
        )
        return DeliveryBatch.objects.create(line=line, quantity=Decimal(quantity), due_date=due, created_by=self.user)

    def deliver(self, batch, day, quantity=None, cancelled=False):
        buyer = batch.line.order.customer
        note = DeliveryNote.objects.create(
            number=f"DN-T-{next(_numbers)}",
            customer=buyer,
            address=buyer.addresses.get(),
            delivery_date=day,
            status=DeliveryNote.Status.CANCELLED if cancelled else DeliveryNote.Status.ISSUED,
            cancel_reason="wrong address" if cancelled else "",
            issued_by=self.user,
        )
        return DeliveryNoteLine.objects.create(note=note, batch=batch, quantity=Decimal(quantity or batch.quantity))


@pytest.fixture
def build(users, customer, products):  # noqa: F811
    return Build(users, customer, products)


def rate_of(month, customer=None, today=TODAY) -> ontime.MonthRate:  # noqa: F811
    rates = {r.month: r for r in ontime.monthly_rates(customer=customer, today=today)}
    return rates[month]


def counts(rate: ontime.MonthRate) -> tuple[int, int, int, int]:
    return rate.due, rate.on_time, rate.delivered_late, rate.not_delivered


# --- The rules ------------------------------------------------------------------------------------------------


def test_a_batch_delivered_on_its_due_date_is_on_time(build):
    batch = build.batch(date(2025, 5, 20))
    build.deliver(batch, date(2025, 5, 20))
    may = rate_of(MAY)
    assert counts(may) == (1, 1, 0, 0) and may.rate == Decimal("100.0") and not may.provisional


def test_a_batch_delivered_one_day_late_is_late(build):
    batch = build.batch(date(2025, 5, 20))
    build.deliver(batch, date(2025, 5, 21))
    may = rate_of(MAY)
    assert counts(may) == (1, 0, 1, 0) and may.late == 1 and may.rate == Decimal("0.0")


def test_a_batch_partly_delivered_by_its_due_date_and_the_rest_later_is_delivered_late(build):
    batch = build.batch(date(2025, 5, 20), quantity="100")
    build.deliver(batch, date(2025, 5, 19), quantity="60")
    build.deliver(batch, date(2025, 5, 23), quantity="40")
    assert counts(rate_of(MAY)) == (1, 0, 1, 0)


def test_a_batch_with_nothing_delivered_is_not_delivered(build):
    build.batch(date(2025, 5, 20))
    assert counts(rate_of(MAY)) == (1, 0, 0, 1)


def test_a_batch_only_partly_delivered_is_not_delivered(build):
    batch = build.batch(date(2025, 5, 20), quantity="100")
    build.deliver(batch, date(2025, 5, 10), quantity="99.999")
    assert counts(rate_of(MAY)) == (1, 0, 0, 1)


def test_two_partial_notes_both_by_the_due_date_are_on_time(build):
    batch = build.batch(date(2025, 5, 20), quantity="100")
    build.deliver(batch, date(2025, 5, 12), quantity="30")
    build.deliver(batch, date(2025, 5, 20), quantity="70")
    assert counts(rate_of(MAY)) == (1, 1, 0, 0)


def test_a_cancelled_delivery_note_does_not_count(build):
    cancelled_only = build.batch(date(2025, 5, 20))
    build.deliver(cancelled_only, date(2025, 5, 19), cancelled=True)
    reissued_late = build.batch(date(2025, 5, 20))
    build.deliver(reissued_late, date(2025, 5, 19), cancelled=True)
    build.deliver(reissued_late, date(2025, 5, 22))
    assert counts(rate_of(MAY)) == (2, 0, 1, 1)


def test_batches_of_a_cancelled_order_are_not_due(build):
    order = build.order(status=Order.Status.CANCELLED)
    build.batch(date(2025, 5, 20), order=order)
    build.batch(date(2025, 4, 20), order=order)
    build.deliver(build.batch(date(2025, 4, 20)), date(2025, 4, 20))
    assert counts(rate_of(MAY)) == (0, 0, 0, 0)
    assert counts(rate_of(date(2025, 4, 1))) == (1, 1, 0, 0)


def test_a_month_with_no_due_batches_has_no_rate(build):
    build.batch(date(2025, 4, 20))  # April has one, May has none
    may = rate_of(MAY)
    assert may.due == 0 and may.rate is None
    assert rate_of(date(2025, 4, 1)).rate == Decimal("0.0")


def test_the_rate_is_due_minus_late_over_due(build):
    for day in (3, 9, 15):
        build.deliver(build.batch(date(2025, 5, day)), date(2025, 5, day))
    build.batch(date(2025, 5, 28))
    assert rate_of(MAY).rate == Decimal("75.0")
    build.deliver(build.batch(date(2025, 4, 1)), date(2025, 4, 1))
    build.batch(date(2025, 4, 2))
    build.batch(date(2025, 4, 3))
    assert rate_of(date(2025, 4, 1)).rate == Decimal("33.3")


def test_a_batch_counts_in_the_month_of_its_due_date(build):
    batch = build.batch(date(2025, 4, 30))
    build.deliver(batch, date(2025, 5, 1))
    assert counts(rate_of(date(2025, 4, 1))) == (1, 0, 1, 0)
    assert rate_of(MAY).due == 0


def test_the_current_month_is_provisional_and_counts_only_settled_batches(build):
    build.deliver(build.batch(date(2025, 6, 2)), date(2025, 6, 2))  # on time
    build.batch(TODAY - timedelta(days=1))  # due yesterday, not delivered: late
    build.batch(TODAY)  # due today, not delivered yet: can still be on time, not counted
    build.batch(TODAY + timedelta(days=1))  # due tomorrow: not counted
    build.deliver(build.batch(date(2025, 6, 30)), date(2025, 6, 10))  # delivered early: on time, counted
    build.batch(date(2025, 7, 5))  # next month: not shown
    rates = ontime.monthly_rates(today=TODAY)
    june = rates[-1]
    assert june.month == JUNE and june.provisional
    assert counts(june) == (3, 2, 0, 1) and june.rate == Decimal("66.7")
    assert [r.provisional for r in rates].count(True) == 1


def test_the_last_24_months_are_shown_oldest_first_and_none_after_the_current(build):
    build.batch(date(2023, 7, 15))  # 24 months back from June 2025 is July 2023
    build.batch(date(2023, 6, 15))  # 25 months back: not shown
    rates = ontime.monthly_rates(today=TODAY)
    assert len(rates) == 24
    assert rates[0].month == date(2023, 7, 1) and rates[-1].month == JUNE
    assert rates[0].due == 1 and sum(r.due for r in rates) == 1
    assert [r.key for r in rates[:2]] == ["2023-07", "2023-08"]


def test_the_rate_per_customer(build):
    other = build.other_customer()
    build.deliver(build.batch(date(2025, 5, 10)), date(2025, 5, 10))
    build.batch(date(2025, 5, 10), buyer=other)
    build.batch(date(2025, 5, 11), buyer=other)
    assert counts(rate_of(MAY)) == (3, 1, 0, 2)
    assert counts(rate_of(MAY, customer=build.customer)) == (1, 1, 0, 0)
    assert counts(rate_of(MAY, customer=other)) == (2, 0, 0, 2) and rate_of(MAY, customer=other).rate == 0


def test_the_counts_agree_with_batches_with_delivery_on_a_random_mix(build):
    """The rate's one grouped query and selectors.batches_with_delivery() classify every batch alike."""
    rng = random.Random(552)
    other = build.other_customer()
    cancelled = build.order(status=Order.Status.CANCELLED)
    for i in range(60):
        due = date(2025, rng.choice([3, 4, 5, 6]), rng.randint(1, 28))
        quantity = str(rng.choice([10, 25, 100]))
        if i % 17 == 0:
            batch = build.batch(due, quantity=quantity, order=cancelled)
        else:
            batch = build.batch(due, quantity=quantity, buyer=other if i % 3 else None)
        for _ in range(rng.randint(0, 3)):
            part = Decimal(rng.choice([5, 10, 25, 100]))
            build.deliver(batch, due + timedelta(days=rng.randint(-5, 5)), quantity=part, cancelled=rng.random() < 0.1)
    expected = {}
    batches = batches_with_delivery().filter(due_date__lte=date(2025, 6, 30))
    for b in batches.exclude(line__order__status=Order.Status.CANCELLED):
        month = b.due_date.replace(day=1)
        due, on_time, late = expected.get(month, (0, 0, 0))
        on = b.delivered_on_time >= b.quantity
        if b.due_date >= TODAY and not on:
            continue  # the provisional month counts only settled batches
        expected[month] = (due + 1, on_time + on, late + (not on and b.delivered >= b.quantity))
    got = {r.month: (r.due, r.on_time, r.delivered_late) for r in ontime.monthly_rates(today=TODAY) if r.due}
    assert got == expected and sum(v[0] for v in got.values()) > 30


def test_late_batches_lists_the_delivered_late_and_the_not_delivered_of_the_month(build):
    on_time = build.batch(date(2025, 5, 3))
    build.deliver(on_time, date(2025, 5, 3))
    late = build.batch(date(2025, 5, 9))
    build.deliver(late, date(2025, 5, 12))
    missing = build.batch(date(2025, 5, 1))
    cancelled_order = build.batch(date(2025, 5, 2), order=build.order(status=Order.Status.CANCELLED))
    build.batch(date(2025, 4, 2))  # another month
    listed = list(ontime.late_batches(MAY, today=TODAY))
    assert [b.pk for b in listed] == [missing.pk, late.pk]
    assert [b.delivered_in_full for b in listed] == [False, True]
    assert cancelled_order.pk not in [b.pk for b in listed]
    assert len(listed) == rate_of(MAY).late


def test_late_batches_of_the_current_month_stop_before_today(build):
    due_yesterday = build.batch(TODAY - timedelta(days=1))
    build.batch(TODAY)  # not late until the day is over
    build.batch(TODAY + timedelta(days=2))
    assert [b.pk for b in ontime.late_batches(JUNE, today=TODAY)] == [due_yesterday.pk]


@pytest.mark.parametrize("text", ["2025-13", "2025-6", "06-2025", "2025/06", "", "abcd-ef", "0000-01"])
def test_a_month_must_be_written_yyyy_mm(text):
    with pytest.raises(ontime.DomainError, match="YYYY-MM"):
        ontime.parse_month(text)


def test_months_are_counted_across_years():
    assert ontime.add_months(date(2025, 1, 1), -1) == date(2024, 12, 1)
    assert ontime.add_months(date(2025, 11, 1), 2) == date(2026, 1, 1)
    assert ontime.add_months(date(2025, 6, 1), -23) == date(2023, 7, 1)
    assert ontime.month_end(date(2024, 2, 1)) == date(2024, 2, 29)


# --- The command ----------------------------------------------------------------------------------------------


def run_command(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("on_time_rate", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_rate_with_its_counts(build):
    build.deliver(build.batch(date(2025, 5, 3)), date(2025, 5, 3))
    build.deliver(build.batch(date(2025, 5, 4)), date(2025, 5, 9))
    build.batch(date(2025, 5, 5))
    build.batch(date(2025, 5, 6))
    out = run_command("--month", "2025-05")
    assert "2025-05 (all customers)" in out and "provisional" not in out
    assert "On-time rate: 25.0% (due 4, on time 1, delivered late 1, not delivered 2)" in out


def test_the_command_for_one_customer(build):
    other = build.other_customer()
    build.deliver(build.batch(date(2025, 5, 3)), date(2025, 5, 3))
    build.batch(date(2025, 5, 3), buyer=other)
    out = run_command("--month", "2025-05", "--customer", "C-0001")
    assert "C-0001" in out and "On-time rate: 100.0% (due 1, on time 1, delivered late 0, not delivered 0)" in out
    out = run_command("--month=2025-05", "--customer=c-0002")  # the code, ignoring case
    assert "C-0002" in out and "On-time rate: 0.0% (due 1, on time 0, delivered late 0, not delivered 1)" in out


def test_the_command_says_there_is_no_rate_for_a_month_without_due_batches(build):
    build.batch(date(2025, 4, 3))
    out = run_command("--month", "2025-05")
    assert "No batches due in 2025-05: there is no rate." in out
    assert "%" not in out


def test_the_command_marks_the_current_month_provisional(build):
    today = timezone.localdate()
    build.deliver(build.batch(today), today)
    build.batch(today + timedelta(days=40))
    out = run_command("--month", ontime.month_key(today))
    assert "provisional" in out and "(due 1, on time 1," in out
    future = ontime.month_key(ontime.add_months(today, 2))
    assert "there is no rate" in run_command("--month", future)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--month", "2025-13"], "“2025-13” is not a month: write it as YYYY-MM"),
        (["--month", "May 2025"], "is not a month"),
        (["--month", "2025-05", "--customer", "NOPE"], "There is no customer with the code “NOPE”."),
        ([], "the following arguments are required: --month"),
    ],
)
def test_the_command_refuses_a_bad_month_or_an_unknown_customer(build, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run_command(*args)


def test_the_command_exits_1_on_an_error_and_0_when_it_worked(build, capsys, monkeypatch):
    # run_from_argv is what manage.py calls; it closes connections at the end, which a test must keep.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        OnTimeRateCommand().run_from_argv(["manage.py", "on_time_rate", "--month", "2025-5"])
    assert exited.value.code == 1 and "is not a month" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        OnTimeRateCommand().run_from_argv(["manage.py", "on_time_rate", "--month", "2025-05", "--customer", "X"])
    assert exited.value.code == 1 and "no customer" in capsys.readouterr().err
    OnTimeRateCommand().run_from_argv(["manage.py", "on_time_rate", "--month", "2025-05"])
    assert "there is no rate" in capsys.readouterr().out


# --- The page -------------------------------------------------------------------------------------------------

URL = "/delivery/on-time/"


def test_the_page_is_named_in_the_delivery_namespace():
    assert reverse("delivery:ontime") == URL


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("who", ["cs", "warehouse", "qa", "rep"])
def test_every_department_sees_the_page(client_for, who):
    response = client_for(who).get(URL)
    assert response.status_code == 200
    assert b'id="ontime-data"' in response.content and b"js/ontime.js" in response.content
    assert b"vendor/chartjs/chart.umd.min.js" in response.content


def test_the_page_shows_24_months_with_a_dash_where_nothing_was_due(client_for, build):
    today = timezone.localdate()
    last = ontime.add_months(ontime.month_start(today), -1)
    build.deliver(build.batch(last.replace(day=10)), last.replace(day=10))
    build.batch(last.replace(day=11))
    response = client_for("cs").get(URL)
    assert [r.key for r in response.context["rates"]][0] == ontime.month_key(today)  # newest first
    assert len(response.context["rates"]) == 24
    html = response.content.decode()
    row = _row(html, ontime.month_key(last))
    assert _cell(row, "due") == "2" and _cell(row, "on-time") == "1" and _cell(row, "not-delivered") == "1"
    assert _cell(row, "rate") == "50.0%"
    empty = _row(html, ontime.month_key(ontime.add_months(last, -1)))
    assert "—" in _cell(empty, "rate") and _cell(empty, "due") == "0"
    current = _row(html, ontime.month_key(today))
    assert 'data-testid="provisional"' in current
    assert 'data-testid="provisional"' not in row
    chart = response.context["chart"]
    assert chart["months"][-1] == ontime.month_key(today) and chart["rate"][-2] == 50.0
    assert chart["rate"][-3] is None  # no rate: a gap in the line, not 0 or 100


def test_the_page_filters_by_customer(client_for, build):
    other = build.other_customer()
    last = ontime.add_months(ontime.month_start(timezone.localdate()), -1)
    build.batch(last.replace(day=3), buyer=other)
    build.deliver(build.batch(last.replace(day=3)), last.replace(day=3))
    response = client_for("cs").get(URL, {"customer": other.code})
    assert response.status_code == 200 and response.context["customer"] == other
    row = _row(response.content.decode(), ontime.month_key(last))
    assert _cell(row, "due") == "1" and _cell(row, "rate") == "0.0%"
    assert client_for("cs").get(URL, {"customer": "NOPE"}).status_code == 404


def test_the_page_lists_the_late_batches_of_a_month_linked_to_their_orders(client_for, build):
    last = ontime.add_months(ontime.month_start(timezone.localdate()), -1)
    late = build.batch(last.replace(day=5))
    build.deliver(late, last.replace(day=8))
    missing = build.batch(last.replace(day=6))
    on_time = build.batch(last.replace(day=7))
    build.deliver(on_time, last.replace(day=7))
    response = client_for("qa").get(URL, {"month": ontime.month_key(last)})
    html = response.content.decode()
    assert [b.pk for b in response.context["page"]] == [late.pk, missing.pk]
    assert f'data-testid="late-batch-{on_time.pk}"' not in html
    assert f'href="{late.line.order.get_absolute_url()}"' in html
    assert f'href="{missing.line.order.get_absolute_url()}"' in html
    assert "Late batches of" in html and "(2)" in html


def test_a_bad_month_is_a_warning_not_an_error(client_for, build):
    response = client_for("cs").get(URL, {"month": "2025-13"})
    assert response.status_code == 200 and response.context["page"] is None
    assert "is not a month" in response.content.decode()
    response = client_for("cs").get(URL, {"month": "1999-01"})  # not among the months shown
    assert response.status_code == 200 and response.context["page"] is None


def test_the_page_queries_do_not_grow_with_the_batches(client_for, build):
    today = timezone.localdate()
    last = ontime.add_months(ontime.month_start(today), -1)
    client = client_for("cs")
    url = f"{URL}?month={ontime.month_key(last)}"

    def add(n):
        for i in range(n):
            batch = build.batch(ontime.add_months(last, -(i % 20)).replace(day=1 + i % 27))
            if i % 3:
                build.deliver(batch, batch.due_date + timedelta(days=i % 2))

    add(6)
    client.get(url)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(60)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    # 14: the counts (batches per due date, unplanned lines), the closed months' records with their restatements,
    # the late list, beside the session, the user, the permissions and the customers of the filter.
    assert len(many) == len(few) <= 14


def test_months_are_not_cached_and_any_change_is_seen_at_once(client_for, build):
    """Every month is counted from the batches' stored state on each call (no cache that could be stale): a
    delivery entered late for a closed month shows immediately, in a fixed number of queries."""
    today = timezone.localdate()
    last = ontime.add_months(ontime.month_start(today), -1)
    batch = build.batch(last.replace(day=10))
    first = {r.key: r for r in ontime.monthly_rates()}
    assert first[ontime.month_key(last)].not_delivered == 1
    with CaptureQueriesContext(connection) as queries:
        ontime.monthly_rates()
    # The batches per due date, the unplanned lines, and the closed months' records (with their restatements
    # when there are any).
    assert len(queries) <= 4
    build.deliver(batch, batch.due_date)  # yesterday's paperwork, entered today
    again = {r.key: r for r in ontime.monthly_rates()}
    assert again[ontime.month_key(last)].on_time == 1 and again[ontime.month_key(last)].not_delivered == 0


def _row(html: str, key: str) -> str:
    match = re.search(rf'<tr data-testid="ontime-row-{key}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, key
    return match[1]


def _cell(row: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</td>', row, re.S)
    assert match, testid
    return re.sub(r"<[^>]+>", "", match[1]).strip()
