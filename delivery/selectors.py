"""Reading delivery data. The definitions the on-time rate, the daily sheet, My work and the readiness
announcement share live here, so "due", "overdue", "delivered" and "ready" mean one thing everywhere (§5.4, §5.5):

- A **batch** is due on its ``due_date``; its *delivered* quantity is what issued (not cancelled) delivery notes
  carry, its *outstanding* quantity the rest.
- Every committed order line is covered: the part of a line nobody has planned in batches (``unplanned``) counts
  as **one batch due on the line's customer date** (the PMC-confirmed date, else the requested one). Nothing can
  be delivered from it before it is planned, so once that date has passed it is late.
- A batch (or an unplanned part) is **overdue** when its due date is before today and quantity is outstanding.
- A batch of a **cancelled** order still counts when it was due before the day of the cancellation: what was
  already late stays late in its month. The rest of a cancelled order is not due.
- Goods are **ready** for day D when the line's stock (warehoused minus delivered) covers everything of the line
  outstanding by D (its batches due on or before D, and its unplanned part if the customer's date is by D):
  earlier dates take the stock first. Having once been put on a note does not make a batch ready.
"""

from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, TruncDate

from accounts.work import work_limit
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
from orders.models import Order, OrderLine, OrderRevision, SignOff

QTY = DecimalField(max_digits=14, decimal_places=3)
ZERO = Value(Decimal(0), output_field=QTY)
DELIVERABLE = (Order.Status.SIGNED_OFF, Order.Status.CONFIRMED)
# An order back in review after a change was committed once: its lines stay due while the change is reviewed.
UNDER_REVIEW = (Order.Status.IN_REVIEW, Order.Status.ON_HOLD, Order.Status.AWAITING_SIGNOFF)


def _delivered(extra: Q | None = None):
    """Quantity delivered for the outer batch by issued (not cancelled) delivery notes, minus nothing returned:
    a return is a new delivery problem, not an undelivery (§5.7 replacement batches carry the new quantity)."""
    lines = DeliveryNoteLine.objects.filter(batch=OuterRef("pk"), note__status=DeliveryNote.Status.ISSUED)
    if extra is not None:
        lines = lines.filter(extra)
    total = lines.order_by().values("batch").annotate(total=Sum("quantity")).values("total")
    return Coalesce(Subquery(total, output_field=QTY), ZERO)


def cancelled_on(order_ref: str = "line__order"):
    """The day the outer order was cancelled (its cancellation revision), or NULL."""
    revisions = OrderRevision.objects.filter(order=OuterRef(order_ref), kind=OrderRevision.Kind.CANCEL)
    return Subquery(revisions.order_by("-number").annotate(day=TruncDate("created_at")).values("day")[:1])


def batches_counted(batches: QuerySet[DeliveryBatch] | None = None) -> QuerySet[DeliveryBatch]:
    """Batches that are due at all: not of a cancelled order, unless due before the day of its cancellation."""
    batches = DeliveryBatch.objects.all() if batches is None else batches
    return batches.annotate(cancelled_on=cancelled_on()).filter(
        ~Q(line__order__status=Order.Status.CANCELLED) | Q(due_date__lt=F("cancelled_on"))
    )


def batches_with_delivery() -> QuerySet[DeliveryBatch]:
    """Batches annotated with ``delivered`` (all issued notes), ``delivered_on_time`` (notes delivered on or
    before the batch's due date) and ``outstanding``.

    ``delivered`` is the batch's stored ``delivered_quantity``: the same sum of its issued note lines (not capped
    at the batch quantity), kept in the transaction of every note issue and cancellation. ``delivered_on_time``
    is still summed from the notes: the stored ``delivered_on`` says when the whole quantity was delivered, not
    how much was delivered by the due date."""
    return DeliveryBatch.objects.annotate(
        delivered=F("delivered_quantity"),
        delivered_on_time=_delivered(Q(note__delivery_date__lte=OuterRef("due_date"))),
    ).annotate(outstanding=ExpressionWrapper(F("quantity") - F("delivered"), output_field=QTY))


