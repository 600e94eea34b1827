"""Customer property fixtures: a customer with products, and helpers that register, check and report items
through the services, as Warehouse, Quality and Technical would."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from customer_property import services
from customers.models import Customer, Product

TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="drawing.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def acme(db):
    return Customer.objects.create(code="ACME-01", name_zh="艾克米", name_en="Acme", status="active")


@pytest.fixture
def other(db):
    return Customer.objects.create(code="OTHER-01", name_zh="其他", name_en="Other", status="active")


@pytest.fixture
def lamp(db):
    return Product.objects.create(code="P-LAMP", name="灯罩")


@pytest.fixture
def register(users, acme):
    """register(**overrides): a mould of ACME's, received 10 days ago, registered by Warehouse."""

    def make(**overrides):
        values = dict(
            user=users["warehouse"],
            customer=acme,
            kind="mould",
            name="灯罩模 Lamp shade mould",
            mould_no="M-0001",
            cavities=4,
            location="模具房 A-03",
            received_on=TODAY - timedelta(days=10),
        )
        values.update(overrides)
        return services.item_register(**values)

    return make


def material(**overrides):
    values = dict(kind="material", name="PC 料", mould_no="", cavities=None, quantity=Decimal("500"), unit="KG")
    values.update(overrides)
    return values


def check(users, item, condition="good", who="warehouse", on=None, **extra):
    extra.setdefault("notes", "型腔崩缺 chipped" if condition in ("damaged", "lost") else "")
    return services.item_check(
        user=users[who], item=item, checked_on=on or TODAY, condition=condition, told_by="email", **extra
    )
