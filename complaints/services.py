"""State changes of complaints (客诉, §5.10.2): record, acknowledge, investigate, answer, close, attach, and the
return or replacement Customer Service arranges from a complaint.

Each step is guarded by the complaint's status, read with the row locked (``select_for_update``) so that two
people acting at once cannot both perform it, and writes its own fields once: nothing is edited in place, and
simple_history keeps every version with who made it (``Complaint.history``).

Numbers: KS-YYYY-NNNN per year without gaps, from a locked counter row in the same transaction as the complaint
(as delivery notes). The year is the year the complaint was *received*, not the year it was typed in: a complaint
received on 31 December and recorded on 2 January belongs to the old year's complaints, as the analysis report
(§5.12.5) and the management review count them by date received.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import MATRIX, Dept, can, departments_of, require
from common.errors import DomainError
from common.numbering import next_in_year
from common.templatetags.numbers import num
from complaints.models import Complaint, ComplaintAttachment, ComplaintCounter
from customers.models import Customer, QualityProblem
from delivery import services as delivery_services
from delivery.models import DeliveryNote, DeliveryNoteLine, Return
from orders.models import Order

S = Complaint.Status
C = Complaint.Category

# The departments that may be made responsible for a complaint, in the order of the department list.
INVESTIGATING_DEPARTMENTS: tuple[str, ...] = tuple(d for d in Dept.values if d in MATRIX["complaint.investigate"])
# Quality investigates what concerns the goods themselves (§5.10.2: "Quality for quality"); the rest goes to
# Customer Service unless it chooses another department at intake.
QUALITY_CATEGORIES = (C.QUALITY, C.PACKAGING)
MAX_ATTACHMENTS = 10


def default_department(category: str) -> str:
    return Dept.QA if category in QUALITY_CATEGORIES else Dept.CS


def next_complaint_number(received_on: date) -> str:
    """KS-2026-0042: per year of receipt, no gaps (the counter row stays locked until the transaction ends)."""
    return f"KS-{received_on.year}-{next_in_year(ComplaintCounter, received_on.year):04d}"


# --- Who may do what on one complaint (the views show the forms by the same rules) ----------------------------


def may_record(user) -> bool:
    return can(user, "complaint.record")


def may_investigate(user, complaint: Complaint) -> bool:
    """Only a member of the complaint's responsible department investigates it."""
    return can(user, "complaint.investigate") and complaint.department in departments_of(user)


def may_attach(user, complaint: Complaint) -> bool:
    """Customer Service, and the department investigating (its findings, an 8D report, photos)."""
    return may_record(user) or may_investigate(user, complaint)


# --- Checks shared by the steps -----------------------------------------------------------------------------


def _check_upload(upload) -> None:
    """A PDF or an image under the size limit, judged by its first bytes (orders' check for scanned originals)."""
    from orders.forms import clean_scan

    try:
        clean_scan(upload)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="file") from None


def _not_in_future(day: date | None, field: str, what: str) -> None:
    if day is None:
        raise DomainError(_("Give the date: %(what)s.") % {"what": what}, code=field)
    if day > timezone.localdate():
        raise DomainError(_("The date is in the future: %(what)s.") % {"what": what}, code=field)


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, code=field)
    return value


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update(of=("self",)).select_related("customer").get(pk=complaint.pk)


# What each step needs the complaint to be; the message when it is not (already done, or not yet due).
_STEP_NEEDS = {
    "acknowledge": (S.RECEIVED, lambda: _("Only a complaint just received can be acknowledged to the customer.")),
    "investigate": (S.ACKNOWLEDGED, lambda: _("Only a complaint acknowledged to the customer can be investigated.")),
    "answer": (S.INVESTIGATED, lambda: _("Only an investigated complaint can be answered.")),
    "close": (S.ANSWERED, lambda: _("Only a complaint whose answer was sent can be closed.")),
}


def _expect(complaint: Complaint, step: str) -> None:
    status, message = _STEP_NEEDS[step]
    if complaint.status != status:
        raise DomainError(
            _("%(message)s %(number)s is now “%(status)s”.")
            % {"message": message(), "number": complaint.number, "status": complaint.get_status_display()},
            code="status",
        )


def _not_closed(complaint: Complaint) -> None:
    if complaint.status == S.CLOSED:
        raise DomainError(
            _("Complaint %(number)s is closed: nothing more can be added to it.") % {"number": complaint.number},
            code="status",
        )


def _save(complaint: Complaint, user, fields: list[str]) -> Complaint:
    complaint._history_user = user  # history says who, also outside a request (commands, demo data)
    complaint.save(update_fields=fields)
    return complaint


