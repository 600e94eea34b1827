"""Samples in the admin: records, read here and changed only through the sample pages (their services check who may
do what and keep the history). No revert of a history version either (common.admin.ReadOnlyRecordAdmin)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from common.admin import ReadOnlyRecordAdmin
from samples.models import SampleNote, SampleReceipt, SampleRequest, SampleVerdict


@admin.register(SampleRequest)
class SampleRequestAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ["pk", "customer", "product", "kind", "quantity", "requested_date", "department", "status"]
    list_filter = ["status", "department", "kind"]
    list_select_related = ["customer", "product"]
    search_fields = ["customer__code", "product__code", "description"]


@admin.register(SampleNote)
class SampleNoteAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ["number", "customer", "product_code", "quantity", "delivery_date", "status", "issued_by"]
    list_filter = ["status"]
    list_select_related = ["customer", "issued_by"]
    search_fields = ["number", "customer__code", "product_code"]


@admin.register(SampleReceipt)
class SampleReceiptAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ["note", "signed_by_name", "signed_on", "recorded_by", "recorded_at"]
    list_select_related = ["note", "recorded_by"]


@admin.register(SampleVerdict)
class SampleVerdictAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ["request", "outcome", "document_date", "recorded_by", "recorded_at"]
    list_filter = ["outcome"]
    list_select_related = ["request__product", "recorded_by"]
