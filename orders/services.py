"""State changes of orders: intake, review, objections, the head's sign-off (§5.2).

Every state change locks the order row first (PostgreSQL; SQLite serialises writers anyway) and re-checks
the state inside the transaction. Signatures are written with a conditional UPDATE (only an open step of
the current revision can be signed) and backed by unique constraints, so a double click, two people at
once or a form opened on an older revision record exactly one signature.
"""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import Dept, can, departments_of, require
from common import stale
from common.errors import DomainError
from common.faults import pause_point
from common.jobs import enqueue_on_commit
from common.numbering import next_in_year
from common.templatetags.numbers import num
from customers.models import Customer, DeliveryAddress, Product
from orders.checklists import DEFAULT_CHECKLISTS, item_allows_na, item_text
from orders.models import (
    REVIEW_DEPARTMENTS,
    Acknowledgement,
    ChangeRequest,
    Checklist,
    Memo,
    MemoCounter,
    MemoReceipt,
    Objection,
    Order,
    OrderCounter,
    OrderLine,
    OrderRevision,
    ReviewStep,
    SignOff,
    VerbalRequirement,
)

logger = logging.getLogger(__name__)

S = Order.Status


@dataclass
class LineInput:
    product: Product
    quantity: Decimal
    unit_price: Decimal
    requested_date: date
    # On a change: the position of the existing line this one is (its batches and notes stay with it); None for a
    # new line. Lines given without positions are numbered in the order given.
    position: int | None = None


# --- Numbers and checklists -------------------------------------------------------------------------


def next_order_number(today: date | None = None) -> str:
    """SO-2026-00042: per year, never repeated. Call inside a transaction."""
    year = (today or timezone.localdate()).year
    return f"SO-{year}-{next_in_year(OrderCounter, year):05d}"


def current_checklist(department: str) -> Checklist:
    checklist = Checklist.objects.filter(department=department).order_by("-version").first()
    if checklist is None:
        checklist, _created = Checklist.objects.get_or_create(
            department=department, version=1, defaults={"items": DEFAULT_CHECKLISTS[department]}
        )
    return checklist


def checklist_save(*, user, department: str, items: list[dict]) -> Checklist:
    """A new version of a department's checklist; steps already open keep the version they have."""
    require(user, "checklist.edit")
    if not items or any(not (i.get("key") and i.get("zh") and i.get("en")) for i in items):
        raise DomainError(_("Every checklist item needs a key, a Chinese and an English text."))
    with transaction.atomic():
        latest = current_checklist(department)
        return Checklist.objects.create(department=department, version=latest.version + 1, items=items)


# --- Intake (§5.2.1, §5.2.2, §5.2.3) ---------------------------------------------------------------


def environmental_note(customer: Customer, on: date | None = None) -> str:
    """The customer's environmental requirements in force on the order date ``on``, as they go into the packaging
    requirements (§5.2.2). The system's check (``selectors.prechecks``) reads the same ones."""
    from orders.selectors import requirements_in_force

    requirements = requirements_in_force(customer, on or timezone.localdate())
    if not requirements:
        return ""
    parts = []
    for requirement in requirements:
        text = requirement.get_standard_display()
        if requirement.detail:
            text += f" ({requirement.detail})"
        if requirement.document_ref:
            text += f" [{requirement.document_ref}]"
        parts.append(text)
    return _("Environmental requirements: %(list)s") % {"list": "; ".join(parts)}


def _check_lines(lines: list[LineInput], today: date, kept_dates: dict[int, date] | None = None) -> None:
    """``kept_dates``: on a change, a line may keep the requested date it had even if that date has passed."""
    kept_dates = kept_dates or {}
    if not lines:
        raise DomainError(_("An order needs at least one line."))
    for number, line in enumerate(lines, 1):
        number = line.position or number
        if line.product is None:
            raise DomainError(_("Line %(n)s has no product.") % {"n": number})
        if line.quantity is None or line.quantity <= 0:
            raise DomainError(_("Line %(n)s: the quantity must be more than zero.") % {"n": number})
        if line.unit_price is None or line.unit_price < 0:
            raise DomainError(_("Line %(n)s: the unit price cannot be negative.") % {"n": number})
        if line.requested_date is None or (
            line.requested_date < today and kept_dates.get(number) != line.requested_date
        ):
            raise DomainError(_("Line %(n)s: the requested date is in the past.") % {"n": number})


def check_customer_evaluated(customer: Customer) -> None:
    """Orders are entered only for a customer whose 《客户资料评估表》 is approved (§5.2.2); its terms are then
    checked against the form (``selectors.prechecks``)."""
    from customers.models import CustomerEvaluation

    if not customer.evaluations.filter(status=CustomerEvaluation.Status.APPROVED).exists():
        raise DomainError(
            _(
                "%(customer)s has no approved customer evaluation form (《客户资料评估表》, §5.2.2): orders can be"
                " entered once Marketing's evaluation is approved."
            )
            % {"customer": customer.code},
            code="evaluation",
        )


def check_order_input(
    *,
    customer: Customer,
    delivery_address: DeliveryAddress | None,
    lines: list[LineInput],
    today: date,
    kept_dates: dict[int, date] | None = None,
) -> None:
    """What an order's content must pass whenever Customer Service enters it: a new order (``order_create``) and
    every edit of a draft (``orders.drafts.order_update_draft``) go through this one function."""
    _check_lines(lines, today, kept_dates)
    if delivery_address is not None and delivery_address.customer_id != customer.pk:
        raise DomainError(_("The delivery address belongs to another customer."), code="delivery_address")


