"""State changes of orders: intake, review, objections, the head's sign-off (§5.2).

Every state change locks the order row first (PostgreSQL; SQLite serialises writers anyway) and re-checks
the state inside the transaction. Signatures are written with a conditional UPDATE (only an open step of
the current revision can be signed) and backed by unique constraints, so a double click, two people at
once or a form opened on an older revision record exactly one signature.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import departments_of, require
from common.errors import DomainError
from common.jobs import enqueue_on_commit
from customers.models import Customer, DeliveryAddress, Product
from orders.checklists import DEFAULT_CHECKLISTS
from orders.models import (
    REVIEW_DEPARTMENTS,
    Acknowledgement,
    Checklist,
    Objection,
    Order,
    OrderCounter,
    OrderLine,
    OrderRevision,
    ReviewStep,
    SignOff,
    VerbalRequirement,
)

S = Order.Status


@dataclass
class LineInput:
    product: Product
    quantity: Decimal
    unit_price: Decimal
    requested_date: date


# --- Numbers and checklists -------------------------------------------------------------------------


def next_order_number(today: date | None = None) -> str:
    """SO-2026-00042: per year, never repeated. Call inside a transaction."""
    year = (today or timezone.localdate()).year
    OrderCounter.objects.get_or_create(year=year)
    counter = OrderCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SO-{year}-{counter.last:05d}"


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


def environmental_note(customer: Customer) -> str:
    """The customer's environmental requirements as they go into the packaging requirements (§5.2.2)."""
    today = timezone.localdate()
    requirements = [
        r for r in customer.environmental_requirements.all() if r.expires_on is None or r.expires_on >= today
    ]
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


def _check_lines(lines: list[LineInput], today: date) -> None:
    if not lines:
        raise DomainError(_("An order needs at least one line."))
    for number, line in enumerate(lines, 1):
        if line.product is None:
            raise DomainError(_("Line %(n)s has no product.") % {"n": number})
        if line.quantity is None or line.quantity <= 0:
            raise DomainError(_("Line %(n)s: the quantity must be more than zero.") % {"n": number})
        if line.unit_price is None or line.unit_price < 0:
            raise DomainError(_("Line %(n)s: the unit price cannot be negative.") % {"n": number})
        if line.requested_date is None or line.requested_date < today:
            raise DomainError(_("Line %(n)s: the requested date is in the past.") % {"n": number})


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
    _check_lines(lines, today)
    if delivery_address is not None and delivery_address.customer_id != customer.pk:
        raise DomainError(_("The delivery address belongs to another customer."))
    header.setdefault("currency", customer.currency)
    header.setdefault("payment_terms", customer.payment_terms)
    header.setdefault("incoterm", customer.incoterm)
    note = environmental_note(customer)
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


def snapshot(order: Order) -> dict:
    """The order's content as JSON: what a revision keeps and what changes are compared on."""
    data = {name: _plain(getattr(order, name)) for name in Order.HEADER_FIELDS}
    data["lines"] = [
        {
            "position": line.position,
            "product_id": line.product_id,
            "product": line.product.code,
            "quantity": str(line.quantity.normalize()),
            "unit_price": str(line.unit_price.normalize()),
            "requested_date": line.requested_date.isoformat(),
        }
        for line in order.lines.select_related("product").order_by("position")
    ]
    return data


def _plain(value):
    if isinstance(value, Decimal):
        return str(value.normalize())
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
        order.revision = 1
        OrderRevision.objects.create(order=order, number=1, snapshot=snapshot(order), created_by=user)
        ReviewStep.objects.bulk_create(
            ReviewStep(order=order, revision=1, department=dept, checklist=current_checklist(dept))
            for dept in REVIEW_DEPARTMENTS
        )
        order.status = S.IN_REVIEW
        order.save(update_fields=["status", "revision", "updated_at"])
    _notify_steps(order, REVIEW_DEPARTMENTS)
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


