"""The order list (§5.2) and the internal memos (§5.3.1): sorted by their columns, filtered by a date range, and
exported as exactly the rows the filters keep."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from orders.models import Memo
from orders.views import MEMOS, ORDERS
from tests.lists.conftest import (
    HOSTILE,
    assert_text_cells,
    at,
    check_bad_date,
    check_bilingual,
    check_forbidden,
    check_sorting,
    column,
    export,
    export_queries,
)

pytestmark = [pytest.mark.clause("7"), pytest.mark.clause("5.2")]

URL = reverse("orders:list")
MEMO_URL = reverse("orders:memos")
TODAY = timezone.localdate()


@pytest.fixture
def orders(make_order, customer):
    other = Customer.objects.create(code="L-002", name_zh="第二客户", name_en="Second", status="active")
    return [
        make_order(po="PO-A", status="in_review", days=-30),
        make_order(po="PO-B", status="in_review", days=-3, erp_number="SAP-9"),
        make_order(po="PO-C", status="confirmed", days=-1, customer=other),
        make_order(po="PO-D", status="draft", days=0),
    ]


def test_it_exports_exactly_the_filtered_rows_with_typed_cells(client_for, orders):
    header, rows = export(client_for("cs"), URL, {"status": "in_review"})
    assert sorted(column(header, rows, "Customer PO")) == ["PO-A", "PO-B"]
    check_bilingual(header)
    assert header[0] == "订单号 / Order no."
    assert all(isinstance(v, datetime) for v in column(header, rows, "Entered"))
    assert all(isinstance(v, int) for v in column(header, rows, "revision"))


def test_the_export_takes_every_filtered_row_not_only_the_page(client_for, make_order, settings):
    import orders.views

    for _ in range(7):
        make_order()
    orders.views.PAGE_SIZE, old = 3, orders.views.PAGE_SIZE
    try:
        client = client_for("cs")
        assert len(client.get(URL).context["page"].object_list) == 3
        header, rows = export(client, URL)
        assert len(rows) == 7
    finally:
        orders.views.PAGE_SIZE = old


def test_search_and_date_range_narrow_the_export_as_the_page(client_for, orders):
    client = client_for("cs")
    params = {"from": (TODAY - timedelta(days=5)).isoformat(), "to": (TODAY - timedelta(days=1)).isoformat()}
    page = client.get(URL, params)
    assert [o.customer_po for o in page.context["page"]] == ["PO-C", "PO-B"]
    header, rows = export(client, URL, params)
    assert column(header, rows, "Customer PO") == ["PO-C", "PO-B"]
    header, rows = export(client, URL, {**params, "q": "SAP-9"})
    assert column(header, rows, "Customer PO") == ["PO-B"]


def test_a_datetime_is_filtered_by_its_local_day(client_for, make_order):
    late_evening = at(-2, hour=23)
    order = make_order(po="PO-LATE")
    type(order).objects.filter(pk=order.pk).update(created_at=late_evening)
    day = timezone.localtime(late_evening).date().isoformat()
    header, rows = export(client_for("cs"), URL, {"from": day, "to": day})
    assert column(header, rows, "Customer PO") == ["PO-LATE"]


def test_every_sortable_column_sorts_both_ways(client_for, orders):
    check_sorting(
        client_for("cs"),
        URL,
        ORDERS,
        "Order no.",
        monotonic={"number", "revision", "customer", "po", "erp", "open_steps", "entered"},
    )


def test_the_page_follows_the_sort_and_ignores_an_unknown_key(client_for, orders):
    client = client_for("cs")
    assert [o.customer_po for o in client.get(URL, {"sort": "po"}).context["page"]] == ["PO-A", "PO-B", "PO-C", "PO-D"]
    assert [o.customer_po for o in client.get(URL, {"sort": "-po"}).context["page"]] == ["PO-D", "PO-C", "PO-B", "PO-A"]
    newest_first = [o.customer_po for o in client.get(URL).context["page"]]
    assert [o.customer_po for o in client.get(URL, {"sort": "customer__password"}).context["page"]] == newest_first
    html = client.get(URL, {"sort": "po"}).content.decode()
    assert 'href="?sort=-po"' in html and 'aria-sort="ascending"' in html


def test_a_bad_date_is_a_message_not_an_error(client_for, orders):
    check_bad_date(client_for("cs"), URL, "Order no.", len(orders))


def test_hostile_text_is_exported_as_text(client_for, make_order, customer):
    customer.name_zh = '=HYPERLINK("http://evil")'
    customer.save()
    for value in HOSTILE:
        make_order(po=value)
    response = client_for("cs").get(URL, {"format": "xlsx"})
    assert_text_cells(response, [*HOSTILE, customer.name_zh])


def test_the_export_needs_the_lists_capability(client, make_user, orders):
    check_forbidden(client, make_user, URL)


def test_the_exports_queries_do_not_grow_with_its_rows(client_for, make_order):
    client = client_for("cs")
    for _ in range(3):
        make_order()
    few = export_queries(client, URL)
    for _ in range(30):
        make_order()
    assert export_queries(client, URL) == few


# --- Memos ------------------------------------------------------------------------------------------------------


@pytest.fixture
def memos(users, make_order):
    order = make_order()
    made = []
    for n, (topic, subject, days) in enumerate(
        [("order_change", "Change A", -10), ("return", "Return B", -2), ("other", "=cmd|' /C calc'!A0", 0)]
    ):
        memo = Memo.objects.create(
            number=f"M-{n:03d}",
            topic=topic,
            order=order if topic == "order_change" else None,
            subject=subject,
            body="…",
            departments=["quality"],
            issued_by=users["cs"],
        )
        Memo.objects.filter(pk=memo.pk).update(issued_at=at(days))
        made.append(memo)
    return made


@pytest.mark.clause("5.3.1")
def test_memos_export_the_filtered_rows(client_for, memos):
    client = client_for("qa")
    header, rows = export(client, MEMO_URL, {"topic": "return"})
    assert column(header, rows, "Subject") == ["Return B"]
    check_bilingual(header)
    header, rows = export(client, MEMO_URL, {"from": (TODAY - timedelta(days=3)).isoformat()})
    assert sorted(column(header, rows, "No.")) == ["M-001", "M-002"]
    assert all(isinstance(v, int) for v in column(header, rows, "Not yet acknowledged"))
    assert_text_cells(client.get(MEMO_URL, {"format": "xlsx"}), ["=cmd|' /C calc'!A0"])


@pytest.mark.clause("5.3.1")
def test_memos_sort_by_each_column(client_for, memos):
    check_sorting(client_for("qa"), MEMO_URL, MEMOS, "No.", monotonic={"number", "subject", "issued", "waiting"})


@pytest.mark.clause("5.3.1")
def test_memos_bad_date_permission_and_bounded_queries(client, client_for, make_user, memos):
    check_bad_date(client_for("qa"), MEMO_URL, "No.", 3)
    few = export_queries(client_for("qa"), MEMO_URL)
    order = memos[0].order
    for n in range(10):
        Memo.objects.create(number=f"M-X{n}", order=order, subject="s", body="b", issued_by=order.created_by)
    assert export_queries(client_for("qa"), MEMO_URL) == few
    check_forbidden(client, make_user, MEMO_URL)
