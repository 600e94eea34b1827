"""Demo deliveries: a carrier, progress, batches over the past months (mostly on time, some late, some not
delivered), delivery notes with and without sign-back, a delay and a return. Through the services.

Idempotent: if the demo carrier exists, nothing is touched.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from delivery import services
from delivery.models import Carrier, CarrierAgreement, DeliveryBatch, Vehicle
from orders.models import Order

SCAN = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if Carrier.objects.filter(name="顺达物流 Shunda Logistics").exists():
        return
    rng = random.Random(11)
    today = timezone.localdate()
    carrier = Carrier.objects.create(name="顺达物流 Shunda Logistics", contact="陈师傅", phone="0769-88886666")
    CarrierAgreement.objects.create(
        carrier=carrier,
        reference="TA-2026-01",
        protection_terms="防潮、防压、轻拿轻放;货损按发票价赔偿。",
        valid_from=today - timedelta(days=300),
        valid_to=today + timedelta(days=20),  # expires soon: flagged on the carriers page
    )
    vehicle = Vehicle.objects.create(carrier=carrier, plate="粤S·D1234", kind="4.2 米厢式货车")
    old = Carrier.objects.create(name="快运达 Kuaiyunda", contact="王", phone="0755-1234")
    CarrierAgreement.objects.create(
        carrier=old,
        reference="TA-2024-07",
        protection_terms="防潮",
        valid_from=today - timedelta(days=800),
        valid_to=today - timedelta(days=70),  # expired: cannot be chosen
    )
    orders = list(
        Order.objects.filter(status__in=services.DELIVERABLE, customer_po__startswith="DEMO-")
        .select_related("customer")
        .order_by("number")
    )
    for index, order in enumerate(orders):
        for line in order.lines.select_related("product").order_by("position"):
            # The past deliveries first (each from goods warehoused for it), then today's progress on the rest.
            delivered = _history(rng, users, order, line, today, carrier, vehicle, index)
            rest = max(line.quantity - delivered, Decimal(0))
            services.progress_update(
                user=users["pmc"],
                line=line,
                planned_completion=line.requested_date - timedelta(days=rng.choice([1, 2, 3, 5])),
                produced=delivered + rest * Decimal(rng.choice(["0.4", "0.8", "1"])),
                warehoused=delivered + rest * Decimal(rng.choice(["0", "0.3", "0.6"])),
            )
    # A delay PMC reported and Customer Service has still to settle, on the first open line.
    first = next((o for o in orders), None)
    if first is not None:
        line = first.lines.order_by("position").first()
        services.delay_report(
            user=users["pmc"], line=line, reason="注塑机故障,维修 3 天", new_date=line.requested_date + timedelta(3)
        )


def _history(rng, users, order, line, today, carrier, vehicle, index) -> Decimal:
    """Batches over past months for this line: delivered on time, late, partly, or not at all. Returns the
    quantity delivered."""
    delivered = Decimal(0)
    months = 2 + index % 5
    share = (line.quantity / Decimal(months + 1)).quantize(Decimal("1"))
    for month in range(months, 0, -1):
        due = today - timedelta(days=30 * month + rng.randint(0, 20))
        batch = DeliveryBatch.objects.create(line=line, quantity=share, due_date=due, created_by=users["cs"])
        roll = rng.random()
        if roll < 0.08:
            continue  # never delivered: late
        late = roll > 0.85
        delivered_on = due + timedelta(days=rng.randint(1, 6)) if late else due - timedelta(days=rng.randint(0, 2))
        delivered += share
        # Only goods in the warehouse go on a note: PMC warehoused this share before it left.
        services.progress_update(user=users["pmc"], line=line, warehoused=delivered)
        note = services.note_issue(
            user=users["cs"],
            items=[services.NoteItem(batch, share)],
            delivery_date=delivered_on,
            carrier=carrier if carrier.agreements.filter(valid_from__lte=delivered_on).exists() else None,
            vehicle=vehicle if carrier.agreements.filter(valid_from__lte=delivered_on).exists() else None,
            customs_checklist={c["key"]: True for c in services.CUSTOMS_CHECKLIST},
            backdate_reason="演示数据:历史送货补录 Demo data: past deliveries entered afterwards",
        )
        if delivered_on < today - timedelta(days=5) or rng.random() < 0.5:
            services.signback_record(
                user=users["cs"],
                note=note,
                scan=ContentFile(SCAN, name=f"{note.number}.pdf"),
                signed_by_name=rng.choice(["李收货", "王仓管", "Tom Lee"]),
                signed_on=min(today, delivered_on + timedelta(days=1)),
            )
        if index == 1 and month == 1:
            ret = services.return_record(
                user=users["cs"],
                note_line=note.lines.get(),
                quantity=Decimal("20"),
                reason="外观刮花,客户来料检验退回",
                pickup_date=today,
            )
            services.return_memo(user=users["qa"], ret=ret, memo="包装增加隔板,出货检验加严一级。")
    # The next batch, due tomorrow and not ready yet (§5.5.1).
    if index % 3 == 0:
        DeliveryBatch.objects.create(
            line=line, quantity=share, due_date=today + timedelta(days=1), created_by=users["cs"]
        )
    return delivered
