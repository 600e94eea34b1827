"""Who is surveyed (§5.11.1), computed from the app's own data for a period.

- volume: quantity delivered (lines of issued, not cancelled, delivery notes dated in the period) of at least
  SURVEY_MIN_QUANTITY, and (or, by SURVEY_VOLUME_RULE) at least SURVEY_MIN_DELIVERIES delivery notes;
- new product / customer-owned mould: an order entered in the period, not cancelled, with a line of a new
  product or of a customer-owned-mould product (客户私模);
- key customer in development: flagged by Marketing on the customer.

Every customer that is not inactive gets a verdict, so the list can say why a customer is, or is not, on it.
Three grouped queries whatever the number of customers.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from delivery.models import DeliveryNote, DeliveryNoteLine
from orders.models import Order, OrderLine

VOLUME = "volume"
NEW_PRODUCT = "new_product"
CUSTOMER_MOULD = "customer_mould"
KEY_DEVELOPMENT = "key_development"
MANUAL = "manual"

RULE_LABELS = {
    VOLUME: _("delivered volume"),
    NEW_PRODUCT: _("order of a new product"),
    CUSTOMER_MOULD: _("order of a customer-owned-mould product"),
    KEY_DEVELOPMENT: _("key customer in development"),
    MANUAL: _("added by hand"),
}


@dataclass
class Verdict:
    customer: Customer
    delivered_qty: Decimal = Decimal(0)
    deliveries: int = 0
    rules: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return bool(self.rules)


def volume_rule_met(delivered_qty: Decimal, deliveries: int) -> bool:
    enough_quantity = delivered_qty >= settings.SURVEY_MIN_QUANTITY
    enough_deliveries = deliveries >= settings.SURVEY_MIN_DELIVERIES
    if settings.SURVEY_VOLUME_RULE == "or":
        return enough_quantity or enough_deliveries
    return enough_quantity and enough_deliveries


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def eligibility(start: date, end: date, customers=None) -> list[Verdict]:
    """A verdict for every customer that is not inactive (or for ``customers``), by customer code."""
    if customers is None:
        customers = Customer.objects.exclude(status=Customer.Status.INACTIVE)
    customers = list(customers.order_by("code"))
    verdicts = {c.pk: Verdict(customer=c) for c in customers}
    ids = list(verdicts)

    quantities = (
        DeliveryNoteLine.objects.filter(
            note__status=DeliveryNote.Status.ISSUED,
            note__delivery_date__gte=start,
            note__delivery_date__lte=end,
            note__customer_id__in=ids,
        )
        .values("note__customer_id")
        .annotate(total=Sum("quantity"))
    )
    for row in quantities:
        verdicts[row["note__customer_id"]].delivered_qty = Decimal(str(row["total"] or 0))
    counts = (
        DeliveryNote.objects.filter(
            status=DeliveryNote.Status.ISSUED, delivery_date__gte=start, delivery_date__lte=end, customer_id__in=ids
        )
        .values("customer_id")
        .annotate(n=Count("pk"))
    )
    for row in counts:
        verdicts[row["customer_id"]].deliveries = row["n"]

    since, until = _day_bounds(start, end)
    special = (
        OrderLine.objects.filter(order__customer_id__in=ids, order__created_at__gte=since, order__created_at__lt=until)
        .exclude(order__status=Order.Status.CANCELLED)
        .filter(Q(product__is_new=True) | Q(product__customer_owned_mould=True))
        .values_list("order__customer_id", "product__is_new", "product__customer_owned_mould")
        .distinct()
    )
    new_product, mould = set(), set()
    for customer_id, is_new, own_mould in special:
        if is_new:
            new_product.add(customer_id)
        if own_mould:
            mould.add(customer_id)

    for pk, verdict in verdicts.items():
        if volume_rule_met(verdict.delivered_qty, verdict.deliveries):
            verdict.rules.append(VOLUME)
        if pk in new_product:
            verdict.rules.append(NEW_PRODUCT)
        if pk in mould:
            verdict.rules.append(CUSTOMER_MOULD)
        if verdict.customer.important_in_development:
            verdict.rules.append(KEY_DEVELOPMENT)
    return [verdicts[c.pk] for c in customers]


def explain(rules: list[str], delivered_qty: Decimal, deliveries: int) -> str:
    """Why a customer is on the list, or why not, in words with its figures."""
    figures = _("%(qty)s pcs in %(n)s deliveries") % {"qty": f"{delivered_qty:,.0f}", "n": deliveries}
    if not rules:
        rule = _("at least %(qty)s pcs %(op)s at least %(n)s deliveries") % {
            "qty": f"{settings.SURVEY_MIN_QUANTITY:,}",
            "op": _("and") if settings.SURVEY_VOLUME_RULE == "and" else _("or"),
            "n": settings.SURVEY_MIN_DELIVERIES,
        }
        return _(
            "Not eligible: %(figures)s (rule: %(rule)s); no order of a new or customer-mould product; "
            "not a key customer in development."
        ) % {"figures": figures, "rule": rule}
    met = ", ".join(str(RULE_LABELS[r]) for r in rules)
    return _("Eligible: %(met)s — %(figures)s.") % {"met": met, "figures": figures}
