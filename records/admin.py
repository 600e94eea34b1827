from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from common.admin import CapabilityAdmin, ReadOnlyRecordAdmin
from records.models import ArchiveJob, RetentionPeriod


@admin.register(RetentionPeriod)
class RetentionPeriodAdmin(CapabilityAdmin, SimpleHistoryAdmin):
    """How long each record form is kept: administrators change it here or on the register page (with history)."""

    edit_capability = "records.retention"
    list_display = ("kind", "years", "changed_by", "changed_at")
    readonly_fields = ("changed_by", "changed_at")

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        obj.changed_by = request.user
        obj.changed_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(ArchiveJob)
class ArchiveJobAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("kind", "date_from", "date_to", "status", "total", "requested_by", "requested_at")
    list_filter = ("status", "kind")
