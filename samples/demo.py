"""Demo samples (§4.0.2, §5.8.1, §5.2.4.3): one request in every state, as Marketing, Technical and Customer Service
would take them through the services:

- requested (Customer Service has it in My work to deliver), and one cancelled;
- delivered, waiting for the signed receipt (recent: not chased yet);
- delivered with the receipt overdue (chased in Customer Service's My work);
- approved, approved with conditions, and rejected, with the customer's written document.

The approvals are for products of orders now in review, so Technical sees them in its card (orders/hooks.py); the
demo orders' other products stay without an approved sample, so the system's check flags them.

The services stamp each step with the current time; afterwards the dates are moved back to the day it happened.
Idempotent: if any sample request exists, nothing is touched.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from customers.models import Customer, Product
from samples import services
from samples.models import SampleNote, SampleReceipt, SampleRequest, SampleVerdict

SCAN = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# (state, kind, who asks, what is asked, days ago asked, days ago delivered, verdict, conditions)
STORIES = [
    ("approved", "new", "tech", "新产品样品 10 件, 按客户图纸 rev A 试模", 40, 35, "approved", ""),
    (
        "approved_cond",
        "changed",
        "marketing",
        "材料改为 PC+ABS 后的样品 6 件, 客户做跌落测试",
        30,
        26,
        "approved_cond",
        "量产前颜色按客户色板 C-3 确认; 首批出货附全尺寸报告",
    ),
    ("rejected", "new", "tech", "新外壳样品 4 件, 客户装配验证", 25, 21, "rejected", ""),
    ("overdue", "new", "marketing", "展会用样品 3 件, 表面喷砂", 12, 10, None, ""),
    ("awaiting_receipt", "changed", "tech", "改模后样品 5 件, 核对卡扣尺寸", 3, 0, None, ""),
    ("requested", "new", "tech", "客户新项目样品 8 件, 规格见附图", 2, None, None, ""),
    ("cancelled", "new", "marketing", "客户询价样品 2 件", 15, None, None, ""),
]

QUANTITIES = {
    "approved": Decimal(10),
    "approved_cond": Decimal(6),
    "rejected": Decimal(4),
    "overdue": Decimal(3),
    "awaiting_receipt": Decimal(5),
    "requested": Decimal(8),
    "cancelled": Decimal(2),
}


def _file(name: str) -> ContentFile:
    return ContentFile(SCAN, name=name)


def _pairs() -> list[tuple[Customer, Product]]:
    """Customers and products for the stories: first the products of orders in review (Technical's card shows
    the approvals), then any active customer's new products."""
    from orders.models import Order

    pairs = []
    for order in Order.objects.filter(status="in_review").select_related("customer").order_by("number"):
        if not order.customer.addresses.filter(active=True).exists():
            continue
        for line in order.lines.select_related("product").order_by("position"):
            pair = (order.customer, line.product)
            if pair not in pairs:
                pairs.append(pair)
    customers = Customer.objects.filter(status=Customer.Status.ACTIVE, addresses__active=True).distinct()
    products = list(Product.objects.filter(active=True, is_new=True).order_by("code")[:10]) or list(
        Product.objects.filter(active=True).order_by("code")[:10]
    )
    for customer in customers.order_by("code")[:5]:
        for product in products:
            if (customer, product) not in pairs:
                pairs.append((customer, product))
    return pairs


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if SampleRequest.objects.exists():
        return
    pairs = _pairs()
    if len(pairs) < len(STORIES):
        return  # no demo customers and products to ask samples for
    today = timezone.localdate()
    now = timezone.now()
    # Approvals on the pairs of orders in review, so an order shows an approved sample; but leave the last
    # pair of the first order without one (its line is flagged by the system's check).
    order_pairs = pairs[:-1] if len(pairs) > len(STORIES) else pairs
    chase = settings.SIGNBACK_CHASE_DAYS
    for (state, kind, who, words, asked, delivered, verdict, conditions), (customer, product) in zip(
        STORIES, order_pairs, strict=False
    ):
        if state == "overdue":
            delivered = max(delivered, chase + 2)
            asked = max(asked, delivered + 2)
        request = services.request_create(
            user=users[who],
            customer=customer,
            product=product,
            kind=kind,
            description=words,
            quantity=QUANTITIES[state],
            unit=product.unit,
            requested_date=today - timedelta(days=asked) + timedelta(days=7),
            department="technical" if who == "tech" else "marketing",
            drawing=_file("drawing.pdf") if kind == "new" else None,
        )
        SampleRequest.objects.filter(pk=request.pk).update(requested_at=now - timedelta(days=asked))
        request.refresh_from_db()
        if state == "cancelled":
            services.request_cancel(user=users[who], request=request, reason="客户项目暂停, 不再需要样品")
            continue
        if delivered is None:
            continue
        address = customer.addresses.filter(active=True).order_by("-is_default", "pk").first()
        note = services.note_issue(
            user=users["cs"],
            request=request,
            address=address,
            delivery_date=today,
            quantity=request.quantity,
            remarks="样品, 请签收后回传" if state != "rejected" else "",
        )
        day = today - timedelta(days=delivered)
        SampleNote.objects.filter(pk=note.pk).update(delivery_date=day, issued_at=now - timedelta(days=delivered))
        note.refresh_from_db()
        if state in ("approved", "approved_cond", "rejected"):
            receipt = services.receipt_record(
                user=users["cs"], note=note, scan=_file("receipt.pdf"), signed_by_name="王采购", signed_on=day
            )
            SampleReceipt.objects.filter(pk=receipt.pk).update(recorded_at=now - timedelta(days=delivered - 1))
            verdict_day = day + timedelta(days=3)
            recorded = services.verdict_record(
                user=users[who],
                request=request,
                outcome=verdict,
                conditions=conditions,
                document=_file("approval.pdf"),
                document_date=verdict_day,
            )
            SampleVerdict.objects.filter(pk=recorded.pk).update(recorded_at=now - timedelta(days=max(delivered - 3, 0)))
