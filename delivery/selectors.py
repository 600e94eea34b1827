"""Reading delivery data. The definitions the on-time rate, the daily sheet and the pages share live here."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=3))


def _delivered(extra: Q | None = None):
    """Quantity delivered for the outer batch by issued (not cancelled) delivery notes, minus nothing returned:
    a return is a new delivery problem, not an undelivery (§5.7 replacement batches carry the new quantity)."""
    lines = DeliveryNoteLine.objects.filter(batch=OuterRef("pk"), note__status=DeliveryNote.Status.ISSUED)
    if extra is not None:
        lines = lines.filter(extra)
    total = lines.order_by().values("batch").annotate(total=Sum("quantity")).values("total")
    return Coalesce(Subquery(total, output_field=DecimalField(max_digits=14, decimal_places=3)), ZERO)


def batches_with_delivery() -> QuerySet[DeliveryBatch]:
    """Batches annotated with ``delivered`` (all issued notes), ``delivered_on_time`` (notes delivered on or
    before the batch's due date) and ``outstanding``."""
    return DeliveryBatch.objects.annotate(
        delivered=_delivered(),
        delivered_on_time=_delivered(Q(note__delivery_date__lte=OuterRef("due_date"))),
    ).annotate(outstanding=F("quantity") - F("delivered"))


# --- My work ----------------------------------------------------------------------------------------------

WORK_LIMIT = 20


def batches_not_ready(day):
    """§5.5.1: batches due on ``day`` that are not ready (outstanding, no delivery note, not warehoused)."""
    from orders.models import Order

    return (
        batches_with_delivery()
        .filter(due_date=day, line__order__status__in=[Order.Status.SIGNED_OFF, Order.Status.CONFIRMED])
        .exclude(note_lines__note__status=DeliveryNote.Status.ISSUED)
        .filter(Q(line__progress__isnull=True) | Q(line__progress__warehoused__lt=F("quantity")))
        .select_related("line__order__customer", "line__product")
        .order_by("line__order__number")
    )


def unsigned_notes(today, days: int):
    from datetime import timedelta

    return (
        DeliveryNote.objects.filter(
            status=DeliveryNote.Status.ISSUED, sign_back__isnull=True, delivery_date__lte=today - timedelta(days=days)
        )
        .select_related("customer")
        .order_by("delivery_date")
    )


def my_work(user):
    from datetime import timedelta

    from django.conf import settings
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from accounts.roles import Dept, in_dept
    from accounts.work import WorkItem, WorkSection
    from common.templatetags.numbers import num
    from delivery.models import DelayReport, Return

    sections = []
    today = timezone.localdate()
    if in_dept(user, Dept.CS, Dept.WAREHOUSE, Dept.PMC):
        batches = batches_not_ready(today + timedelta(days=1))
        items = [
            WorkItem(
                label=f"{b.line.order.number} {b.line.order.customer.display_name} · {b.line.product.code}",
                url=reverse("delivery:order", args=[b.line.order.number]) + f"#line-{b.line_id}",
                detail=_("%(qty)s due tomorrow") % {"qty": num(b.quantity)},
            )
            for b in batches[:WORK_LIMIT]
        ]
        sections.append(WorkSection(title=_("Due tomorrow and not ready"), items=items, total=batches.count()))
    if in_dept(user, Dept.CS, Dept.MARKETING):
        # §5.4.1: Customer Service sees the lines at risk and asks Marketing to settle with the customer;
        # Marketing sees the same list.
        from delivery.progress_sheet import open_lines_queryset

        risky = open_lines_queryset(today).filter(at_risk=True).select_related("order__customer", "product")
        items = [
            WorkItem(
                label=f"{line.order.number} {line.order.customer.display_name} · {line.product.code}",
                url=reverse("delivery:order", args=[line.order.number]) + f"#line-{line.pk}",
                detail=_("due %(date)s") % {"date": line.due.isoformat()},
                overdue=line.overdue,
            )
            for line in risky[:WORK_LIMIT]
        ]
        sections.append(WorkSection(title=_("Order lines at risk"), items=items, total=risky.count()))
    if in_dept(user, Dept.CS):
        notes = unsigned_notes(today, settings.SIGNBACK_CHASE_DAYS)
        items = [
            WorkItem(
                label=f"{n.number} {n.customer.display_name}",
                url=n.get_absolute_url(),
                detail=_("delivered %(date)s") % {"date": n.delivery_date.isoformat()},
                overdue=True,
            )
            for n in notes[:WORK_LIMIT]
        ]
        sections.append(WorkSection(title=_("Delivery notes to chase for sign-back"), items=items, total=notes.count()))
        delays = (
            DelayReport.objects.filter(settled_at__isnull=True)
            .select_related("line__order__customer")
            .order_by("reported_at")
        )
        items = [
            WorkItem(
                label=f"{d.line.order.number} · {d.line.order.customer.display_name}",
                url=reverse("delivery:order", args=[d.line.order.number]) + f"#line-{d.line_id}",
                detail=_("new date %(date)s") % {"date": d.new_date.isoformat()},
            )
            for d in delays[:WORK_LIMIT]
        ]
        sections.append(WorkSection(title=_("Delays to settle with the customer"), items=items, total=delays.count()))
    if in_dept(user, Dept.WAREHOUSE):
        notes = (
            DeliveryNote.objects.filter(
                status=DeliveryNote.Status.ISSUED, delivery_date__range=(today, today + timedelta(days=1))
            )
            .select_related("customer")
            .order_by("delivery_date", "number")
        )
        items = [
            WorkItem(
                label=f"{n.number} {n.customer.display_name}", url=n.get_absolute_url(), detail=str(n.delivery_date)
            )
            for n in notes[:WORK_LIMIT]
        ]
        sections.append(WorkSection(title=_("Deliveries today and tomorrow"), items=items, total=notes.count()))
    if in_dept(user, Dept.QA):
        returns = (
            Return.objects.filter(quality_memo="", memos__isnull=True)
            .exclude(status="closed")
            .select_related("note_line__note")
            .order_by("recorded_at")
        )
        items = [
            WorkItem(label=f"{r.note_line.note.number}: {r.reason[:60]}", url=r.note_line.note.get_absolute_url())
            for r in returns[:WORK_LIMIT]
        ]
        sections.append(WorkSection(title=_("Returns waiting for Quality's memo"), items=items, total=returns.count()))
    return sections
