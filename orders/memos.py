"""The text of the internal memo (《内部联络函》) for a change or cancellation, in Chinese and English.

A memo is a record that every department reads as it was issued, so it is stored bilingual rather than
translated at display time."""

from django.utils import timezone, translation
from django.utils.translation import gettext

from customers.models import DeliveryAddress, Product

FIELD_LABELS = {
    "customer_po": ("客户订单号", "customer PO no."),
    "delivery_address_id": ("送货地址", "delivery address"),
    "currency": ("币种", "currency"),
    "payment_terms": ("付款条件", "payment terms"),
    "incoterm": ("贸易术语", "Incoterms"),
    "packaging": ("包装要求", "packaging"),
    "labelling": ("标识要求", "labelling"),
    "inspection": ("检验要求", "inspection"),
    "other_requirements": ("其它要求", "other requirements"),
    "product": ("产品", "product"),
    "quantity": ("数量", "quantity"),
    "unit_price": ("单价", "unit price"),
    "requested_date": ("要求交期", "requested date"),
    "verbal": ("口头要求", "verbal requirement"),
}


def both(message: str, **params) -> str:
    """``message`` (a msgid marked with gettext_noop) in Chinese, then English: how a memo line is stored."""
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            text = gettext(message) % params if params else gettext(message)
        if text not in texts:
            texts.append(text)
    return " ".join(texts)


def value_text(field: str, value) -> str:
    if value in (None, ""):
        return "—"
    if field == "delivery_address_id":
        address = DeliveryAddress.objects.filter(pk=value).first()
        return f"{address.label} {address.address}" if address else str(value)
    if field == "product":
        product = Product.objects.filter(code=value).first()
        return f"{value} {product.name}" if product else str(value)
    return str(value)


def change_lines(changes: list[dict]) -> list[str]:
    lines = []
    for change in changes:
        zh, en = FIELD_LABELS.get(change["field"], (change["field"], change["field"]))
        where_zh = f"第 {change['line']} 行 " if change["line"] else ""
        where_en = f"line {change['line']} " if change["line"] else ""
        old, new = value_text(change["field"], change["old"]), value_text(change["field"], change["new"])
        lines.append(f"{where_zh}{zh} / {where_en}{en}: {old} → {new}")
    return lines


def memo_text(order, request, changes: list[dict], notes=()) -> tuple[str, str]:
    """``notes``: what the change or cancellation did beside the order's content (batches withdrawn, objections
    closed, delivery notes for Customer Service to deal with), already bilingual."""
    customer = order.customer
    name = customer.name_zh or customer.name_en
    if request.kind == "cancel":
        subject = f"订单取消 Order cancelled: {order.number} ({customer.code} {name}, PO {order.customer_po})"
        what = ["订单已取消,请停止相关工作。 The order is cancelled: stop the work on it."]
    else:
        revision = f"第 {order.revision} 版 revision {order.revision}"
        subject = f"订单变更 Order changed: {order.number} {revision} ({customer.code} {name})"
        what = change_lines(changes)
    origin = "客户要求 requested by the customer" if request.origin == "customer" else "本公司 our company"
    body = "\n".join(
        [
            subject,
            f"原因 Reason: {request.reason}",
            f"提出方 Requested by: {origin}",
            f"日期 Date: {timezone.localdate().isoformat()}",
            "",
            *what,
            *([""] + list(notes) if notes else []),
        ]
    )
    return subject[:200], body
