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

from accounts.roles import Dept, require
from common.errors import DomainError
from common.jobs import enqueue_on_commit
from common.numbering import next_in_year
from common.templatetags.numbers import num
from delivery.models import (
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
from orders.services import memo_issue

DELIVERABLE = (Order.Status.SIGNED_OFF, Order.Status.CONFIRMED)

# The export paperwork checked on a delivery note for export and transfer customers (§5.6.2).
CUSTOMS_CHECKLIST = [
    {"key": "invoice_packing_list", "zh": "发票及装箱单", "en": "Invoice and packing list"},
    {"key": "customs_declaration", "zh": "报关单", "en": "Customs declaration"},
    {"key": "customs_seal", "zh": "关封(结转)", "en": "Customs seal (transfer)"},
    {"key": "handbook", "zh": "加工贸易手册核销", "en": "Processing-trade handbook entry"},
]


# --- Batches -------------------------------------------------------------------------------------------


def batch_plan(*, user, line: OrderLine, quantity: Decimal, due_date: date) -> DeliveryBatch:
    """Split part of an order line's quantity into a delivery batch due on ``due_date``."""
    require(user, "delivery.edit")
    if quantity is None or quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=line.order_id)
        if order.status not in DELIVERABLE:
            raise DomainError(
                _("Only a signed-off or confirmed order can be delivered (this one is %(status)s).")
                % {"status": order.get_status_display()}
            )
        planned = DeliveryBatch.objects.filter(line=line).aggregate(total=Sum("quantity"))["total"] or 0
        if planned + quantity > line.quantity:
            raise DomainError(
                _("Line %(n)s has %(left)s left to plan; %(asked)s is more than ordered.")
                % {"n": line.position, "left": num(line.quantity - planned), "asked": num(quantity)}
            )
        return DeliveryBatch.objects.create(line=line, quantity=quantity, due_date=due_date, created_by=user)


# --- Delivery notes ------------------------------------------------------------------------------------


@dataclass
class NoteItem:
    batch: DeliveryBatch
    quantity: Decimal


def next_note_number(day: date) -> str:
    """DN-2026-00042: per year, no gaps (the counter row is locked until the note's transaction ends)."""
    return f"DN-{day.year}-{next_in_year(NoteCounter, day.year):05d}"


def carrier_usable(carrier: Carrier, on: date) -> bool:
    return carrier.active and carrier.agreements.filter(valid_from__lte=on, valid_to__gte=on).exists()


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
) -> DeliveryNote:
    """Customer Service issues a delivery note from ready batches of one customer and one address."""
    require(user, "delivery.edit")
    items = [i for i in items if i.quantity]
    if not items:
        raise DomainError(_("Choose at least one batch and a quantity to deliver."))
    if carrier is not None and not carrier_usable(carrier, delivery_date):
        raise DomainError(
            _("%(carrier)s has no transport agreement valid on %(date)s and cannot be chosen.")
            % {"carrier": carrier, "date": delivery_date.isoformat()}
        )
    if vehicle is not None and (carrier is None or vehicle.carrier_id != carrier.pk):
        raise DomainError(_("The vehicle belongs to another carrier."))
    with transaction.atomic():
        batches = {
            b.pk: b
            for b in DeliveryBatch.objects.select_for_update(of=("self",))
            .select_related("line__order__customer", "line__order__delivery_address")
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
            if o.status not in DELIVERABLE:
                raise DomainError(
                    _("Order %(number)s is %(status)s: it cannot be delivered.")
                    % {"number": o.number, "status": o.get_status_display()}
                )
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
        customer = order.customer
        if customer.trade != customer.Trade.DOMESTIC:
            checklist = customs_checklist or {}
            missing = [c for c in CUSTOMS_CHECKLIST if c["key"] not in checklist]
            if missing:
                raise DomainError(_("Tick the customs paperwork of this export delivery (§5.6.2)."))
        else:
            customs_checklist = {}
        note = DeliveryNote.objects.create(
            number=next_note_number(delivery_date),
            customer=customer,
            address=order.delivery_address,
            delivery_date=delivery_date,
            expected_arrival=expected_arrival,
            carrier=carrier,
            vehicle=vehicle,
            customs_checklist=customs_checklist,
            remarks=remarks,
            issued_by=user,
        )
        DeliveryNoteLine.objects.bulk_create(
            DeliveryNoteLine(note=note, batch=batches[i.batch.pk], quantity=i.quantity) for i in items
        )
    from delivery import note_tasks

    enqueue_on_commit(note_tasks.note_issued_notifications, note.pk)
    return note


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
    if note.status != DeliveryNote.Status.ISSUED:
        raise DomainError(_("A cancelled delivery note cannot be signed back."))
    try:
        with transaction.atomic():
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
        ret.save(update_fields=["replacement"])
    return ret


def transfer_complete(*, user, note: DeliveryNote, on: date) -> DeliveryNote:
    require(user, "delivery.edit")
    updated = DeliveryNote.objects.filter(pk=note.pk, transfer_completed_on__isnull=True).update(
        transfer_completed_on=on
    )
    if not updated:
        raise DomainError(_("The transfer of this note is already recorded as completed."))
    note.refresh_from_db()
    return note


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
