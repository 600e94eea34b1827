"""State changes of delivery: batches, delivery notes, sign-back, incidents, returns, progress and delays.

Quantities are checked inside the transaction with the batch rows locked, so two notes issued at once cannot
deliver more than a batch holds; note numbers come from a locked per-year counter in the same transaction,
so they neither skip nor repeat.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Dept, require
from common.errors import DomainError
from common.jobs import enqueue_on_commit
from common.numbering import next_in_year
from common.templatetags.numbers import num
from common.validators import check_date_in_range, check_name
from delivery import customs, dispatch, ontime
from delivery.models import (
    BatchDueChange,
    Carrier,
    DelayReport,
    DeliveryBatch,
    DeliveryNote,
    DeliveryNoteLine,
    NoteCounter,
    ProductionProgress,
    Return,
    SignBack,
    TransitIncident,
    Vehicle,
)
from orders.models import Memo, Order, OrderLine
from orders.selectors import UNDER_REVIEW, shipping_refusal
from orders.services import memo_issue

DELIVERABLE = (Order.Status.SIGNED_OFF, Order.Status.CONFIRMED)

# The export paperwork of a direct export (§5.6.2); see delivery/customs.py.
CUSTOMS_CHECKLIST = customs.EXPORT_PAPERWORK


# --- Batches -------------------------------------------------------------------------------------------


def customer_date(line: OrderLine) -> date:
    """The customer's date of a line: PMC's confirmed date as agreed with the customer, else the requested one."""
    return line.confirmed_date or line.requested_date


def batch_plan(*, user, line: OrderLine, quantity: Decimal, due_date: date, reason: str = "") -> DeliveryBatch:
    """Split part of an order line's quantity into a delivery batch due on ``due_date``.

    A batch is due on the customer's date (§5.5): earlier is always possible; later only with the reason (the
    customer's agreement), kept on the batch. What is not planned counts as due on the customer's date
    (``selectors``): once that date has passed it is late, and a batch planned from it is due on that date, so
    planning cannot make a late quantity on time."""
    require(user, "delivery.edit")
    if quantity is None or quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."), code="quantity")
    if due_date is None:
        raise DomainError(_("Give the due date."), code="due_date")
    check_date_in_range(due_date, code="due_date")
    reason = (reason or "").strip()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=line.order_id)
        refusal = shipping_refusal(order, line)  # signed off, or back in review by a change that left the line alone
        if refusal:
            raise DomainError(refusal)
        line = OrderLine.objects.get(pk=line.pk)
        planned = DeliveryBatch.objects.filter(line=line).aggregate(total=Sum("quantity"))["total"] or 0
        if planned + quantity > line.quantity:
            raise DomainError(
                _("Line %(n)s has %(left)s left to plan; %(asked)s is more than ordered.")
                % {"n": line.position, "left": num(line.quantity - planned), "asked": num(quantity)},
                code="quantity",
            )
        agreed = customer_date(line)
        today = timezone.localdate()
        if agreed < today and due_date != agreed:
            raise DomainError(
                _(
                    "The customer's date of line %(n)s was %(date)s: what is not planned yet is late since then,"
                    " and a batch of it is due on %(date)s."
                )
                % {"n": line.position, "date": agreed.isoformat()},
                code="due_date",
            )
        if agreed >= today and due_date < today:
            raise DomainError(_("A batch cannot be due in the past."), code="due_date")
        if due_date > agreed and not reason:
            raise DomainError(
                _(
                    "The customer's date of line %(n)s is %(date)s: a batch due later needs the reason (the"
                    " customer's agreement)."
                )
                % {"n": line.position, "date": agreed.isoformat()},
                code="reason",
            )
        batch = DeliveryBatch.objects.create(
            line=line,
            quantity=quantity,
            due_date=due_date,
            due_reason=reason if due_date > agreed else "",
            created_by=user,
        )
        if due_date < today:
            ontime.restate(
                months=[due_date],
                reason=ontime.both_languages(
                    gettext_lazy(
                        "A batch of %(qty)s planned on %(order)s line %(n)s, due %(date)s, after the month closed."
                    ),
                    qty=num(quantity),
                    order=order.number,
                    n=line.position,
                    date=due_date.isoformat(),
                ),
                user=user,
            )
        return batch


def batch_move(*, user, batch: DeliveryBatch, due_date: date, reason: str = "") -> BatchDueChange:
    """Move a batch's due date; the move is recorded (who, when, from, to, why). Later needs a reason. A batch
    whose due date has passed is settled for the on-time rate (on time or late): it is never moved, so a late
    batch cannot be made on time."""
    require(user, "delivery.edit")
    if due_date is None:
        raise DomainError(_("Give the new due date."), code="due_date")
    check_date_in_range(due_date, code="due_date")
    reason = (reason or "").strip()
    today = timezone.localdate()
    with transaction.atomic():
        batch = DeliveryBatch.objects.select_for_update(of=("self",)).select_related("line__order").get(pk=batch.pk)
        order = batch.line.order
        if order.status not in DELIVERABLE:
            raise DomainError(
                _("Order %(number)s is %(status)s: its batches cannot be moved.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        if batch.due_date < today:
            raise DomainError(
                _("This batch was due on %(date)s: it counts as it stands for that month and cannot be moved.")
                % {"date": batch.due_date.isoformat()},
                code="due_date",
            )
        delivered = _delivered_by_batch([batch]).get(batch.pk, 0)
        if delivered >= batch.quantity:
            raise DomainError(_("This batch is delivered in full: there is nothing left to move."))
        if due_date == batch.due_date:
            raise DomainError(_("The batch is already due on that date."), code="due_date")
        if due_date < today:
            raise DomainError(_("A batch cannot be due in the past."), code="due_date")
        if due_date > batch.due_date and not reason:
            raise DomainError(_("Moving a batch later needs the reason (the customer's agreement)."), code="reason")
        change = BatchDueChange.objects.create(
            batch=batch, old_date=batch.due_date, new_date=due_date, reason=reason, changed_by=user
        )
        batch.due_date = due_date
        batch.due_reason = reason if due_date > customer_date(batch.line) else ""
        batch.save(update_fields=["due_date", "due_reason"])
    return change


# --- Delivery notes ------------------------------------------------------------------------------------


@dataclass
class NoteItem:
    batch: DeliveryBatch
    quantity: Decimal


def next_note_number(day: date) -> str:
    """DN-2026-00042: per year, no gaps (the counter row is locked until the note's transaction ends)."""
    return f"DN-{day.year}-{next_in_year(NoteCounter, day.year):05d}"


def carrier_usable(carrier: Carrier, on: date) -> bool:
    """In use, with an agreement in force on ``on`` (§5.5.3): the only carriers a delivery note may name."""
    return carrier.active and carrier.agreements.filter(active=True, valid_from__lte=on, valid_to__gte=on).exists()


def note_issue(
    *,
    user,
    items: list[NoteItem],
    delivery_date: date,
    carrier: Carrier | None = None,
    vehicle: Vehicle | None = None,
    expected_arrival=None,
    customs_checklist: dict | None = None,
    remarks: str = "",
    backdate_reason: str = "",
) -> DeliveryNote:
    """Customer Service issues a delivery note from ready batches of one customer and one address.

    The note's date is when the goods leave: never in the future, and a date before the day it is issued says why
    (kept on the note: the on-time rate reads the date). The number is of the year it is issued in. Only goods in
    the warehouse go on a note: per order line, at most its stock (warehoused minus delivered)."""
    require(user, "delivery.edit")
    items = [i for i in items if i.quantity]
    if not items:
        raise DomainError(_("Choose at least one batch and a quantity to deliver."))
    today = timezone.localdate()
    backdate_reason = (backdate_reason or "").strip()
    if delivery_date is None:
        raise DomainError(_("Give the delivery date."), code="delivery_date")
    check_date_in_range(delivery_date, code="delivery_date")
    check_date_in_range(expected_arrival, code="expected_arrival")
    if delivery_date > today:
        raise DomainError(
            _("The delivery date cannot be in the future: issue the note on the day the goods leave."),
            code="delivery_date",
        )
    if delivery_date < today and not backdate_reason:
        raise DomainError(
            _("The delivery date %(date)s is before today: say why the note is dated earlier.")
            % {"date": delivery_date.isoformat()},
            code="backdate_reason",
        )
    if carrier is not None and not carrier_usable(carrier, delivery_date):
        raise DomainError(
            _("%(carrier)s has no transport agreement valid on %(date)s and cannot be chosen.")
            % {"carrier": carrier, "date": delivery_date.isoformat()},
            code="carrier",
        )
    if vehicle is not None and (carrier is None or vehicle.carrier_id != carrier.pk):
        raise DomainError(_("The vehicle belongs to another carrier."), code="vehicle")
    if vehicle is not None and not vehicle.active:
        raise DomainError(_("Vehicle %(plate)s is retired.") % {"plate": vehicle.plate}, code="vehicle")
    with transaction.atomic():
        batches = {
            b.pk: b
            for b in DeliveryBatch.objects.select_for_update(of=("self",))
            .select_related("line__order__customer", "line__order__delivery_address", "line__product")
            .filter(pk__in=[i.batch.pk for i in items])
            .order_by("pk")
        }
        orders = {b.line.order for b in batches.values()}
        customers = {o.customer_id for o in orders}
        addresses = {o.delivery_address_id for o in orders}
        if len(customers) != 1 or len(addresses) != 1:
            raise DomainError(_("A delivery note is for one customer and one delivery address."))
        order = next(iter(orders))
        for o in orders:
            if o.status not in DELIVERABLE and o.status not in UNDER_REVIEW:
                raise DomainError(
                    _("Order %(number)s is %(status)s: it cannot be delivered.")
                    % {"number": o.number, "status": o.get_status_display()}
                )
        for batch in batches.values():
            # An order back in review after a change ships what the change did not touch (orders.selectors).
            refusal = shipping_refusal(batch.line.order, batch.line)
            if refusal:
                raise DomainError(refusal)
        delivered = _delivered_by_batch(batches)
        for item in items:
            batch = batches[item.batch.pk]
            outstanding = batch.quantity - delivered.get(batch.pk, 0)
            if item.quantity <= 0 or item.quantity > outstanding:
                raise DomainError(
                    _("Batch due %(due)s of %(product)s has %(left)s left to deliver; %(asked)s is more than ordered.")
                    % {
                        "due": batch.due_date.isoformat(),
                        "product": batch.line.product.code,
                        "left": num(outstanding),
                        "asked": num(item.quantity),
                    }
                )
        _check_stock(batches, items)
        customer = order.customer
        # The export checklist is for direct exports only (§5.6.2); what is not ticked yet is Customs' work.
        customs_checklist = customs.paperwork_at_issue(customer, customs_checklist)
        address = order.delivery_address
        note = DeliveryNote.objects.create(
            number=next_note_number(today),
            customer=customer,
            address=address,
            # The note keeps what it said: later edits of the address or the products change new notes only.
            address_label=address.label,
            address_text=address.address,
            address_receiver=address.receiver,
            address_phone=address.phone,
            delivery_date=delivery_date,
            expected_arrival=expected_arrival,
            carrier=carrier,
            vehicle=vehicle,
            customs_checklist=customs_checklist,
            remarks=remarks,
            backdate_reason=backdate_reason if delivery_date < today else "",
            issued_by=user,
        )
        DeliveryNoteLine.objects.bulk_create(_note_line(note, batches[i.batch.pk], i.quantity) for i in items)
        ontime.batch_state_recompute(batches.values())  # the batches' delivery state, in this transaction
        # A note dated on or before a batch's due date changes that batch's month: a closed one is restated.
        touched = [b.due_date for b in batches.values() if delivery_date <= b.due_date < today]
        if touched:
            ontime.restate(
                months=touched,
                reason=ontime.both_languages(
                    gettext_lazy("Delivery note %(number)s dated %(date)s, issued %(issued)s: %(reason)s"),
                    number=note.number,
                    date=delivery_date.isoformat(),
                    issued=today.isoformat(),
                    reason=backdate_reason,
                ),
                user=user,
            )
        # The vehicle dispatch request and the customs work are opened with the note (§5.6.1, §5.6.2, §5.9.2).
        dispatch.dispatch_open(user=user, note=note)
        customs.work_open(user=user, note=note)
    from delivery import note_tasks

    enqueue_on_commit(note_tasks.note_issued_notifications, note.pk)
    return note


def _note_line(note: DeliveryNote, batch: DeliveryBatch, quantity: Decimal) -> DeliveryNoteLine:
    product = batch.line.product
    return DeliveryNoteLine(
        note=note,
        batch=batch,
        quantity=quantity,
        product_code=product.code,
        product_name=product.name,
        product_spec=product.spec,
        unit=product.unit,
    )


def _check_stock(batches: dict[int, DeliveryBatch], items: list[NoteItem]) -> None:
    """Per order line, the note cannot carry more than is in the warehouse (warehoused minus delivered)."""
    from delivery.selectors import stock_by_line

    asked: dict[int, Decimal] = {}
    lines = {}
    for item in items:
        line = batches[item.batch.pk].line
        lines[line.pk] = line
        asked[line.pk] = asked.get(line.pk, Decimal(0)) + item.quantity
    progress = {p.line_id: p for p in ProductionProgress.objects.select_for_update().filter(line_id__in=list(lines))}
    for pk, line in lines.items():
        line.progress = progress.get(pk)
    in_stock = stock_by_line(lines.values())  # one query for every line of the note
    for pk, quantity in asked.items():
        line = lines[pk]
        stock = in_stock[pk]
        if quantity > stock:
            raise DomainError(
                _(
                    "Only %(stock)s of %(product)s (order %(order)s line %(n)s) is in the warehouse; %(asked)s cannot"
                    " go on the note."
                )
                % {
                    "stock": num(max(stock, 0)),
                    "product": line.product.code,
                    "order": line.order.number,
                    "n": line.position,
                    "asked": num(quantity),
                },
                code="stock",
            )


def _delivered_by_batch(batches) -> dict[int, Decimal]:
    rows = (
        DeliveryNoteLine.objects.filter(batch__in=list(batches), note__status=DeliveryNote.Status.ISSUED)
        .values("batch")
        .annotate(total=Sum("quantity"))
    )
    return {r["batch"]: r["total"] for r in rows}


def note_cancel(*, user, note: DeliveryNote, reason: str) -> DeliveryNote:
    """A cancelled note keeps its number and says why; its quantities are free to deliver again."""
    require(user, "delivery.edit")
    if not reason.strip():
        raise DomainError(_("Say why the delivery note is cancelled."))
    with transaction.atomic():
        note = DeliveryNote.objects.select_for_update().get(pk=note.pk)
        if note.status == DeliveryNote.Status.CANCELLED:
            raise DomainError(_("This delivery note is already cancelled."))
        if hasattr(note, "sign_back"):
            raise DomainError(_("The customer has signed this note: record a return instead of cancelling it."))
        note.status = DeliveryNote.Status.CANCELLED
        note.cancel_reason = reason.strip()
        note.cancelled_by = user
        note.cancelled_at = timezone.now()
        note.save(update_fields=["status", "cancel_reason", "cancelled_by", "cancelled_at"])
        ontime.batch_state_recompute(note.lines.values_list("batch_id", flat=True))  # in this transaction
        today = timezone.localdate()
        touched = [
            line.batch.due_date
            for line in note.lines.select_related("batch")
            if note.delivery_date <= line.batch.due_date < today
        ]
        if touched:
            ontime.restate(
                months=touched,
                reason=ontime.both_languages(
                    gettext_lazy("Delivery note %(number)s cancelled: %(reason)s"),
                    number=note.number,
                    reason=note.cancel_reason,
                ),
                user=user,
            )
    return note


# --- After delivery ---------------------------------------------------------------------------------------


def signback_record(*, user, note: DeliveryNote, scan, signed_by_name: str, signed_on: date) -> SignBack:
    require(user, "delivery.edit")
    if signed_on > timezone.localdate():
        raise DomainError(_("The sign-back date is in the future."))
    if signed_on < note.delivery_date:
        raise DomainError(_("The customer cannot have signed before the delivery date."))
    if not signed_by_name.strip():
        raise DomainError(_("Give the name of the customer's signer."))
    check_name(signed_by_name, code="signed_by_name")
    try:
        with transaction.atomic():
            # The note's row lock, as note_cancel takes it: a cancel and a sign-back at once, exactly one wins.
            note = DeliveryNote.objects.select_for_update().get(pk=note.pk)
            if note.status != DeliveryNote.Status.ISSUED:
                raise DomainError(_("A cancelled delivery note cannot be signed back."))
            sign_back = SignBack(
                note=note, signed_by_name=signed_by_name.strip(), signed_on=signed_on, recorded_by=user
            )
            sign_back.scan.save(scan.name, scan, save=False)
            sign_back.save()
    except IntegrityError:
        raise DomainError(_("The sign-back of this note is already recorded.")) from None
    return sign_back


def incident_record(*, user, note: DeliveryNote, happened_on: date, description: str) -> TransitIncident:
    require(user, "delivery.edit")
    if not description.strip():
        raise DomainError(_("Say what happened."))
    check_date_in_range(happened_on, code="happened_on")
    return TransitIncident.objects.create(
        note=note, happened_on=happened_on, description=description.strip(), recorded_by=user
    )


def return_record(*, user, note_line: DeliveryNoteLine, quantity: Decimal, reason: str, pickup_date=None) -> Return:
    require(user, "delivery.edit")
    if not reason.strip():
        raise DomainError(_("Give the reason of the return."))
    with transaction.atomic():
        note_line = DeliveryNoteLine.objects.select_for_update().select_related("note").get(pk=note_line.pk)
        if note_line.note.status != DeliveryNote.Status.ISSUED:
            raise DomainError(_("Nothing was delivered with a cancelled note."))
        returned = note_line.returns.aggregate(total=Sum("quantity"))["total"] or 0
        if quantity is None or quantity <= 0 or quantity > note_line.quantity - returned:
            raise DomainError(
                _("At most %(left)s can come back on this line.") % {"left": num(note_line.quantity - returned)}
            )
        return Return.objects.create(
            note_line=note_line, quantity=quantity, reason=reason.strip(), pickup_date=pickup_date, recorded_by=user
        )


# The departments a return's write-up usually goes to (§5.7); Quality chooses them for each memo.
RETURN_MEMO_DEPARTMENTS = (Dept.CS, Dept.PMC, Dept.WAREHOUSE, Dept.MARKETING)


def _return_locked(ret: Return) -> Return:
    """The return's row, locked until the transaction ends: two clicks or two people act one after the other."""
    return (
        Return.objects.select_for_update(of=("self",))
        .select_related("note_line__note__customer", "note_line__batch__line__order", "note_line__batch__line__product")
        .get(pk=ret.pk)
    )


def return_memo_text(ret: Return) -> tuple[str, str]:
    """The subject and the header of a return's memo, in Chinese and English: a memo is read as it was issued."""
    line = ret.note_line
    note, order_line = line.note, line.batch.line
    customer = note.customer
    name = customer.name_zh or customer.name_en
    subject = f"退货 Return: {note.number} {order_line.product.code} −{num(ret.quantity)} ({customer.code} {name})"
    header = [
        f"送货单 Delivery note: {note.number} ({note.delivery_date.isoformat()})",
        f"客户 Customer: {customer.code} {name}",
        f"订单 Order: {order_line.order.number} 第 {order_line.position} 行 line {order_line.position}",
        f"产品 Product: {order_line.product.code} {order_line.product.name}",
        f"退货数量 Quantity returned: {num(ret.quantity)}",
        f"退货原因 Reason: {ret.reason}",
    ]
    return subject[:200], "\n".join(header)


def return_memo(
    *,
    user,
    ret: Return,
    memo: str,
    subject: str = "",
    departments: Sequence[str] = RETURN_MEMO_DEPARTMENTS,
    memos_seen: int | None = None,
) -> Memo:
    """Quality's write-up of a return (§5.7) as a numbered internal memo (《内部联络函》) to the departments
    concerned, each of which acknowledges it. A later write-up is a new memo: an issued one is never rewritten.

    ``memos_seen`` is how many memos the writer's page showed: if another was issued meanwhile (a double click,
    a colleague) the write-up is refused instead of sent twice."""
    require(user, "return.memo")
    if not memo.strip():
        raise DomainError(_("Write the memo."))
    departments = list(departments or [])
    unknown = sorted(set(departments) - set(Dept.values))
    if unknown:
        raise DomainError(_("Unknown department: %(names)s.") % {"names": ", ".join(unknown)})
    with transaction.atomic():
        ret = _return_locked(ret)
        if ret.status == Return.Status.CLOSED:
            raise DomainError(_("This return is closed: no further memo can be issued on it."))
        if memos_seen is not None and ret.memos.count() != memos_seen:
            raise DomainError(_("Another memo was issued on this return meanwhile. Read it before writing a new one."))
        default_subject, header = return_memo_text(ret)
        issued = memo_issue(
            user=user,
            topic=Memo.Topic.RETURN,
            subject=subject.strip() or default_subject,
            body=f"{header}\n\n品管部意见 Quality's write-up:\n{memo.strip()}",
            departments=departments,
            order=ret.note_line.batch.line.order,
        )
        ret._history_user = user
        ret.memos.add(issued)
        # The departments are told as for any memo on an order (an e-mail after the commit; My work shows it).
        from orders.notify import notify_departments

        notify_departments(issued.order, issued.departments, kind="memo")
    return issued


def return_pick_up(*, user, ret: Return, on: date) -> Return:
    """Customer Service records that the returned goods were picked up, on which day (§5.7)."""
    require(user, "return.progress")
    if on is None:
        raise DomainError(_("Give the pickup date."))
    if on > timezone.localdate():
        raise DomainError(_("The pickup date is in the future."))
    with transaction.atomic():
        ret = _return_locked(ret)
        if ret.status != Return.Status.OPEN:
            raise DomainError(_("This return is already picked up."))
        if on < ret.note_line.note.delivery_date:
            raise DomainError(
                _("The goods cannot have been picked up before they were delivered (%(date)s).")
                % {"date": ret.note_line.note.delivery_date.isoformat()}
            )
        ret.status = Return.Status.PICKED_UP
        ret.picked_up_on = on
        ret.picked_up_by = user
        ret._history_user = user
        ret.save(update_fields=["status", "picked_up_on", "picked_up_by"])
    return ret


def return_close(*, user, ret: Return) -> Return:
    """Customer Service closes a return once the goods are back and Quality's write-up exists (§5.7)."""
    require(user, "return.progress")
    with transaction.atomic():
        ret = _return_locked(ret)
        if ret.status == Return.Status.CLOSED:
            raise DomainError(_("This return is already closed."))
        if ret.status != Return.Status.PICKED_UP:
            raise DomainError(_("Record the pickup before closing the return."))
        # Returns recorded before numbered memos carry Quality's write-up as text; it counts as the write-up.
        if not ret.quality_memo.strip() and not ret.memos.exists():
            raise DomainError(_("Quality has not written its memo on this return yet."))
        ret.status = Return.Status.CLOSED
        ret.closed_at = timezone.now()
        ret.closed_by = user
        ret._history_user = user
        ret.save(update_fields=["status", "closed_at", "closed_by"])
    return ret


def return_replace(*, user, ret: Return, due_date: date) -> Return:
    """A replacement delivery: a new batch of the returned quantity on the same order line."""
    require(user, "delivery.edit")
    with transaction.atomic():
        ret = Return.objects.select_for_update().select_related("note_line__batch__line").get(pk=ret.pk)
        if ret.replacement_id:
            raise DomainError(_("A replacement is already planned for this return."))
        batch = DeliveryBatch.objects.create(
            line=ret.note_line.batch.line, quantity=ret.quantity, due_date=due_date, created_by=user
        )
        ret.replacement = batch
        ret._history_user = user
        ret.save(update_fields=["replacement"])
    return ret


# The transfer (结转) and the export paperwork: delivery/customs.py (transfer_complete, export_item_done).


# --- Production progress and delays (§5.4.1) ----------------------------------------------------------


def progress_update(*, user, line: OrderLine, planned_completion=None, produced=None, warehoused=None):
    require(user, "progress.edit")
    for value in (produced, warehoused):
        if value is not None and value < 0:
            raise DomainError(_("Quantities cannot be negative."))
    progress, _created = ProductionProgress.objects.get_or_create(line=line)
    if planned_completion is not None:
        progress.planned_completion = planned_completion
    if produced is not None:
        progress.produced = produced
    if warehoused is not None:
        progress.warehoused = warehoused
    progress.updated_by = user
    progress._history_user = user
    progress.save()
    return progress


def delay_report(*, user, line: OrderLine, reason: str, new_date: date) -> DelayReport:
    """PMC's written delay report; the planned completion moves to the new date and Customer Service is told."""
    require(user, "progress.edit")
    if not reason.strip():
        raise DomainError(_("Give the reason of the delay."))
    with transaction.atomic():
        report = DelayReport.objects.create(line=line, reason=reason.strip(), new_date=new_date, reported_by=user)
        progress_update(user=user, line=line, planned_completion=new_date)
    from orders.notify import notify_departments

    notify_departments(line.order, ["customer_service", "marketing"], kind="delay")
    return report


def delay_settle(*, user, report: DelayReport, outcome: str) -> DelayReport:
    """Customer Service records how Marketing settled the delay with the customer; the departments get a memo."""
    require(user, "delivery.edit")
    if not outcome.strip():
        raise DomainError(_("Write how it was settled with the customer."))
    with transaction.atomic():
        report = DelayReport.objects.select_for_update().select_related("line__order__customer").get(pk=report.pk)
        if report.settled_at:
            raise DomainError(_("This delay is already settled."))
        report.outcome = outcome.strip()
        report.settled_by = user
        report.settled_at = timezone.now()
        report.save(update_fields=["outcome", "settled_by", "settled_at"])
        _delay_memo(user, report)
    return report


def _delay_memo(user, report: DelayReport) -> None:
    from orders.models import Memo, MemoReceipt
    from orders.notify import notify_departments

    order = report.line.order
    customer = order.customer
    subject = (
        f"交期延误 Delivery delay: {order.number} 第 {report.line.position} 行 line {report.line.position} "
        f"({customer.code} {customer.name_zh or customer.name_en})"
    )
    body = "\n".join(
        [
            subject,
            f"原因 Reason: {report.reason}",
            f"新完成日期 New completion date: {report.new_date.isoformat()}",
            f"与客户协调结果 Outcome with the customer: {report.outcome}",
        ]
    )
    departments = ["marketing", "pmc", "quality", "warehouse", "customer_service"]
    memo = Memo.objects.create(
        order=order,
        number=f"NM-{order.number}-D{report.pk}",
        revision=order.revision,
        subject=subject[:200],
        body=body,
        departments=departments,
        issued_by=user,
    )
    MemoReceipt.objects.bulk_create(MemoReceipt(memo=memo, department=d) for d in departments)
    notify_departments(order, departments, kind="memo")
