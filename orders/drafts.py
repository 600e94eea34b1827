"""Draft orders: edited and deleted by Customer Service until they are submitted for review (§5.2.1).

A draft is not yet a record (nobody has reviewed or signed it), so it can be changed in place or deleted.
Once submitted, the order changes only through a change request (§5.3, ``services.change_request``).
The content of a draft passes the same checks as a new order (``services.check_order_input``).
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import require
from common.errors import DomainError
from customers.models import Customer, DeliveryAddress
from orders.models import Order, OrderLine, VerbalRequirement
from orders.services import LineInput, check_customer_evaluated, check_order_input, environmental_note

logger = logging.getLogger(__name__)

S = Order.Status

# What an order takes from its customer's profile when it is entered (services.order_create).
PROFILE_TERMS = ("currency", "payment_terms", "incoterm")


def _locked_draft(order: Order, seen: datetime | None) -> Order:
    order = Order.objects.select_for_update().select_related("customer").get(pk=order.pk)
    if order.status != S.DRAFT:
        raise DomainError(
            _("Order %(number)s was submitted for review: it can no longer be edited or deleted, only changed.")
            % {"number": order.number},
            code="state",
        )
    if seen is not None and seen != order.updated_at:
        raise DomainError(
            _("Someone saved this draft after you opened it. Open it again to see their changes."), code="stale"
        )
    return order


def _packaging_for(packaging: str, old_customer: Customer, new_customer: Customer, on) -> str:
    """The packaging requirements with the (new) customer's environmental note in them, the requirements in force
    on the order date (§5.2.2, the same the system's check reads); when the draft moves to another customer, the
    previous customer's note goes."""
    packaging = (packaging or "").replace("\r\n", "\n")
    if old_customer.pk != new_customer.pk:
        old_note = environmental_note(old_customer, on)
        if old_note:
            packaging = "\n".join(line for line in packaging.split("\n") if line.strip() != old_note)
    note = environmental_note(new_customer, on)
    if note and note not in packaging:
        packaging = f"{packaging.strip()}\n{note}"
    return packaging.strip()


def order_update_draft(
    *,
    user,
    order: Order,
    customer: Customer,
    customer_po: str,
    lines: list[LineInput],
    source: str,
    delivery_address: DeliveryAddress | None,
    original=None,
    clear_original: bool = False,
    verbal_requirements: list[str] = (),
    seen: datetime | None = None,
    **header,
) -> Order:
    """Save a draft as Customer Service corrected it: header, any number of lines (renumbered 1..n), the scan,
    the verbal requirements not yet confirmed in writing. ``seen`` is the draft's ``updated_at`` when the form
    was opened: a draft saved by someone else meanwhile is refused, never overwritten."""
    require(user, "order.enter")
    today = timezone.localdate()
    with transaction.atomic():
        order = _locked_draft(order, seen)
        # A line may keep the requested date it already had, even once that date has passed.
        kept = {line.position: line.requested_date for line in order.lines.all()}
        check_customer_evaluated(customer)
        check_order_input(
            customer=customer, delivery_address=delivery_address, lines=lines, today=today, kept_dates=kept
        )
        previous = order.customer
        if previous.pk != customer.pk:
            # The terms came from the previous customer's profile: take the new customer's.
            for name in PROFILE_TERMS:
                header.setdefault(name, getattr(customer, name))
        order.packaging = _packaging_for(
            header.pop("packaging", order.packaging), previous, customer, timezone.localdate(order.created_at)
        )
        for name, value in header.items():
            setattr(order, name, value)
        order.customer = customer
        order.customer_po = customer_po.strip()
        order.source = source
        order.delivery_address = delivery_address
        old_file = order.original.name if order.original else ""
        if original is not None:
            order.original.save(original.name, original, save=False)
        elif clear_original:
            order.original = ""
        order.save()
        order.lines.all().delete()
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                position=number,
                product=line.product,
                quantity=line.quantity,
                unit_price=line.unit_price,
                requested_date=line.requested_date,
            )
            for number, line in enumerate(lines, 1)
        )
        # Confirmed verbal requirements carry the customer's written answer: they stay as they are.
        order.verbal_requirements.filter(confirmed_at__isnull=True).delete()
        confirmed = set(order.verbal_requirements.values_list("text", flat=True))
        for text in dict.fromkeys(t.strip() for t in verbal_requirements if t.strip()):
            if text not in confirmed:
                VerbalRequirement.objects.create(order=order, text=text, recorded_by=user)
        if old_file and old_file != (order.original.name if order.original else ""):
            storage = order.original.storage
            transaction.on_commit(lambda: storage.delete(old_file))
    return order


def order_delete_draft(*, user, order: Order, seen: datetime | None = None) -> str:
    """Delete a draft that will not be submitted (entered twice, wrong customer …). Returns its number."""
    require(user, "order.enter")
    with transaction.atomic():
        order = _locked_draft(order, seen)
        number = order.number
        files = [order.original.name] if order.original else []
        files += [v.confirmation.name for v in order.verbal_requirements.all() if v.confirmation]
        storage = order.original.storage
        try:
            order.delete()
        except ProtectedError:
            raise DomainError(
                _("Order %(number)s is referred to by other records and cannot be deleted.") % {"number": number}
            ) from None
        transaction.on_commit(lambda: [storage.delete(name) for name in files])
    logger.info("draft order %s deleted by %s", number, user)
    return number
