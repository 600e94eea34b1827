"""The register's pages (§5.10.3): the forms (kept with their errors at 422), the list's filters, sorting and
export, the item's history, "check due" in My work, and the property shown on the product's page."""

from datetime import timedelta

import pytest
from django.urls import reverse

from customer_property import services
from customer_property.models import PropertyCheck, PropertyItem
from customer_property.views import ITEMS
from customers.models import CommunicationLog
from orders.models import Memo
from tests.customer_property.conftest import PDF, TODAY, check, material, pdf
from tests.lists.conftest import (
    assert_text_cells,
    check_bad_date,
    check_bilingual,
    check_sorting,
    column,
    export,
    export_queries,
    sheet_rows,
)

pytestmark = [pytest.mark.clause("5.10.3"), pytest.mark.django_db]


def url(name, *args):
    return reverse(f"customer_property:{name}", args=args)


def test_warehouse_registers_a_mould_with_its_documents(client_for, acme, lamp, users):
    response = client_for("warehouse").post(
        url("new"),
        {
            "customer": acme.code,
            "kind": "mould",
            "name": "灯罩模",
            "mould_no": "M-77",
            "cavities": "2",
            "location": "模具房 A-01",
            "received_on": TODAY.isoformat(),
            "products": "P-LAMP",
            "documents": [pdf()],
        },
    )
    item = PropertyItem.objects.get()
    assert response.status_code == 302 and response["Location"] == item.get_absolute_url()
    assert item.mould_no == "M-77" and list(item.products.all()) == [lamp] and item.documents.count() == 1
    page = client_for("cs").get(item.get_absolute_url()).content.decode()
    assert "M-77" in page and "drawing.pdf" in page and 'data-testid="check-form"' not in page
    served = client_for("cs").get(url("file", item.number, item.documents.get().pk))
    assert b"".join(served.streaming_content) == PDF


def test_a_refused_registration_comes_back_with_the_reason_and_every_answer(client_for, acme):
    data = {
        "customer": acme.code,
        "kind": "material",
        "name": "PC 料 客供",
        "cavities": "4",
        "quantity": "500",
        "unit": "KG",
        "location": "原料仓",
        "received_on": TODAY.isoformat(),
        "products": "",
    }
    response = client_for("warehouse").post(url("new"), data)
    assert response.status_code == 422
    form = response.context["form"]
    assert "Only moulds and fixtures have cavities." in form.errors["cavities"][0]
    page = response.content.decode()
    assert 'value="PC 料 客供"' in page and 'value="原料仓"' in page
    data["products"] = "P-NOPE"
    response = client_for("warehouse").post(url("new"), data)
    assert response.status_code == 422 and "P-NOPE" in response.context["form"].errors["products"][0]
    assert not PropertyItem.objects.exists()


def test_a_check_finding_damage_through_the_page(client_for, register):
    item = register()
    response = client_for("qa").post(
        url("check", item.number),
        {"checked_on": TODAY.isoformat(), "condition": "damaged", "notes": "崩缺", "told_by": "phone"},
        follow=True,
    )
    memo = Memo.objects.get()
    assert memo.number in response.content.decode()
    assert CommunicationLog.objects.get().channel == "phone"
    page = client_for("marketing").get(item.get_absolute_url()).content.decode()
    assert 'data-testid="item-incidents"' in page and memo.number in page and "崩缺" in page


def test_a_refused_check_comes_back_open_with_the_reason(client_for, register):
    item = register()
    future = (TODAY + timedelta(days=3)).isoformat()
    response = client_for("warehouse").post(
        url("check", item.number), {"checked_on": future, "condition": "good", "notes": "看过"}
    )
    assert response.status_code == 422
    assert response.context["check_form"].errors["checked_on"] == ["The date is in the future."]
    response = client_for("warehouse").post(
        url("check", item.number), {"checked_on": TODAY.isoformat(), "condition": "lost", "told_by": "email"}
    )
    assert response.status_code == 422 and "Describe the damage or loss" in response.content.decode()
    assert not PropertyCheck.objects.exists()


def test_a_return_through_the_page_ends_the_entry(client_for, register):
    item = register()
    response = client_for("warehouse").post(
        url("return", item.number), {"returned_on": TODAY.isoformat(), "returned_to": "陈先生"}
    )
    assert response.status_code == 302
    page = client_for("warehouse").get(item.get_absolute_url()).content.decode()
    assert 'data-testid="item-returned"' in page and 'data-testid="check-form"' not in page
    assert 'data-testid="return-form"' not in page
    again = client_for("warehouse").post(
        url("return", item.number), {"returned_on": TODAY.isoformat(), "returned_to": "陈先生"}
    )
    assert again.status_code == 422 and "was returned to the customer" in again.content.decode()


