"""The navigation bar: one entry per area, shown to the departments that may use it.

Each app adds its entries here (label, url name, capability or None for every signed-in user). Areas with
several pages are a menu (NavGroup), so that the English bar fits one line on a 1366 px screen; a menu of which a
user may open one page only is shown as that page's link."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    capability: str | None = None


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: tuple[NavItem, ...]


NAV_ITEMS: list[NavItem | NavGroup] = [
    NavItem(_("My work"), "accounts:my_work"),
    NavItem(_("Dashboard"), "dashboard:home", "dashboard.view"),
    NavGroup(
        _("Orders"),
        (
            NavItem(_("Orders"), "orders:list", "order.view"),
            NavItem(_("Internal memos"), "orders:memos", "order.view"),
        ),
    ),
    NavGroup(
        _("Delivery"),
        (
            NavItem(_("Delivery notes"), "delivery:notes", "delivery.view"),
            NavItem(_("Progress sheet"), "delivery:sheet", "delivery.view"),
            NavItem(_("On-time rate"), "delivery:ontime", "delivery.view"),
            NavItem(_("Returns"), "delivery:returns", "delivery.view"),
            NavItem(_("Carriers"), "delivery:carriers", "delivery.view"),
            NavItem(_("Reports"), "delivery:reports", "delivery.view"),
        ),
    ),
    NavItem(_("Satisfaction"), "satisfaction:rounds", "survey.view"),
    NavItem(_("Complaints"), "complaints:list", "complaint.view"),
    NavItem(_("Improvement"), "improvement:home", "improvement.view"),
    NavGroup(
        _("Customers"),
        (
            NavItem(_("Customers"), "customers:list", "customer.view"),
            NavItem(_("Products"), "customers:product_list", "customer.view"),
            NavItem(_("Samples"), "samples:list", "sample.view"),
            NavItem(_("Customer property"), "customer_property:list", "custprop.view"),
        ),
    ),
    NavGroup(
        _("Records"),
        (
            NavItem(_("Records register"), "records:register", "records.view"),
            NavItem(_("Procedure map"), "records:procedure_map", "records.view"),
        ),
    ),
]


def _link(item: NavItem, user) -> dict | None:
    if item.capability and not can(user, item.capability):
        return None
    try:
        url = reverse(item.url_name)
    except NoReverseMatch:
        return None  # an area whose app is not built yet
    return {"label": item.label, "url": url, "url_name": item.url_name, "active": False}


def nav_for(user, path: str = "") -> list[dict]:
    """The entries ``user`` may open; the page at ``path`` (and the menu holding it) is marked active: the
    entry with the longest address that ``path`` starts with, so /delivery/on-time/ is not Delivery notes."""
    entries, links = [], []
    for entry in NAV_ITEMS:
        if isinstance(entry, NavGroup):
            children = [link for link in (_link(item, user) for item in entry.items) if link]
            if len(children) > 1:
                entries.append({"label": entry.label, "url": children[0]["url"], "children": children})
                links.extend(children)
                continue
            link = children[0] if children else None
        else:
            link = _link(entry, user)
        if link:
            entries.append(link)
            links.append(link)
    matching = [link for link in links if path.startswith(link["url"])]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True
    for entry in entries:
        if "children" in entry:
            entry["active"] = any(child["active"] for child in entry["children"])
    return entries
