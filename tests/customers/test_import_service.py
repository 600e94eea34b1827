import datetime

import openpyxl
import pytest
from django.test import override_settings
from django.utils import translation

from customers.importing import customer_import, template_workbook
from customers.models import Contact, Customer, DeliveryAddress
from tests.customers.workbooks import row, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.1")]


def counts():
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        DeliveryAddress.objects.count(),
        Customer.history.count(),
    )


def assert_nothing_written(before=(0, 0, 0, 0)):
    assert counts() == before


def test_it_imports_customers_with_their_first_contact_and_address(users):
    data = xlsx(
        [row("C-0001", marketing_owner="marketing", tax_rate=9), row("C-0002", trade="Export", customs_code="4403")]
    )
    report = customer_import(data=data, dry_run=False, user=users["admin"])
    assert report.ok and report.committed
    assert report.counts() == {"new": 2, "update": 0, "unchanged": 0, "error": 0}
    first = Customer.objects.get(code="C-0001")
    assert first.marketing_owner == users["marketing"]
    assert str(first.tax_rate) == "9.00"
    assert first.contacts.get().is_primary and first.addresses.get().is_default
    assert Customer.objects.get(code="C-0002").trade == Customer.Trade.EXPORT
    assert first.history.get().history_user == users["admin"]


def test_a_dry_run_reports_every_row_and_writes_nothing():
    report = customer_import(data=xlsx([row("C-0001"), row("C-0002")]), dry_run=True)
    assert [r.status for r in report.rows] == ["new", "new"]
    assert [r.line for r in report.rows] == [2, 3]
    assert_nothing_written()


def test_importing_the_same_file_again_changes_nothing():
    data = xlsx([row("C-0001"), row("C-0002")])
    customer_import(data=data, dry_run=False)
    before = counts() + (Contact.history.count(), DeliveryAddress.history.count())
    report = customer_import(data=data, dry_run=False)
    assert report.counts()["unchanged"] == 2
    assert counts() + (Contact.history.count(), DeliveryAddress.history.count()) == before


def test_it_updates_a_customer_and_its_first_contact_by_code(users):
    customer_import(data=xlsx([row("C-0001")]), dry_run=False)
    before = Customer.objects.get(code="C-0001").updated_at
    report = customer_import(
        data=xlsx([row("C-0001", name_zh="新名字", contact_phone="0769-1234")]), dry_run=False, user=users["admin"]
    )
    assert [r.status for r in report.rows] == ["update"]
    customer = Customer.objects.get(code="C-0001")
    assert customer.name_zh == "新名字"
    assert customer.contacts.get().phone == "0769-1234"
    # Written in bulk, but still a change like any other: a newer updated_at (stale edit forms are refused) and
    # history rows naming who imported it.
    assert customer.updated_at > before
    assert customer.history.first().history_user == users["admin"] and customer.history.count() == 2
    assert customer.contacts.get().history.first().history_user == users["admin"]


def test_a_changed_contact_alone_makes_the_row_an_update():
    customer_import(data=xlsx([row("C-0001")]), dry_run=False)
    report = customer_import(data=xlsx([row("C-0001", contact_mobile="13800000000")]), dry_run=True)
    assert report.rows[0].status == "update"


def test_the_template_imports_as_it_is():
    report = customer_import(data=template_workbook(), dry_run=False)
    assert report.ok and report.counts()["new"] == 1
    customer = Customer.objects.get()
    assert customer.kind == Customer.Kind.OEM and customer.status == Customer.Status.ACTIVE
    assert customer.cooperation_since == datetime.date(2024, 3, 1)


def test_the_template_has_bilingual_headers_and_writes_no_formula():
    sheet = openpyxl.load_workbook(__import__("io").BytesIO(template_workbook())).worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "客户编码 Customer code" in headers
    assert all(not str(c.value).startswith("=") for r in sheet.iter_rows() for c in r if c.value)


@pytest.mark.parametrize(
    "headers",
    [
        ["客户编码", "中文名称", "英文名称", "类别", "状态", "贸易方式", "联系人", "送货地址"],
        [
            "Customer code",
            "Chinese name",
            "English name",
            "Kind",
            "Status",
            "Trade type",
            "Contact name",
            "Delivery address",
        ],
        ["code", "name_zh", "name_en", "kind", "status", "trade", "contact_name", "address"],
    ],
)
def test_it_accepts_chinese_english_or_key_headers_and_labels_in_either_language(headers):
    data = xlsx([["C-0009", "甲", "A", "自身产品", "Active", "外销", "李", "上海"]], headers=headers)
    report = customer_import(data=data, dry_run=False)
    assert report.ok, report.as_dict()
    customer = Customer.objects.get(code="C-0009")
    assert (customer.kind, customer.status, customer.trade) == ("own", "active", "export")


def test_a_lower_case_code_is_stored_in_capitals_and_matched_on_reimport():
    customer_import(data=xlsx([row("c-0001", name_zh="甲", name_en="A")]), dry_run=False)
    report = customer_import(data=xlsx([row("C-0001", name_zh="甲", name_en="A")]), dry_run=True)
    assert Customer.objects.get().code == "C-0001"
    assert report.rows[0].status == "unchanged"


