"""Rows for the list tests, built straight in the database (the lists read them; the services are tested
elsewhere), and a helper that opens an exported workbook."""

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from customers.models import Customer, DeliveryAddress, Product
from orders.models import Order

HOSTILE = ["=1+2", "+SUM(A1)", "-3+4", "@cmd", "\tTAB", "\rCR"]


def workbook_sheet(response):
    """The first sheet of an exported .xlsx response, opened with openpyxl."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return load_workbook(BytesIO(body)).worksheets[0]


def sheet_rows(response) -> tuple[list, list[list]]:
    """(header, rows) of an exported .xlsx response, as the cells' values."""
    rows = [[c.value for c in r] for r in workbook_sheet(response).iter_rows()]
    return rows[0], rows[1:]


def assert_text_cells(response, values) -> None:
    """Every hostile value is in the workbook as plain text, exactly as typed (leading tab/CR included), none as
    a formula."""
    found = {}
    for row in workbook_sheet(response).iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula cell {cell.coordinate}: {cell.value!r}"
            if isinstance(cell.value, str):
                found[cell.value] = cell
    for value in values:
        if value not in found:  # without lxml, XML reads a carriage return back as a line feed
            value = value.replace("\r", "\n")
        assert value in found, f"{value!r} not in the workbook"
        assert found[value].data_type == "s"
        if value[0] in "=+-@":
            assert found[value].quotePrefix, value


def column(header: list, rows: list, english: str) -> list:
    """The cells of the column whose header ends with ``english``."""
    index = next(i for i, h in enumerate(header) if h == english or h.endswith(f" / {english}"))
    return [r[index] for r in rows]


def at(day_offset: int, hour: int = 10) -> datetime:
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def customer(db):
    customer = Customer.objects.create(code="L-001", name_zh="列表客户", name_en="List customer", status="active")
    DeliveryAddress.objects.create(customer=customer, label="总厂", address="东莞", is_default=True)
    return customer


@pytest.fixture
def product(db):
    return Product.objects.create(code="LP-1", name="灯罩")


@pytest.fixture
def make_order(users, customer):
    counter = iter(range(1, 10_000))

    def make(*, days: int = 0, po: str = "", status: str = "in_review", number: str = "", **fields):
        n = next(counter)
        order = Order.objects.create(
            number=number or f"SO-L{n:04d}",
            customer=fields.pop("customer", customer),
            customer_po=po or f"PO-{n:04d}",
            status=status,
            revision=1,
            created_by=users["cs"],
            **fields,
        )
        Order.objects.filter(pk=order.pk).update(created_at=at(days))  # auto_now_add: set the entry date after
        order.refresh_from_db()
        return order

    return make


# --- Generic checks every list goes through ------------------------------------------------------------------------


def export(client, url: str, params: dict | None = None) -> tuple[list, list[list]]:
    return sheet_rows(client.get(url, {**(params or {}), "format": "xlsx"}))


def _monotonic(values: list, descending: bool) -> bool:
    present = [v for v in values if v is not None]
    pairs = list(zip(present, present[1:], strict=False))
    return all((a >= b) if descending else (a <= b) for a, b in pairs)


def check_sorting(client, url: str, listing, identity: str, *, params=None, monotonic=(), skip=()) -> None:
    """Every sortable column of ``listing`` sorts the export both ways: the same rows, the non-empty ones in
    opposite orders, and for the keys in ``monotonic`` the exported values of that column in order."""
    params = params or {}
    checked = 0
    for column in listing.columns:
        if not column.sortable or column.key in skip:
            continue
        english = column.header().split(" / ")[-1]
        header, asc = export(client, url, {**params, "sort": column.key})
        _, desc = export(client, url, {**params, "sort": f"-{column.key}"})
        ids_asc, ids_desc = column_of(header, asc, identity), column_of(header, desc, identity)
        assert sorted(map(str, ids_asc)) == sorted(map(str, ids_desc)), column.key
        if column.export:
            values_asc, values_desc = column_of(header, asc, english), column_of(header, desc, english)
            with_value = [i for i, v in zip(ids_asc, values_asc, strict=True) if v is not None]
            with_value_desc = [i for i, v in zip(ids_desc, values_desc, strict=True) if v is not None]
            if column.key in monotonic:
                assert _monotonic(values_asc, False), (column.key, values_asc)
                assert _monotonic(values_desc, True), (column.key, values_desc)
                if len(set(values_asc) - {None}) == len(with_value):  # distinct values: exactly opposite orders
                    assert with_value == list(reversed(with_value_desc)), column.key
            if column.type != "text":  # no value (NULL) last, both ways; blank text is a value to the database
                assert values_asc[len(with_value) :] == [None] * (len(values_asc) - len(with_value)), column.key
        checked += 1
    assert checked, "no sortable column checked"


def column_of(header: list, rows: list, english: str) -> list:
    return column(header, rows, english)


def check_bad_date(client, url: str, identity: str, total: int, params=None) -> None:
    """A bad date: the page says so (no server error) and nothing is filtered, on the page and in the export."""
    params = {**(params or {}), "from": "2026-02-30", "to": "soon"}
    response = client.get(url, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not a date (use YYYY-MM-DD)" in html and 'data-testid="list-date-error"' in html
    header, rows = export(client, url, params)
    assert len(column_of(header, rows, identity)) == total


def check_bilingual(header: list) -> None:
    """Every header cell is "中文 / English" (the app's translations are complete for list headers)."""
    for cell in header:
        assert " / " in cell, cell
        zh, en = cell.split(" / ", 1)
        assert zh != en and any("\u4e00" <= ch <= "\u9fff" for ch in zh), cell


def check_forbidden(client, make_user, url: str, params=None) -> None:
    """Someone without the list's capability gets neither the page nor its export."""
    outsider = make_user("outsider")  # no department: no capability
    client.force_login(outsider)
    assert client.get(url, params or {}).status_code == 403
    assert client.get(url, {**(params or {}), "format": "xlsx"}).status_code == 403


def export_queries(client, url: str, params=None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sheet_rows(client.get(url, {**(params or {}), "format": "xlsx"}))  # warm the caches (the working-day calendar)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {**(params or {}), "format": "xlsx"})
        sheet_rows(response)
    return len(queries)
