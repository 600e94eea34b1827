"""The customer import at volume (issue 10, "Fast at full volume"): the work sent to the database does not grow with
the number of rows (no query per row, in the preview, the commit or an update), and the history written in bulk is
the history simple_history itself would write (the rows as stored, "+" or "~", the importing user)."""

import math
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.importing import customer_import
from customers.models import Contact, Customer, DeliveryAddress
from tests.customers.workbooks import row, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.1")]


def rows(count: int, **values) -> list[dict]:
    return [
        row(
            f"P-{number:05d}",
            contact_name=f"联系人{number}",
            contact_phone=f"0769-{number:07d}",
            address_label="总厂",
            address_receiver=f"收货人{number}",
            **values,
        )
        for number in range(1, count + 1)
    ]


def statements(data: bytes, *, dry_run: bool, user=None) -> Counter:
    """The statements one import sends, by first word (SELECT, INSERT, UPDATE …)."""
    with CaptureQueriesContext(connection) as captured:
        report = customer_import(data=data, dry_run=dry_run, user=user)
    assert report.ok, report.file_errors or [r.errors for r in report.rows if r.errors][:3]
    assert report.committed is not dry_run
    return Counter(q["sql"].lstrip().split(None, 1)[0].upper() for q in captured.captured_queries)


# Rows are written in batches; SQLite takes at most 999 values per statement, so a batch of customers (20 columns)
# holds about 50 rows there (PostgreSQL: all of them). Six tables are written: customers, contacts, addresses and
# their history. One statement per 40 rows and table is far from one per row, and holds on both databases.
def writes_allowed(rows: int) -> int:
    return 6 * math.ceil(rows / 40)


def test_the_preview_sends_as_many_queries_for_200_rows_as_for_20():
    small, big = statements(xlsx(rows(20)), dry_run=True), statements(xlsx(rows(200)), dry_run=True)
    assert big == small
    assert set(big) == {"SELECT"} and big["SELECT"] <= 5


def test_the_commit_reads_as_much_for_200_rows_as_for_20_and_writes_in_batches(users):
    small = statements(xlsx(rows(20)), dry_run=False, user=users["admin"])
    Customer.objects.all().delete()  # the same "all new" commit again, ten times the rows
    big = statements(xlsx(rows(200)), dry_run=False, user=users["admin"])
    reads = {kind: count for kind, count in big.items() if kind != "INSERT"}
    assert reads == {kind: count for kind, count in small.items() if kind != "INSERT"}
    assert small["INSERT"] == 6  # 20 rows: one statement per table and history table
    assert big["INSERT"] <= writes_allowed(200), big
    assert Customer.objects.count() == Contact.objects.count() == DeliveryAddress.objects.count() == 200


def test_an_update_of_200_rows_reads_as_much_as_an_update_of_20_and_writes_in_batches(users):
    customer_import(data=xlsx(rows(200)), dry_run=False, user=users["admin"])
    small = statements(
        xlsx(rows(20, name_en="Renamed Co., Ltd.", contact_mobile="13900000000", address_phone="13800000000")),
        dry_run=False,
        user=users["admin"],
    )
    big = statements(
        xlsx(rows(200, name_en="Renamed again", contact_mobile="13700000000", address_phone="13600000000")),
        dry_run=False,
        user=users["admin"],
    )
    assert big["SELECT"] == small["SELECT"]
    assert small["UPDATE"] == 3 and small["INSERT"] == 3  # a batch per table, its history beside it
    assert big["UPDATE"] + big["INSERT"] <= writes_allowed(200), big
    assert Customer.objects.filter(name_en="Renamed again").count() == 200
    assert Contact.objects.filter(mobile="13700000000").count() == 200


def _tracked(model, obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in model.history.model.tracked_fields}


def test_the_history_written_in_bulk_is_the_stored_rows_with_the_user_and_the_kind(users):
    customer_import(data=xlsx(rows(30)), dry_run=False, user=users["admin"])
    for model in (Customer, Contact, DeliveryAddress):
        stored = {obj.pk: obj for obj in model.objects.all()}
        history = list(model.history.all())
        assert len(history) == len(stored) == 30
        for entry in history:
            assert entry.history_type == "+"
            assert entry.history_user == users["admin"]
            assert entry.history_change_reason is None
            assert _tracked(model, entry) == _tracked(model, stored[entry.id])

    report = customer_import(
        data=xlsx(rows(30, name_zh="改名客户", contact_title="采购总监", address="广东省东莞市虎门镇2号")),
        dry_run=False,
        user=users["cs"],
    )
    assert report.counts()["update"] == 30
    for model in (Customer, Contact, DeliveryAddress):
        changes = list(model.history.filter(history_type="~"))
        assert len(changes) == 30 and {e.history_user for e in changes} == {users["cs"]}
        for entry in changes:
            assert _tracked(model, entry) == _tracked(model, model.objects.get(pk=entry.id))
    assert set(Customer.history.filter(history_type="~").values_list("name_zh", flat=True)) == {"改名客户"}
    # Each change is later than the creation it follows: "as of" queries and the history page read them in order.
    customer = Customer.objects.first()
    first, last = customer.history.order_by("history_date")
    assert (first.history_type, last.history_type) == ("+", "~")


def test_a_refused_commit_writes_no_history():
    data = xlsx([*rows(10), row("P-99999", kind="不存在的类别")])
    report = customer_import(data=data, dry_run=False)
    assert not report.committed and not report.ok
    assert Customer.history.count() == Contact.history.count() == DeliveryAddress.history.count() == 0
    assert not Customer.objects.exists()
