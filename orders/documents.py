"""Printed order documents: the acknowledgement to the customer, the internal memo."""

from decimal import Decimal

from django.conf import settings

from common.pdf import render_pdf
from orders.models import Memo, Order, SignOff


def acknowledgement_pdf(order: Order, revision: int) -> bytes:
    signoff = SignOff.objects.select_related("signed_by").get(order=order, revision=revision)
    lines = list(order.lines.select_related("product").order_by("position"))
    total = Decimal(0)
    for line in lines:
        line.amount = (line.quantity * line.unit_price).quantize(Decimal("0.01"))
        total += line.amount
    return render_pdf(
        "orders/pdf/acknowledgement.html",
        {
            "order": order,
            "revision": revision,
            "signoff": signoff,
            "lines": lines,
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
    from accounts.roles import Dept
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
