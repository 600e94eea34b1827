"""Demo orders at every stage of the review, made through the services like real ones.

Idempotent: if the demo orders exist, nothing is touched. Mail goes to memory while seeding (see seed_demo).
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from customers.models import Customer, Quotation
from orders import services
from orders.models import Memo, Order, ReviewStep
from orders.services import LineInput

REVIEWERS = {
    "product_group": "product",
    "marketing": "marketing",
    "customer_service": "cs",
    "technical": "tech",
    "pmc": "pmc",
    "quality": "qa",
}

# (stage, how many)
STAGES = [
    ("draft", 2),
    ("in_review", 3),
    ("objection", 1),
    ("verbal", 1),
    ("awaiting_signoff", 2),
    ("signed_off", 2),
    ("confirmed", 4),
    ("changed", 2),
    ("customer_change", 1),
    ("cancelled", 1),
]


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if Order.objects.filter(customer_po__startswith="DEMO-").exists():
        return
    rng = random.Random(7)
    today = timezone.localdate()
    customers = list(
        # Orders are entered only for customers with an approved evaluation form (§5.2.2).
        Customer.objects.filter(status=Customer.Status.ACTIVE, quotations__isnull=False, evaluations__status="approved")
        .exclude(addresses__isnull=True)
        .distinct()
        .order_by("code")
    )
    if not customers:
        return
    number = 0
    for stage, count in STAGES:
        for _ in range(count):
            customer = customers[number % len(customers)]
            number += 1
            order = _enter(rng, users, customer, today, number, verbal=stage == "verbal")
            _advance_to(rng, users, order, stage, today)


def _enter(rng, users, customer, today, number, verbal=False) -> Order:
    quotations = list(
        Quotation.objects.filter(customer=customer, valid_to__isnull=True).select_related("product").order_by("pk")
    )
    lines = []
    for quotation in quotations[: 1 + number % 3]:
        price = quotation.unit_price if number % 7 else quotation.unit_price * Decimal("1.1")  # some mismatches
        lines.append(
            LineInput(
                quotation.product,
                Decimal(rng.choice([500, 1000, 2000, 3000, 5000])),
                price.quantize(Decimal("0.0001")),
                today + timedelta(days=rng.randint(14, 60)),
            )
        )
    return services.order_create(
        user=users["cs"],
        customer=customer,
        customer_po=f"DEMO-{today.year}-{number:03d}",
        source=rng.choice(["fax", "email", "email", "phone"]),
        delivery_address=customer.addresses.filter(is_default=True).first() or customer.addresses.first(),
        labelling="外箱贴客户条码标签" if number % 2 else "",
        inspection="AQL 0.65 / 1.0",
        lines=lines,
        verbal_requirements=["客户电话要求每箱附出货检验报告"] if verbal else [],
        original=ContentFile(_demo_pdf(customer), name=f"PO-{number:03d}.pdf"),
    )


def _demo_pdf(customer) -> bytes:
    # A minimal valid PDF standing for the customer's faxed order.
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _sign(users, order, departments):
    order.refresh_from_db()
    for step in ReviewStep.objects.filter(order=order, status="open", department__in=departments):
        answers = {item["key"]: True for item in step.checklist.items}
        dates = {line.position: line.requested_date + timedelta(days=2) for line in order.lines.all()}
        services.step_sign(
            user=users[REVIEWERS[step.department]],
            step=step,
            revision_seen=order.revision,
            answers=answers,
            confirmed_dates=dates if step.department == "pmc" else None,
        )


def _advance_to(rng, users, order, stage, today):
    if stage == "draft":
        return
    services.order_submit(user=users["cs"], order=order)
    if stage == "in_review":
        _sign(users, order, rng.sample(list(REVIEWERS), rng.randint(1, 4)))
        return
    if stage == "objection":
        _sign(users, order, ["product_group", "marketing", "technical"])
        step = ReviewStep.objects.get(order=order, department="quality", status="open")
        services.step_object(user=users["qa"], step=step, revision_seen=1, reason="包装要求不明确:纸箱还是胶箱?")
        return
    _sign(users, order, list(REVIEWERS))
    if stage in ("verbal", "awaiting_signoff"):
        return
    services.head_signoff(user=users["head"], order=order, revision_seen=order.revision, comment="同意")
    if stage == "signed_off":
        return
    order.refresh_from_db()
    services.order_confirm(user=users["cs"], order=order, revision_seen=order.revision)
    if stage == "confirmed":
        return
    order.refresh_from_db()
    lines = [
        LineInput(line.product, line.quantity + 500, line.unit_price, line.requested_date)
        for line in order.lines.select_related("product").order_by("position")
    ]
    if stage == "cancelled":
        services.change_request(
            user=users["cs"],
            order=order,
            revision_seen=order.revision,
            origin="customer",
            reason="客户项目取消",
            kind="cancel",
        )
        pending = order.change_requests.get()
        services.change_decide(user=users["head"], request=pending, approve=True, comment="同意取消")
        return
    origin = "customer" if stage == "customer_change" else "company"
    services.change_request(
        user=users["cs"],
        order=order,
        revision_seen=order.revision,
        origin=origin,
        reason="客户邮件要求加量 500",
        lines=lines,
    )
    if stage == "changed":
        memo = Memo.objects.filter(order=order).first()
        if memo:
            services.memo_acknowledge(user=users["pmc"], memo=memo, department="pmc")
