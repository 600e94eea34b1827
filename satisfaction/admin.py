"""Survey responses, their versions and scorecards are records (§5.11): read here, never edited, deleted or
reverted here; they are entered through the survey pages. Invitations are not shown: they carry the customer's
access token."""

from django.contrib import admin

from common.admin import ReadOnlyRecordAdmin
from satisfaction.models import Response, ResponseVersion, Scorecard


@admin.register(Response)
class ResponseAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("__str__", "round", "channel", "score", "version", "entered_by")
    list_select_related = ("round", "entered_by")
    exclude = ("invitation",)


@admin.register(ResponseVersion)
class ResponseVersionAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("response", "number", "score", "channel", "entered_by", "submitted_at")
    list_select_related = ("response", "entered_by")


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("customer", "rated_on", "score", "maximum", "grade", "recorded_by")
    list_select_related = ("customer", "recorded_by")
