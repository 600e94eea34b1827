"""Departments and what each may do.

A department is a Django group whose name is the department's code; a user may
belong to several. Every permission check in views and services goes through
``can()`` / ``require()`` so the matrix below is the single place to read who
may do what (DESIGN.md, "Who uses it").

A capability may also be granted by a Django permission (``GRANTED_BY``): an administrator gives it in the admin
to a user or to a group, for a person the departments do not cover (a department head sees the managers'
dashboard). The departments and the grants are read together, in one query, once per user object.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, ExpressionWrapper, FilteredRelation, OuterRef, Q
from django.utils.translation import gettext_lazy as _


class Dept(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    MARKETING_HEAD = "marketing_head", _("Marketing head")
    PRODUCT = "product_group", _("Product group")
    CS = "customer_service", _("Customer Service")
    TECH = "technical", _("Technical")
    PMC = "pmc", _("PMC")
    QA = "quality", _("Quality")
    WAREHOUSE = "warehouse", _("Warehouse")
    CUSTOMS = "customs", _("Customs")
    MGMT_REP = "management_rep", _("Management representative")
    ADMIN = "administrator", _("Administrator")


ALL = frozenset(Dept.values)

# capability -> departments allowed. Keep it flat and readable.
MATRIX: dict[str, frozenset[str]] = {
    "customer.view": ALL,
    "customer.edit": frozenset({Dept.MARKETING, Dept.CS, Dept.ADMIN}),
    "customer.import": frozenset({Dept.ADMIN}),
    "product.edit": frozenset({Dept.MARKETING, Dept.TECH, Dept.ADMIN}),
    "quotation.edit": frozenset({Dept.MARKETING}),
    "envreq.edit": frozenset({Dept.QA}),
    "quality_problem.edit": frozenset({Dept.QA}),
    "evaluation.edit": frozenset({Dept.MARKETING}),
    "evaluation.decide": frozenset({Dept.MARKETING_HEAD}),
    "evaluation.file": frozenset({Dept.CS}),
    "commlog.add": frozenset({Dept.MARKETING, Dept.CS}),
    "user.manage": frozenset({Dept.ADMIN}),
    # Orders (§5.2, §5.3). Signing a review step needs membership of the step's own department.
    "order.view": ALL,
    "order.enter": frozenset({Dept.CS}),
    "order.settle": frozenset({Dept.MARKETING}),
    "order.signoff": frozenset({Dept.MARKETING_HEAD}),
    "order.confirm": frozenset({Dept.CS}),
    "order.change": frozenset({Dept.CS}),
    "checklist.edit": frozenset({Dept.ADMIN}),
    # Delivery (§5.4 to §5.9).
    "delivery.view": ALL,
    "delivery.edit": frozenset({Dept.CS}),  # batches, delivery notes, sign-back, returns, at-risk outcomes
    "progress.edit": frozenset({Dept.PMC}),  # production progress and delay reports
    "carrier.edit": frozenset({Dept.CS, Dept.ADMIN}),
    # Export paperwork and processing-trade transfers (§5.6.2, §5.9.2): Customs does them, Customer Service assists.
    "customs.edit": frozenset({Dept.CUSTOMS, Dept.CS}),
    "return.memo": frozenset({Dept.QA}),
    "sheet.send": frozenset({Dept.CS, Dept.ADMIN}),  # send the daily sheet again by hand
    # Satisfaction surveys (§5.11, §5.12.4). Customer Service runs them (§5.11.1); everyone may read results.
    "survey.view": ALL,
    "survey.run": frozenset({Dept.CS}),  # rounds, the list, sending, reminders, keyed-in forms, scorecards
    "survey.form": frozenset({Dept.CS, Dept.ADMIN}),  # the questions of 《客户满意度调查表》
    "outbox.resend": frozenset({Dept.CS, Dept.ADMIN}),  # send a failed e-mail again
    # Complaints (§5.10.2). Investigating also needs membership of the complaint's responsible department.
    "complaint.view": ALL,
    "complaint.record": frozenset({Dept.CS}),  # record, acknowledge, answer, close, attach, arrange returns
    "complaint.investigate": frozenset({Dept.QA, Dept.CS, Dept.PMC, Dept.MARKETING, Dept.TECH, Dept.WAREHOUSE}),
    "return.progress": frozenset({Dept.CS}),  # a return picked up, closed
    # The analysis report, the improvement meeting, corrective actions, the management review (§5.12.5-§5.12.7).
    "improvement.view": ALL,
    "report.write": frozenset({Dept.CS}),
    "report.decide": frozenset({Dept.MGMT_REP}),
    "meeting.record": frozenset({Dept.CS}),
    "action.create": frozenset({Dept.CS, Dept.QA, Dept.MGMT_REP}),
    # Verifying also needs not being the action's owner.
    "action.verify": frozenset({Dept.CS, Dept.QA, Dept.MGMT_REP, Dept.MARKETING_HEAD}),
    "review.prepare": frozenset({Dept.CS, Dept.MGMT_REP}),
    "review.record": frozenset({Dept.MGMT_REP}),
    # Samples (§4.0.2, §5.8.1, §5.2.4.3): Marketing or Technical ask, Customer Service delivers and chases the
    # signed receipt, Marketing or Technical record the customer's written verdict.
    "sample.view": ALL,
    "sample.request": frozenset({Dept.MARKETING, Dept.TECH}),
    "sample.deliver": frozenset({Dept.CS}),
    "sample.verdict": frozenset({Dept.MARKETING, Dept.TECH}),
    # Customer property (§5.10.3, 《客户供应品管制程序》).
    "custprop.view": ALL,
    "custprop.edit": frozenset({Dept.WAREHOUSE, Dept.TECH, Dept.QA}),
    "custprop.check": frozenset({Dept.WAREHOUSE, Dept.QA}),
    # Managers' overview and the auditor's view of the records (§7, issue 11).
    "dashboard.view": frozenset({Dept.MARKETING_HEAD, Dept.MGMT_REP, Dept.ADMIN}),
    "records.view": ALL,  # the records register and the procedure map
    "records.export": frozenset({Dept.MGMT_REP, Dept.ADMIN}),  # download the records of a period
    "records.retention": frozenset({Dept.ADMIN}),  # set how long each record form is kept (§5.12.8)
}


# capability -> the Django permission ("app_label.codename") that also grants it, to a user or through a group.
GRANTED_BY: dict[str, str] = {
    "dashboard.view": "dashboard.view_dashboard",  # dashboard/models.py
}


def _holds(perm: str) -> ExpressionWrapper:
    """Whether the outer user holds ``perm`` itself or through one of its groups (ModelBackend's rule)."""
    app_label, codename = perm.split(".", 1)
    perms = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return ExpressionWrapper(
        Q(Exists(perms.filter(user=OuterRef("pk")))) | Q(Exists(perms.filter(group__user=OuterRef("pk")))),
        output_field=models.BooleanField(),
    )


def _load(user) -> None:
    """Read the departments and granted capabilities of ``user`` in one query, into ``_dept_cache`` and
    ``_grant_cache``: one row per department group (or one row with no department), each also saying which
    granting permissions the user holds."""
    if user.is_superuser or not user.is_active:
        # No need to ask: Django's has_perm() is True for an active superuser and False for an inactive user.
        granted = frozenset(GRANTED_BY) if user.is_superuser and user.is_active else frozenset()
        asked = {}
    else:
        granted = frozenset()
        asked = {f"grant_{i}": _holds(perm) for i, perm in enumerate(GRANTED_BY.values())}
    rows = (
        get_user_model()
        ._default_manager.filter(pk=user.pk)
        .annotate(dept=FilteredRelation("groups", condition=Q(groups__name__in=Dept.values)), **asked)
        .values_list("dept__name", *asked)
        .order_by()
    )
    names = set()
    for name, *held in rows:
        if name:
            names.add(name)
        if held:  # asked only of an active user who is not a superuser
            granted |= {capability for capability, yes in zip(GRANTED_BY, held, strict=True) if yes}
    if user.is_superuser:
        # A superuser administers; it does not sign for departments it is not in.
        names.add(Dept.ADMIN)
    user._dept_cache = frozenset(names)
    user._grant_cache = frozenset(granted)


def departments_of(user) -> frozenset[str]:
    """The department codes of a user, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if getattr(user, "_dept_cache", None) is None or getattr(user, "_grant_cache", None) is None:
        _load(user)
    return user._dept_cache


def _granted(user) -> frozenset[str]:
    """The capabilities granted to a user by a permission of ``GRANTED_BY``, read with its departments."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    departments_of(user)
    return user._grant_cache


def in_dept(user, *depts: str) -> bool:
    return bool(departments_of(user) & set(depts))


def can(user, capability: str) -> bool:
    try:
        allowed = MATRIX[capability]
    except KeyError:
        raise ValueError(f"unknown capability {capability!r}") from None
    return bool(departments_of(user) & allowed) or capability in _granted(user)


def require(user, capability: str) -> None:
    if not can(user, capability):
        raise PermissionDenied
