"""What customers' and orders' pages show of the register (registered in apps.ready through customers/hooks.py
and orders/hooks.py): the property a product is made with, on the product's page and beside Quality's and
Technical's checklists in the order review, and the system's checks of the review (informing, never blocking)."""

from django.utils.translation import gettext as _

from accounts.roles import Dept
from customer_property import selectors
from orders.selectors import Check

# The review cards that show the property (§5.10.3 with §5.2.4: Quality and Technical judge the tools).
REVIEW_DEPARTMENTS = (Dept.QA, Dept.TECH)


def _products_of(order) -> list:
    seen, products = set(), []
    for line in order.lines.all():
        if line.product_id not in seen:
            seen.add(line.product_id)
            products.append(line.product)
    return products


def product_panel(product) -> list[tuple[str, dict]]:
    lines = selectors.property_of([product])[product.pk]
    flagged = bool(selectors.flagged_without_mould([product]))
    if not lines and not flagged:
        return []
    return [("customer_property/_product_panel.html", {"lines": lines, "flagged": flagged, "product": product})]


def review_panel(order, department: str) -> list[tuple[str, dict]]:
    if department not in REVIEW_DEPARTMENTS:
        return []
    products = _products_of(order)
    used = selectors.property_of(products)
    flagged = list(selectors.flagged_without_mould(products))
    rows = [(p, used[p.pk]) for p in products if used[p.pk]]
    if not rows and not flagged:
        return []
    return [("customer_property/_review_panel.html", {"rows": rows, "flagged": flagged})]


def prechecks(order) -> list[Check]:
    """One check per product made with customer property: what is wrong with it (not good, check overdue), or
    that it is in order; and a product flagged customer-owned mould whose mould is not in the register."""
    products = _products_of(order)
    used = selectors.property_of(products)
    checks = []
    for product in products:
        problems = []
        for line in used[product.pk]:
            words = selectors.problem_words(line)
            if words:
                problems.append(
                    _("%(kind)s %(what)s (%(problems)s)")
                    % {
                        "kind": line.item.get_kind_display().lower(),
                        "what": line.item.identification,
                        "problems": ", ".join(words),
                    }
                )
        if problems:
            checks.append(
                Check(
                    False,
                    _("%(product)s is made with the customer's %(list)s.")
                    % {"product": product.code, "list": "; ".join(problems)},
                )
            )
        elif used[product.pk]:
            checks.append(
                Check(
                    True,
                    _("%(product)s: the customer's property it is made with is in good condition and checked.")
                    % {"product": product.code},
                )
            )
    for product in selectors.flagged_without_mould(products):
        checks.append(
            Check(
                False,
                _("%(product)s is made with the customer's mould, but no mould of it is in the register.")
                % {"product": product.code},
            )
        )
    return checks
