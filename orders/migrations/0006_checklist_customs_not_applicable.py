"""Customer Service's customs item may be answered "not applicable" (a domestic customer): a new version of the
checklist where the installed one lacks the flag. Steps already opened keep the version they were opened with."""

from django.db import migrations


def forwards(apps, schema_editor):
    Checklist = apps.get_model("orders", "Checklist")
    latest = Checklist.objects.filter(department="customer_service").order_by("-version").first()
    if latest is None:
        return  # installed from the defaults on first use, which carry the flag
    items = [dict(item) for item in latest.items]
    changed = False
    for item in items:
        if item.get("key") == "customs" and not item.get("na"):
            item["na"] = "domestic"
            changed = True
    if changed:
        Checklist.objects.create(department="customer_service", version=latest.version + 1, items=items)


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_memos_for_returns_and_meetings")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
