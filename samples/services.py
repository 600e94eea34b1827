"""Every change to samples goes through here: each function checks who may do it and whether the request or note is
in a state that allows it, and raises a DomainError with the reason otherwise (§4.0.2, §5.8.1, §5.2.4.3)."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import departments_of, require
from common.errors import DomainError
from common.numbering import next_in_year
from common.validators import check_date_in_range, check_name
from customers.models import Customer, DeliveryAddress, Product
from samples.models import (
    REQUESTING_DEPARTMENTS,
    SampleNote,
    SampleNoteCounter,
    SampleReceipt,
    SampleRequest,
    SampleVerdict,
)

S = SampleRequest.Status
# A note may be issued while the request waits for samples, after one was delivered (more samples), or after
# the customer rejected the sample (samples made again: a new round, with a new verdict).
NOTE_ALLOWED = (S.REQUESTED, S.DELIVERED, S.REJECTED)
VERDICT_TO_STATUS = {
    SampleVerdict.Outcome.APPROVED: S.APPROVED,
    SampleVerdict.Outcome.APPROVED_WITH_CONDITIONS: S.APPROVED_WITH_CONDITIONS,
    SampleVerdict.Outcome.REJECTED: S.REJECTED,
}


def _with_user(obj, user):
    """simple_history takes the author from the request; a service called elsewhere says who it is."""
    obj._history_user = user
    return obj


def _locked(request: SampleRequest) -> SampleRequest:
    return SampleRequest.objects.select_for_update().get(pk=request.pk)


def request_create(
    *,
    user,
    customer: Customer,
    product: Product,
    kind: str,
    description: str,
    quantity: Decimal,
    unit: str,
    requested_date: date,
    department: str,
    drawing=None,
) -> SampleRequest:
    """Marketing or Technical ask for samples of a new or changed product for a customer (§4.0.2)."""
    require(user, "sample.request")
    if department not in REQUESTING_DEPARTMENTS:
        raise DomainError(_("Samples are asked for by Marketing or Technical."), code="department")
    if department not in departments_of(user):
        raise DomainError(_("You can ask for samples only in the name of your own department."), code="department")
    if kind not in SampleRequest.Kind.values:
        raise DomainError(_("Say whether the product is new or changed."), code="kind")
    if not (description or "").strip():
        raise DomainError(_("Say what is asked."), code="description")
    if quantity is None or quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."), code="quantity")
    if requested_date is None:
        raise DomainError(_("Give the date the samples are wanted by."), code="requested_date")
    check_date_in_range(requested_date, code="requested_date")
    if customer.status == Customer.Status.INACTIVE:
        raise DomainError(_("%(customer)s is inactive.") % {"customer": customer}, code="customer")
    if not product.active:
        raise DomainError(_("Product %(code)s is no longer in use.") % {"code": product.code}, code="product")
    request = _with_user(
        SampleRequest(
            customer=customer,
            product=product,
            kind=kind,
            description=description.strip(),
            quantity=quantity,
            unit=(unit or "").strip() or product.unit,
            requested_date=requested_date,
            department=department,
            requested_by=user,
        ),
        user,
    )
    with transaction.atomic():
        if drawing is not None:
            request.drawing_name = getattr(drawing, "original_name", drawing.name)[:200]
            request.drawing.save(drawing.name, drawing, save=False)
        request.save()
    return request


def request_cancel(*, user, request: SampleRequest, reason: str) -> SampleRequest:
    """A request no longer wanted is cancelled with the reason; one with a verdict is done and stays as it is, and
    one with issued notes is cancelled after its notes (a delivered sample is a fact)."""
    require(user, "sample.request")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the sample request is cancelled."), code="reason")
    with transaction.atomic():
        request = _locked(request)
        if request.status != S.REQUESTED:
            raise DomainError(
                _("A sample request that is %(status)s cannot be cancelled.")
                % {"status": request.get_status_display().lower()}
            )
        _with_user(request, user)
        request.status = S.CANCELLED
        request.cancel_reason = reason
        request.cancelled_by = user
        request.cancelled_at = timezone.now()
        request.save(update_fields=["status", "cancel_reason", "cancelled_by", "cancelled_at"])
    return request


def next_note_number(day: date) -> str:
    """SN-2026-00007: per year, no gaps; the counter row is locked until the note's transaction ends (as the
    delivery notes, common.numbering), in a series of its own."""
    return f"SN-{day.year}-{next_in_year(SampleNoteCounter, day.year):05d}"


def note_issue(
    *,
    user,
    request: SampleRequest,
    address: DeliveryAddress,
    delivery_date: date,
    quantity: Decimal,
    remarks: str = "",
) -> SampleNote:
    """Customer Service issues a sample delivery note (送样单) for a request (§4.0.2). The date is the day the
    samples leave: not in the future; the number is of the year it is issued in."""
    require(user, "sample.deliver")
    today = timezone.localdate()
    if delivery_date is None:
        raise DomainError(_("Give the delivery date."), code="delivery_date")
    check_date_in_range(delivery_date, code="delivery_date")
    if delivery_date > today:
        raise DomainError(
            _("The delivery date cannot be in the future: issue the note on the day the samples leave."),
            code="delivery_date",
        )
    if quantity is None or quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."), code="quantity")
    with transaction.atomic():
        request = _locked(request)
        if request.status not in NOTE_ALLOWED:
            raise DomainError(
                _("No sample note can be issued for a request that is %(status)s.")
                % {"status": request.get_status_display().lower()}
            )
        if address.customer_id != request.customer_id or not address.active:
            raise DomainError(_("Choose one of the customer's delivery addresses in use."), code="address")
        if delivery_date < timezone.localdate(request.requested_at):
            raise DomainError(_("The samples cannot leave before they were asked for."), code="delivery_date")
        product = request.product
        note = _with_user(
            SampleNote(
                number=next_note_number(today),
                request=request,
                customer_id=request.customer_id,
                address=address,
                address_label=address.label,
                address_text=address.address,
                address_receiver=address.receiver,
                address_phone=address.phone,
                delivery_date=delivery_date,
                quantity=quantity,
                unit=request.unit,
                product_code=product.code,
                product_name=product.name,
                product_spec=product.spec,
                remarks=(remarks or "").strip(),
                issued_by=user,
            ),
            user,
        )
        note.save()
        if request.status != S.DELIVERED:
            _with_user(request, user)
            request.status = S.DELIVERED
            request.save(update_fields=["status"])
    return note


def note_cancel(*, user, note: SampleNote, reason: str) -> SampleNote:
    """A cancelled note keeps its number and says why. A note the customer signed for, or of a request that has
    its verdict, is a fact and cannot be cancelled."""
    require(user, "sample.deliver")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the sample note is cancelled."), code="reason")
    with transaction.atomic():
        request = _locked(note.request)
        note = SampleNote.objects.select_for_update().get(pk=note.pk)
        if note.status == SampleNote.Status.CANCELLED:
            raise DomainError(_("This sample note is already cancelled."))
        if SampleReceipt.objects.filter(note=note).exists():
            raise DomainError(_("The customer has signed for these samples: the note cannot be cancelled."))
        if request.verdicts.filter(recorded_at__gte=note.issued_at).exists():
            raise DomainError(_("The customer's verdict on these samples is recorded: the note cannot be cancelled."))
        _with_user(note, user)
        note.status = SampleNote.Status.CANCELLED
        note.cancel_reason = reason
        note.cancelled_by = user
        note.cancelled_at = timezone.now()
        note.save(update_fields=["status", "cancel_reason", "cancelled_by", "cancelled_at"])
        earlier = request.verdicts.order_by("-recorded_at", "-pk").first()
        since = request.notes.filter(status=SampleNote.Status.ISSUED)
        if earlier is not None:
            since = since.filter(issued_at__gt=earlier.recorded_at)
        if not since.exists():
            # Nothing delivered any more in this round: back to waiting for samples, or to the earlier verdict.
            _with_user(request, user)
            request.status = VERDICT_TO_STATUS[earlier.outcome] if earlier else S.REQUESTED
            request.save(update_fields=["status"])
    return note


def receipt_record(*, user, note: SampleNote, scan, signed_by_name: str, signed_on: date) -> SampleReceipt:
    """The customer's signed receipt of a sample note, as for delivery notes (§5.8.1): scan, signer, date."""
    require(user, "sample.deliver")
    if scan is None:
        raise DomainError(_("Attach the scan of the signed sample note."), code="scan")
    if signed_on is None:
        raise DomainError(_("Give the date the customer signed."), code="signed_on")
    if signed_on > timezone.localdate():
        raise DomainError(_("The date signed is in the future."), code="signed_on")
    if signed_on < note.delivery_date:
        raise DomainError(_("The customer cannot have signed before the delivery date."), code="signed_on")
    if not (signed_by_name or "").strip():
        raise DomainError(_("Give the name of the customer's signer."), code="signed_by_name")
    check_name(signed_by_name, code="signed_by_name")
    try:
        with transaction.atomic():
            # The note's row lock, as note_cancel takes it: a cancel and a receipt at once, exactly one wins.
            note = SampleNote.objects.select_for_update().get(pk=note.pk)
            if note.status != SampleNote.Status.ISSUED:
                raise DomainError(_("A cancelled sample note cannot be signed for."))
            receipt = _with_user(
                SampleReceipt(note=note, signed_by_name=signed_by_name.strip(), signed_on=signed_on, recorded_by=user),
                user,
            )
            receipt.scan.save(scan.name, scan, save=False)
            receipt.save()
    except IntegrityError:
        raise DomainError(_("The signed receipt of this sample note is already recorded.")) from None
    return receipt