def order_create(
    *,
    user,
    customer: Customer,
    customer_po: str,
    lines: list[LineInput],
    source: str = Order.Source.FAX,
    delivery_address: DeliveryAddress | None = None,
    original=None,
    verbal_requirements: list[str] = (),
    **header,
) -> Order:
    """Customer Service enters an order (a draft until submitted). Terms default to the customer's profile and
    the customer's environmental requirements are written into the packaging requirements."""
    require(user, "order.enter")
    today = timezone.localdate()
    check_customer_evaluated(customer)
    check_order_input(customer=customer, delivery_address=delivery_address, lines=lines, today=today)
    header.setdefault("currency", customer.currency)
    header.setdefault("payment_terms", customer.payment_terms)
    header.setdefault("incoterm", customer.incoterm)
    note = environmental_note(customer, today)
    packaging = header.pop("packaging", "") or ""
    if note and note not in packaging:
        packaging = f"{packaging}\n{note}".strip()
    with transaction.atomic():
        order = Order.objects.create(
            number=next_order_number(today),
            customer=customer,
            customer_po=customer_po.strip(),
            source=source,
            delivery_address=delivery_address,
            packaging=packaging,
            created_by=user,
            **header,
        )
        if original is not None:
            order.original.save(original.name, original, save=True)
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
        for text in verbal_requirements:
            if text.strip():
                VerbalRequirement.objects.create(order=order, text=text.strip(), recorded_by=user)
    return order


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _check_revision(order: Order, revision_seen: int) -> None:
    """Refuse a form opened on an older revision of the (locked) order."""
    if revision_seen != order.revision:
        raise DomainError(
            _("The order has changed since you opened it (now revision %(rev)s). Read it again before signing.")
            % {"rev": order.revision},
            code="stale",
        )


def snapshot(order: Order) -> dict:
    """The order's content as JSON: what a revision keeps and what changes are compared on."""
    data = {name: _plain(getattr(order, name)) for name in Order.HEADER_FIELDS}
    data["lines"] = [
        {
            "position": line.position,
            "product_id": line.product_id,
            "product": line.product.code,
            # What the revision said, kept when the product is edited later (issue 10: records stay records).
            "product_name": line.product.name,
            "product_spec": line.product.spec,
            "unit": line.product.unit,
            "quantity": num(line.quantity),
            "unit_price": num(line.unit_price),
            "requested_date": line.requested_date.isoformat(),
        }
        for line in order.lines.select_related("product").order_by("position")
    ]
    address = order.delivery_address
    data["delivery_address"] = address and {
        "label": address.label,
        "address": address.address,
        "receiver": address.receiver,
        "phone": address.phone,
    }
    return data


