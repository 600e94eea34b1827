"""The navigation bar: one entry per area, shown to the departments that may use it.

Each app adds its entries here (label, url name, capability or None for every
signed-in user)."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    capability: str | None = None


NAV_ITEMS: list[NavItem] = [
    NavItem(_("My work"), "accounts:my_work"),
    NavItem(_("Orders"), "orders:list", "order.view"),
    NavItem(_("Memos"), "orders:memos", "order.view"),
    NavItem(_("Delivery"), "delivery:notes", "delivery.view"),
    NavItem(_("On-time rate"), "delivery:ontime", "delivery.view"),
    NavItem(_("Progress sheet"), "delivery:sheet", "delivery.view"),
    NavItem(_("Satisfaction"), "satisfaction:rounds", "survey.view"),
    NavItem(_("Complaints"), "complaints:list", "complaint.view"),
    NavItem(_("Improvement"), "improvement:home", "improvement.view"),
    NavItem(_("Customers"), "customers:list", "customer.view"),
    NavItem(_("Products"), "customers:product_list", "customer.view"),
]


def nav_for(user) -> list[dict]:
    items = []
    for item in NAV_ITEMS:
        if item.capability and not can(user, item.capability):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # an area whose app is not built yet
        items.append({"label": item.label, "url": url, "url_name": item.url_name})
    return items