def test_the_history_shows_who_did_what(client_for, register, users):
    item = register()
    check(users, item, "needs_repair", who="qa", location="维修间")
    services.document_add(user=users["tech"], item=item, upload=pdf(), name="维修报价")
    services.item_return(user=users["warehouse"], item=item, returned_on=TODAY, returned_to="陈先生")
    page = client_for("pmc").get(item.get_absolute_url()).content.decode()
    timeline = page[page.index('data-testid="item-timeline"') :]
    for text in ("Registered", "Checked on", "Needs repair", "维修间", "Attached 维修报价", "Returned to 陈先生"):
        assert text in timeline, text
    assert str(users["qa"]) in timeline and str(users["tech"]) in timeline
    assert item.history.count() == 3  # registered, checked (condition, place), returned


def test_the_list_filters_and_exports_exactly_the_rows_shown(client_for, register, users, other):
    old = register(received_on=TODAY - timedelta(days=200))  # never checked: due
    fresh = register(mould_no="M-0002")
    resin = register(**material(name='=HYPERLINK("http://x")'))
    foreign = register(customer=other, mould_no="M-0003", kind="fixture")
    check(users, fresh, "damaged", who="qa")
    returned = register(mould_no="M-0004")
    services.item_return(user=users["warehouse"], item=returned, returned_on=TODAY, returned_to="陈先生")
    cs = client_for("cs")

    def shown(query):
        page = cs.get(url("list") + query).content.decode()
        return {n for n in (i.number for i in PropertyItem.objects.all()) if f'data-item="{n}"' in page}

    assert shown("") == {old.number, fresh.number, resin.number, foreign.number}
    assert shown("?state=returned") == {returned.number}
    assert shown("?state=all") == {old.number, fresh.number, resin.number, foreign.number, returned.number}
    assert shown("?customer=OTHER-01") == {foreign.number}
    assert shown("?kind=material") == {resin.number}
    assert shown("?condition=damaged") == {fresh.number}
    assert shown("?due=1") == {old.number}
    assert shown("?kind=nonsense&condition=broken&sort=password") == shown("")
    page = cs.get(url("list") + "?sort=-number").content.decode()
    numbers = [n for n in sorted(shown("")) if f'data-item="{n}"' in page]
    assert sorted(numbers, key=page.index) == sorted(numbers, reverse=True)
    assert "sort=number" in page  # the column header now sorts the other way

    header, rows = export(cs, url("list"), {"kind": "mould", "sort": "number"})
    check_bilingual(header)
    assert header[0] == "编号 / No." and "状况 / Condition" in header
    assert column(header, rows, "No.") == sorted([old.number, fresh.number])
    assert [d.date() for d in column(header, rows, "Received on")] == [old.received_on, fresh.received_on]
    assert_text_cells(cs.get(url("list"), {"kind": "material", "format": "xlsx"}), ['=HYPERLINK("http://x")'])
    for query in ("", "?state=returned", "?state=all", "?customer=OTHER-01", "?condition=damaged", "?due=1"):
        header, rows = sheet_rows(cs.get(url("list") + query + ("&" if query else "?") + "format=xlsx"))
        assert set(column(header, rows, "No.")) == shown(query), query
    header, rows = export(cs, url("list"), {"state": "all"})
    item = dict(zip(header, rows[column(header, rows, "No.").index(returned.number)], strict=True))
    assert item["归还给 / returned to"] == "陈先生" and item["归还日期 / returned on"].date() == TODAY
    assert item["下次点检 / Next check"] is None and item["接收人 / received by"] == str(users["warehouse"])


def test_the_list_sorts_and_filters_by_the_day_received(client_for, register, other):
    old = register(received_on=TODAY - timedelta(days=200))
    fresh = register(mould_no="M-0002", received_on=TODAY - timedelta(days=2))
    foreign = register(customer=other, mould_no="M-0003", kind="fixture", received_on=TODAY - timedelta(days=30))
    cs = client_for("cs")
    header, rows = export(cs, url("list"))
    assert column(header, rows, "No.") == [fresh.number, foreign.number, old.number]  # newest receipt first
    header, rows = export(cs, url("list"), {"from": (TODAY - timedelta(days=40)).isoformat()})
    assert column(header, rows, "No.") == [fresh.number, foreign.number]
    page = cs.get(url("list"), {"to": (TODAY - timedelta(days=10)).isoformat()}).content.decode()
    assert f'data-item="{old.number}"' in page and f'data-item="{fresh.number}"' not in page
    check_sorting(cs, url("list"), ITEMS, "No.", monotonic={"number", "received", "checked"})
    check_bad_date(cs, url("list"), "No.", 3)


