"""Demo customer property (§5.10.3): what three customers lent or supplied us, as Warehouse and Quality would
have recorded it through the services.

- a mould in good condition, checked last month, used for a product of an order under review (so Quality and
  Technical see it beside their checklists);
- a mould whose periodic check is overdue (in Warehouse's and Quality's My work, flagged in the review);
- a mould found damaged at its last check: the incident, the customer's log entry and the memo to the
  departments;
- a fixture, a material (resin, in kg) and packaging (cartons), and a mould already handed back.

Registering a mould for a product flags the product "customer-owned mould" (客户私模). Dates lie in the past;
the services refuse future ones, and each check follows the previous one.

Idempotent: if any item exists, nothing is touched.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customer_property import services
from customer_property.models import Condition, Kind, PropertyItem
from customers.models import Customer, Product
from orders.models import Order, OrderLine
from orders.selectors import UNDER_REVIEW


def _products_of(customer: Customer, count: int) -> list[Product]:
    """The customer's products, those of orders under review first (so the review shows the property)."""
    lines = (
        OrderLine.objects.filter(order__customer=customer)
        .exclude(order__status__in=[Order.Status.DRAFT, Order.Status.CANCELLED])
        .select_related("product", "order")
        .order_by("-order__created_at", "position")
    )
    ranked = sorted(lines, key=lambda line: line.order.status not in UNDER_REVIEW)
    products: list[Product] = []
    for line in ranked:
        # A product whose mould is another customer's cannot be made with this customer's mould.
        if line.product not in products and line.product.mould_owner_id in (None, customer.pk):
            products.append(line.product)
        if len(products) == count:
            break
    return products


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if PropertyItem.objects.exists():
        return
    with_orders = list(
        Customer.objects.filter(orders__status__in=UNDER_REVIEW).distinct().order_by("code")[:3]
    ) or list(Customer.objects.filter(orders__isnull=False).distinct().order_by("code")[:3])
    if len(with_orders) < 3:
        return  # no demo orders to make products for
    first, second, third = with_orders
    today = timezone.localdate()
    warehouse, qa, tech = users["warehouse"], users["qa"], users["tech"]

    def day(n: int):
        return today - timedelta(days=n)

    def register(customer, kind, name, received, products=(), **extra):
        return services.item_register(
            user=warehouse if kind != Kind.FIXTURE else tech,
            customer=customer,
            kind=kind,
            name=name,
            received_on=day(received),
            products=products,
            **extra,
        )

    def check(item, days_ago, condition=Condition.GOOD, notes="", who=None):
        return services.item_check(
            user=who or warehouse,
            item=item,
            checked_on=day(days_ago),
            condition=condition,
            notes=notes,
            told_by="email",
        )

    p1, p2 = (_products_of(first, 2) + [None, None])[:2]
    good = register(
        first, Kind.MOULD, "灯罩注塑模 Lamp shade mould", 400, products=[p for p in [p1] if p],
        mould_no=f"M-{first.code}-01", cavities=4, customer_ref="CM-2231", location="模具房 A-03 Mould room A-03",
    )  # fmt: skip
    check(good, 120)
    check(good, 25, who=qa)
    overdue = register(
        first, Kind.MOULD, "底座注塑模 Base mould", 300, products=[p for p in [p2] if p],
        mould_no=f"M-{first.code}-02", cavities=2, location="模具房 A-05 Mould room A-05",
    )  # fmt: skip
    check(overdue, 150)  # the last check, more than 90 days ago: overdue
    (p3,) = (_products_of(second, 1) + [None])[:1]
    damaged = register(
        second, Kind.MOULD, "面板模具 Front panel mould", 200, products=[p for p in [p3] if p],
        mould_no=f"M-{second.code}-07", cavities=1, customer_ref="TOOL-77", location="模具房 B-01 Mould room B-01",
    )  # fmt: skip
    check(damaged, 100)
    check(
        damaged, 10, Condition.DAMAGED, "型腔边缘崩缺约 2 mm,需客户确认维修方案。 Cavity edge chipped (about 2 mm).", qa
    )
    register(
        second, Kind.FIXTURE, "检具 Inspection fixture", 60, products=[p for p in [p3] if p],
        mould_no=f"F-{second.code}-01", location="品管部 Quality lab",
    )  # fmt: skip
    resin = register(
        third, Kind.MATERIAL, "客供 PC 料 Customer-supplied PC resin", 40, quantity=Decimal("500"), unit="KG",
        customer_ref="LOT 24-118", location="原料仓 R-12 Raw material store R-12",
    )  # fmt: skip
    check(resin, 5)
    register(
        third, Kind.PACKAGING, "客供纸箱 Customer cartons", 20, quantity=Decimal("2000"), unit="PCS",
        location="包材仓 P-02 Packaging store P-02",
    )  # fmt: skip
    old = register(
        third, Kind.MOULD, "旧款灯罩模 Old lamp shade mould", 700, mould_no=f"M-{third.code}-00", cavities=2,
        location="模具房 C-01 Mould room C-01",
    )  # fmt: skip
    check(old, 400)
    services.item_return(user=warehouse, item=old, returned_on=day(300), returned_to="客户采购 陈先生 Mr Chen")
