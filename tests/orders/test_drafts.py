"""Draft orders: any number of lines, edited and deleted until submitted; the same checks as a new order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.errors import DomainError
from customers import services as customer_services
from customers.models import Customer, DeliveryAddress, EnvironmentalRequirement
from orders import drafts, services
from orders.models import Order, VerbalRequirement
from orders.services import LineInput
from tests.orders.conftest import TODAY, approve_evaluation

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.1")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SOON = (TODAY + timedelta(days=30)).isoformat()


def post_data(customer, products, lines, **overrides):
    """The order form as the browser sends it, with ``lines`` as (product, quantity, price, date) tuples."""
    data = {
        "customer": customer.pk,
        "customer_po": "PO-D-1",
        "source": "email",
        "delivery_address": customer.addresses.get().pk,
        "packaging": "纸箱",
        "labelling": "",
        "inspection": "",
        "other_requirements": "",
        "verbal": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
    }
    for index, (product, quantity, price, when) in enumerate(lines):
        data[f"lines-{index}-product"] = product.pk if product else ""
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-unit_price"] = price
        data[f"lines-{index}-requested_date"] = when
    data.update(overrides)
    return data


def edit_data(order, **overrides):
    """What the edit page holds for ``order`` (as the browser would send it back unchanged)."""
    lines = [
        (line.product, str(line.quantity), str(line.unit_price), line.requested_date.isoformat())
        for line in order.lines.order_by("position")
    ]
    data = post_data(order.customer, {}, lines, customer_po=order.customer_po, packaging=order.packaging)
    data["seen"] = order.updated_at.isoformat()
    data["lines-INITIAL_FORMS"] = str(len(lines))  # as the edit page's management form says
    data.update(overrides)
    return data


@pytest.fixture
def other_customer(users):
    customer = Customer.objects.create(
        code="C-0002", name_zh="苏州远景", name_en="Suzhou Vista", status="active", currency="USD", incoterm="FOB"
    )
    DeliveryAddress.objects.create(customer=customer, label="仓库", address="苏州工业园区 8 号", is_default=True)
    customer_services.envreq_save(
        user=users["qa"], requirement=EnvironmentalRequirement(customer=customer, standard="reach", detail="SVHC")
    )
    approve_evaluation(users, customer)
    return customer


def test_an_order_can_have_more_lines_than_the_form_first_shows(client_for, customer, products):
    lines = [(products["lamp"], str(100 + n), "1.50", SOON) for n in range(7)]
    response = client_for("cs").post(reverse("orders:create"), post_data(customer, products, lines))
    order = Order.objects.get()
    assert response.status_code == 302
    assert [line.quantity for line in order.lines.order_by("position")] == [Decimal(100 + n) for n in range(7)]


def test_add_a_line_without_javascript_shows_one_more_row_and_keeps_what_was_typed(client_for, customer, products):
    lines = [(products["lamp"], "800", "1.50", SOON), (None, "", "", "")]
    data = post_data(customer, products, lines, customer_po="PO-KEEP-42", add_line="1")
    response = client_for("cs").post(reverse("orders:create"), data)
    page = response.content.decode()
    assert response.status_code == 200 and not Order.objects.exists()
    assert 'name="lines-TOTAL_FORMS" value="3"' in page and 'name="lines-2-product"' in page
    assert 'value="PO-KEEP-42"' in page and 'name="lines-0-quantity" value="800"' in page
    # Adding a line is not a failed save: nothing is marked as an error yet.
    assert "is-invalid" not in page and 'data-testid="form-errors"' not in page


def test_the_form_offers_add_a_line_and_ships_its_script(client_for):
    page = client_for("cs").get(reverse("orders:create")).content.decode()
    assert 'name="add_line"' in page and "js/order_lines.js" in page
    assert 'id="order-line-template"' in page and "lines-__prefix__-product" in page


def test_a_draft_is_edited_lines_added_removed_and_renumbered(client_for, entered, products):
    order = entered()
    data = edit_data(order, customer_po="PO-778-B")
    # Line 1 emptied (removed), line 2 kept, two new lines.
    for field in ("product", "quantity", "unit_price", "requested_date"):
        data[f"lines-0-{field}"] = ""
    data.update(
        {
            "lines-TOTAL_FORMS": "4",
            "lines-2-product": products["lamp"].pk,
            "lines-2-quantity": "300",
            "lines-2-unit_price": "1.50",
            "lines-2-requested_date": SOON,
            "lines-3-product": products["lamp"].pk,
            "lines-3-quantity": "400",
            "lines-3-unit_price": "1.50",
            "lines-3-requested_date": SOON,
        }
    )
    response = client_for("cs").post(reverse("orders:edit", args=[order.number]), data)
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.customer_po == "PO-778-B" and order.status == Order.Status.DRAFT
    assert [(line.position, line.product.code, line.quantity) for line in order.lines.order_by("position")] == [
        (1, "P-2", Decimal(500)),
        (2, "P-1", Decimal(300)),
        (3, "P-1", Decimal(400)),
    ]


def test_the_edit_page_shows_the_draft_as_it_is(client_for, entered):
    order = entered(verbal_requirements=["交货前电话通知"])
    page = client_for("cs").get(reverse("orders:edit", args=[order.number])).content.decode()
    assert 'value="PO-778"' in page and 'name="lines-1-quantity" value="500' in page
    assert "交货前电话通知" in page and 'name="seen"' in page


def test_moving_a_draft_to_another_customer_takes_that_customers_terms_and_environmental_note(
    users, entered, other_customer, products
):
    order = entered()
    assert "RoHS" in order.packaging
    drafts.order_update_draft(
        user=users["cs"],
        order=order,
        customer=other_customer,
        customer_po="PO-9",
        source="fax",
        delivery_address=other_customer.addresses.get(),
        lines=[LineInput(products["lamp"], Decimal(5), Decimal(1), TODAY + timedelta(days=3))],
        packaging=order.packaging,
    )
    order.refresh_from_db()
    assert order.customer == other_customer and (order.currency, order.incoterm) == ("USD", "FOB")
    assert "REACH" in order.packaging and "RoHS" not in order.packaging


@pytest.mark.parametrize(
    "change,message",
    [
        ("address", "The delivery address belongs to another customer."),
        ("past", "Line 1: the requested date is in the past."),
        ("none", "An order needs at least one line."),
        ("zero", "Line 1: the quantity must be more than zero."),
    ],
)
def test_a_draft_passes_the_same_checks_as_a_new_order(users, entered, other_customer, products, change, message):
    order = entered()
    values = dict(
        user=users["cs"],
        order=order,
        customer=order.customer,
        customer_po="PO",
        source="fax",
        delivery_address=order.delivery_address,
        lines=[LineInput(products["lamp"], Decimal(5), Decimal(1), TODAY + timedelta(days=3))],
    )
    if change == "address":
        values["delivery_address"] = other_customer.addresses.get()
    if change == "past":
        values["lines"] = [LineInput(products["lamp"], Decimal(5), Decimal(1), TODAY - timedelta(days=40))]
    if change == "none":
        values["lines"] = []
    if change == "zero":
        values["lines"] = [LineInput(products["lamp"], Decimal(0), Decimal(1), TODAY)]
    with pytest.raises(DomainError, match=message):
        drafts.order_update_draft(**values)
    order.refresh_from_db()
    assert order.customer_po == "PO-778" and order.lines.count() == 2


def test_a_draft_cannot_move_to_a_customer_without_an_approved_evaluation(users, entered, products):
    order = entered()
    unevaluated = Customer.objects.create(code="C-0003", name_en="New Co", status="active")
    address = DeliveryAddress.objects.create(customer=unevaluated, label="HQ", address="Somewhere 1")
    with pytest.raises(DomainError, match="no approved customer evaluation form"):
        drafts.order_update_draft(
            user=users["cs"],
            order=order,
            customer=unevaluated,
            customer_po="PO",
            source="fax",
            delivery_address=address,
            lines=[LineInput(products["lamp"], Decimal(5), Decimal(1), TODAY + timedelta(days=3))],
        )
    order.refresh_from_db()
    assert order.customer_id != unevaluated.pk


def test_a_line_keeps_a_requested_date_that_has_passed_since_it_was_entered(users, entered, products):
    order = entered()
    passed = TODAY - timedelta(days=2)
    order.lines.filter(position=1).update(requested_date=passed)
    drafts.order_update_draft(
        user=users["cs"],
        order=order,
        customer=order.customer,
        customer_po="PO",
        source="fax",
        delivery_address=order.delivery_address,
        lines=[LineInput(products["lamp"], Decimal(7), Decimal(1), passed)],
    )
    assert order.lines.get().requested_date == passed


def test_a_submitted_order_can_be_neither_edited_nor_deleted(users, client_for, submitted, products):
    with pytest.raises(DomainError, match="can no longer be edited or deleted"):
        drafts.order_delete_draft(user=users["cs"], order=submitted)
    with pytest.raises(DomainError, match="can no longer be edited or deleted"):
        drafts.order_update_draft(
            user=users["cs"],
            order=submitted,
            customer=submitted.customer,
            customer_po="X",
            source="fax",
            delivery_address=submitted.delivery_address,
            lines=[LineInput(products["lamp"], Decimal(5), Decimal(1), TODAY + timedelta(days=3))],
        )
    client = client_for("cs")
    for name in ("orders:edit", "orders:delete"):
        response = client.post(reverse(name, args=[submitted.number]), edit_data(submitted))
        assert response.status_code == 302 and response["Location"] == submitted.get_absolute_url()
    submitted.refresh_from_db()
    assert submitted.customer_po == "PO-778" and submitted.status == Order.Status.IN_REVIEW


def test_a_draft_saved_by_someone_else_meanwhile_is_not_overwritten(client_for, entered, users):
    order = entered()
    opened = edit_data(order, customer_po="MINE")
    order.customer_po = "THEIRS"
    order.save()
    response = client_for("cs").post(reverse("orders:edit", args=[order.number]), opened)
    assert response.status_code == 422
    assert "Someone saved this draft after you opened it" in response.content.decode()
    order.refresh_from_db()
    assert order.customer_po == "THEIRS"


def test_only_customer_service_edits_or_deletes_drafts(client_for, entered):
    order = entered()
    client = client_for("marketing")
    assert client.get(reverse("orders:edit", args=[order.number])).status_code == 403
    assert client.post(reverse("orders:delete", args=[order.number])).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def test_editing_keeps_confirmed_verbal_requirements_and_replaces_the_others(users, client_for, entered):
    order = entered(verbal_requirements=["电话确认的颜色", "口头约定的包装"])
    confirmed = order.verbal_requirements.get(text="电话确认的颜色")
    services.verbal_requirement_confirm(
        user=users["cs"], requirement=confirmed, confirmation=SimpleUploadedFile("回执.pdf", PDF)
    )
    response = client_for("cs").post(
        reverse("orders:edit", args=[order.number]), edit_data(order, verbal="电话确认的颜色\n新的口头要求")
    )
    assert response.status_code == 302
    texts = {v.text: v.confirmed_at is not None for v in VerbalRequirement.objects.filter(order=order)}
    assert texts == {"电话确认的颜色": True, "新的口头要求": False}


def test_a_new_scan_replaces_the_old_one_and_the_old_file_goes(client_for, entered, django_capture_on_commit_callbacks):
    order = entered(original=SimpleUploadedFile("first.pdf", PDF))
    old = order.original.name
    storage = order.original.storage
    data = edit_data(order, original=SimpleUploadedFile("second.pdf", PDF))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("cs").post(reverse("orders:edit", args=[order.number]), data)
    assert response.status_code == 302
    order.refresh_from_db()
    # Stored under the app's own name (common.uploads), never the one typed.
    assert order.original.name != old and not storage.exists(old) and storage.exists(order.original.name)


def test_saving_a_draft_without_a_new_file_keeps_its_scan(client_for, entered):
    order = entered(original=SimpleUploadedFile("first.pdf", PDF))
    kept = order.original.name
    response = client_for("cs").post(reverse("orders:edit", args=[order.number]), edit_data(order, customer_po="P2"))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.original.name == kept and order.customer_po == "P2"


def test_deleting_a_draft_asks_first_then_removes_it_and_its_files(
    client_for, entered, django_capture_on_commit_callbacks
):
    order = entered(original=SimpleUploadedFile("po.pdf", PDF), verbal_requirements=["口头"])
    storage, name = order.original.storage, order.original.name
    client = client_for("cs")
    page = client.get(reverse("orders:delete", args=[order.number])).content.decode()
    assert "PO-778" in page and "2 lines will be deleted" in page and Order.objects.filter(pk=order.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("orders:delete", args=[order.number]))
    assert response.status_code == 302 and response["Location"] == reverse("orders:list")
    assert not Order.objects.filter(pk=order.pk).exists() and not VerbalRequirement.objects.exists()
    assert not storage.exists(name)


def test_the_draft_page_offers_edit_and_delete_only_while_it_is_a_draft(client_for, entered, users):
    order = entered()
    client = client_for("cs")
    page = client.get(order.get_absolute_url()).content.decode()
    assert reverse("orders:edit", args=[order.number]) in page and reverse("orders:delete", args=[order.number]) in page
    services.order_submit(user=users["cs"], order=order)
    page = client.get(order.get_absolute_url()).content.decode()
    assert reverse("orders:edit", args=[order.number]) not in page
