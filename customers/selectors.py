"""Reads of customer data that need care: validity on a date, change history, "My work"."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Dept, in_dept
from accounts.work import WorkItem, WorkSection, work_limit
from customers.models import (
    CommunicationLog,
    Contact,
    Customer,
    CustomerEvaluation,
    DeliveryAddress,
    Quotation,
)

WORK_LIMIT = 10


def customer_list() -> QuerySet[Customer]:
    primary = Contact.objects.filter(is_primary=True)
    return Customer.objects.select_related("marketing_owner", "cs_owner").prefetch_related(
        Prefetch("contacts", queryset=primary, to_attr="primary_contacts")
    )


def quotation_valid(*, customer, product, on: date) -> Quotation | None:
    """The quotation in force for a customer and product on a date (the latest one to start)."""
    return (
        Quotation.objects.filter(customer=customer, product=product, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("-valid_from", "-id")
        .first()
    )


@dataclass
class Change:
    when: object
    who: object
    what: str  # the record that changed, e.g. "Contact 王五"
    kind: str  # created / changed / deleted
    fields: list[tuple[str, str, str]]  # (field label, old, new)


def _display(record, field_name: str) -> str:
    value = getattr(record, field_name, None)
    field = record._meta.get_field(field_name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value) or "")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "" if value is None else str(value)


def customer_history(customer: Customer, limit: int = 200) -> list[Change]:
    """Every change to the customer and its contacts and addresses, newest first: who, when, what changed."""
    sources = [
        (customer.history.all(), lambda r: _("Customer")),
        (Contact.history.filter(customer_id=customer.pk), lambda r: _("Contact %(name)s") % {"name": r.name}),
        (
            DeliveryAddress.history.filter(customer_id=customer.pk),
            lambda r: _("Address %(label)s") % {"label": r.label},
        ),
    ]
    kinds = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
    changes: list[Change] = []
    for qs, describe in sources:
        records = list(qs.select_related("history_user").order_by("id", "history_date", "history_id")[:limit])
        previous_by_id: dict[int, object] = {}
        for record in records:
            fields: list[tuple[str, str, str]] = []
            before = previous_by_id.get(record.id)
            if before is not None and record.history_type == "~":
                delta = record.diff_against(before)
                for change in delta.changes:
                    field = record.instance_type._meta.get_field(change.field)
                    fields.append(
                        (str(field.verbose_name), _display(before, change.field), _display(record, change.field))
                    )
                if not fields:
                    previous_by_id[record.id] = record
                    continue
            changes.append(
                Change(
                    when=record.history_date,
                    who=record.history_user,
                    what=describe(record),
                    kind=kinds[record.history_type],
                    fields=fields,
                )
            )
            previous_by_id[record.id] = record
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit]


def my_work(user) -> list[WorkSection]:
    sections: list[WorkSection] = []
    E = CustomerEvaluation.Status

    def evaluation_section(title: str, qs) -> WorkSection:
        total = qs.count()
        items = [
            WorkItem(
                label=f"{ev.customer.code} {ev.customer.display_name} v{ev.version}",
                url=reverse("customers:evaluation", args=[ev.pk]),
            )
            for ev in qs.select_related("customer")[: work_limit(WORK_LIMIT)]
        ]
        return WorkSection(title=title, items=items, total=total)

    if in_dept(user, Dept.MARKETING_HEAD):
        sections.append(
            evaluation_section(
                _("Customer evaluations waiting for your decision"),
                CustomerEvaluation.objects.filter(status=E.SUBMITTED).order_by("submitted_at"),
            )
        )
    if in_dept(user, Dept.CS):
        sections.append(
            evaluation_section(
                _("Approved customer evaluations to file"),
                CustomerEvaluation.objects.filter(status=E.APPROVED, filed_at__isnull=True).order_by("decided_at"),
            )
        )
    if in_dept(user, Dept.MARKETING):
        sections.append(
            evaluation_section(
                _("Customer evaluations returned for rework"),
                CustomerEvaluation.objects.filter(status=E.RETURNED).order_by("decided_at"),
            )
        )
    if in_dept(user, Dept.MARKETING, Dept.CS):
        today = timezone.localdate()
        follow_ups = CommunicationLog.objects.filter(
            user=user, follow_up_done=False, follow_up_due__isnull=False
        ).order_by("follow_up_due")
        total = follow_ups.count()
        items = [
            WorkItem(
                label=f"{entry.customer.code} {entry.customer.display_name}: {entry.follow_up[:60]}",
                url=reverse("customers:detail", args=[entry.customer.code]) + "#log",
                detail=_("due %(date)s") % {"date": entry.follow_up_due.isoformat()},
                overdue=entry.follow_up_due < today,
            )
            for entry in follow_ups.select_related("customer")[: work_limit(WORK_LIMIT)]
        ]
        sections.append(WorkSection(title=_("Customer follow-ups due"), items=items, total=total))
    return sections
