"""Dashboard fixtures: the other apps' own fixtures (orders, delivery, surveys, complaints), and helpers that read
a figure from the dashboard page and from the page the figure links to."""

import pytest
from django.urls import reverse

from tests.complaints.conftest import record  # noqa: F401
from tests.delivery.conftest import deliverable, order  # noqa: F401
from tests.orders.conftest import customer, entered, products, submitted  # noqa: F401
from tests.satisfaction.conftest import deliver, make_customer, sent_round, survey_form  # noqa: F401


@pytest.fixture
def dashboard(client_for):
    """dashboard(who="head") -> the dashboard page's context, as ``who`` sees it."""

    def get(who: str = "head"):
        response = client_for(who).get(reverse("dashboard:home"))
        assert response.status_code == 200
        return response.context

    return get


@pytest.fixture
def page(client_for):
    """page(url, who="head") -> the context of the page the figure links to."""

    def get(url: str, who: str = "head"):
        response = client_for(who).get(url)
        assert response.status_code == 200, url
        return response.context

    return get


class Build:
    """Orders, lines, batches and delivery notes straight through the ORM (as tests/delivery/test_ontime.py):
    the batches' delivery state follows the notes by delivery's own signals."""

    def __init__(self, user):
        from itertools import count

        self.user = user
        self.numbers = count(1)

    def customer(self, code: str):
        from customers.models import Customer, DeliveryAddress

        made = Customer.objects.create(code=code, name_zh=f"客户{code}", name_en=f"Customer {code}", status="active")
        DeliveryAddress.objects.create(customer=made, label="厂", address="东莞", is_default=True)
        return made

    def product(self):
        from customers.models import Product

        return Product.objects.get_or_create(code="P-DASH", defaults={"name": "灯罩"})[0]

    def order(self, buyer, status="confirmed"):
        from orders.models import Order

        n = next(self.numbers)
        return Order.objects.create(
            number=f"SO-D-{n:05d}", customer=buyer, customer_po=f"PO-{n}", status=status, created_by=self.user
        )

    def batch(self, buyer, due, quantity="100", into=None):
        from decimal import Decimal

        from delivery.models import DeliveryBatch
        from orders.models import OrderLine

        into = into or self.order(buyer)
        line = OrderLine.objects.create(
            order=into,
            position=into.lines.count() + 1,
            product=self.product(),
            quantity=Decimal(quantity),
            unit_price=Decimal("1.50"),
            requested_date=due,
        )
        return DeliveryBatch.objects.create(line=line, quantity=Decimal(quantity), due_date=due, created_by=self.user)

    def deliver(self, batch, day, quantity=None):
        from decimal import Decimal

        from delivery.models import DeliveryNote, DeliveryNoteLine

        buyer = batch.line.order.customer
        note = DeliveryNote.objects.create(
            number=f"DN-D-{next(self.numbers):05d}",
            customer=buyer,
            address=buyer.addresses.get(),
            delivery_date=day,
            status=DeliveryNote.Status.ISSUED,
            issued_by=self.user,
        )
        DeliveryNoteLine.objects.create(note=note, batch=batch, quantity=Decimal(quantity or batch.quantity))
        return note


@pytest.fixture
def build(users):
    return Build(users["cs"])


@pytest.fixture(autouse=True)
def figures_not_cached(monkeypatch):
    """Tests compare the dashboard with the pages right after changing data: nothing kept between requests here
    (a timeout of 0 keeps nothing; test_cache.py keeps them)."""
    monkeypatch.setattr("dashboard.snapshot.KEEP_SECONDS", 0)
