"""The customs side of deliveries: the export paperwork of a direct export (§5.6.2) and the processing-trade
transfer (结转) of a domestic delivery (§5.9.2). Customs (报关部) does the work; Customer Service assists and sees
the state. Services, the reads My work and the reports need, and the My work provider of Customs.

The export checklist applies to direct exports only: a transfer customer's delivery is domestic and has no export
declaration; its work is the transfer, completed once, with who and when.
"""

from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Dept, in_dept, require
from common.errors import DomainError
from customers.models import Customer
from delivery.models import CustomsWork, DeliveryNote

# The export paperwork of a direct export (§5.6.2), in the order it is done. Customer Service may tick what is
# ready when it issues the note; Customs ticks the rest.
EXPORT_PAPERWORK = [
    {"key": "invoice_packing_list", "zh": "发票及装箱单", "en": "Invoice and packing list"},
    {"key": "customs_declaration", "zh": "报关单", "en": "Customs declaration"},
    {"key": "customs_release", "zh": "海关放行", "en": "Released by customs"},
]
EXPORT_KEYS = [item["key"] for item in EXPORT_PAPERWORK]

KIND_OF_TRADE = {Customer.Trade.EXPORT: CustomsWork.Kind.EXPORT, Customer.Trade.TRANSFER: CustomsWork.Kind.TRANSFER}


def paperwork_at_issue(customer: Customer, ticked: dict | None) -> dict:
    """The export items ticked on the note form, for a direct export only; anything else is dropped."""
    if customer.trade != Customer.Trade.EXPORT:
        return {}
    ticked = ticked or {}
    return {key: True for key in EXPORT_KEYS if ticked.get(key)}


def _stamp(user) -> dict:
    return {"by": user.pk, "name": user.get_full_name() or user.get_username(), "at": timezone.now().isoformat()}


def work_open(*, user, note: DeliveryNote) -> CustomsWork | None:
    """Called in the transaction that issues ``note``: export and transfer deliveries get their customs work."""
    kind = KIND_OF_TRADE.get(note.customer.trade)
    if kind is None:
        return None
    done = {}
    if kind == CustomsWork.Kind.EXPORT:
        done = {key: _stamp(user) for key in EXPORT_KEYS if note.customs_checklist.get(key)}
    work = CustomsWork(note=note, kind=kind, done=done)
    if kind == CustomsWork.Kind.EXPORT and len(done) == len(EXPORT_KEYS):
        work.completed_by, work.completed_at, work.completed_on = user, timezone.now(), timezone.localdate()
    work._history_user = user
    work.save()
    return work


def _work_locked(note: DeliveryNote, kind: str) -> CustomsWork:
    """The note's customs work, locked; made for notes issued before customs work existed."""
    note = DeliveryNote.objects.select_related("customer").get(pk=note.pk)
    if note.status != DeliveryNote.Status.ISSUED:
        raise DomainError(_("Delivery note %(number)s is cancelled: it has no customs work.") % {"number": note.number})
    if KIND_OF_TRADE.get(note.customer.trade) != kind:
        if kind == CustomsWork.Kind.TRANSFER:
            raise DomainError(
                _("Only deliveries to processing-trade customers are transferred (结转); %(customer)s is not one.")
                % {"customer": note.customer.code}
            )
        raise DomainError(
            _("Only direct exports have export paperwork; %(customer)s is not an export customer.")
            % {"customer": note.customer.code}
        )
    CustomsWork.objects.get_or_create(note=note, defaults={"kind": kind})
    return CustomsWork.objects.select_for_update().select_related("note").get(note=note)


def export_item_done(*, user, note: DeliveryNote, key: str) -> CustomsWork:
    """One item of an export's paperwork is done: who and when are kept; the last one completes the work."""
    require(user, "customs.edit")
    if key not in EXPORT_KEYS:
        raise DomainError(_("Unknown customs paperwork item."))
    with transaction.atomic():
        work = _work_locked(note, CustomsWork.Kind.EXPORT)
        if key in work.done:
            raise DomainError(_("This paperwork is already recorded as done."))
        work.done = {**work.done, key: _stamp(user)}
        if all(k in work.done for k in EXPORT_KEYS):
            work.completed_by, work.completed_at, work.completed_on = user, timezone.now(), timezone.localdate()
        work._history_user = user
        work.save()
    return work


