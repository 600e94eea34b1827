"""A delivery note keeps the address and products as they were when it was issued (issue 10, "records stay
records"). Notes issued before this migration get the master data of today, the best that is known."""

from django.db import migrations, models


def fill(apps, schema_editor):
    DeliveryNote = apps.get_model("delivery", "DeliveryNote")
    DeliveryNoteLine = apps.get_model("delivery", "DeliveryNoteLine")
    for note in DeliveryNote.objects.select_related("address").iterator():
        address = note.address
        note.address_label = address.label
        note.address_text = address.address
        note.address_receiver = address.receiver
        note.address_phone = address.phone
        note.save(update_fields=["address_label", "address_text", "address_receiver", "address_phone"])
    for line in DeliveryNoteLine.objects.select_related("batch__line__product").iterator():
        product = line.batch.line.product
        line.product_code = product.code
        line.product_name = product.name
        line.product_spec = product.spec
        line.unit = product.unit
        line.save(update_fields=["product_code", "product_name", "product_spec", "unit"])


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0005_batch_due_changes_backdating_closed_months"),
        ("customers", "0001_initial"),
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="deliverynote",
            name="address_label",
            field=models.CharField(blank=True, max_length=60, verbose_name="label"),
        ),
        migrations.AddField(
            model_name="deliverynote",
            name="address_text",
            field=models.CharField(blank=True, max_length=300, verbose_name="delivery address"),
        ),
        migrations.AddField(
            model_name="deliverynote",
            name="address_receiver",
            field=models.CharField(blank=True, max_length=100, verbose_name="receiver"),
        ),
        migrations.AddField(
            model_name="deliverynote",
            name="address_phone",
            field=models.CharField(blank=True, max_length=40, verbose_name="phone"),
        ),
        migrations.AddField(
            model_name="deliverynoteline",
            name="product_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="product code"),
        ),
        migrations.AddField(
            model_name="deliverynoteline",
            name="product_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="deliverynoteline",
            name="product_spec",
            field=models.CharField(blank=True, max_length=300, verbose_name="specification"),
        ),
        migrations.AddField(
            model_name="deliverynoteline",
            name="unit",
            field=models.CharField(blank=True, max_length=10, verbose_name="unit"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
