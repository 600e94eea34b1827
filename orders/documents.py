"""Printed order documents: the acknowledgement to the customer, the internal memo."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings

from accounts.roles import Dept
from common.pdf import render_pdf
from orders.models import Memo, Order, OrderRevision, ReviewStep, SignOff


def revision_content(order: Order, revision: int) -> SimpleNamespace:
    """The order as it was in ``revision`` (its snapshot), with the dates PMC confirmed for that revision: what a
    document made for the revision shows, whatever changed afterwards."""
    from customers.models import DeliveryAddress, Product

    content = OrderRevision.objects.get(order=order, number=revision).snapshot
    confirmed = _confirmed_dates(order, revision)
    products = Product.objects.in_bulk([line["product_id"] for line in content["lines"]])
    lines = []
    for values in content["lines"]:
        confirmed_on = confirmed.get(str(values["position"]))
        lines.append(
            SimpleNamespace(
                position=values["position"],
                product=kept_product(values, products),
                quantity=Decimal(values["quantity"]),
                unit_price=Decimal(values["unit_price"]),
                requested_date=date.fromisoformat(values["requested_date"]),
                confirmed_date=date.fromisoformat(confirmed_on) if confirmed_on else None,
            )
        )
    header = {name: content.get(name) for name in Order.HEADER_FIELDS}
    address_id = header.pop("delivery_address_id")
    header["delivery_address"] = kept_address(content) or DeliveryAddress.objects.filter(pk=address_id).first()
    return SimpleNamespace(number=order.number, customer=order.customer, revision=revision, lines=lines, **header)


def kept_product(values: dict, products: dict):
    """The product as the revision named it; revisions made before the snapshot kept names read the product."""
    if "product_name" not in values:
        return products.get(values["product_id"])
    return SimpleNamespace(
        pk=values["product_id"],
        code=values["product"],
        name=values["product_name"],
        spec=values["product_spec"],
        unit=values["unit"],
    )


def kept_address(content: dict) -> SimpleNamespace | None:
    """The delivery address as the revision said it (None for revisions made before it was kept)."""
    kept = content.get("delivery_address")
    return SimpleNamespace(**kept) if kept else None


def _confirmed_dates(order: Order, revision: int) -> dict[str, str]:
    """PMC's confirmed dates valid for ``revision``: its signature on that revision, or the latest earlier one a
    later change did not concern."""
    step = (
        ReviewStep.objects.filter(order=order, department=Dept.PMC, revision__lte=revision, signed_at__isnull=False)
        .exclude(status=ReviewStep.Status.OBJECTED)
        .order_by("-revision", "-signed_at")
        .first()
    )
    return step.confirmed_dates if step else {}


def acknowledgement_pdf(order: Order, revision: int) -> bytes:
    signoff = SignOff.objects.select_related("signed_by").get(order=order, revision=revision)
    content = revision_content(order, revision)
    total = Decimal(0)
    for line in content.lines:
        line.amount = (line.quantity * line.unit_price).quantize(Decimal("0.01"))
        total += line.amount
    return render_pdf(
        "orders/pdf/acknowledgement.html",
        {
            "order": content,
            "revision": revision,
            "signoff": signoff,
            "lines": content.lines,
            "total": total,
            "company_zh": settings.COMPANY_NAME_ZH,
            "company_en": settings.COMPANY_NAME_EN,
        },
    )


# A printed memo is bilingual whatever the reader's language (it is filed and read as it was issued).
MEMO_TOPICS = {
    Memo.Topic.ORDER_CHANGE: ("订单变更/取消", "Order change or cancellation"),
    Memo.Topic.RETURN: ("退货", "Return"),
    Memo.Topic.MEETING: ("改善会议", "Improvement meeting"),
    Memo.Topic.OTHER: ("其它", "Other"),
}
CONCERN_KINDS = {"return": ("退货", "Return"), "meeting": ("改善会议", "Improvement meeting")}


def memo_pdf(memo: Memo) -> bytes:
    """《内部联络函》 as printed: what it is about (the order, the return, the meeting), the text, the receipts.
    ``memo`` should come from ``selectors.memo_for_page`` (what it concerns is loaded)."""
    from orders.selectors import memo_concerns

    receipts = list(memo.receipts.select_related("acknowledged_by"))
    for receipt in receipts:
        receipt.label = Dept(receipt.department).label
    concerns = [
        {"zh": CONCERN_KINDS[c.key][0], "en": CONCERN_KINDS[c.key][1], "text": c.text}
        for c in memo_concerns(memo)
        if c.key in CONCERN_KINDS
    ]
    topic_zh, topic_en = MEMO_TOPICS.get(memo.topic, (memo.topic, memo.topic))
    return render_pdf(
        "orders/pdf/memo.html",
        {
            "memo": memo,
            "topic_zh": topic_zh,
            "topic_en": topic_en,
            "concerns": concerns,
            "receipts": receipts,
            "company_zh": settings.COMPANY_NAME_ZH,
            "company_en": settings.COMPANY_NAME_EN,
        },
    )
