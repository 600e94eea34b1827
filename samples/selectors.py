"""Reading samples: the list, the receipts to chase (My work), and what the order review shows (orders/hooks.py).

- A **receipt to chase**: an issued (not cancelled) sample note without a signed receipt, delivered at least
  ``SIGNBACK_CHASE_DAYS`` calendar days ago: the same setting and the same count as delivery notes' sign-backs.
- An **approved sample** of a customer and product: a request whose latest verdict is approved or approved with
  conditions (the customer's written approval, §5.2.4.3).
- A **new product** on an order line: the customer has no other order with that product that was signed off by
  the Marketing head (it has a head sign-off — signed off or confirmed, or back in review after a change) and is
  not cancelled. Samples never count in the on-time rate: they are not delivery batches.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Dept, in_dept
from samples.models import SampleNote, SampleRequest, SampleVerdict

WORK_LIMIT = 20
APPROVED = (SampleRequest.Status.APPROVED, SampleRequest.Status.APPROVED_WITH_CONDITIONS)


def request_list() -> QuerySet[SampleRequest]:
    return SampleRequest.objects.select_related("customer", "product", "requested_by")


def with_notes_and_verdicts(requests: QuerySet[SampleRequest]) -> QuerySet[SampleRequest]:
    """What the list's export shows beside each request, read with the rows (two more queries per chunk of rows,
    however many): its issued (not cancelled) sample notes with their signed receipts as ``issued_notes``, its
    verdicts newest first (``latest_verdict``)."""
    issued = SampleNote.objects.filter(status=SampleNote.Status.ISSUED).select_related("receipt")
    return requests.prefetch_related(
        Prefetch("notes", queryset=issued.order_by("-issued_at", "-pk"), to_attr="issued_notes"),
        Prefetch("verdicts", queryset=SampleVerdict.objects.order_by("-recorded_at", "-pk"), to_attr="newest_verdicts"),
    )


def latest_verdict(request: SampleRequest) -> SampleVerdict | None:
    """The request's latest verdict, from ``with_notes_and_verdicts`` (or one query without it)."""
    newest = getattr(request, "newest_verdicts", None)
    if newest is None:
        return request.verdicts.order_by("-recorded_at", "-pk").first()
    return newest[0] if newest else None


def latest_verdicts(requests) -> dict[int, SampleVerdict]:
    """The latest verdict of each request, in one query."""
    latest: dict[int, SampleVerdict] = {}
    for verdict in SampleVerdict.objects.filter(request__in=[r.pk for r in requests]).order_by("recorded_at", "pk"):
        latest[verdict.request_id] = verdict
    return latest


def unsigned_notes(today: date, days: int) -> QuerySet[SampleNote]:
    return (
        SampleNote.objects.filter(
            status=SampleNote.Status.ISSUED, receipt__isnull=True, delivery_date__lte=today - timedelta(days=days)
        )
        .select_related("customer")
        .order_by("delivery_date", "number")
    )


def my_work(user):
    from accounts.work import WorkItem, WorkSection

    sections = []
    today = timezone.localdate()
    if in_dept(user, Dept.CS):
        notes = unsigned_notes(today, settings.SIGNBACK_CHASE_DAYS)
        items = [
            WorkItem(
                label=f"{n.number} {n.customer.display_name} · {n.product_code}",
                url=n.get_absolute_url(),
                detail=_("delivered %(date)s") % {"date": n.delivery_date.isoformat()},
                overdue=True,
            )
            for n in notes[:WORK_LIMIT]
        ]
        sections.append(
            WorkSection(
                title=_("Sample notes to chase for the signed receipt"),
                items=items,
                total=notes.count(),
                more_url=reverse("samples:list") + "?status=delivered",
            )
        )
        waiting = request_list().filter(status=SampleRequest.Status.REQUESTED).order_by("requested_date", "pk")
        items = [
            WorkItem(
                label=f"{r.reference} {r.customer.display_name} · {r.product.code}",
                url=r.get_absolute_url(),
                detail=_("wanted by %(date)s") % {"date": r.requested_date.isoformat()},
                overdue=r.requested_date < today,
            )
            for r in waiting[:WORK_LIMIT]
        ]
        sections.append(
            WorkSection(
                title=_("Samples to deliver"),
                items=items,
                total=waiting.count(),
                more_url=reverse("samples:list") + "?status=requested",
            )
        )
    return sections


# --- The order review (orders/hooks.py) ------------------------------------------------------------------------


def _order_lines(order):
    return list(order.lines.all())