def erp_number_set(*, user, order: Order, erp_number: str) -> Order:
    require(user, "order.enter")
    erp_number = erp_number.strip()
    if not erp_number:
        raise DomainError(_("Enter the SAP order number."))
    updated = Order.objects.filter(pk=order.pk, erp_number="").update(erp_number=erp_number, updated_at=timezone.now())
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
    if revision_seen != order.revision or step.revision != order.revision:
        raise DomainError(
            _("The order has changed since you opened it (now revision %(rev)s). Read it again before signing.")
            % {"rev": order.revision},
            code="stale",
        )
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
    answers: dict[str, bool],
    comment: str = "",
    confirmed_dates: dict[int, date] | None = None,
) -> ReviewStep:
    """Sign a department's step: every checklist item answered yes; PMC gives a confirmed date per line."""
    with transaction.atomic():
        order, step = _step_for_signing(user, step, revision_seen)
        items = step.checklist.items
        missing = [i for i in items if i["key"] not in answers]
        if missing:
            raise DomainError(_("Answer every item of the checklist."))
        if not all(answers[i["key"]] for i in items) and not comment.strip():
            raise DomainError(_("An item answered 'no' needs a comment, or raise an objection instead."))
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
            answers=[{"key": i["key"], "yes": bool(answers[i["key"]])} for i in items],
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
    _notify_objection(order, objection)
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
        objection.outcome = outcome.strip()
        objection.settled_by = user
        objection.settled_at = timezone.now()
        objection.save()
        old = objection.step
        if old.revision == order.revision:
            ReviewStep.objects.create(
                order=order, revision=order.revision, department=old.department, checklist=old.checklist
            )
        if not Objection.objects.filter(step__order=order, settled_at__isnull=True).exists():
            order.status = S.IN_REVIEW
            order.save(update_fields=["status", "updated_at"])
        _advance(order)
    _notify_steps(order, [objection.step.department])
    return objection


def unconfirmed_verbal(order: Order) -> list[VerbalRequirement]:
    return [v for v in order.verbal_requirements.all() if v.confirmed_at is None]


def _advance(order: Order) -> None:
    """After a signature: when every live step of the revision is signed, the head's sign-off is next."""
    if order.status != S.IN_REVIEW:
        return
    live = ReviewStep.objects.filter(order=order, revision=order.revision).exclude(
        status__in=[ReviewStep.Status.SUPERSEDED, ReviewStep.Status.OBJECTED]
    )
    if live.exists() and not live.exclude(status=ReviewStep.Status.SIGNED).exists():
        order.status = S.AWAITING_SIGNOFF
        order.save(update_fields=["status", "updated_at"])
        _notify_head(order)


def head_signoff(*, user, order: Order, revision_seen: int, comment: str = "") -> SignOff:
    """签核: the marketing head signs off the revision once every department has signed (§5.2.1)."""
    require(user, "order.signoff")
    with transaction.atomic():
        order = _locked(order)
        if revision_seen != order.revision:
            raise DomainError(
                _("The order has changed since you opened it (now revision %(rev)s). Read it again before signing.")
                % {"rev": order.revision},
                code="stale",
            )
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


# --- Notifications ----------------------------------------------------------------------------------


def _notify_steps(order: Order, departments) -> None:
    from orders.notify import notify_departments

    notify_departments(order, departments, kind="step")


def _notify_objection(order: Order, objection: Objection) -> None:
    from orders.notify import notify_departments

    notify_departments(order, ["marketing"], kind="objection")


def _notify_head(order: Order) -> None:
    from orders.notify import notify_departments

    notify_departments(order, ["marketing_head"], kind="signoff")


# --- Confirmation to the customer (§5.2.3) ------------------------------------------------------------


def acknowledgement_recipient(order: Order) -> str:
    contacts = [c for c in order.customer.contacts.all() if c.email]
    contacts.sort(key=lambda c: (not c.is_primary, c.pk))
    return contacts[0].email if contacts else ""


