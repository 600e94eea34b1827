"""Departments and what each may do.

A department is a Django group whose name is the department's code; a user may
belong to several. Every permission check in views and services goes through
``can()`` / ``require()`` so the matrix below is the single place to read who
may do what (DESIGN.md, "Who uses it").
"""

from django.core.exceptions import PermissionDenied
from django.db import models
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


def departments_of(user) -> frozenset[str]:
    """The department codes of a user, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_dept_cache", None)
    if cached is None:
        names = set(user.groups.filter(name__in=Dept.values).values_list("name", flat=True))
        if user.is_superuser:
            # A superuser administers; it does not sign for departments it is not in.
            names.add(Dept.ADMIN)
        cached = frozenset(names)
        user._dept_cache = cached
    return cached


def in_dept(user, *depts: str) -> bool:
    return bool(departments_of(user) & set(depts))


def can(user, capability: str) -> bool:
    try:
        allowed = MATRIX[capability]
    except KeyError:
        raise ValueError(f"unknown capability {capability!r}") from None
    return bool(departments_of(user) & allowed)


def require(user, capability: str) -> None:
    if not can(user, capability):
        raise PermissionDenied