def _plain(value):
    if isinstance(value, Decimal):
        return num(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def order_submit(*, user, order: Order) -> Order:
    """Open one review step per department (§5.2.4), in parallel, on revision 1."""
    require(user, "order.enter")
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.DRAFT:
            raise DomainError(_("This order was already submitted for review."), code="state")
        if order.delivery_address_id is None:
            raise DomainError(_("Choose the delivery address before submitting."))
        check_customer_evaluated(order.customer)
        order.revision = 1
        OrderRevision.objects.create(order=order, number=1, snapshot=snapshot(order), created_by=user)
        ReviewStep.objects.bulk_create(
            ReviewStep(order=order, revision=1, department=dept, checklist=current_checklist(dept))
            for dept in REVIEW_DEPARTMENTS
        )
        order.status = S.IN_REVIEW
        order.save(update_fields=["status", "revision", "updated_at"])
    notify_departments_later(order, REVIEW_DEPARTMENTS, "step")
    return order


def verbal_requirement_confirm(*, user, requirement: VerbalRequirement, confirmation) -> VerbalRequirement:
    """Attach the customer's written confirmation of a verbal requirement (§5.2.3)."""
    require(user, "order.enter")
    with transaction.atomic():
        _locked(requirement.order)
        requirement = VerbalRequirement.objects.select_for_update().get(pk=requirement.pk)
        if requirement.confirmed_at is not None:
            raise DomainError(_("This requirement is already confirmed in writing."))
        requirement.confirmation.save(confirmation.name, confirmation, save=False)
        requirement.confirmed_by = user
        requirement.confirmed_at = timezone.now()
        requirement.save()
    return requirement


def verbal_requirement_add(*, user, order: Order, text: str) -> VerbalRequirement:
    """Customer Service or Marketing records a requirement the customer gave only by word of mouth, while the order
    is reviewed (§5.2.3). It holds the head's sign-off until the customer confirms it in writing."""
    if not (can(user, "order.enter") or can(user, "order.settle")):
        raise PermissionDenied
    if not text.strip():
        raise DomainError(_("Write the requirement the customer gave."))
    with transaction.atomic():
        order = _locked(order)
        if order.status not in (S.DRAFT, S.IN_REVIEW, S.ON_HOLD, S.AWAITING_SIGNOFF):
            raise DomainError(
                _(
                    "A verbal requirement is recorded while the order is reviewed; on a signed-off order, record it"
                    " with a change."
                ),
                code="state",
            )
        return VerbalRequirement.objects.create(order=order, text=text.strip(), recorded_by=user)


def erp_number_set(*, user, order: Order, erp_number: str) -> Order:
    require(user, "order.enter")
    erp_number = erp_number.strip()
    if not erp_number:
        raise DomainError(_("Enter the SAP order number."))
    # The SAP order is made from the signed-off order (§5.2.3): never before the head's sign-off, never on a
    # cancelled order.
    if order.status == S.CANCELLED or not SignOff.objects.filter(order=order).exists():
        raise DomainError(_("The SAP order number is recorded once the order is signed off."), code="state")
    now = timezone.now()
    updated = Order.objects.filter(pk=order.pk, erp_number="").update(
        erp_number=erp_number, erp_number_by=user, erp_number_at=now, updated_at=now
    )
    if not updated:
        raise DomainError(_("The SAP order number is already recorded."))
    order.refresh_from_db()
    return order


# --- Review (§5.2.4) ---------------------------------------------------------------------------------


def _step_for_signing(user, step: ReviewStep, revision_seen: int) -> tuple[Order, ReviewStep]:
    if step.department not in departments_of(user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    order = _locked(step.order)
    step = ReviewStep.objects.select_for_update().get(pk=step.pk)
    _check_revision(order, revision_seen)
    _check_revision(order, step.revision)  # a step of an older revision cannot be signed either
    if step.status != ReviewStep.Status.OPEN:
        raise DomainError(_("This step was already signed or answered by %(who)s.") % {"who": step.signed_by or "-"})
    if order.status not in (S.IN_REVIEW, S.ON_HOLD):
        raise DomainError(_("This order is not in review."), code="state")
    return order, step


def step_sign(
    *,
    user,
    step: ReviewStep,
    revision_seen: int,
    answers: dict[str, bool | None],
    comment: str = "",
    confirmed_dates: dict[int, date] | None = None,
) -> ReviewStep:
    """Sign a department's step: every checklist item answered yes (or "not applicable" where the item offers it);
    PMC gives a confirmed date per line. A "no" is an objection (§5.2.3): it is raised with ``step_object`` and
    Marketing settles it with the customer; a step is never signed with a "no"."""
    with transaction.atomic():
        order, step = _step_for_signing(user, step, revision_seen)
        items = step.checklist.items
        missing = [i for i in items if i["key"] not in answers]
        if missing:
            raise DomainError(_("Answer every item of the checklist."))
        not_applicable = [i for i in items if answers[i["key"]] is None]
        if any(not item_allows_na(i, order.customer) for i in not_applicable):
            raise DomainError(_("Only an item that offers it can be answered 'not applicable'."))
        refused = [i for i in items if answers[i["key"]] is False]
        if refused:
            raise DomainError(
                _(
                    "You answered 'no' to: %(items)s. A 'no' is an objection: raise it with the reason instead of"
                    " signing, and Marketing will settle it with the customer (§5.2.3)."
                )
                % {"items": "; ".join(item_text(i, translation.get_language()) for i in refused)},
                code="objection",
            )
        dates = {}
        if step.department == "pmc":
            confirmed_dates = confirmed_dates or {}
            for line in order.lines.all():
                given = confirmed_dates.get(line.position)
                if given is None:
                    raise DomainError(_("Give the confirmed delivery date of every line."))
                dates[str(line.position)] = given.isoformat()
        now = timezone.now()
        updated = ReviewStep.objects.filter(pk=step.pk, status=ReviewStep.Status.OPEN).update(
            status=ReviewStep.Status.SIGNED,
            answers=[
                {
                    "key": i["key"],
                    "yes": answers[i["key"]] is True,
                    **({"na": True} if answers[i["key"]] is None else {}),
                }
                for i in items
            ],
            comment=comment.strip(),
            signed_by=user,
            signed_at=now,
            confirmed_dates=dates,
        )
        if updated != 1:  # pragma: no cover - the row lock above makes this unreachable on PostgreSQL
            raise DomainError(_("This step was already signed."))
        if dates:
            for line in order.lines.all():
                line.confirmed_date = date.fromisoformat(dates[str(line.position)])
                line.save(update_fields=["confirmed_date"])
        _advance(order)
    step.refresh_from_db()
    return step


def step_object(*, user, step: ReviewStep, revision_seen: int, reason: str) -> Objection:
    """Raise an objection (异议) instead of signing: Marketing is told to settle it with the customer."""
    if not reason.strip():
        raise DomainError(_("Say what the objection is."))
    with transaction.atomic():
        order, step = _step_for_signing(user, step, revision_seen)
        ReviewStep.objects.filter(pk=step.pk).update(
            status=ReviewStep.Status.OBJECTED, signed_by=user, signed_at=timezone.now(), comment=reason.strip()
        )
        objection = Objection.objects.create(step=step, reason=reason.strip(), raised_by=user)
        order.status = S.ON_HOLD
        order.save(update_fields=["status", "updated_at"])
    notify_departments_later(order, ["marketing"], "objection")
    return objection


def objection_settle(*, user, objection: Objection, outcome: str) -> Objection:
    """Marketing records how the objection was settled with the customer; the department reviews again."""
    require(user, "order.settle")
    if not outcome.strip():
        raise DomainError(_("Write how it was settled with the customer."))
    with transaction.atomic():
        order = _locked(objection.step.order)
        objection = Objection.objects.select_for_update().select_related("step").get(pk=objection.pk)
        if objection.settled_at is not None:
            raise DomainError(_("This objection was already settled."))
        if order.status == S.CANCELLED:
            # A cancelled order stays cancelled: settling an objection raised before cannot reopen its review.
            raise DomainError(_("The order is cancelled: there is nothing left to settle."), code="state")
        objection.outcome = outcome.strip()
        objection.settled_by = user
        objection.settled_at = timezone.now()
        objection.save()
        old = objection.step
        live = ReviewStep.objects.filter(
            order=order, department=old.department, status__in=[ReviewStep.Status.OPEN, ReviewStep.Status.SIGNED]
        )
        if not live.exists() and order.status != S.CANCELLED:
            ReviewStep.objects.create(
                order=order, revision=order.revision, department=old.department, checklist=old.checklist
            )
        if (
            order.status == S.ON_HOLD
            and not Objection.objects.filter(step__order=order, settled_at__isnull=True).exists()
        ):
            order.status = S.IN_REVIEW
            order.save(update_fields=["status", "updated_at"])
        _advance(order)
    notify_departments_later(order, [objection.step.department], "step")
    return objection


def unconfirmed_verbal(order: Order) -> list[VerbalRequirement]:
    return [v for v in order.verbal_requirements.all() if v.confirmed_at is None]


def _advance(order: Order) -> None:
    """After a signature: when every live step of the revision is signed, the head's sign-off is next."""
    if order.status != S.IN_REVIEW:
        return
    # The live step of each department: open, or signed on this or an earlier revision a change did not concern.
    live = ReviewStep.objects.filter(order=order, status__in=[ReviewStep.Status.OPEN, ReviewStep.Status.SIGNED])
    if live.exists() and not live.exclude(status=ReviewStep.Status.SIGNED).exists():
        order.status = S.AWAITING_SIGNOFF
        order.save(update_fields=["status", "updated_at"])
        notify_departments_later(order, ["marketing_head"], "signoff")


def head_signoff(*, user, order: Order, revision_seen: int, comment: str = "") -> SignOff:
    """签核: the marketing head signs off the revision once every department has signed (§5.2.1)."""
    require(user, "order.signoff")
    with transaction.atomic():
        order = _locked(order)
        _check_revision(order, revision_seen)
        if SignOff.objects.filter(order=order, revision=order.revision).exists():
            raise DomainError(_("This revision is already signed off."), code="state")
        if order.status != S.AWAITING_SIGNOFF:
            raise DomainError(_("Not every department has signed yet."), code="state")
        if unconfirmed_verbal(order):
            raise DomainError(_("A verbal requirement has no written confirmation from the customer yet (§5.2.3)."))
        try:
            with transaction.atomic():
                signoff = SignOff.objects.create(
                    order=order, revision=order.revision, signed_by=user, comment=comment.strip()
                )
        except IntegrityError:
            raise DomainError(_("This revision is already signed off."), code="state") from None
        order.status = S.SIGNED_OFF
        order.save(update_fields=["status", "updated_at"])
    return signoff


# --- Confirmation to the customer (§5.2.3) ------------------------------------------------------------


def acknowledgement_contacts(customer: Customer) -> list:
    """The customer's contacts an acknowledgement can go to (those with an e-mail address), the primary first."""
    return sorted((c for c in customer.contacts.all() if c.email), key=lambda c: (not c.is_primary, c.pk))


def _clean_addresses(addresses) -> list[str]:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    cleaned = []
    for address in addresses:
        address = address.strip()
        try:
            validate_email(address)
        except ValidationError:
            raise DomainError(_("%(address)s is not an e-mail address.") % {"address": address}, code="cc") from None
        if address.lower() not in {a.lower() for a in cleaned}:
            cleaned.append(address)
    return cleaned


def order_confirm(
    *, user, order: Order, revision_seen: int, to: list[str] | None = None, cc: list[str] = ()
) -> Acknowledgement:
    """Customer Service sends the signed-off revision to the customer: the PDF is made and e-mailed by a job.
    ``to``: the customer's contacts it goes to, as chosen after the preview (by default the primary contact);
    ``cc``: any addresses that get a copy."""
    require(user, "order.confirm")
    with transaction.atomic():
        order = _locked(order)
        _check_revision(order, revision_seen)
        if Acknowledgement.objects.filter(order=order, revision=order.revision).exists():
            raise DomainError(_("The acknowledgement of this revision was already sent."), code="state")
        if order.status != S.SIGNED_OFF:
            raise DomainError(_("Only a signed-off order can be confirmed to the customer."), code="state")
        recipient = order.customer.mail_contact()
        if not recipient:
            raise DomainError(_("The customer has no contact with an e-mail address. Add one to the customer first."))
        known = {c.email.lower() for c in acknowledgement_contacts(order.customer)}
        recipients = _clean_addresses(to if to is not None else [recipient])
        if not recipients:
            raise DomainError(_("Choose at least one of the customer's contacts to send it to."), code="to")
        if any(address.lower() not in known for address in recipients):
            raise DomainError(
                _("The acknowledgement goes to the customer's own contacts; add others as copies."), code="to"
            )
        cc = [a for a in _clean_addresses(cc) if a.lower() not in {r.lower() for r in recipients}]
        language = "en" if not order.customer.name_zh else "zh-hans"
        try:
            with transaction.atomic():
                ack = Acknowledgement.objects.create(
                    order=order,
                    revision=order.revision,
                    recipient=recipients[0],
                    recipients=recipients,
                    cc=cc,
                    language=language,
                    requested_by=user,
                )
        except IntegrityError:
            raise DomainError(_("The acknowledgement of this revision was already sent."), code="state") from None
    from orders import tasks

    enqueue_on_commit(tasks.send_acknowledgement, ack.pk)
    return ack


def acknowledgement_send(ack_id: int) -> Acknowledgement:
    """Make the PDF and e-mail it; sent at most once. The job takes the acknowledgement only while it is
    ``queued`` (attempts count, heartbeat); just before the mail goes out it is claimed with a conditional UPDATE
    (queued -> sending), so two workers never both send it. A worker that dies after handing the mail to the
    server leaves it ``sending``: the stale sweep marks it ``unsure`` for a person to check with the customer,
    never re-sent blindly. A PDF that cannot be made fails the acknowledgement with the reason."""
    from django.core.files.base import ContentFile
    from django.core.mail import EmailMessage

    from orders.documents import acknowledgement_pdf
    from orders.memos import both

    A = Acknowledgement.Status
    with transaction.atomic():
        ack = Acknowledgement.objects.select_for_update().select_related("order__customer").get(pk=ack_id)
        if ack.status != A.QUEUED:
            return ack  # sent, being sent, failed or to be checked: never sent again by the job
        if ack.order.status == S.CANCELLED:
            # A job queued before the cancellation: the customer is not sent a confirmation of a cancelled order.
            return ack
        ack.attempts += 1
        ack.heartbeat_at = timezone.now()
        ack.save(update_fields=["attempts", "heartbeat_at"])
    order = ack.order
    if not ack.pdf:
        try:
            data = acknowledgement_pdf(order, ack.revision)
        except Exception as exc:
            logger.exception("acknowledgement %s: the PDF could not be made", ack_id)
            acknowledgement_failed(
                ack_id,
                both(gettext_noop("The PDF could not be made: %(error)s"), error=f"{exc.__class__.__name__}: {exc}"),
            )
            ack.refresh_from_db()
            return ack
        ack.pdf.save(f"{order.number}-r{ack.revision}.pdf", ContentFile(data), save=False)
        Acknowledgement.objects.filter(pk=ack.pk).update(pdf=ack.pdf.name)
    pause_point("acknowledgement")  # tests/faults: the PDF is made, the e-mail not yet sent
    customer = order.customer
    subject = f"订单确认 Order acknowledgement {order.number} (PO {order.customer_po})"
    body = "\n".join(
        [
            f"{customer.name_zh or customer.name_en}:",
            f"附件为贵司订单 {order.customer_po} 的订单确认书(我司订单号 {order.number})。",
            f"Please find attached our acknowledgement of your order {order.customer_po} (our order {order.number}).",
        ]
    )
    message = EmailMessage(subject, body, to=ack.recipients or [ack.recipient], cc=ack.cc)
    with ack.pdf.open("rb") as handle:
        message.attach(f"{order.number}.pdf", handle.read(), "application/pdf")
    claimed = Acknowledgement.objects.filter(pk=ack.pk, status=A.QUEUED).update(
        status=A.SENDING, heartbeat_at=timezone.now()
    )
    if not claimed:
        ack.refresh_from_db()
        return ack  # failed by the sweep or taken by another worker meanwhile
    try:
        message.send()
    except BaseException:
        # The mail server refused it (or the connection failed): not sent, so back to the queue for a retry.
        Acknowledgement.objects.filter(pk=ack.pk, status=A.SENDING).update(status=A.QUEUED)
        raise
    with transaction.atomic():
        Acknowledgement.objects.filter(pk=ack.pk).update(status=A.SENT, sent_at=timezone.now(), error="")
        Order.objects.filter(pk=order.pk, status=S.SIGNED_OFF, revision=ack.revision).update(
            status=S.CONFIRMED, updated_at=timezone.now()
        )
    ack.refresh_from_db()
    return ack


def acknowledgement_failed(ack_id: int, error: str) -> None:
    # Only one not handed to the mail server: one left "sending" may have reached the customer (the sweep marks
    # it for a person to check), and "failed" would invite sending it a second time.
    Acknowledgement.objects.filter(pk=ack_id, status=Acknowledgement.Status.QUEUED).update(
        status=Acknowledgement.Status.FAILED, error=error[:2000]
    )


def acknowledgement_retrying(ack_id: int, error: str) -> None:
    Acknowledgement.objects.filter(pk=ack_id, status=Acknowledgement.Status.QUEUED).update(
        error=error[:2000], heartbeat_at=timezone.now()
    )


def acknowledgements_fail_stale() -> list[int]:
    """Acknowledgements whose worker stopped (common.stale). Still ``queued``: nothing went out, failed to be
    sent again. Left ``sending``: the mail server may have taken it, so it is marked ``unsure`` for a person to
    check with the customer before sending again (no second e-mail to the customer by accident)."""
    from orders.memos import both

    A = Acknowledgement.Status
    failed = stale.fail_stale(
        Acknowledgement,
        kind="acknowledgement",
        statuses=(A.QUEUED,),
        task="orders.tasks.send_acknowledgement",
        status=A.FAILED,
        error=both(gettext_noop("The sending stopped before the e-mail went out (the worker stopped). Send it again.")),
    )
    unsure = stale.fail_stale(
        Acknowledgement,
        kind="acknowledgement",
        statuses=(A.SENDING,),
        status=A.UNSURE,
        error=both(
            gettext_noop(
                "The sending stopped while the e-mail was handed to the mail server: the customer may have received "
                "it. Check with the customer before sending it again."
            )
        ),
    )
    return failed + unsure


def acknowledgement_resend(*, user, ack: Acknowledgement, checked: bool = False) -> None:
    """Send a failed acknowledgement again. One interrupted while sending (``unsure``) is sent again only when the
    person says they checked that the customer did not receive it."""
    require(user, "order.confirm")
    A = Acknowledgement.Status
    allowed = (A.FAILED, A.UNSURE) if checked else (A.FAILED,)
    updated = Acknowledgement.objects.filter(pk=ack.pk, status__in=allowed).update(
        status=A.QUEUED, error="", heartbeat_at=timezone.now()
    )
    if not updated:
        if Acknowledgement.objects.filter(pk=ack.pk, status=A.UNSURE).exists():
            raise DomainError(
                _("The customer may have received this acknowledgement. Check with the customer, then confirm.")
            )
        raise DomainError(_("Only an acknowledgement whose sending failed can be sent again."))
    from orders import tasks

    enqueue_on_commit(tasks.send_acknowledgement, ack.pk)


# --- Changes and cancellations (§5.3) -----------------------------------------------------------------

# Which departments a change to each part of the order concerns: they review again and get the memo.
CHANGE_CONCERNS = {
    "quantity": ("pmc", "marketing"),
    "requested_date": ("pmc", "marketing"),
    "unit_price": ("product_group", "marketing"),
    "product": ("technical", "quality"),
    "packaging": ("quality",),
    "labelling": ("quality",),
    "inspection": ("quality",),
    "delivery_address_id": ("customer_service", "marketing"),
    "currency": ("customer_service", "marketing"),
    "payment_terms": ("customer_service", "marketing"),
    "incoterm": ("customer_service", "marketing"),
    "customer_po": ("customer_service",),
    "other_requirements": ("customer_service",),
    "verbal": ("customer_service", "marketing"),
}

CHANGEABLE_STATUSES = (S.IN_REVIEW, S.ON_HOLD, S.AWAITING_SIGNOFF, S.SIGNED_OFF, S.CONFIRMED)


def normalized_text(value):
    """Text as compared for a change: line endings and trailing spaces are not a change."""
    if not isinstance(value, str):
        return value
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def diff_snapshots(old: dict, new: dict) -> list[dict]:
    """Field-by-field differences: header fields, then lines by position (added, removed, changed), then the verbal
    requirements a change adds. Text that differs only in line endings or trailing spaces is not a change."""
    changes = []
    for name in Order.HEADER_FIELDS:
        if normalized_text(old.get(name)) != normalized_text(new.get(name)):
            changes.append({"field": name, "line": None, "old": old.get(name), "new": new.get(name)})
    old_lines = {line["position"]: line for line in old.get("lines", [])}
    new_lines = {line["position"]: line for line in new.get("lines", [])}
    for position in sorted(old_lines.keys() | new_lines.keys()):
        before, after = old_lines.get(position), new_lines.get(position)
        if before is None or after is None:
            # A line added or removed concerns everyone who looks at lines.
            for field in ("product", "quantity", "unit_price", "requested_date"):
                changes.append(
                    {
                        "field": field,
                        "line": position,
                        "old": before and before[field],
                        "new": after and after[field],
                    }
                )
            continue
        for field in ("product", "quantity", "unit_price", "requested_date"):
            if before[field] != after[field]:
                changes.append({"field": field, "line": position, "old": before[field], "new": after[field]})
    for text in new.get("verbal", []):
        changes.append({"field": "verbal", "line": None, "old": None, "new": text})
    return changes


def concerned_departments(changes: list[dict]) -> list[str]:
    concerned = {dept for change in changes for dept in CHANGE_CONCERNS.get(change["field"], ())}
    return [d for d in REVIEW_DEPARTMENTS if d in concerned]


def _positions(order: Order, lines: list[LineInput]) -> list[int]:
    """Each line's position: an existing line keeps its own (its batches and notes stay with it); a new line takes
    the next free number. Lines given without any position are numbered in the order given."""
    if all(line.position is None for line in lines):
        return list(range(1, len(lines) + 1))
    existing = set(order.lines.values_list("position", flat=True))
    given = [line.position for line in lines if line.position is not None]
    if len(given) != len(set(given)) or not set(given) <= existing:
        raise DomainError(_("The lines of the change do not match the order's lines. Reload the page."), code="stale")
    following = max(existing | set(given), default=0)
    positions = []
    for line in lines:
        if line.position is None:
            following += 1
            positions.append(following)
        else:
            positions.append(line.position)
    return positions


def _proposed_content(order: Order, header: dict, lines: list[LineInput]) -> dict:
    content = {name: _plain(header.get(name, getattr(order, name))) for name in Order.HEADER_FIELDS}
    content["lines"] = sorted(
        (
            {
                "position": line.position,
                "product_id": line.product.pk,
                "product": line.product.code,
                "quantity": num(Decimal(line.quantity)),
                "unit_price": num(Decimal(line.unit_price)),
                "requested_date": line.requested_date.isoformat(),
            }
            for line in lines
        ),
        key=lambda line: line["position"],
    )
    return content


def _delivery_refusals(order: Order, proposed: dict, withdraw: list[int]) -> None:
    """Ask the apps that stand on orders (delivery) whether the change breaks what they have planned."""
    from orders import hooks

    problems = [problem for guard in hooks.change_guards for problem in guard(order, proposed, withdraw)]
    if problems:
        raise DomainError(" ".join(problems), code="delivery")


def withdrawable_batches(order: Order) -> list[tuple[int, str]]:
    """What a change of ``order`` may withdraw (delivery's batches nothing was delivered from), for the form."""
    from orders import hooks

    return [choice for provider in hooks.withdrawable for choice in provider(order)]


def change_request(
    *,
    user,
    order: Order,
    revision_seen: int,
    origin: str,
    reason: str,
    kind: str = ChangeRequest.Kind.CHANGE,
    header: dict | None = None,
    lines: list[LineInput] | None = None,
    withdraw: list[int] = (),
    verbal_requirements: list[str] = (),
) -> ChangeRequest:
    """Customer Service records a change or cancellation. From our company it applies at once; from the customer
    it waits for the sales head's confirmation (§5.3.1).

    A change may not break delivery: removing a line that has batches, changing its product or ordering less than
    its batches hold is refused unless ``withdraw`` names batches (nothing delivered from them) to withdraw.
    ``verbal_requirements`` records requirements the customer gave by word of mouth with the change (§5.2.3)."""
    require(user, "order.change")
    if not reason.strip():
        raise DomainError(_("Say why the order changes."))
    with transaction.atomic():
        order = _locked(order)
        _check_revision(order, revision_seen)
        if order.status not in CHANGEABLE_STATUSES:
            raise DomainError(_("Only an order in review or confirmed can be changed or cancelled."), code="state")
        if order.change_requests.filter(status=ChangeRequest.Status.PENDING).exists():
            raise DomainError(_("A change of this order is already waiting for the sales head."), code="pending")
        proposed = {}
        if kind == ChangeRequest.Kind.CHANGE:
            header = dict(header or {})
            lines = list(lines) if lines is not None else []
            for line, position in zip(lines, _positions(order, lines), strict=True):
                line.position = position
            kept = {line.position: line.requested_date for line in order.lines.all()}
            _check_lines(lines, timezone.localdate(), kept)
            address = header.get("delivery_address")
            if address is not None:
                if address.customer_id != order.customer_id:
                    raise DomainError(_("The delivery address belongs to another customer."))
                header["delivery_address_id"] = address.pk
            proposed = _proposed_content(order, header, lines)
            proposed["verbal"] = [text.strip() for text in verbal_requirements if text.strip()]
            proposed["withdraw"] = sorted({int(pk) for pk in withdraw})
            if not diff_snapshots(snapshot(order), proposed):
                raise DomainError(_("Nothing was changed."))
            _delivery_refusals(order, proposed, proposed["withdraw"])
        request = ChangeRequest.objects.create(
            order=order,
            kind=kind,
            origin=origin,
            reason=reason.strip(),
            proposed=proposed,
            base_revision=order.revision,
            requested_by=user,
        )
        if origin == OrderRevision.Origin.COMPANY:
            _apply_change(request, order, decided_by=None)
    if origin == OrderRevision.Origin.CUSTOMER:
        notify_departments_later(order, ["marketing_head"], "change")
    request.refresh_from_db()
    return request


def pending_change_rows(request: ChangeRequest, language: str) -> list[dict]:
    """What a change waiting for the head would change, line by line, before and after (as the head decides)."""
    from orders.selectors import rows_for_changes

    if request.kind != ChangeRequest.Kind.CHANGE:
        return []
    return rows_for_changes(diff_snapshots(snapshot(request.order), request.proposed), language)


def change_decide(*, user, request: ChangeRequest, approve: bool, comment: str = "") -> ChangeRequest:
    """The sales head confirms (or rejects) a change the customer asked for."""
    require(user, "order.signoff")
    if not approve and not comment.strip():
        raise DomainError(_("Say why the change is rejected."))
    with transaction.atomic():
        order = _locked(request.order)
        request = ChangeRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != ChangeRequest.Status.PENDING:
            raise DomainError(_("This change was already decided."), code="state")
        if request.base_revision != order.revision:
            raise DomainError(_("The order changed after this request was made; record the change again."))
        if order.status == S.CANCELLED:
            raise DomainError(_("The order is cancelled: it can no longer change."), code="state")
        request.decided_by = user
        request.decided_at = timezone.now()
        request.decision_comment = comment.strip()
        if approve:
            request.save()
            _apply_change(request, order, decided_by=user)
        else:
            request.status = ChangeRequest.Status.REJECTED
            request.save()
    request.refresh_from_db()
    return request


def _cancel(order: Order, request: ChangeRequest) -> list[str]:
    """Close everything still open on a cancelled order and say so; nothing that comes after can reopen it."""
    from orders import hooks
    from orders.memos import both

    user = request.decided_by or request.requested_by
    notes = []
    opened = ReviewStep.objects.filter(order=order, status=ReviewStep.Status.OPEN)
    for step in opened:
        notes.append(both(gettext_noop("Review step closed unsigned: %(dept)s."), dept=Dept(step.department).label))
    opened.update(status=ReviewStep.Status.SUPERSEDED)
    now = timezone.now()
    for objection in Objection.objects.filter(step__order=order, settled_at__isnull=True).select_related("step"):
        objection.outcome = both(gettext_noop("Closed: the order was cancelled."))
        objection.settled_by = user
        objection.settled_at = now
        objection.save(update_fields=["outcome", "settled_by", "settled_at"])
        notes.append(
            both(
                gettext_noop("Objection of %(dept)s closed: %(reason)s"),
                dept=Dept(objection.step.department).label,
                reason=objection.reason,
            )
        )
    others = order.change_requests.filter(status=ChangeRequest.Status.PENDING).exclude(pk=request.pk)
    for other in others:
        notes.append(both(gettext_noop("Change waiting for the sales head withdrawn: %(reason)s"), reason=other.reason))
    others.update(
        status=ChangeRequest.Status.REJECTED,
        decided_at=now,
        decision_comment=both(gettext_noop("Withdrawn: the order was cancelled.")),
    )
    unsent = Acknowledgement.objects.filter(order=order).exclude(status=Acknowledgement.Status.SENT)
    for ack in unsent:
        notes.append(
            both(gettext_noop("Acknowledgement r%(rev)s not sent: the order was cancelled."), rev=ack.revision)
        )
    unsent.update(status=Acknowledgement.Status.FAILED, error=both(gettext_noop("The order was cancelled.")))
    for listener in hooks.cancel_listeners:
        notes.extend(listener(order, user))
    return notes


def _apply_change(request: ChangeRequest, order: Order, decided_by) -> None:
    """Make the new revision: update the order, re-open exactly the steps the change concerns, write the memo."""
    from orders import hooks

    user = request.requested_by
    before = snapshot(order)
    number = order.revision + 1
    if request.kind == ChangeRequest.Kind.CANCEL:
        changes = []
        departments = list(REVIEW_DEPARTMENTS)
        notes = _cancel(order, request)
        order.status = S.CANCELLED
    else:
        proposed = request.proposed
        withdraw = proposed.get("withdraw", [])
        # Checked again: a customer's change is applied when the head confirms it, and delivery may have moved on.
        _delivery_refusals(order, proposed, withdraw)
        notes = [note for listener in hooks.change_listeners for note in listener(order, proposed, withdraw, user)]
        for name in Order.HEADER_FIELDS:
            if normalized_text(proposed[name]) != normalized_text(getattr(order, name)):
                setattr(order, name, proposed[name])
        existing = {line.position: line for line in order.lines.all()}
        wanted = {line["position"]: line for line in proposed["lines"]}
        for position, line in existing.items():
            if position not in wanted:
                line.delete()
        for position, values in wanted.items():
            line = existing.get(position) or OrderLine(order=order, position=position)
            requested = date.fromisoformat(values["requested_date"])
            if line.requested_date != requested or line.product_id != values["product_id"]:
                line.confirmed_date = None  # PMC confirms again
            line.product_id = values["product_id"]
            line.quantity = Decimal(values["quantity"])
            line.unit_price = Decimal(values["unit_price"])
            line.requested_date = requested
            line.save()
        for text in proposed.get("verbal", []):
            VerbalRequirement.objects.create(order=order, text=text, recorded_by=user)
        after = snapshot(order)
        after["verbal"] = proposed.get("verbal", [])
        changes = diff_snapshots(before, after)
        departments = concerned_departments(changes)
        # Steps not yet signed move to the new revision as they are; signed steps the change concerns are
        # superseded (they stay on record) and opened again.
        ReviewStep.objects.filter(order=order, status=ReviewStep.Status.OPEN).update(revision=number)
        live = ReviewStep.objects.filter(order=order, status=ReviewStep.Status.SIGNED, department__in=departments)
        for step in live:
            step.status = ReviewStep.Status.SUPERSEDED
            step.save(update_fields=["status"])
            ReviewStep.objects.create(
                order=order, revision=number, department=step.department, checklist=current_checklist(step.department)
            )
        unsettled = Objection.objects.filter(step__order=order, settled_at__isnull=True).exists()
        order.status = S.ON_HOLD if unsettled else S.IN_REVIEW
    order.revision = number
    order.save()
    OrderRevision.objects.create(
        order=order,
        number=number,
        kind=request.kind,
        origin=request.origin,
        reason=request.reason,
        snapshot=snapshot(order),
        changes=changes,
        created_by=user,
    )
    request.status = ChangeRequest.Status.APPLIED
    request.revision = number
    request.save(update_fields=["status", "revision"])
    memo = _memo_for(order, request, changes, departments, notes)
    if order.status == S.IN_REVIEW:
        _advance(order)
        reopened = ReviewStep.objects.filter(order=order, revision=number, status=ReviewStep.Status.OPEN)
        notify_departments_later(order, list(reopened.values_list("department", flat=True)), "step")
    notify_departments_later(order, memo.departments, "memo")


def _memo_for(
    order: Order, request: ChangeRequest, changes: list[dict], departments: list[str], notes: list[str] = ()
) -> Memo:
    from orders.memos import memo_text

    subject, body = memo_text(order, request, changes, notes)
    memo = Memo.objects.create(
        order=order,
        number=f"NM-{order.number}-{order.revision}",
        revision=order.revision,
        subject=subject,
        body=body,
        departments=departments,
        issued_by=request.requested_by,
    )
    MemoReceipt.objects.bulk_create(MemoReceipt(memo=memo, department=d) for d in departments)
    return memo


def memo_issue(
    *, user, topic: str, subject: str, body: str, departments: list[str], order: Order | None = None
) -> Memo:
    """Issue a 《内部联络函》 that is not an order revision's (a return's write-up, a meeting's minutes): numbered
    NM-YYYY-NNNN without gaps per year, one receipt per department to acknowledge it. Call inside the
    transaction of the change it belongs to."""
    departments = sorted(set(departments))
    if not departments:
        raise DomainError(_("Choose at least one department to send the memo to."))
    if not subject.strip() or not body.strip():
        raise DomainError(_("A memo needs a subject and a text."))
    with transaction.atomic():
        year = timezone.localdate().year
        number = next_in_year(MemoCounter, year)
        memo = Memo.objects.create(
            topic=topic,
            order=order,
            number=f"NM-{year}-{number:04d}",
            revision=order.revision if order else 0,
            subject=subject.strip(),
            body=body.strip(),
            departments=departments,
            issued_by=user,
        )
        MemoReceipt.objects.bulk_create(MemoReceipt(memo=memo, department=d) for d in departments)
    return memo


def memo_acknowledge(*, user, memo: Memo, department: str) -> MemoReceipt:
    if department not in departments_of(user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    updated = MemoReceipt.objects.filter(memo=memo, department=department, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=timezone.now()
    )
    receipt = MemoReceipt.objects.filter(memo=memo, department=department).first()
    if receipt is None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    if not updated:
        raise DomainError(_("Your department already acknowledged this memo."))
    return receipt


def notify_departments_later(order: Order, departments, kind: str) -> None:
    from orders.notify import notify_departments

    if departments:
        notify_departments(order, departments, kind=kind)
