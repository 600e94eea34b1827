"""State changes of customer master data. Views, imports and commands all call these."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import require
from common.errors import DomainError
from customers.models import (
    CommunicationLog,
    Customer,
    CustomerEvaluation,
    EnvironmentalRequirement,
    QualityProblem,
    Quotation,
)

# --- Customers -------------------------------------------------------------------------------


def customer_save(*, customer: Customer, user, seen_updated_at=None, formsets=()) -> Customer:
    """Save a customer (new or edited) with its contact/address formsets, refusing stale forms.

    ``seen_updated_at`` is the customer's ``updated_at`` when the form was opened: if someone saved
    the customer since, the save is refused so that nobody silently overwrites another's edit.
    """
    require(user, "customer.edit")
    with transaction.atomic():
        if customer.pk:
            current = Customer.objects.select_for_update().get(pk=customer.pk)
            if seen_updated_at is not None and current.updated_at != seen_updated_at:
                raise DomainError(
                    _("Someone else changed this customer while you were editing. Reload the page and try again."),
                    code="stale",
                )
        try:
            customer.save()
            for formset in formsets:
                formset.instance = customer
                formset.save()
        except IntegrityError as exc:
            raise DomainError(
                _("Only one primary contact and one default address are allowed."), code="unique"
            ) from exc
    return customer


# --- Quotations --------------------------------------------------------------------------------


def quotation_overlaps(*, customer, product, valid_from: date, valid_to: date | None, exclude_pk=None) -> bool:
    qs = Quotation.objects.filter(customer=customer, product=product)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    # Two periods overlap when each starts before the other ends (open ends never end).
    if valid_to is not None:
        qs = qs.filter(valid_from__lte=valid_to)
    from django.db.models import Q

    return qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from)).exists()


def quotation_create(*, user, customer, product, unit_price, currency, valid_from, valid_to=None, reference=""):
    require(user, "quotation.edit")
    if valid_to is not None and valid_to < valid_from:
        raise DomainError(_("The quotation ends before it starts."))
    with transaction.atomic():
        # Lock the customer row so that two quotations for the same product cannot both pass the check.
        Customer.objects.select_for_update().get(pk=customer.pk)
        if quotation_overlaps(customer=customer, product=product, valid_from=valid_from, valid_to=valid_to):
            raise DomainError(
                _("Another quotation for this product is valid in the same period. End it first."), code="overlap"
            )
        return Quotation.objects.create(
            customer=customer,
            product=product,
            unit_price=unit_price,
            currency=currency,
            valid_from=valid_from,
            valid_to=valid_to,
            reference=reference,
            created_by=user,
        )


def quotation_end(*, user, quotation: Quotation, valid_to: date) -> Quotation:
    """End a quotation's validity (it is never deleted: orders were checked against it)."""
    require(user, "quotation.edit")
    with transaction.atomic():
        quotation = Quotation.objects.select_for_update().get(pk=quotation.pk)
        if valid_to < quotation.valid_from:
            raise DomainError(_("The quotation ends before it starts."))
        if quotation.valid_to is not None and quotation.valid_to <= valid_to:
            raise DomainError(_("The quotation already ends on or before that date."))
        quotation.valid_to = valid_to
        quotation.save(update_fields=["valid_to"])
    return quotation


# --- Environmental requirements (Quality) -----------------------------------------------------


def envreq_save(*, user, requirement: EnvironmentalRequirement) -> EnvironmentalRequirement:
    require(user, "envreq.edit")
    requirement.recorded_by = user
    requirement.save()
    return requirement


# --- Communication log --------------------------------------------------------------------------


def communication_add(*, user, entry: CommunicationLog, capability: str = "commlog.add") -> CommunicationLog:
    """Record an entry of the customer's communication log (§5.10.1), written by ``user``.

    By hand, Marketing and Customer Service add entries (``commlog.add``). Another app that tells the customer as
    part of its own change (a customer-property damage, §5.10.3) records the entry here too and passes the
    capability that change requires (e.g. ``custprop.check``): the person who told the customer is the entry's
    author even when they may not add entries by hand. Call it inside the caller's transaction so that the entry
    is refused together with the change.
    """
    require(user, capability)
    entry.user = user
    entry.save()
    return entry


def communication_follow_up_done(*, user, entry: CommunicationLog) -> CommunicationLog:
    require(user, "commlog.add")
    with transaction.atomic():
        entry = CommunicationLog.objects.select_for_update().get(pk=entry.pk)
        if entry.follow_up_done:
            raise DomainError(_("This follow-up was already marked done."))
        entry.follow_up_done = True
        entry.save(update_fields=["follow_up_done"])
    return entry


# --- Customer evaluation form (§5.1.1) ----------------------------------------------------------

E = CustomerEvaluation.Status


def _locked_evaluation(evaluation: CustomerEvaluation) -> CustomerEvaluation:
    return CustomerEvaluation.objects.select_for_update().get(pk=evaluation.pk)


