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
