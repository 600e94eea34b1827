from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def num(value):
    """A decimal as people write it: 1200.000 -> 1200, 1.5000 -> 1.5 (Decimal.normalize would give 1.2E+3)."""
    if value in (None, ""):
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