def verdict_record(
    *, user, request: SampleRequest, outcome: str, conditions: str, document, document_date: date
) -> SampleVerdict:
    """The customer's written verdict on the delivered sample (§5.2.4.3): approved, approved with conditions
    (which ones), or rejected, with the customer's document and its date. Recorded by Marketing or Technical."""
    require(user, "sample.verdict")
    conditions = (conditions or "").strip()
    if outcome not in SampleVerdict.Outcome.values:
        raise DomainError(_("Choose the customer's verdict."), code="outcome")
    if outcome == SampleVerdict.Outcome.APPROVED_WITH_CONDITIONS and not conditions:
        raise DomainError(_("Write down the customer's conditions."), code="conditions")
    if outcome != SampleVerdict.Outcome.APPROVED_WITH_CONDITIONS and conditions:
        raise DomainError(
            _("Conditions go with an approval with conditions: choose that verdict or leave them out."),
            code="conditions",
        )
    if document is None:
        raise DomainError(_("Attach the customer's written verdict."), code="document")
    if document_date is None:
        raise DomainError(_("Give the date of the customer's document."), code="document_date")
    if document_date > timezone.localdate():
        raise DomainError(_("The date of the customer's document is in the future."), code="document_date")
    with transaction.atomic():
        request = _locked(request)
        if request.status != S.DELIVERED:
            raise DomainError(
                _("The customer's verdict is recorded on delivered samples; this request is %(status)s.")
                % {"status": request.get_status_display().lower()}
            )
        this_round = request.notes.filter(status=SampleNote.Status.ISSUED)
        earlier = request.verdicts.order_by("-recorded_at", "-pk").first()
        if earlier is not None:  # samples made again after a rejection: the verdict is on the new ones
            this_round = this_round.filter(issued_at__gt=earlier.recorded_at)
        first = this_round.order_by("delivery_date").values_list("delivery_date", flat=True).first()
        if first is not None and document_date < first:
            raise DomainError(
                _("The customer's document is dated before the samples were delivered (%(date)s).")
                % {"date": first.isoformat()},
                code="document_date",
            )
        verdict = _with_user(
            SampleVerdict(
                request=request,
                outcome=outcome,
                conditions=conditions,
                document_date=document_date,
                recorded_by=user,
            ),
            user,
        )
        verdict.document.save(document.name, document, save=False)
        verdict.save()
        _with_user(request, user)
        request.status = VERDICT_TO_STATUS[outcome]
        request.save(update_fields=["status"])
    return verdict