def overdue_batches(today: date) -> QuerySet[DeliveryBatch]:
    """Counted batches past their due date with quantity outstanding."""
    return batches_counted(batches_with_delivery()).filter(due_date__lt=today, outstanding__gt=0)


def customer_date():
    """The customer's date of an order line: PMC's confirmed date as agreed, else the requested date."""
    return Coalesce("confirmed_date", "requested_date")


def _sum_batches(filters: Q | None = None, field="quantity"):
    batches = DeliveryBatch.objects.filter(line=OuterRef("pk"))
    if filters is not None:
        batches = batches.filter(filters)
    total = batches.order_by().values("line").annotate(total=Sum(field, output_field=QTY)).values("total")
    return Coalesce(Subquery(total, output_field=QTY), ZERO)


def _sum_outstanding(filters: Q | None = None):
    """For the outer order line: quantity minus delivered over its batches (``filters`` on the batches)."""
    return _sum_batches(filters, field=F("quantity") - F("delivered_quantity"))


# Each order line's sums over its batches are stored on it (``delivery.ontime.line_state_recompute``, in the
# transaction of every change of its batches and their delivery state): the quantity planned in batches, what issued
# notes delivered against them (every note line has a batch, so this is the sum of the line's issued note lines),
# and the earliest due date of a batch with quantity outstanding. Reading them is a column, not a sum per line.


def planned_in_batches():
    """For an order line: the quantity its batches hold."""
    return F("planned_quantity")


def committed_lines(lines: QuerySet[OrderLine] | None = None) -> QuerySet[OrderLine]:
    """Lines the company has committed to: of signed-off or confirmed orders, of orders back in review after a
    change (they were signed off once), and of cancelled orders that had been signed off (for what was due
    before the cancellation). Annotated with ``due`` (the customer's date), ``planned`` (in batches),
    ``unplanned`` (never below zero) and ``cancelled_on``."""
    lines = OrderLine.objects.all() if lines is None else lines
    signed = Exists(SignOff.objects.filter(order=OuterRef("order")))
    return (
        lines.alias(signed_once=signed)
        .filter(
            Q(order__status__in=DELIVERABLE)
            | (Q(order__status__in=(*UNDER_REVIEW, Order.Status.CANCELLED)) & Q(signed_once=True))
        )
        .annotate(due=customer_date(), planned=planned_in_batches(), cancelled_on=cancelled_on("order"))
        .annotate(
            unplanned=Greatest(ExpressionWrapper(F("quantity") - F("planned"), output_field=QTY), ZERO),
        )
    )


def unplanned_lines() -> QuerySet[OrderLine]:
    """The unplanned parts that count as a batch: quantity unplanned, and not of a cancelled order unless due
    before the cancellation."""
    return (
        committed_lines()
        .filter(quantity__gt=F("planned_quantity"))  # unplanned above zero, as line_unplanned_idx's condition
        .filter(~Q(order__status=Order.Status.CANCELLED) | Q(due__lt=F("cancelled_on")))
    )


def overdue_unplanned(today: date) -> QuerySet[OrderLine]:
    return unplanned_lines().filter(due__lt=today)


# --- Readiness (§5.5.1) -----------------------------------------------------------------------------------