def transfer_complete(*, user, note: DeliveryNote, on: date) -> CustomsWork:
    """The processing-trade transfer (结转) of an issued note is completed (§5.9.2), once, with who and when."""
    require(user, "customs.edit")
    if on is None:
        raise DomainError(_("Give the date the transfer was completed."), code="completed_on")
    if on > timezone.localdate():
        raise DomainError(_("The transfer cannot be completed in the future."), code="completed_on")
    with transaction.atomic():
        work = _work_locked(note, CustomsWork.Kind.TRANSFER)
        if work.completed_at is not None:
            raise DomainError(_("The transfer of this note is already recorded as completed."))
        if on < work.note.delivery_date:
            raise DomainError(
                _("The transfer cannot be completed before the delivery (%(date)s).")
                % {"date": work.note.delivery_date.isoformat()},
                code="completed_on",
            )
        work.completed_on, work.completed_by, work.completed_at = on, user, timezone.now()
        work._history_user = user
        work.save()
        # The note's own date stays in step for the lists that read it.
        DeliveryNote.objects.filter(pk=work.note_id).update(transfer_completed_on=on)
    return work


# --- Reads ---------------------------------------------------------------------------------------------------


def open_work() -> QuerySet[CustomsWork]:
    """Customs work still to do on issued notes, oldest delivery first."""
    return (
        CustomsWork.objects.filter(completed_at__isnull=True, note__status=DeliveryNote.Status.ISSUED)
        .select_related("note__customer")
        .order_by("note__delivery_date", "note__number")
    )


def items_to_do(work: CustomsWork) -> list[dict]:
    if work.kind != CustomsWork.Kind.EXPORT:
        return []
    return [item for item in EXPORT_PAPERWORK if item["key"] not in work.done]


def customs_rows(work: CustomsWork | None) -> list[dict]:
    """The export items of a note's work with who did each and when, for the note page."""
    if work is None or work.kind != CustomsWork.Kind.EXPORT:
        return []
    rows = []
    for item in EXPORT_PAPERWORK:
        done = work.done.get(item["key"])
        at = None
        if done:
            from datetime import datetime

            at = timezone.localtime(datetime.fromisoformat(done["at"]))
        rows.append({**item, "done": bool(done), "by": (done or {}).get("name", ""), "at": at})
    return rows


def item_label(item: dict) -> str:
    return f"{item['zh']} / {item['en']}"


WORK_LIMIT = 20


def my_work(user):
    """Customs sees the paperwork to do; Customer Service, who assists, sees the same work and its state."""
    from accounts.work import WorkItem, WorkSection, work_limit

    if not in_dept(user, Dept.CUSTOMS, Dept.CS):
        return []
    sections = []
    today = timezone.localdate()
    for kind, title in (
        (CustomsWork.Kind.EXPORT, _("Export paperwork to do")),
        (CustomsWork.Kind.TRANSFER, _("Processing-trade transfers to complete (结转)")),
    ):
        works = open_work().filter(kind=kind)
        items = []
        for work in works[: work_limit(WORK_LIMIT)]:
            note = work.note
            if kind == CustomsWork.Kind.EXPORT:
                detail = _("to do: %(items)s") % {"items": ", ".join(item_label(i) for i in items_to_do(work))}
            else:
                detail = _("delivered %(date)s") % {"date": note.delivery_date.isoformat()}
            items.append(
                WorkItem(
                    label=f"{note.number} {note.customer.display_name}",
                    url=reverse("delivery:note", args=[note.number]) + "#customs",
                    detail=detail,
                    # Export papers are due by the shipping day; a transfer follows later, on its own pace.
                    overdue=kind == CustomsWork.Kind.EXPORT and note.delivery_date < today,
                )
            )
        if not in_dept(user, Dept.CUSTOMS):
            title = _("%(title)s (Customs; you assist)") % {"title": title}
        sections.append(WorkSection(title=title, items=items, total=works.count()))
    return sections
