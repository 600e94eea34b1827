"""Delivery lists: notes (§5.6.1), returns (§5.7.1), the reports of signed-back notes and transfers (§5.9), the
delivery-progress sheet (§5.4.2) and the on-time months with their late batches (§5.5.2) — sorted, filtered by a
date range, and exported as exactly what the filters keep."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine, Return, SignBack
from delivery.views import NOTES, RETURNS
from delivery.views_ontime import LATE, MONTHS
from delivery.views_records import REPORT_SIGNED
from delivery.views_sheet import SHEET
from orders.models import Order, OrderLine
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

pytestmark = [pytest.mark.clause("7"), pytest.mark.clause("5.6.1")]

TODAY = timezone.localdate()
NOTES_URL = reverse("delivery:notes")
RETURNS_URL = reverse("delivery:returns")
REPORTS_URL = reverse("delivery:reports")
SHEET_URL = reverse("delivery:sheet")
ONTIME_URL = reverse("delivery:ontime")
_n = count(1)


@pytest.fixture
def line_for(users, customer, product):
    def make(quantity="100", due=None, *, status="confirmed", po="", cust=None):
        n = next(_n)
        order = Order.objects.create(
            number=f"SO-D{n:04d}",
            customer=cust or customer,
            customer_po=po or f"PO-D{n}",
            status=status,
            created_by=users["cs"],
        )
        return OrderLine.objects.create(
            order=order,
            position=1,
            product=product,
            quantity=Decimal(quantity),
            unit_price=1,
            requested_date=due or TODAY + timedelta(days=10),
        )

    return make


@pytest.fixture
def make_note(users, customer, line_for):
    def make(quantity="100", on=None, *, status="issued", signed_on=None, signed_by="张伟", number=""):
        on = on or TODAY
        line = line_for(quantity, on)
        batch = DeliveryBatch.objects.create(line=line, quantity=line.quantity, due_date=on, created_by=users["cs"])
        note = DeliveryNote.objects.create(
            number=number or f"DN-L{next(_n):04d}",
            customer=customer,
            address=customer.addresses.first(),
            delivery_date=on,
            status=status,
            issued_by=users["cs"],
        )
        note_line = DeliveryNoteLine.objects.create(note=note, batch=batch, quantity=Decimal(quantity))
        if signed_on:
            SignBack.objects.create(
                note=note, scan="x.pdf", signed_by_name=signed_by, signed_on=signed_on, recorded_by=users["cs"]
            )
        note.note_line = note_line
        return note

    return make


@pytest.fixture
def notes(make_note):
    return [
        make_note("100", TODAY - timedelta(days=20), signed_on=TODAY - timedelta(days=18), number="DN-A"),
        make_note("250.5", TODAY - timedelta(days=5), number="DN-B"),
        make_note("30", TODAY - timedelta(days=2), status="cancelled", number="DN-C"),
        make_note("75", TODAY, signed_on=TODAY, signed_by="李四", number="DN-D"),
    ]


# --- Delivery notes -----------------------------------------------------------------------------------------------


def test_notes_export_exactly_the_filtered_rows_typed(client_for, notes):
    client = client_for("cs")
    header, rows = export(client, NOTES_URL, {"status": "unsigned"})
    assert column(header, rows, "Note no.") == ["DN-B"]
    check_bilingual(header)
    header, rows = export(client, NOTES_URL, {"status": "issued", "sort": "date"})
    assert column(header, rows, "Note no.") == ["DN-A", "DN-B", "DN-D"]
    assert column(header, rows, "Quantity") == [100, 250.5, 75]
    assert all(isinstance(v, date) for v in column(header, rows, "Delivery date"))
    assert column(header, rows, "Signed back")[0].date() == TODAY - timedelta(days=18)


def test_notes_date_range_and_search(client_for, notes):
    client = client_for("cs")
    params = {"from": (TODAY - timedelta(days=6)).isoformat(), "to": (TODAY - timedelta(days=1)).isoformat()}
    assert [n.number for n in client.get(NOTES_URL, params).context["page"]] == ["DN-C", "DN-B"]
    header, rows = export(client, NOTES_URL, params)
    assert column(header, rows, "Note no.") == ["DN-C", "DN-B"]
    header, rows = export(client, NOTES_URL, {**params, "q": "DN-B"})
    assert column(header, rows, "Note no.") == ["DN-B"]


def test_notes_sort_by_every_column(client_for, notes):
    check_sorting(
        client_for("cs"),
        NOTES_URL,
        NOTES,
        "Note no.",
        monotonic={"number", "customer", "date", "quantity", "signed_on", "signed_by"},
    )


def test_notes_bad_date_permission_queries(client, client_for, make_user, notes, make_note):
    check_bad_date(client_for("cs"), NOTES_URL, "Note no.", 4)
    few = export_queries(client_for("cs"), NOTES_URL)
    for _ in range(12):
        make_note(signed_on=TODAY)
    assert export_queries(client_for("cs"), NOTES_URL) == few
    check_forbidden(client, make_user, NOTES_URL)


def test_notes_hostile_text(client_for, make_note, customer):
    customer.name_zh = "@SUM(1)"
    customer.save()
    for value in HOSTILE:
        make_note(signed_on=TODAY, signed_by=value.strip() or "x")
    response = client_for("cs").get(NOTES_URL, {"format": "xlsx"})
    assert_text_cells(response, ["@SUM(1)", "=1+2", "+SUM(A1)", "-3+4", "@cmd"])


# --- Returns ------------------------------------------------------------------------------------------------------


@pytest.fixture
def returns(users, notes):
    made = []
    for note, (qty, reason, status, days) in zip(
        notes,
        [("5", "毛刺", "open", -9), ("2.5", "=cmd", "closed", -3), ("1", "色差", "open", -1)],
        strict=False,
    ):
        ret = Return.objects.create(
            note_line=note.note_line, quantity=Decimal(qty), reason=reason, status=status, recorded_by=users["cs"]
        )
        Return.objects.filter(pk=ret.pk).update(recorded_at=at(days))
        made.append(ret)
    return made


@pytest.mark.clause("5.7.1")
def test_returns_export_sort_and_filter(client_for, returns):
    client = client_for("qa")
    header, rows = export(client, RETURNS_URL, {"status": "open"})
    assert sorted(column(header, rows, "Reason")) == ["毛刺", "色差"]
    check_bilingual(header)
    header, rows = export(client, RETURNS_URL, {"from": (TODAY - timedelta(days=4)).isoformat()})
    assert sorted(column(header, rows, "Quantity")) == [1, 2.5]
    assert_text_cells(client.get(RETURNS_URL, {"format": "xlsx"}), ["=cmd"])
    check_sorting(client, RETURNS_URL, RETURNS, "Reason", monotonic={"recorded", "note", "quantity", "memos"})
    check_bad_date(client, RETURNS_URL, "Reason", 3)


@pytest.mark.clause("5.7.1")
def test_returns_need_the_capability(client, make_user, returns):
    check_forbidden(client, make_user, RETURNS_URL)


# --- Reports (signed back, transfers) -----------------------------------------------------------------------------


@pytest.mark.clause("5.9.1")
def test_the_signed_back_report_exports_its_table_sorted(client_for, notes):
    client = client_for("cs")
    period = {"from": (TODAY - timedelta(days=30)).isoformat(), "to": TODAY.isoformat()}
    header, rows = export(client, REPORTS_URL, {**period, "table": "signed", "sort": "-signed_on"})
    assert column(header, rows, "Note no.") == ["DN-D", "DN-A"]
    assert column(header, rows, "Quantity") == [75, 100]
    check_bilingual(header)
    header, rows = export(client, REPORTS_URL, {"from": TODAY.isoformat(), "to": TODAY.isoformat(), "table": "signed"})
    assert column(header, rows, "Note no.") == ["DN-D"]
    check_sorting(
        client,
        REPORTS_URL,
        REPORT_SIGNED,
        "Note no.",
        params={**period, "table": "signed"},
        monotonic={"signed_note", "signed_delivery", "signed_on", "signed_qty"},
    )


@pytest.mark.clause("5.9.1")
def test_the_reports_workbook_sorts_too_and_a_bad_date_is_a_message(client_for, notes):
    client = client_for("cs")
    period = {"from": (TODAY - timedelta(days=30)).isoformat(), "to": TODAY.isoformat()}
    response = client.get(REPORTS_URL, {**period, "format": "xlsx", "sort": "-signed_qty"})
    from io import BytesIO

    from openpyxl import load_workbook

    first = load_workbook(BytesIO(response.content)).worksheets[0]
    values = [r for r in first.iter_rows(min_row=2, values_only=True)]
    assert [v[0] for v in values[:-1]] == ["DN-A", "DN-D"] and values[-1][0] == "合计 Total: 2"
    page = client.get(REPORTS_URL, {"from": "2026-02-30"})
    assert page.status_code == 200 and "is not a date" in page.content.decode()


@pytest.mark.clause("5.9.1")
def test_the_reports_need_the_capability(client, make_user):
    check_forbidden(client, make_user, REPORTS_URL, {"table": "signed"})


# --- The delivery-progress sheet ---------------------------------------------------------------------------------


@pytest.fixture
def open_lines(line_for):
    return [
        line_for("100", TODAY + timedelta(days=3), po="PO-S1"),
        line_for("40", TODAY + timedelta(days=20), po="PO-S2"),
        line_for("7.5", TODAY - timedelta(days=1), po="PO-S3"),
        line_for("9", TODAY + timedelta(days=3), po="PO-DRAFT", status="draft"),  # not on the sheet
    ]


@pytest.mark.clause("5.4.2")
def test_the_sheet_exports_exactly_its_filtered_lines(client_for, open_lines):
    client = client_for("pmc")
    header, rows = export(client, SHEET_URL)
    assert sorted(column(header, rows, "Customer PO")) == ["PO-S1", "PO-S2", "PO-S3"]
    check_bilingual(header)
    assert all(isinstance(v, date) for v in column(header, rows, "Due date"))
    assert sorted(column(header, rows, "Outstanding")) == [7.5, 40, 100]
    header, rows = export(client, SHEET_URL, {"risk": "1"})
    assert column(header, rows, "Customer PO") == ["PO-S3"]  # past its due date
    params = {"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=5)).isoformat()}
    header, rows = export(client, SHEET_URL, params)
    assert column(header, rows, "Customer PO") == ["PO-S1"]
    assert [r.customer_po for r in client.get(SHEET_URL, params).context["page"]] == ["PO-S1"]


@pytest.mark.clause("5.4.2")
def test_the_sheet_sorts_by_every_column(client_for, open_lines):
    check_sorting(
        client_for("pmc"),
        SHEET_URL,
        SHEET,
        "Customer PO",
        monotonic={"order", "po", "quantity", "requested", "due", "outstanding", "delivered"},
    )
    check_bad_date(client_for("pmc"), SHEET_URL, "Customer PO", 3)


@pytest.mark.clause("5.4.2")
def test_the_sheet_export_needs_the_capability_and_bounded_queries(client, client_for, make_user, line_for):
    for _ in range(3):
        line_for()
    few = export_queries(client_for("pmc"), SHEET_URL)
    for _ in range(15):
        line_for()
    assert export_queries(client_for("pmc"), SHEET_URL) == few
    check_forbidden(client, make_user, SHEET_URL)


# --- On-time months and late batches ----------------------------------------------------------------------------


@pytest.fixture
def late(users, line_for):
    """Three batches due last month, none delivered: all late."""
    last_month = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=10)
    batches = []
    for qty, po in (("10", "PO-L1"), ("30", "PO-L2"), ("20", "=evil()")):
        line = line_for(qty, last_month, po=po)
        batches.append(
            DeliveryBatch.objects.create(line=line, quantity=Decimal(qty), due_date=last_month, created_by=users["cs"])
        )
    return last_month, batches


@pytest.mark.clause("5.5.2")
def test_the_months_export_sorted_and_filtered(client_for, late):
    month, _ = late
    client = client_for("cs")
    header, rows = export(client, ONTIME_URL, {"table": "months"})
    check_bilingual(header)
    assert len(rows) == 24 and all(isinstance(v, date) for v in column(header, rows, "Month"))
    first = month.replace(day=1)
    header, rows = export(client, ONTIME_URL, {"table": "months", "from": first.isoformat(), "to": month.isoformat()})
    assert [v.date() for v in column(header, rows, "Month")] == [first]
    assert column(header, rows, "Due") == [3] and column(header, rows, "Not delivered") == [3]
    assert column(header, rows, "Rate") == [0]
    check_sorting(client, ONTIME_URL, MONTHS, "Month", params={"table": "months"}, monotonic={"month", "due", "rate"})
    check_bad_date(client, ONTIME_URL, "Month", 24, {"table": "months"})


@pytest.mark.clause("5.5.2")
def test_the_late_batches_export_sorted(client_for, late):
    month, batches = late
    client = client_for("cs")
    params = {"month": month.strftime("%Y-%m"), "table": "late"}
    header, rows = export(client, ONTIME_URL, {**params, "sort": "-late_qty"})
    assert column(header, rows, "Quantity") == [30, 20, 10]
    check_bilingual(header)
    assert all(v == "Not delivered" for v in column(header, rows, "Status"))
    check_sorting(
        client, ONTIME_URL, LATE, "Order no.", params=params, monotonic={"late_due", "late_order", "late_qty"}
    )
    page = client.get(ONTIME_URL, {"month": month.strftime("%Y-%m"), "sort": "-late_qty"})
    assert [b.quantity for b in page.context["page"]] == [30, 20, 10]


@pytest.mark.clause("5.5.2")
def test_the_ontime_exports_need_the_capability(client, make_user, late):
    check_forbidden(client, make_user, ONTIME_URL, {"table": "months"})