def test_the_export_reads_a_fixed_number_of_queries(client_for, register, lamp):
    register(products=[lamp])
    few = export_queries(client_for("qa"), url("list"))
    for n in range(12):
        register(mould_no=f"M-{n:03d}", products=[lamp])
    assert export_queries(client_for("qa"), url("list")) == few


def test_the_list_keeps_to_a_bounded_number_of_queries(client_for, register, django_assert_max_num_queries, lamp):
    for n in range(30):
        register(mould_no=f"M-{n:03d}", products=[lamp])
    client = client_for("qa")
    with django_assert_max_num_queries(14):
        assert client.get(url("list")).status_code == 200


def test_the_register_warns_of_products_flagged_customer_mould_without_a_mould(client_for, lamp, acme, register):
    lamp.customer_owned_mould = True
    lamp.mould_owner = acme
    lamp.save()
    page = client_for("cs").get(url("list")).content.decode()
    warning = page[page.index('data-testid="flagged-without-mould"') :]
    assert "P-LAMP" in warning[: warning.index("</div>")]
    register(products=[lamp])
    assert 'data-testid="flagged-without-mould"' not in client_for("cs").get(url("list")).content.decode()


def section(client) -> str:
    """The "Customer property check(s) due" section of My work, or "" when there is none."""
    page = client.get(reverse("accounts:my_work")).content.decode()
    start = page.find("Customer property check")
    if start < 0:
        return ""
    end = page.find('data-testid="work-section"', start)
    return page[start : end if end > 0 else len(page)]


def test_checks_due_are_in_my_work_of_warehouse_and_quality(client_for, register, users, settings):
    due = register(received_on=TODAY - timedelta(days=95))  # moulds every 90 days by default
    soon = register(mould_no="M-0002", received_on=TODAY - timedelta(days=80))
    lost = register(mould_no="M-0003", received_on=TODAY - timedelta(days=120))
    services.incident_report(
        user=users["qa"], item=lost, kind="lost", found_on=TODAY, description="不见了", told_by="phone"
    )
    for name in ("warehouse", "qa"):
        work = section(client_for(name))
        assert due.number in work and soon.number not in work and lost.number not in work, name
    for name in ("tech", "cs", "marketing"):
        assert section(client_for(name)) == ""
    check(users, due)
    assert section(client_for("qa")) == ""
    # The interval is a setting per kind.
    settings.CUSTOMER_PROPERTY_CHECK_DAYS = {"mould": 30}
    work = section(client_for("qa"))
    assert soon.number in work and due.number not in work


def test_the_product_page_shows_the_property_it_is_made_with(client_for, register, lamp, users):
    page = client_for("pmc").get(reverse("customers:product_detail", args=[lamp.pk]))
    assert page.status_code == 200 and 'data-testid="property-panel"' not in page.content.decode()
    item = register(products=[lamp])
    check(users, item, "damaged", who="qa")
    page = client_for("pmc").get(reverse("customers:product_detail", args=[lamp.pk])).content.decode()
    panel = page[page.index('data-testid="property-panel"') :]
    assert item.number in panel and "M-0001" in panel and "Damaged" in panel
    assert (
        reverse("customers:product_detail", args=[lamp.pk])
        in client_for("pmc").get(reverse("customers:product_list")).content.decode()
    )


def test_the_products_of_a_mould_change_with_its_history(client_for, register, lamp, users, acme):
    from customers.models import Product

    base = Product.objects.create(code="P-BASE", name="底座")
    item = register(products=[lamp])
    tech = client_for("tech")
    response = tech.post(url("products", item.number), {"products": "P-LAMP, P-BASE"})
    assert response.status_code == 302
    assert set(item.products.all()) == {lamp, base}
    base.refresh_from_db()
    assert base.customer_owned_mould and base.mould_owner == acme  # the new product is flagged too
    again = tech.post(url("products", item.number), {"products": "P-BASE P-LAMP"})
    assert again.status_code == 422 and "already the products" in again.content.decode()
    tech.post(url("products", item.number), {"products": "P-BASE"})
    page = client_for("cs").get(item.get_absolute_url()).content.decode()
    timeline = page[page.index('data-testid="item-timeline"') :]
    assert "Used for products: P-LAMP" in timeline and "Used for products: P-BASE, P-LAMP" in timeline
    assert timeline.index("P-BASE, P-LAMP") < timeline.rindex("Used for products: P-BASE")
    assert str(users["tech"]) in timeline
