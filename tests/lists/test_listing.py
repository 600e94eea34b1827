"""The shared list mechanism (§7: records people can find and take away): sort keys checked against the columns,
the date range with a clear message on a bad date, and workbooks with bilingual headers, typed cells and text that
never runs as a formula."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from common.listing import DATE, DATETIME, NUMBER, Column, Listing
from orders.models import Order
from tests.lists.conftest import HOSTILE

pytestmark = [pytest.mark.clause("7")]

ROWS = [
    {"name": "b", "qty": Decimal("2.5"), "day": date(2026, 3, 2), "at": None},
    {"name": "A", "qty": None, "day": date(2026, 1, 15), "at": None},
    {"name": "c", "qty": 7, "day": date(2026, 2, 1), "at": None},
]

LIST = Listing(
    name="things",
    columns=[
        Column("name", gettext_lazy("Customer"), "name", sort=True),
        Column("qty", gettext_lazy("Quantity"), "qty", NUMBER, sort=True),
        Column("day", gettext_lazy("Delivery date"), "day", DATE, sort=True),
        Column("at", gettext_lazy("Recorded"), "at", DATETIME),
    ],
    default_sort="-day",
    date_field="day",
)


def bound(**params):
    return LIST.bind(params=params)


def names(rows):
    return [r["name"] for r in rows]


def test_it_sorts_by_a_column_both_ways_with_no_value_last():
    assert names(bound(sort="name").apply(ROWS)) == ["A", "b", "c"]
    assert names(bound(sort="-name").apply(ROWS)) == ["c", "b", "A"]
    assert names(bound(sort="qty").apply(ROWS)) == ["b", "c", "A"]
    assert names(bound(sort="-qty").apply(ROWS)) == ["c", "b", "A"]


@pytest.mark.parametrize("key", ["nope", "-nope", "at", "__class__", "name; drop table", ""])
def test_an_unknown_or_unsortable_key_falls_back_to_the_default_order(key):
    listed = bound(sort=key)
    assert listed.sort == "-day"
    assert names(listed.apply(ROWS)) == ["b", "c", "A"]


def test_an_unknown_key_never_reaches_order_by(db):
    listing = Listing(name="o", columns=[Column("number", "No.", "number", sort="number")])
    query = str(listing.bind(params={"sort": "customer__password"}).apply(Order.objects.all()).query)
    assert "password" not in query
    query = str(listing.bind(params={"sort": "-number"}).apply(Order.objects.all()).query)
    assert '"number" DESC' in query


def test_the_date_range_keeps_the_days_inside_both_ends():
    assert names(bound(**{"from": "2026-02-01", "to": "2026-03-02"}).apply(ROWS)) == ["b", "c"]
    assert names(bound(**{"from": "2026-02-02"}).apply(ROWS)) == ["b"]
    assert names(bound(to="2026-01-31").apply(ROWS)) == ["A"]


@pytest.mark.parametrize(
    "params", [{"from": "2026-13-01"}, {"to": "yesterday"}, {"from": "2026-03-01", "to": "2026-02-01"}]
)
def test_a_bad_date_says_so_and_filters_nothing(params):
    listed = bound(**params)
    assert listed.errors and ("not a date" in listed.errors[0] or "before the start" in listed.errors[0])
    assert len(listed.apply(ROWS)) == 3


def test_a_nul_byte_in_a_date_is_a_bad_date_not_a_crash():
    listed = bound(**{"from": "2026-01-01\x00"})
    assert listed.date_from == date(2026, 1, 1) and not listed.errors


def test_the_header_is_chinese_and_english_whatever_the_language(settings):
    from django.utils import translation

    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert LIST.by_key["name"].header() == "客户 / Customer"
            assert LIST.by_key["qty"].header() == "数量 / Quantity"


def _book(listed, rows):
    out = BytesIO()
    listed.write_workbook(rows, out)
    out.seek(0)
    return load_workbook(out).worksheets[0]


def test_the_workbook_holds_typed_numbers_and_dates_and_local_datetimes(settings):
    moment = timezone.make_aware(datetime(2026, 3, 2, 23, 30), timezone.get_fixed_timezone(0))
    rows = [{"name": "x", "qty": Decimal("2.5"), "day": date(2026, 3, 2), "at": moment}]
    sheet = _book(bound(), rows)
    header, row = list(sheet.iter_rows())
    assert [c.value for c in header] == [
        "客户 / Customer",
        "数量 / Quantity",
        "送货日期 / Delivery date",
        "登记 / Recorded",
    ]
    assert row[1].data_type == "n" and row[1].value == 2.5
    assert row[2].is_date and row[2].value.date() == date(2026, 3, 2)
    local = timezone.localtime(moment).replace(tzinfo=None)
    assert row[3].is_date and row[3].value == local  # Excel has no time zones: the local time is written


def test_hostile_text_is_written_as_text_never_as_a_formula():
    rows = [{"name": value, "qty": 1, "day": date(2026, 1, 1), "at": None} for value in HOSTILE]
    sheet = _book(bound(), rows)
    cells = [r[0] for r in sheet.iter_rows(min_row=2)]
    # exactly as typed (without lxml, XML reads a carriage return back as a line feed)
    assert [c.value for c in cells] in (HOSTILE, [v.replace("\r", "\n") for v in HOSTILE])
    for cell in cells:
        assert cell.data_type == "s", cell.value
    assert all(c.quotePrefix for c in cells if c.value[0] in "=+-@")


def test_a_number_column_with_text_in_it_stays_text_and_safe():
    rows = [{"name": "n", "qty": "=2+2", "day": None, "at": None}]
    cell = list(_book(bound(), rows).iter_rows(min_row=2))[0][1]
    assert cell.data_type == "s" and cell.value == "=2+2"


def test_links_keep_the_filters_and_drop_the_page():
    listed = bound(q="x", page="3", sort="name")
    assert listed.header("name")["url"] == "?q=x&sort=-name"
    assert listed.header("qty")["url"] == "?q=x&sort=qty"
    assert listed.header("at")["url"] == ""  # not sortable: no link
    assert listed.export_query == "q=x&sort=name&format=xlsx"


def test_a_listing_refuses_a_default_sort_that_is_not_a_column():
    with pytest.raises(ValueError):
        Listing(name="x", columns=[Column("a", "A", "a")], default_sort="b")
    with pytest.raises(ValueError):
        Column("a", "A", "a", "money")


@pytest.mark.django_db
def test_a_column_that_is_never_null_sorts_plainly_so_an_index_can_serve_the_page():
    """NULLS LAST is only written for columns that can be NULL: PostgreSQL cannot read a plain index for
    ``DESC NULLS LAST``, and sorted every order (or delivery note) for each page of the default order."""
    orders = Listing(
        name="orders-sql",
        columns=[
            Column("entered", gettext_lazy("Entered"), "created_at", DATETIME, sort="created_at"),
            Column("erp", gettext_lazy("SAP order no."), "erp_number", sort="erp_number"),
            Column("customer", gettext_lazy("Customer code"), "customer.code", sort="customer__code"),
        ],
        default_sort="-entered",
    )
    plain = str(orders.bind(params={}).apply(Order.objects.all()).query).upper()
    assert "ORDER BY" in plain and "NULLS LAST" not in plain.split("ORDER BY")[1]
    nullable = Order._meta.get_field("erp_number").null
    sql = str(orders.bind(params={"sort": "erp"}).apply(Order.objects.all()).query).upper()
    assert ("NULLS LAST" in sql.split("ORDER BY")[1]) == nullable
    related = str(orders.bind(params={"sort": "customer"}).apply(Order.objects.all()).query).upper()
    assert "NULLS LAST" in related.split("ORDER BY")[1]  # through a relation: kept as it was