# --- Bad files: a clear reason, and nothing written -------------------------------------------------


def file_error(data) -> str:
    before = counts()
    report = customer_import(data=data, dry_run=False)
    assert not report.ok and not report.committed
    assert_nothing_written(before)
    assert report.file_errors, report.as_dict()
    return report.file_errors[0]


def row_errors(rows) -> dict[int, list[str]]:
    before = counts()
    report = customer_import(data=xlsx(rows), dry_run=False)
    assert not report.ok and not report.committed
    assert_nothing_written(before)
    return {r.line: r.errors for r in report.rows if r.errors}


def test_it_refuses_missing_columns():
    data = xlsx([["C-1", "甲"]], headers=["客户编码 Customer code", "中文名称 Chinese name"])
    assert "Missing columns" in file_error(data) and "Contact name" in file_error(data)


def test_it_refuses_unknown_columns():
    headers = [*xlsx.__globals__["HEADERS"], "Favourite colour"]
    assert "Unknown columns: Favourite colour" in file_error(xlsx([row()], headers=headers))


def test_it_refuses_a_column_given_twice():
    headers = [*xlsx.__globals__["HEADERS"], "Customer code"]
    assert "Columns given twice" in file_error(xlsx([row()], headers=headers))


def test_it_refuses_an_empty_file_and_a_file_with_only_headers():
    assert "empty" in file_error(b"")
    assert "no customers" in file_error(xlsx([]))


def test_it_refuses_a_csv_renamed_to_xlsx():
    assert "not an Excel workbook" in file_error("客户编码,中文名称\nC-1,甲\n".encode())


def test_it_refuses_an_image():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert "not an Excel workbook" in file_error(png)


def test_it_refuses_a_password_protected_workbook():
    # An encrypted .xlsx is an OLE compound file, not a zip.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert "password-protected" in file_error(ole)


def test_it_refuses_a_broken_zip_that_looks_like_xlsx():
    assert "could not be read" in file_error(b"PK\x03\x04" + b"garbage" * 20)


@override_settings(IMPORT_MAX_UPLOAD_MB=1)
def test_it_refuses_a_file_over_the_size_limit():
    assert "limit is 1 MB" in file_error(b"PK\x03\x04" + b"\x00" * (1024 * 1024 + 1))


def test_it_reports_wrong_types_dates_and_choices_per_row():
    errors = row_errors(
        [
            row("C-0001"),
            row("C-0002", tax_rate="thirteen"),
            row("C-0003", cooperation_since="31/02/2024"),
            row("C-0004", kind="wholesale"),
            row("C-0005", contact_email="not-an-email"),
        ]
    )
    assert set(errors) == {3, 4, 5, 6}
    assert "not a number" in errors[3][0]
    assert "not a date" in errors[4][0]
    assert "'wholesale' is not one of" in errors[5][0]
    assert "e-mail" in errors[6][0].lower()


def test_it_flags_every_row_of_a_code_repeated_in_the_file():
    errors = row_errors([row("C-0001"), row("C-0002"), row("C-0001")])
    assert set(errors) == {2, 4}
    assert "appears again on line 4" in errors[2][0]


def test_it_refuses_formulas_and_cells_starting_with_equals_without_evaluating_them():
    errors = row_errors([row("C-0001", name_en='=HYPERLINK("http://evil")'), row("C-0002", contact_phone="=1+1")])
    assert "cell C2" in errors[2][0]
    assert "cell T3" in errors[3][0]


def test_text_cells_starting_with_equals_are_refused_in_a_file_without_formulas():
    """Text (not a formula) that starts with '=' is read by the fast reader; it is refused all the same."""
    import io

    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(xlsx([row("C-0001"), row("C-0002")])))
    cell = workbook.active["C3"]
    cell.value = "=cmd|' /C calc'!A0"
    cell.data_type = "s"  # stored as a string: no <f> element in the sheet
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = customer_import(data=buffer.getvalue(), dry_run=False)
    assert not report.committed and "cell C3" in report.rows[1].errors[0]
    assert not Customer.objects.exists()


def test_it_refuses_an_unknown_user_name():
    errors = row_errors([row("C-0001", marketing_owner="nobody")])
    assert "there is no user 'nobody'" in errors[2][0]


def test_a_row_without_any_name_is_an_error():
    errors = row_errors([row("C-0001", name_zh="", name_en="")])
    assert "Chinese or an English name" in errors[2][0]


def test_a_bad_row_among_good_ones_keeps_the_good_ones_out_too():
    customer_import(data=xlsx([row("C-0001")]), dry_run=False)
    before = counts()
    report = customer_import(data=xlsx([row("C-0001", name_zh="改"), row("C-0002", kind="??")]), dry_run=False)
    assert not report.committed
    assert counts() == before and Customer.objects.get(code="C-0001").name_zh != "改"


def test_reasons_are_given_in_chinese_to_a_chinese_user():
    with translation.override("zh-hans"):
        report = customer_import(data=xlsx([row("C-0001", tax_rate="abc")]), dry_run=True)
    assert "不是数字" in report.rows[0].errors[0] and "税率" in report.rows[0].errors[0]
