"""Quantities and prices as people write them (issue 9: "sensible decimals"). The database keeps quantities with
three decimals and unit prices with four; pages show 1200, not 1200.000, and 1.50, not 1.5000."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def plain(value: Decimal) -> str:
    """1200.000 -> 1200, 1.5000 -> 1.5 (Decimal.normalize would give 1.2E+3)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def qty(value):
    """A quantity: no trailing zeros (1200, 12.5, 0.125). Text that is not a number is shown as it is."""
    number = _decimal(value)
    if number is None:
        return "" if value in (None, "") else value
    return plain(number)


# The name the first templates (and orders.services) used; the same filter.
num = register.filter("num", qty)


@register.filter
def money(value):
    """A price or an amount: at least two decimals, more only when the price has them (1.50, 12.00, 0.0035)."""
    number = _decimal(value)
    if number is None:
        return "" if value in (None, "") else value
    text = plain(number)
    whole, _dot, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"
