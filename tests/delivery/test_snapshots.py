"""A delivery note keeps what it said when issued (issue 10): the address and the products as they were then;
editing the master data afterwards changes new notes only."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from customers.models import DeliveryAddress, Product
from delivery import dispatch, printing
from delivery.models import DeliveryNote
from tests.delivery.conftest import issue, plan
from tests.delivery.test_notes import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.6.1")]


@pytest.fixture
def renamed(users, order):
    """A note issued, then the product and the delivery address edited in the master data."""
    note = issue(users, (plan(users, order, quantity="100"), "100"))
    product = order.lines.get(position=1).product
    Product.objects.filter(pk=product.pk).update(name="NEWNAME", spec="NEWSPEC", unit="BOX", code="P-NEW")
    DeliveryAddress.objects.filter(pk=order.delivery_address_id).update(
        label="NEWLABEL", address="NEWADDRESS", receiver="NEWRECEIVER", phone="999"
    )
    return DeliveryNote.objects.get(pk=note.pk)


def test_it_keeps_the_address_and_products_on_the_note_as_issued(users, order):
    address = order.delivery_address
    address.receiver, address.phone = "李四", "0769-1234"
    address.save()
    note = issue(users, (plan(users, order, quantity="100"), "100"))
    assert (note.address_label, note.address_text, note.address_receiver, note.address_phone) == (
        "总厂",
        "东莞市长安镇1号",
        "李四",
        "0769-1234",
    )
    line = note.lines.get()
    assert (line.product_code, line.product_name, line.product_spec, line.unit) == ("P-1", "灯罩", "Φ300", "PCS")


def _shows_what_was_issued(html: str) -> None:
    assert "灯罩" in html and "P-1" in html
    assert "NEWNAME" not in html and "P-NEW" not in html and "NEWSPEC" not in html and ">BOX<" not in html


@pytest.mark.parametrize("layout", ["a4", "form241"])
def test_the_printed_note_reads_what_was_issued(renamed, layout):
    html = render_to_string(printing.LAYOUTS[layout][1], printing._context(printing._notes([renamed.pk]), layout))
    _shows_what_was_issued(html)
    assert "Φ300" in html and "东莞市长安镇1号" in html and "NEWADDRESS" not in html and "NEWRECEIVER" not in html


@pytest.mark.parametrize("layout", ["a4", "form241"])
def test_the_printed_dispatch_request_reads_what_was_issued(renamed, layout):
    page_size, template = dispatch.LAYOUTS[layout]
    html = render_to_string(template, {"requests": list(dispatch.requests_with_notes()), "page_size": page_size})
    _shows_what_was_issued(html)
    assert "东莞市长安镇1号" in html and "NEWADDRESS" not in html


def test_the_note_page_and_its_pdf_read_what_was_issued(client_for, renamed):
    client = client_for("cs")
    page = client.get(renamed.get_absolute_url()).content.decode()
    _shows_what_was_issued(page)
    assert "总厂" in page and "东莞市长安镇1号" in page and "NEWADDRESS" not in page and "NEWLABEL" not in page
    pdf = pdf_text(client.get(reverse("delivery:note_pdf", args=[renamed.number, "a4"])).content)
    assert "灯罩" in pdf and "NEWNAME" not in pdf and "NEWADDRESS" not in pdf


def test_a_new_note_takes_the_edited_master_data(users, order, renamed):
    later = issue(users, (plan(users, order, quantity="50"), "50"))
    line = later.lines.get()
    assert (later.address_text, line.product_name, line.product_spec, line.unit) == (
        "NEWADDRESS",
        "NEWNAME",
        "NEWSPEC",
        "BOX",
    )


# --- The order revision: what was submitted and signed keeps its words --------------------------------


def test_an_order_revision_keeps_the_address_and_products_it_was_signed_with(client_for, order, renamed):
    from orders import documents

    content = documents.revision_content(order, 1)
    line = next(line for line in content.lines if line.position == 1)
    assert (line.product.code, line.product.name, line.product.spec, line.product.unit) == (
        "P-1",
        "灯罩",
        "Φ300",
        "PCS",
    )
    assert (content.delivery_address.label, content.delivery_address.address) == ("总厂", "东莞市长安镇1号")

    page = client_for("cs").get(reverse("orders:revision", args=[order.number, 1])).content.decode()
    assert "灯罩" in page and "东莞市长安镇1号" in page
    assert "NEWNAME" not in page and "NEWADDRESS" not in page