def lines_with_readiness(day: date, lines: QuerySet[OrderLine] | None = None) -> QuerySet[OrderLine]:
    """Lines of orders that may ship, annotated for ``day``: ``due_on_day`` (batches due that day still
    outstanding, plus the unplanned part when the customer's date is that day), ``needed`` (everything of the line
    outstanding by that day), ``stock`` (warehoused minus delivered) and ``short`` (needed minus stock)."""
    by_day = Q(due_date__lte=day)
    lines = committed_lines(lines).filter(order__status__in=DELIVERABLE)
    return (
        lines.annotate(
            warehoused=Coalesce("progress__warehoused", ZERO),
            delivered_all=F("delivered_quantity"),
            outstanding_by_day=_sum_outstanding(by_day),
            outstanding_on_day=_sum_outstanding(Q(due_date=day)),
        )
        .annotate(
            due_on_day=ExpressionWrapper(
                F("outstanding_on_day") + Case(When(due=day, then=F("unplanned")), default=ZERO, output_field=QTY),
                output_field=QTY,
            ),
            needed=ExpressionWrapper(
                F("outstanding_by_day") + Case(When(due__lte=day, then=F("unplanned")), default=ZERO, output_field=QTY),
                output_field=QTY,
            ),
            stock=ExpressionWrapper(F("warehoused") - F("delivered_all"), output_field=QTY),
        )
        .annotate(short=ExpressionWrapper(F("needed") - F("stock"), output_field=QTY))
    )


def lines_not_ready(day: date, lines: QuerySet[OrderLine] | None = None) -> QuerySet[OrderLine]:
    """§5.5.1: the order lines with something due on ``day`` whose stock does not cover it. My work, the
    announcement and the daily sheet all count these."""
    # Only lines with something due that day can be short for it: a batch due that day with quantity outstanding
    # (the batches' due-date index), or the unplanned part due on the customer's date (the partial index of lines
    # not fully planned). Their pks are read first, so the sums over batches are made for these lines only.
    candidates = set(
        DeliveryBatch.objects.filter(due_date=day, delivered_quantity__lt=F("quantity")).values_list("line", flat=True)
    )
    candidates.update(
        OrderLine.objects.filter(quantity__gt=F("planned_quantity"))
        .annotate(due=customer_date())
        .filter(due=day)
        .values_list("pk", flat=True)
    )
    return (
        lines_with_readiness(day, lines)
        .filter(pk__in=sorted(candidates))
        .filter(due_on_day__gt=0, short__gt=0)
        .select_related("order__customer", "product")
        .order_by("order__number", "position")
    )


def stock_by_line(lines) -> dict[int, Decimal]:
    """What of each line is in the warehouse now, in one query: {line pk: warehoused minus delivered by issued
    notes}. ``lines`` carry their ``progress`` (select_related or set by the caller)."""
    lines = list(lines)
    delivered = dict(
        DeliveryNoteLine.objects.filter(
            batch__line__in=[line.pk for line in lines], note__status=DeliveryNote.Status.ISSUED
        )
        .values_list("batch__line")
        .annotate(total=Sum("quantity"))
    )
    stock = {}
    for line in lines:
        progress = getattr(line, "progress", None)
        warehoused = progress.warehoused if progress is not None else Decimal(0)
        stock[line.pk] = warehoused - Decimal(str(delivered.get(line.pk) or 0))
    return stock


# --- My work ----------------------------------------------------------------------------------------------

WORK_LIMIT = 20


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
        not_ready = lines_not_ready(today + timedelta(days=1))
        items = [
            WorkItem(
                label=f"{line.order.number} {line.order.customer.display_name} · {line.product.code}",
                url=reverse("delivery:order", args=[line.order.number]) + f"#line-{line.pk}",
                detail=_("%(qty)s due tomorrow") % {"qty": num(line.due_on_day)}
                + " · "
                + _("%(stock)s in stock") % {"stock": num(max(line.stock, 0))},
            )
            for line in not_ready[: work_limit(WORK_LIMIT)]
        ]
        sections.append(WorkSection(title=_("Due tomorrow and not ready"), items=items, total=not_ready.count()))
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
            for line in risky[: work_limit(WORK_LIMIT)]
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
            for n in notes[: work_limit(WORK_LIMIT)]
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
            for d in delays[: work_limit(WORK_LIMIT)]
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
            for n in notes[: work_limit(WORK_LIMIT)]
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
            for r in returns[: work_limit(WORK_LIMIT)]
        ]
        sections.append(WorkSection(title=_("Returns waiting for Quality's memo"), items=items, total=returns.count()))
    return sections
