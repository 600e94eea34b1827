"""Delivery's part in an order's changes and cancellation (§5.3), registered into orders.hooks in DeliveryConfig.

A change never breaks delivery: a line that has batches keeps its product and cannot be removed or ordered below
what its batches hold, unless the user withdraws batches nothing was delivered from. A cancellation withdraws the
batches not yet due and not delivered, keeps the ones already late (they stay late in their month, §5.5), settles
PMC's open delay reports, and lists the issued delivery notes for Customer Service to deal with.
"""

from decimal import Decimal

from django.db.models import ProtectedError, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from common.errors import DomainError
from common.templatetags.numbers import num
from delivery.models import DelayReport, DeliveryBatch, DeliveryNote, DeliveryNoteLine
from orders.memos import both

ZERO = Decimal(0)


def _batches(order) -> list[DeliveryBatch]:
    batches = list(
        DeliveryBatch.objects.filter(line__order=order).select_related("line__product").order_by("due_date", "pk")
    )
    delivered = dict(
        DeliveryNoteLine.objects.filter(batch__in=batches, note__status=DeliveryNote.Status.ISSUED)
        .values("batch")
        .annotate(total=Sum("quantity"))
        .values_list("batch", "total")
    )
    noted = set(DeliveryNoteLine.objects.filter(batch__in=batches).values_list("batch", flat=True))
    replacing = set(
        DeliveryBatch.objects.filter(pk__in=[b.pk for b in batches], replaces__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for batch in batches:
        batch.delivered = delivered.get(batch.pk) or ZERO
        # Only a batch no note ever named (issued or cancelled) and no return is replaced by can go: the others
        # are on records that point at it.
        batch.withdrawable = batch.pk not in noted and batch.pk not in replacing
    return batches


def _describe(batch: DeliveryBatch) -> str:
    return _("line %(n)s %(product)s, %(quantity)s due %(due)s") % {
        "n": batch.line.position,
        "product": batch.line.product.code,
        "quantity": num(batch.quantity),
        "due": batch.due_date.isoformat(),
    }


def _plain(batch: DeliveryBatch) -> str:
    """A batch as a memo names it, the same in both languages."""
    return f"#{batch.line.position} {batch.line.product.code} × {num(batch.quantity)} @ {batch.due_date.isoformat()}"


def withdrawable(order) -> list[tuple[int, str]]:
    return [(b.pk, _describe(b)) for b in _batches(order) if b.withdrawable]


def change_guard(order, proposed: dict, withdraw) -> list[str]:
    withdraw = {int(pk) for pk in withdraw or ()}
    batches = _batches(order)
    problems = []
    known = {b.pk: b for b in batches}
    for pk in sorted(withdraw):
        batch = known.get(pk)
        if batch is None:
            problems.append(_("A batch chosen for withdrawal is not one of this order's."))
        elif not batch.withdrawable:
            problems.append(
                _("The batch %(batch)s is on a delivery note or replaces a return: it cannot be withdrawn.")
                % {"batch": _describe(batch)}
            )
    if problems:
        return problems
    wanted = {line["position"]: line for line in proposed.get("lines", [])}
    for line in order.lines.select_related("product").order_by("position"):
        kept = [b for b in batches if b.line_id == line.pk and b.pk not in withdraw]
        delivered = sum((b.delivered for b in batches if b.line_id == line.pk), ZERO)
        planned = sum((b.quantity for b in kept), ZERO)
        new = wanted.get(line.position)
        if new is None:
            if kept:
                problems.append(
                    _(
                        "Line %(n)s (%(product)s) has delivery batches (%(planned)s planned, %(delivered)s delivered):"
                        " it cannot be removed. Withdraw its batches that nothing was delivered from, or keep the line."
                    )
                    % {
                        "n": line.position,
                        "product": line.product.code,
                        "planned": num(planned),
                        "delivered": num(delivered),
                    }
                )
            elif DelayReport.objects.filter(line=line).exists():
                problems.append(
                    _("Line %(n)s (%(product)s) has PMC's delay reports on record: it cannot be removed.")
                    % {"n": line.position, "product": line.product.code}
                )
            continue
        if kept and new["product_id"] != line.product_id:
            problems.append(
                _(
                    "Line %(n)s has delivery batches of %(product)s: its product cannot change. Withdraw the batches"
                    " first, or add the new product as a new line."
                )
                % {"n": line.position, "product": line.product.code}
            )
        quantity = Decimal(new["quantity"])
        if quantity < planned:
            problems.append(
                _(
                    "Line %(n)s (%(product)s): %(planned)s are planned in delivery batches (%(delivered)s delivered);"
                    " the quantity cannot go below that to %(quantity)s. Choose batches to withdraw, or order at"
                    " least %(planned)s."
                )
                % {
                    "n": line.position,
                    "product": line.product.code,
                    "planned": num(planned),
                    "delivered": num(delivered),
                    "quantity": num(quantity),
                }
            )
    return problems


def _withdraw(batches: list[DeliveryBatch]) -> list[str]:
    lines = []
    for batch in batches:
        text = _describe(batch)
        try:
            batch.delete()
        except ProtectedError:
            raise DomainError(
                _("The batch %(batch)s is referred to by other records: it cannot be withdrawn.") % {"batch": text}
            ) from None
        lines.append(both(gettext_noop("Delivery batch withdrawn: %(batch)s."), batch=_plain(batch)))
    return lines


def change_listener(order, proposed: dict, withdraw, user) -> list[str]:
    withdraw = {int(pk) for pk in withdraw or ()}
    if not withdraw:
        return []
    return _withdraw([b for b in _batches(order) if b.pk in withdraw])


def cancel_listener(order, user) -> list[str]:
    today = timezone.localdate()
    lines = []
    batches = _batches(order)
    going = [b for b in batches if b.withdrawable and b.due_date >= today]
    lines.extend(_withdraw(going))
    for batch in batches:
        if batch in going:
            continue
        if batch.delivered == 0 and batch.due_date < today:
            lines.append(
                both(
                    gettext_noop("Delivery batch kept on record, already late before the cancellation: %(batch)s."),
                    batch=_plain(batch),
                )
            )
    notes = (
        DeliveryNote.objects.filter(lines__batch__line__order=order, status=DeliveryNote.Status.ISSUED)
        .distinct()
        .order_by("delivery_date", "number")
    )
    for note in notes:
        lines.append(
            both(
                gettext_noop(
                    "Issued delivery note %(number)s (%(date)s) carries goods of this order: Customer Service to deal"
                    " with it (cancel the note if the goods have not left, or arrange their return)."
                ),
                number=note.number,
                date=note.delivery_date.isoformat(),
            )
        )
    open_delays = DelayReport.objects.filter(line__order=order, settled_at__isnull=True).select_related("line")
    for report in open_delays:
        report.outcome = both(gettext_noop("Closed: the order was cancelled."))
        report.settled_by = user
        report.settled_at = timezone.now()
        report.save(update_fields=["outcome", "settled_by", "settled_at"])
        lines.append(
            both(
                gettext_noop("PMC's delay report on line %(n)s closed: the order was cancelled."),
                n=report.line.position,
            )
        )
    return lines


def register() -> None:
    from orders import hooks

    hooks.register(hooks.change_guards, change_guard)
    hooks.register(hooks.change_listeners, change_listener)
    hooks.register(hooks.cancel_listeners, cancel_listener)
    hooks.register(hooks.withdrawable, withdrawable)
