"""Reading the customer property register: when each item's check is due, the list and its filters, the item's
page and history, the products flagged "customer-owned mould" with no mould in the register, My work.

Check intervals are a setting per kind, in days (``CUSTOMER_PROPERTY_CHECK_DAYS``, e.g. {"mould": 90}); what the
setting leaves out keeps the default below, and 0 means "no periodic check". An item's next check is due that many
days after its last check (or after its receipt, before the first check). Returned and lost items are not checked.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import BooleanField, Case, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.roles import can
from accounts.work import WorkItem, WorkSection

try:  # My work's "show all" asks the providers for every item (accounts.work, being added alongside)
    from accounts.work import work_limit
except ImportError:  # pragma: no cover

    def work_limit(limit: int) -> int | None:
        return limit


from customer_property.models import (
    Condition,
    Kind,
    PropertyCheck,
    PropertyDocument,
    PropertyIncident,
    PropertyItem,
)
from customers.models import Product

WORK_LIMIT = 20
DEFAULT_CHECK_DAYS = {
    Kind.MOULD: 90,
    Kind.FIXTURE: 90,
    Kind.MATERIAL: 30,
    Kind.PACKAGING: 60,
    Kind.DOCUMENT: 0,
}
STATES = ("kept", "returned", "all")


def check_days(kind: str) -> int:
    configured = getattr(settings, "CUSTOMER_PROPERTY_CHECK_DAYS", None) or {}
    return int(configured.get(kind, DEFAULT_CHECK_DAYS.get(kind, 0)))


def is_checked_periodically(item: PropertyItem) -> bool:
    return item.returned_on is None and item.condition != Condition.LOST and check_days(item.kind) > 0


def due_on(item: PropertyItem) -> date | None:
    """The day the next check is due; None when the item is not checked (returned, lost, kind not checked)."""
    if not is_checked_periodically(item):
        return None
    return (item.last_checked_on or item.received_on) + timedelta(days=check_days(item.kind))


def is_due(item: PropertyItem, today: date | None = None) -> bool:
    due = due_on(item)
    return due is not None and due <= (today or timezone.localdate())


def is_overdue(item: PropertyItem, today: date | None = None) -> bool:
    due = due_on(item)
    return due is not None and due < (today or timezone.localdate())


def _due_q(today: date, *, strictly: bool) -> Q:
    """Items whose check is due by ``today`` (or overdue, ``strictly`` before it), as the database evaluates it:
    the same rule as ``due_on``, one condition per kind."""
    q = Q(pk__in=[])
    for kind in Kind.values:
        days = check_days(kind)
        if days <= 0:
            continue
        limit = today - timedelta(days=days)
        base = {"check_base__lt" if strictly else "check_base__lte": limit}
        q |= Q(kind=kind, **base)
    return q & Q(returned_on__isnull=True) & ~Q(condition=Condition.LOST)


def with_due(items: QuerySet[PropertyItem], today: date | None = None) -> QuerySet[PropertyItem]:
    today = today or timezone.localdate()
    return items.annotate(check_base=Coalesce("last_checked_on", "received_on")).annotate(
        check_due=Case(When(_due_q(today, strictly=False), then=Value(True)), default=Value(False)),
        check_overdue=Case(
            When(_due_q(today, strictly=True), then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
    )


# --- The list --------------------------------------------------------------------------------------------------


def item_list(
    *,
    customer: str = "",
    kind: str = "",
    condition: str = "",
    state: str = "kept",
    due: bool = False,
) -> QuerySet[PropertyItem]:
    """The register narrowed by the list's filters, newest receipt first (the list's sorting and date range are
    ``customer_property.views.ITEMS``)."""
    items = with_due(PropertyItem.objects.select_related("customer", "received_by").prefetch_related("products"))
    if customer:
        items = items.filter(customer__code=customer)
    if kind:
        items = items.filter(kind=kind)
    if condition:
        items = items.filter(condition=condition)
    if state == "kept":
        items = items.filter(returned_on__isnull=True)
    elif state == "returned":
        items = items.filter(returned_on__isnull=False)
    if due:
        items = items.filter(check_due=True)
    return items.order_by("-received_on", "-pk")


def flagged_without_mould(products=None) -> QuerySet[Product]:
    """Products flagged "customer-owned mould" (客户私模) with no kept mould in the register: where is the
    mould? (shown on the register and in the review's checks). ``products`` narrows it to some products."""
    kept_mould = PropertyItem.products.through.objects.filter(
        product_id=OuterRef("pk"), propertyitem__kind=Kind.MOULD, propertyitem__returned_on__isnull=True
    )
    found = Product.objects.filter(customer_owned_mould=True, active=True).filter(~Exists(kept_mould))
    if products is not None:
        found = found.filter(pk__in=[p.pk for p in products])
    return found.select_related("mould_owner").order_by("code")


# --- The item's page -------------------------------------------------------------------------------------------


def item_for_page(number: str) -> PropertyItem:
    return (
        PropertyItem.objects.select_related("customer", "received_by", "recorded_by", "returned_by")
        .prefetch_related(
            "products",
            Prefetch("checks", queryset=PropertyCheck.objects.select_related("checked_by", "incident")),
            Prefetch(
                "incidents",
                queryset=PropertyIncident.objects.select_related(
                    "reported_by", "memo", "communication", "check_record"
                ),
            ),
            Prefetch("documents", queryset=PropertyDocument.objects.select_related("uploaded_by")),
        )
        .get(number=number)
    )


@dataclass
class Event:
    at: datetime
    who: object
    text: str


def _product_codes(version) -> list[str]:
    return sorted(link.product.code for link in version.products.select_related("product"))


def timeline(item: PropertyItem) -> list[Event]:
    """Who did what and when: the item's saved versions (registered, moved, condition, returned), its checks,
    incidents and documents."""
    events = []
    previous = None
    labels = {
        "location": _("kept at"),
        "condition": _("condition"),
    }
    for version in item.history.select_related("history_user").order_by("history_date", "history_id"):
        if version.history_type == "+":
            events.append(Event(version.history_date, version.history_user, _("Registered")))
        elif previous is not None:
            if version.returned_on and not previous.returned_on:
                events.append(
                    Event(
                        version.history_date,
                        version.history_user,
                        _("Returned to %(whom)s") % {"whom": version.returned_to},
                    )
                )
            for field, label in labels.items():
                old, new = getattr(previous, field), getattr(version, field)
                if old != new:
                    if field == "condition":
                        old, new = Condition(old).label, Condition(new).label
                    events.append(
                        Event(
                            version.history_date,
                            version.history_user,
                            _("%(field)s: %(old)s → %(new)s") % {"field": label, "old": old, "new": new},
                        )
                    )
            products = _product_codes(version)
            if products != _product_codes(previous):
                events.append(
                    Event(
                        version.history_date,
                        version.history_user,
                        _("Used for products: %(list)s") % {"list": ", ".join(products) or "—"},
                    )
                )
        previous = version
    for check in item.checks.all():
        events.append(
            Event(
                check.recorded_at,
                check.checked_by,
                _("Checked on %(date)s: %(condition)s")
                % {"date": check.checked_on.isoformat(), "condition": check.get_condition_found_display()},
            )
        )
    for incident in item.incidents.all():
        events.append(
            Event(
                incident.reported_at,
                incident.reported_by,
                _("%(what)s recorded; the customer was told, memo %(memo)s")
                % {"what": incident.get_kind_display(), "memo": incident.memo.number},
            )
        )
    for document in item.documents.all():
        events.append(
            Event(document.uploaded_at, document.uploaded_by, _("Attached %(name)s") % {"name": document.name})
        )
    return sorted(events, key=lambda e: e.at)


# --- What a product is made with (the product page, the order review) -----------------------------------------


@dataclass
class PropertyLine:
    item: PropertyItem
    due: date | None
    overdue: bool


def property_of(products) -> dict[int, list[PropertyLine]]:
    """product id → the kept items used for it (one query, however many products)."""
    ids = [p.pk for p in products]
    result: dict[int, list[PropertyLine]] = {pk: [] for pk in ids}
    if not ids:
        return result
    through = PropertyItem.products.through.objects.filter(product_id__in=ids, propertyitem__returned_on__isnull=True)
    links = through.select_related("propertyitem__customer").order_by("propertyitem__kind", "propertyitem__number")
    today = timezone.localdate()
    for link in links:
        item = link.propertyitem
        result[link.product_id].append(PropertyLine(item, due_on(item), is_overdue(item, today)))
    return result


def problem_words(line: PropertyLine) -> list[str]:
    words = []
    if line.item.condition != Condition.GOOD:
        words.append(str(line.item.get_condition_display()).lower())
    if line.overdue:
        words.append(_("check overdue"))
    return words


# --- My work ---------------------------------------------------------------------------------------------------


def my_work(user) -> list[WorkSection]:
    """Warehouse and Quality: the items whose periodic check is due (overdue first, flagged). Two queries."""
    if not can(user, "custprop.check"):
        return []
    today = timezone.localdate()
    due = (
        with_due(PropertyItem.objects.select_related("customer"), today)
        .filter(check_due=True)
        .order_by("check_base", "number")
    )
    items = []
    for item in due[: work_limit(WORK_LIMIT)]:
        when = due_on(item)
        items.append(
            WorkItem(
                label=f"{item.number} {item.identification} · {item.customer.code}",
                url=item.get_absolute_url(),
                detail=_("%(kind)s, check due %(date)s") % {"kind": item.get_kind_display(), "date": when.isoformat()},
                overdue=item.check_overdue,
            )
        )
    total = due.count()
    if not total:
        return []
    return [
        WorkSection(
            title=ngettext("Customer property check due", "Customer property checks due", total),
            items=items,
            total=total,
            more_url=reverse("customer_property:list") + "?due=1",
        )
    ]
