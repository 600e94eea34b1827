"""Survey fixtures: the default form, customers with surveyed contacts, and delivery data built straight in the
database (the eligibility rules read delivery notes; going through the whole order review would be slow)."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from customers.models import Contact, Customer, DeliveryAddress, Product
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
from orders.models import Order, OrderLine
from satisfaction import services
from satisfaction.defaults import DEFAULT_QUESTIONS

TODAY = timezone.localdate()
_numbers = count(1)


@pytest.fixture
def survey_form(users):
    return services.form_save(user=users["cs"], questions=DEFAULT_QUESTIONS)


@pytest.fixture
def make_customer(db):
    def make(code: str, *, contacts=1, status="active", language="zh-hans", **fields):
        customer = Customer.objects.create(
            code=code, name_zh=f"客户{code}", name_en=f"Customer {code}", status=status, **fields
        )
        DeliveryAddress.objects.create(customer=customer, label="总厂", address="东莞市", is_default=True)
        for i in range(contacts):
            Contact.objects.create(
                customer=customer,
                name=f"联系人{i + 1}",
                email=f"c{i + 1}@{code.lower()}.example",
                receives_surveys=True,
                is_primary=i == 0,
                language=language,
            )
        return customer

    return make


@pytest.fixture
def deliver(users):
    """deliver(customer, quantity, on=date, product=None, status="issued"): one delivery note of one line."""
    plain = {}

    def make(
        customer, quantity, on: date, *, product=None, status=DeliveryNote.Status.ISSUED, order_status="confirmed"
    ):
        if product is None:
            product = plain.get("p") or Product.objects.get_or_create(code="P-PLAIN", defaults={"name": "灯罩"})[0]
            plain["p"] = product
        n = next(_numbers)
        order = Order.objects.create(
            number=f"SO-T{n:05d}",
            customer=customer,
            customer_po=f"PO-{n}",
            status=order_status,
            created_by=users["cs"],
        )
        line = OrderLine.objects.create(
            order=order, position=1, product=product, quantity=Decimal(quantity), unit_price=1, requested_date=on
        )
        batch = DeliveryBatch.objects.create(line=line, quantity=Decimal(quantity), due_date=on, created_by=users["cs"])
        note = DeliveryNote.objects.create(
            number=f"DN-T{n:05d}",
            customer=customer,
            address=customer.addresses.first(),
            delivery_date=on,
            status=status,
            issued_by=users["cs"],
        )
        DeliveryNoteLine.objects.create(note=note, batch=batch, quantity=Decimal(quantity))
        return note

    return make


@pytest.fixture
def sent_round(users, survey_form, make_customer, deliver):
    """A sent ad-hoc round over the last 30 days: customer A (two contacts) and B (one), deadline in 10 days."""
    a = make_customer("A-01", contacts=2)
    b = make_customer("B-01", contacts=1, language="en")
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="Test round",
        reason="serious incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=10),
        customers=[a, b],
    )
    services.round_send(survey_round=survey_round, user=users["cs"])
    survey_round.refresh_from_db()
    return survey_round


def all_answers(form, value=5):
    """Every question of ``form`` answered ``value`` (as the public page posts them)."""
    return {str(q.pk): str(value) for q in form.questions.all()}
