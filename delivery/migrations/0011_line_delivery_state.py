"""Fill each order line's stored delivery state (orders 0010) from its batches, as
delivery.ontime.line_state_recompute does."""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

QTY = models.DecimalField(max_digits=14, decimal_places=3)


def fill(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    DeliveryBatch = apps.get_model("delivery", "DeliveryBatch")
    zero = Value(Decimal(0), output_field=QTY)
    batches = DeliveryBatch.objects.filter(line=OuterRef("pk")).order_by().values("line")
    outstanding = DeliveryBatch.objects.filter(line=OuterRef("pk"), delivered_quantity__lt=F("quantity"))
    OrderLine.objects.filter(pk__in=DeliveryBatch.objects.values("line")).update(
        planned_quantity=Coalesce(Subquery(batches.annotate(t=Sum("quantity")).values("t"), output_field=QTY), zero),
        delivered_quantity=Coalesce(
            Subquery(batches.annotate(t=Sum("delivered_quantity")).values("t"), output_field=QTY), zero
        ),
        next_batch_due=Subquery(outstanding.order_by("due_date").values("due_date")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0010_batch_line_quantity_index"),
        ("orders", "0010_line_delivery_state"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
