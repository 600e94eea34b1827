"""Printed order documents: the acknowledgement to the customer."""

from decimal import Decimal

from django.conf import settings

from common.pdf import render_pdf
from orders.models import Order, SignOff


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


def memo_pdf(memo) -> bytes:
    receipts = list(memo.receipts.select_related("acknowledged_by"))
    from accounts.roles import Dept

    for receipt in receipts:
        receipt.label = Dept(receipt.department).label
    return render_pdf(
        "orders/pdf/memo.html",
        {
            "memo": memo,
            "receipts": receipts,
            "company_zh": settings.COMPANY_NAME_ZH,
            "company_en": settings.COMPANY_NAME_EN,
        },
    )