def evaluation_create(*, user, customer: Customer, **content) -> CustomerEvaluation:
    require(user, "evaluation.edit")
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.evaluations.filter(status__in=CustomerEvaluation.OPEN_STATUSES).exists():
            raise DomainError(_("This customer already has an evaluation form in progress."), code="open")
        version = (customer.evaluations.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        current = customer.evaluations.filter(status=E.APPROVED).first()
        return CustomerEvaluation.objects.create(
            customer=customer, version=version, supersedes=current, created_by=user, **content
        )


def evaluation_new_version(*, user, evaluation: CustomerEvaluation) -> CustomerEvaluation:
    """Start a new version from an approved form, copying its content. The approved one stays in force until
    the new one is approved."""
    if evaluation.status != E.APPROVED:
        raise DomainError(_("Only the approved form can be revised."))
    content = {name: getattr(evaluation, name) for name in CustomerEvaluation.CONTENT_FIELDS}
    return evaluation_create(user=user, customer=evaluation.customer, **content)


def evaluation_update(*, user, evaluation: CustomerEvaluation, **content) -> CustomerEvaluation:
    require(user, "evaluation.edit")
    with transaction.atomic():
        evaluation = _locked_evaluation(evaluation)
        if evaluation.status not in (E.DRAFT, E.RETURNED):
            raise DomainError(_("This form is submitted or approved and can no longer be edited."), code="locked")
        unknown = set(content) - set(CustomerEvaluation.CONTENT_FIELDS)
        if unknown:
            raise ValueError(f"not content fields: {sorted(unknown)}")
        for name, value in content.items():
            setattr(evaluation, name, value)
        evaluation.save()
    return evaluation


def evaluation_submit(*, user, evaluation: CustomerEvaluation) -> CustomerEvaluation:
    require(user, "evaluation.edit")
    with transaction.atomic():
        evaluation = _locked_evaluation(evaluation)
        if evaluation.status not in (E.DRAFT, E.RETURNED):
            raise DomainError(_("This form was already submitted."), code="state")
        if not evaluation.recommendation.strip():
            raise DomainError(_("Write Marketing's recommendation before submitting."), code="incomplete")
        evaluation.status = E.SUBMITTED
        evaluation.submitted_by = user
        evaluation.submitted_at = timezone.now()
        evaluation.save()
    return evaluation


def evaluation_approve(*, user, evaluation: CustomerEvaluation, comment: str = "") -> CustomerEvaluation:
    require(user, "evaluation.decide")
    with transaction.atomic():
        evaluation = _locked_evaluation(evaluation)
        if evaluation.status != E.SUBMITTED:
            raise DomainError(_("This form is not waiting for a decision (it may have been decided already)."))
        previous = (
            CustomerEvaluation.objects.select_for_update()
            .filter(customer_id=evaluation.customer_id, status=E.APPROVED)
            .first()
        )
        if previous is not None:
            previous.status = E.SUPERSEDED
            previous.save(update_fields=["status"])
        evaluation.status = E.APPROVED
        evaluation.decided_by = user
        evaluation.decided_at = timezone.now()
        evaluation.decision_comment = comment
        evaluation.save()
    return evaluation


def evaluation_return(*, user, evaluation: CustomerEvaluation, comment: str) -> CustomerEvaluation:
    require(user, "evaluation.decide")
    if not comment.strip():
        raise DomainError(_("Say what must be reworked."), code="comment")
    with transaction.atomic():
        evaluation = _locked_evaluation(evaluation)
        if evaluation.status != E.SUBMITTED:
            raise DomainError(_("This form is not waiting for a decision (it may have been decided already)."))
        evaluation.status = E.RETURNED
        evaluation.decided_by = user
        evaluation.decided_at = timezone.now()
        evaluation.decision_comment = comment
        evaluation.save()
    return evaluation


def evaluation_file(*, user, evaluation: CustomerEvaluation) -> CustomerEvaluation:
    """Customer Service files the approved form (§5.1.1: 至客服部建档及保管)."""
    require(user, "evaluation.file")
    with transaction.atomic():
        evaluation = _locked_evaluation(evaluation)
        if evaluation.status != E.APPROVED:
            raise DomainError(_("Only an approved form can be filed."))
        if evaluation.filed_at is not None:
            raise DomainError(_("This form was already filed."))
        evaluation.filed_by = user
        evaluation.filed_at = timezone.now()
        evaluation.save(update_fields=["filed_by", "filed_at"])
    return evaluation


# --- Quality problems (Quality) ----------------------------------------------------------------------


def quality_problem_add(*, user, problem: QualityProblem) -> QualityProblem:
    require(user, "quality_problem.edit")
    problem.recorded_by = user
    problem.status = QualityProblem.Status.OPEN
    problem.save()
    return problem


def quality_problem_fix(*, user, problem: QualityProblem, corrective_action: str, fixed_on: date) -> QualityProblem:
    require(user, "quality_problem.edit")
    if not corrective_action.strip():
        raise DomainError(_("Say what was done to fix it."))
    if fixed_on is None:
        raise DomainError(_("Give the date it was fixed."))
    if fixed_on > timezone.localdate():
        raise DomainError(_("The fix date is in the future."))
    # Saved (not a bulk update) so the history keeps the fix with who recorded it and when.
    with transaction.atomic():
        problem = QualityProblem.objects.select_for_update().get(pk=problem.pk)
        if problem.status != QualityProblem.Status.OPEN:
            raise DomainError(_("This problem is already marked fixed."))
        if fixed_on < problem.reported_on:
            raise DomainError(_("The problem cannot be fixed before it was reported."))
        problem.status = QualityProblem.Status.FIXED
        problem.corrective_action = corrective_action.strip()
        problem.fixed_on = fixed_on
        problem.fixed_by = user
        problem.fixed_at = timezone.now()
        problem._history_user = user
        problem.save()
    return problem
