"""An order ready to be reviewed, built through the services as Customer Service would enter it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services as customer_services
from customers.models import Contact, Customer, DeliveryAddress, EnvironmentalRequirement, Product
from orders import services
from orders.models import REVIEW_DEPARTMENTS
from orders.services import LineInput

TODAY = timezone.localdate()


@pytest.fixture
def customer(users):
    customer = Customer.objects.create(
        code="C-0001",
        name_zh="东莞宏达电子有限公司",
        name_en="Dongguan Hongda Electronics",
        status="active",
        payment_terms="月结 30 天",
        currency="CNY",
    )
    Contact.objects.create(
        customer=customer, name="张伟", email="zhang@hongda.example", is_primary=True, receives_surveys=True
    )
    DeliveryAddress.objects.create(customer=customer, label="总厂", address="东莞市长安镇1号", is_default=True)
    customer_services.envreq_save(
        user=users["qa"],
        requirement=EnvironmentalRequirement(customer=customer, standard="rohs", detail="RoHS 2.0", document_ref="E-1"),
    )
    approve_evaluation(users, customer)
    return customer


def approve_evaluation(users, customer):
    """Orders are entered only for a customer with an approved evaluation form (§5.2.2)."""
    form = customer_services.evaluation_create(
        user=users["marketing"],
        customer=customer,
        proposed_payment_terms=customer.payment_terms,
        recommendation="建议合作",
    )
    form = customer_services.evaluation_submit(user=users["marketing"], evaluation=form)
    return customer_services.evaluation_approve(user=users["head"], evaluation=form)


@pytest.fixture
def products(users, customer):
    lamp = Product.objects.create(code="P-1", name="灯罩", spec="Φ300")
    base = Product.objects.create(code="P-2", name="底座", is_new=True)
    customer_services.quotation_create(
        user=users["marketing"],
        customer=customer,
        product=lamp,
        unit_price=Decimal("1.50"),
        currency="CNY",
        valid_from=TODAY - timedelta(days=30),
    )
    return {"lamp": lamp, "base": base}


@pytest.fixture
def entered(users, customer, products):
    """An order as Customer Service entered it: a draft with two lines."""

    def make(**overrides):
        values = dict(
            user=users["cs"],
            customer=customer,
            customer_po="PO-778",
            delivery_address=customer.addresses.get(),
            lines=[
                LineInput(products["lamp"], Decimal("1000"), Decimal("1.50"), TODAY + timedelta(days=30)),
                LineInput(products["base"], Decimal("500"), Decimal("2.20"), TODAY + timedelta(days=40)),
            ],
        )
        values.update(overrides)
        return services.order_create(**values)

    return make


@pytest.fixture
def submitted(entered, users):
    order = entered()
    return services.order_submit(user=users["cs"], order=order)


def sign(users, order, dept_user, **extra):
    """Sign the open step of ``dept_user``'s department with every item answered yes."""
    from orders.models import ReviewStep

    user = users[dept_user]
    step = ReviewStep.objects.get(order=order, status="open", department__in=[g.name for g in user.groups.all()])
    answers = {item["key"]: True for item in step.checklist.items}
    if step.department == "pmc" and "confirmed_dates" not in extra:
        extra["confirmed_dates"] = {line.position: line.requested_date for line in order.lines.all()}
    order.refresh_from_db()
    return services.step_sign(user=user, step=step, revision_seen=order.revision, answers=answers, **extra)


REVIEWERS = ["product", "marketing", "cs", "tech", "pmc", "qa"]
assert len(REVIEWERS) == len(REVIEW_DEPARTMENTS)
