"""The register and its checks, incidents and documents are records (§5.10.3): read here, with their history,
never added, edited, deleted or reverted here. They change through the register's pages only (their services check
who may do what)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from common.admin import ReadOnlyRecordAdmin
from customer_property.models import PropertyCheck, PropertyDocument, PropertyIncident, PropertyItem


@admin.register(PropertyItem)
class PropertyItemAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ("number", "customer", "kind", "name", "mould_no", "condition", "received_on", "returned_on")
    list_filter = ("kind", "condition")
    list_select_related = ("customer",)
    search_fields = ("number", "mould_no", "name", "customer__code")


@admin.register(PropertyCheck)
class PropertyCheckAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ("item", "checked_on", "condition_found", "checked_by", "recorded_at")
    list_select_related = ("item", "checked_by")


@admin.register(PropertyIncident)
class PropertyIncidentAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ("item", "kind", "found_on", "memo", "reported_by", "reported_at")
    list_select_related = ("item", "memo", "reported_by")


@admin.register(PropertyDocument)
class PropertyDocumentAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("item", "name", "uploaded_by", "uploaded_at")
    list_select_related = ("item", "uploaded_by")
