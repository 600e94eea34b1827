"""A customer with products (tests.orders.conftest), and sample requests taken through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from samples import services
from tests.delivery.conftest import deliverable, order  # noqa: F401 - fixtures for the modules here
from tests.orders.conftest import TODAY, customer, entered, products  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf_file(name="scan.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def ask(users, customer, product, who="tech", **kwargs):  # noqa: F811
    values = dict(
        user=users[who],
        customer=customer,
        product=product,
        kind="new",
        description="新灯罩样品 5 件, 按图纸 D-12 rev B",
        quantity=Decimal("5"),
        unit="PCS",
        requested_date=TODAY + timedelta(days=7),
        department="technical" if who == "tech" else "marketing",
    )
    values.update(kwargs)
    return services.request_create(**values)


def deliver(users, request, **kwargs):
    values = dict(
        user=users["cs"],
        request=request,
        address=request.customer.addresses.get(is_default=True),
        delivery_date=TODAY,
        quantity=Decimal("5"),
    )
    values.update(kwargs)
    return services.note_issue(**values)


def receive(users, note, **kwargs):
    values = dict(user=users["cs"], note=note, scan=pdf_file(), signed_by_name="李收货", signed_on=note.delivery_date)
    values.update(kwargs)
    return services.receipt_record(**values)


def judge(users, request, outcome="approved", conditions="", who="tech", **kwargs):
    values = dict(
        user=users[who],
        request=request,
        outcome=outcome,
        conditions=conditions,
        document=pdf_file("approval.pdf"),
        document_date=TODAY,
    )
    values.update(kwargs)
    return services.verdict_record(**values)


@pytest.fixture
def sample(users, customer, products):  # noqa: F811
    """A request by Technical for the new base (P-2) for the customer."""
    return ask(users, customer, products["base"])