def approved_samples(customer_id: int, product_ids) -> dict[int, list[SampleRequest]]:
    """The customer's approved samples per product (with their latest verdict as ``verdict``), two queries."""
    requests = list(
        SampleRequest.objects.filter(customer_id=customer_id, product_id__in=list(product_ids), status__in=APPROVED)
        .select_related("product")
        .order_by("product_id", "-requested_at", "-pk")
    )
    verdicts = latest_verdicts(requests)
    found: dict[int, list[SampleRequest]] = {}
    for request in requests:
        request.verdict = verdicts.get(request.pk)
        found.setdefault(request.product_id, []).append(request)
    return found


def review_panel(order, department: str) -> list[tuple[str, dict]]:
    """Technical's card: the customer's approved samples for each product of the order, with their conditions."""
    if department != Dept.TECH:
        return []
    lines = _order_lines(order)
    if not lines:
        return []
    products = {line.product_id: line.product for line in lines}
    approved = approved_samples(order.customer_id, products)
    new = new_products(order, lines)
    rows = [{"product": product, "samples": approved.get(pk, []), "new": pk in new} for pk, product in products.items()]
    return [("samples/_review_panel.html", {"rows": rows, "customer": order.customer})]


def new_products(order, lines=None) -> set[int]:
    """The products of the order that the customer never had on another order signed off by the head."""
    from orders.models import Order

    lines = lines if lines is not None else _order_lines(order)
    product_ids = {line.product_id for line in lines}
    cached = getattr(order, "_samples_new_products", None)
    if cached is not None and cached[0] == product_ids:
        return cached[1]
    earlier = (
        Order.objects.filter(customer_id=order.customer_id, lines__product_id__in=product_ids)
        .exclude(pk=order.pk)
        .exclude(status=Order.Status.CANCELLED)
        .filter(Exists(order.signoffs.model.objects.filter(order=OuterRef("pk"))))
        .values_list("lines__product_id", flat=True)
    )
    new = product_ids - set(earlier)
    order._samples_new_products = (product_ids, new)
    return new


def precheck(order) -> list:
    """The system's check (§5.2.4.3): a line for a product new to the customer without an approved sample (the
    customer's written approval) is flagged. It informs Technical; it does not block."""
    from orders.selectors import Check

    lines = _order_lines(order)
    new = new_products(order, lines)
    if not new:
        return []
    approved = approved_samples(order.customer_id, new)
    missing = sorted({line.position for line in lines if line.product_id in new and not approved.get(line.product_id)})
    if missing:
        codes = sorted({line.product.code for line in lines if line.position in missing})
        return [
            Check(
                False,
                _(
                    "For Technical: new product on line %(lines)s (%(products)s) with no approved sample (the "
                    "customer's written approval)."
                )
                % {"lines": ", ".join(str(p) for p in missing), "products": ", ".join(codes)},
            )
        ]
    return [
        Check(True, _("For Technical: every new product has an approved sample (the customer's written approval)."))
    ]


def request_detail(pk: int) -> SampleRequest:
    from django.shortcuts import get_object_or_404

    notes = SampleNote.objects.select_related("issued_by", "receipt__recorded_by").order_by("issued_at", "pk")
    return get_object_or_404(
        SampleRequest.objects.select_related("customer", "product", "requested_by", "cancelled_by").prefetch_related(
            Prefetch("notes", queryset=notes),
            Prefetch("verdicts", queryset=SampleVerdict.objects.select_related("recorded_by")),
        ),
        pk=pk,
    )


def request_history(request: SampleRequest) -> list:
    """Every change to the request, its notes, receipts and verdicts, newest first."""
    from samples.models import SampleReceipt

    note_ids = [n.pk for n in request.notes.all()]
    sources = [
        (request.history.all(), lambda r: _("Request")),
        (SampleNote.history.filter(request_id=request.pk), lambda r: _("Sample note %(n)s") % {"n": r.number}),
        (SampleReceipt.history.filter(note_id__in=note_ids), lambda r: _("Signed receipt")),
        (SampleVerdict.history.filter(request_id=request.pk), lambda r: _("Customer's verdict")),
    ]
    rows = []
    for records, describe in sources:
        for record in records.select_related("history_user"):
            rows.append(
                {
                    "when": record.history_date,
                    "who": record.history_user,
                    "what": describe(record),
                    "kind": record.get_history_type_display(),
                    "status": getattr(record, "get_status_display", lambda: "")(),
                }
            )
    rows.sort(key=lambda r: r["when"], reverse=True)
    return rows
