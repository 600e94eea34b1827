"""Complaints are records (§5.12.8): read here, with their history, never edited, deleted or reverted here. They
are recorded and worked on through the complaint pages only (their services check who may do what)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from common.admin import ReadOnlyRecordAdmin
from complaints.models import Complaint, ComplaintAttachment


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ("number", "customer", "received_on", "status", "recorded_by")
    list_filter = ("status",)
    list_select_related = ("customer", "recorded_by")
    search_fields = ("number", "customer__code")


@admin.register(ComplaintAttachment)
class ComplaintAttachmentAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("complaint", "name", "uploaded_by", "uploaded_at")
    list_select_related = ("complaint", "uploaded_by")
