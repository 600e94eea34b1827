"""Analysis reports, meetings, actions, their verifications and management reviews are records (§5.13-§5.15):
read here, with their history, never edited, deleted or reverted here; they change through the improvement
pages only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from common.admin import ReadOnlyRecordAdmin
from improvement.models import Action, AnalysisReport, ManagementReview, Meeting, Verification


@admin.register(AnalysisReport)
class AnalysisReportAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ("__str__", "round", "version", "status", "created_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("round", "created_by")


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("title", "held_on", "report", "recorded_by")
    list_select_related = ("report", "recorded_by")


@admin.register(Action)
class ActionAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ("number", "kind", "source", "customer")
    list_select_related = ("customer",)
    search_fields = ("number",)


@admin.register(Verification)
class VerificationAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("action", "effective", "verified_by", "verified_at")
    list_select_related = ("action", "verified_by")


@admin.register(ManagementReview)
class ManagementReviewAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ("title", "period_start", "period_end", "status", "prepared_by")
    list_filter = ("status",)
    list_select_related = ("prepared_by",)