def order_confirm(*, user, order: Order, revision_seen: int) -> Acknowledgement:
    """Customer Service sends the signed-off revision to the customer: the PDF is made and e-mailed by a job."""
    require(user, "order.confirm")
    with transaction.atomic():
        order = _locked(order)
        if revision_seen != order.revision:
            raise DomainError(
                _("The order has changed since you opened it (now revision %(rev)s). Read it again before signing.")
                % {"rev": order.revision},
                code="stale",
            )
        if Acknowledgement.objects.filter(order=order, revision=order.revision).exists():
            raise DomainError(_("The acknowledgement of this revision was already sent."), code="state")
        if order.status != S.SIGNED_OFF:
            raise DomainError(_("Only a signed-off order can be confirmed to the customer."), code="state")
        recipient = acknowledgement_recipient(order)
        if not recipient:
            raise DomainError(_("The customer has no contact with an e-mail address. Add one to the customer first."))
        language = "en" if not order.customer.name_zh else "zh-hans"
        try:
            with transaction.atomic():
                ack = Acknowledgement.objects.create(
                    order=order, revision=order.revision, recipient=recipient, language=language, requested_by=user
                )
        except IntegrityError:
            raise DomainError(_("The acknowledgement of this revision was already sent."), code="state") from None
    from orders import tasks

    enqueue_on_commit(tasks.send_acknowledgement, ack.pk)
    return ack


def acknowledgement_send(ack_id: int) -> Acknowledgement:
    """Make the PDF and e-mail it; idempotent (a sent acknowledgement is never sent again)."""
    from django.core.files.base import ContentFile
    from django.core.mail import EmailMessage

    from orders.documents import acknowledgement_pdf

    with transaction.atomic():
        ack = Acknowledgement.objects.select_for_update().select_related("order__customer").get(pk=ack_id)
        if ack.status == Acknowledgement.Status.SENT:
            return ack
        ack.attempts += 1
        ack.save(update_fields=["attempts"])
    order = ack.order
    if not ack.pdf:
        ack.pdf.save(
            f"{order.number}-r{ack.revision}.pdf", ContentFile(acknowledgement_pdf(order, ack.revision)), save=True
        )
    customer = order.customer
    subject = f"订单确认 Order acknowledgement {order.number} (PO {order.customer_po})"
    body = "\n".join(
        [
            f"{customer.name_zh or customer.name_en}:",
            f"附件为贵司订单 {order.customer_po} 的订单确认书(我司订单号 {order.number})。",
            f"Please find attached our acknowledgement of your order {order.customer_po} (our order {order.number}).",
        ]
    )
    message = EmailMessage(subject, body, to=[ack.recipient])
    with ack.pdf.open("rb") as handle:
        message.attach(f"{order.number}.pdf", handle.read(), "application/pdf")
    message.send()
    with transaction.atomic():
        Acknowledgement.objects.filter(pk=ack.pk).update(
            status=Acknowledgement.Status.SENT, sent_at=timezone.now(), error=""
        )
        Order.objects.filter(pk=order.pk, status=S.SIGNED_OFF, revision=ack.revision).update(
            status=S.CONFIRMED, updated_at=timezone.now()
        )
    ack.refresh_from_db()
    return ack


def acknowledgement_failed(ack_id: int, error: str) -> None:
    Acknowledgement.objects.filter(pk=ack_id).exclude(status=Acknowledgement.Status.SENT).update(
        status=Acknowledgement.Status.FAILED, error=error[:2000]
    )


def acknowledgement_retrying(ack_id: int, error: str) -> None:
    Acknowledgement.objects.filter(pk=ack_id, status=Acknowledgement.Status.QUEUED).update(error=error[:2000])


def acknowledgement_resend(*, user, ack: Acknowledgement) -> None:
    require(user, "order.confirm")
    updated = Acknowledgement.objects.filter(pk=ack.pk, status=Acknowledgement.Status.FAILED).update(
        status=Acknowledgement.Status.QUEUED, error=""
    )
    if not updated:
        raise DomainError(_("Only an acknowledgement whose sending failed can be sent again."))
    from orders import tasks

    enqueue_on_commit(tasks.send_acknowledgement, ack.pk)