def _attach(complaint: Complaint, upload, user, name: str = "") -> ComplaintAttachment:
    attachment = ComplaintAttachment(
        complaint=complaint,
        name=(name.strip() or getattr(upload, "original_name", "") or upload.name or "file")[:200],
        uploaded_by=user,
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    return attachment


# --- Intake ---------------------------------------------------------------------------------------------------


def complaint_record(
    *,
    user,
    customer: Customer,
    channel: str,
    received_on: date,
    description: str,
    category: str,
    department: str | None = None,
    orders=(),
    notes=(),
    returns=(),
    attachments=(),
) -> Complaint:
    """Customer Service records a complaint: numbered, responsible department chosen (Quality by default for
    quality and packaging), linked to the customer's orders, delivery notes and returns. A quality complaint
    becomes one of the customer's quality problems, which Quality sees beside its checklist when the customer's
    next order is reviewed (§5.2.4.5)."""
    require(user, "complaint.record")
    if channel not in Complaint.Channel.values:
        raise DomainError(_("Say how the complaint came in."), code="channel")
    if category not in C.values:
        raise DomainError(_("Choose the category of the complaint."), code="category")
    _not_in_future(received_on, "received_on", _("received on"))
    description = _text(description, "description", _("Write what the customer says."))
    department = department or default_department(category)
    if department not in INVESTIGATING_DEPARTMENTS:
        raise DomainError(_("This department cannot investigate complaints."), code="department")
    orders, notes = list(orders), list(notes)
    returns = list(Return.objects.select_related("note_line__note").filter(pk__in=[r.pk for r in returns]))
    foreign = (
        [o.number for o in orders if o.customer_id != customer.pk]
        + [n.number for n in notes if n.customer_id != customer.pk]
        + [
            f"{r.note_line.note.number} −{num(r.quantity)}"
            for r in returns
            if r.note_line.note.customer_id != customer.pk
        ]
    )
    if foreign:
        raise DomainError(
            _("These belong to another customer than %(customer)s: %(list)s.")
            % {"customer": customer.code, "list": ", ".join(foreign)}
        )
    if any(o.status == Order.Status.DRAFT for o in orders):
        raise DomainError(_("A draft order was never received from the customer: it cannot be complained about."))
    if any(n.status != DeliveryNote.Status.ISSUED for n in notes):
        raise DomainError(_("Nothing was delivered with a cancelled delivery note."), code="notes")
    attachments = list(attachments)
    if len(attachments) > MAX_ATTACHMENTS:
        raise DomainError(_("Attach at most %(n)s files at once.") % {"n": MAX_ATTACHMENTS}, code="attachments")
    for upload in attachments:
        _check_upload(upload)
    with transaction.atomic():
        number = next_complaint_number(received_on)
        problem = None
        if category == C.QUALITY:
            problem = QualityProblem(
                customer=customer,
                reported_on=received_on,
                # The number first: the review shows the beginning of an open problem's text beside the checklist.
                description=f"{number} 客诉 Complaint: {description}",
                recorded_by=user,
            )
            problem._history_user = user
            problem.save()
        complaint = Complaint(
            number=number,
            customer=customer,
            channel=channel,
            received_on=received_on,
            description=description,
            category=category,
            department=department,
            quality_problem=problem,
            recorded_by=user,
        )
        complaint._history_user = user
        complaint.save()
        complaint.orders.set(orders)
        complaint.notes.set(notes)
        complaint.returns.set(returns)
        for upload in attachments:
            _attach(complaint, upload, user)
    return complaint


# --- The steps ------------------------------------------------------------------------------------------------


def complaint_acknowledge(*, user, complaint: Complaint, on: date, text: str) -> Complaint:
    """Customer Service tells the customer the complaint was received (and what happens next)."""
    require(user, "complaint.record")
    _not_in_future(on, "on", _("acknowledged on"))
    text = _text(text, "text", _("Write what we told the customer."))
    with transaction.atomic():
        complaint = _locked(complaint)
        _expect(complaint, "acknowledge")
        if on < complaint.received_on:
            raise DomainError(
                _("The complaint cannot be acknowledged before it was received (%(date)s).")
                % {"date": complaint.received_on.isoformat()},
                code="on",
            )
        complaint.status = S.ACKNOWLEDGED
        complaint.acknowledged_on = on
        complaint.acknowledgement = text
        complaint.acknowledged_by = user
        complaint.acknowledged_at = timezone.now()
        return _save(
            complaint, user, ["status", "acknowledged_on", "acknowledgement", "acknowledged_by", "acknowledged_at"]
        )


def complaint_investigate(*, user, complaint: Complaint, cause: str, action: str) -> Complaint:
    """The responsible department records the cause it found and what is done about it."""
    require(user, "complaint.investigate")
    if not may_investigate(user, complaint):
        raise PermissionDenied
    cause = _text(cause, "cause", _("Write the cause found."))
    action = _text(action, "action", _("Write what is done about it."))
    with transaction.atomic():
        complaint = _locked(complaint)
        _expect(complaint, "investigate")
        complaint.status = S.INVESTIGATED
        complaint.cause = cause
        complaint.action_taken = action
        complaint.investigated_by = user
        complaint.investigated_at = timezone.now()
        return _save(complaint, user, ["status", "cause", "action_taken", "investigated_by", "investigated_at"])


def complaint_answer(*, user, complaint: Complaint, answer: str, on: date) -> Complaint:
    """Customer Service sends the answer to the customer, on ``on``."""
    require(user, "complaint.record")
    _not_in_future(on, "on", _("answered on"))
    answer = _text(answer, "answer", _("Write the answer sent to the customer."))
    with transaction.atomic():
        complaint = _locked(complaint)
        _expect(complaint, "answer")
        investigated_on = timezone.localdate(complaint.investigated_at)
        if on < investigated_on:
            raise DomainError(
                _("The answer cannot have been sent before the investigation (%(date)s).")
                % {"date": investigated_on.isoformat()},
                code="on",
            )
        complaint.status = S.ANSWERED
        complaint.answer = answer
        complaint.answered_on = on
        complaint.answered_by = user
        complaint.answered_at = timezone.now()
        return _save(complaint, user, ["status", "answer", "answered_on", "answered_by", "answered_at"])


def complaint_close(*, user, complaint: Complaint, accepted_on: date, note: str = "") -> Complaint:
    """The customer accepted the answer: Customer Service closes the complaint. A quality complaint's quality
    problem is then fixed, with the action the investigation recorded as its corrective action."""
    require(user, "complaint.record")
    _not_in_future(accepted_on, "accepted_on", _("accepted by the customer on"))
    with transaction.atomic():
        complaint = _locked(complaint)
        _expect(complaint, "close")
        if accepted_on < complaint.answered_on:
            raise DomainError(
                _("The customer cannot have accepted the answer before it was sent (%(date)s).")
                % {"date": complaint.answered_on.isoformat()},
                code="accepted_on",
            )
        complaint.status = S.CLOSED
        complaint.accepted_on = accepted_on
        complaint.closing_note = (note or "").strip()
        complaint.closed_by = user
        complaint.closed_at = timezone.now()
        _save(complaint, user, ["status", "accepted_on", "closing_note", "closed_by", "closed_at"])
        if complaint.quality_problem_id:
            problem = QualityProblem.objects.select_for_update().get(pk=complaint.quality_problem_id)
            # Quality may have marked it fixed already, with its own words: those stay.
            if problem.status == QualityProblem.Status.OPEN:
                problem.status = QualityProblem.Status.FIXED
                problem.corrective_action = f"{complaint.number}: {complaint.action_taken}"
                problem.fixed_on = accepted_on
                problem._history_user = user
                problem.save(update_fields=["status", "corrective_action", "fixed_on"])
    return complaint


def complaint_attach(*, user, complaint: Complaint, upload, name: str = "") -> ComplaintAttachment:
    """A file added at any step before closing (a photo, the customer's report, the investigation's report)."""
    if not may_attach(user, complaint):
        raise PermissionDenied
    if upload is None:
        raise DomainError(_("Choose the file to attach."), code="file")
    _check_upload(upload)
    with transaction.atomic():
        complaint = _locked(complaint)
        _not_closed(complaint)
        return _attach(complaint, upload, user, name)


# --- Returns and replacements (§5.7, through delivery's own services) ------------------------------------------


def complaint_arrange_return(
    *,
    user,
    complaint: Complaint,
    note_line: DeliveryNoteLine,
    quantity: Decimal,
    reason: str,
    pickup_date: date | None = None,
) -> Return:
    """Customer Service arranges the return of goods delivered with one of the complaint's delivery notes; the
    return is delivery's (picked up, Quality's memo, closed there) and is linked to the complaint."""
    require(user, "complaint.record")
    with transaction.atomic():
        complaint = _locked(complaint)
        _not_closed(complaint)
        if not complaint.notes.filter(pk=note_line.note_id).exists():
            raise DomainError(_("Choose a line of one of the complaint's delivery notes."), code="note_line")
        ret = delivery_services.return_record(
            user=user,
            note_line=note_line,
            quantity=quantity,
            reason=_text(reason, "reason", _("Give the reason of the return.")),
            pickup_date=pickup_date,
        )
        complaint.returns.add(ret)
    return ret


def complaint_arrange_replacement(*, user, complaint: Complaint, ret: Return, due_date: date) -> Return:
    """A replacement delivery of a return linked to the complaint: a new batch of the returned quantity."""
    require(user, "complaint.record")
    if due_date is None or due_date < timezone.localdate():
        raise DomainError(_("The replacement cannot be due in the past."), code="due_date")
    with transaction.atomic():
        complaint = _locked(complaint)
        _not_closed(complaint)
        if not complaint.returns.filter(pk=ret.pk).exists():
            raise DomainError(_("This return is not one of the complaint's."), code="ret")
        return delivery_services.return_replace(user=user, ret=ret, due_date=due_date)
