from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from accounts.roles import can
from common.models import OutboxMessage, WorkCalendarDay


class ReadOnlyRecordAdmin:
    """For the admin of a record (records are kept, not rewritten): it can be read, never
    added, changed, deleted or reverted here, by a superuser neither. Changes go through the app's services,
    which check who may do what and keep the audit trail.

    Put it first among the bases: ``class NoteAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin)``. With
    django-simple-history's admin the history pages stay readable, but its "revert" form (which saves whatever is
    posted, whatever has_change_permission says) is refused.
    """

    def has_add_permission(self, request, obj=None):  # inlines pass obj
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # django-simple-history: a record's history is shown, its versions cannot be saved back.
    def has_change_history_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyRecordInline:
    """An inline of records inside another admin page: shown, never added, changed or deleted."""

    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    """The public holidays and make-up working days that deadlines in working days follow (common.workdays)."""

    list_display = ("date", "weekday", "kind", "name")
    list_filter = ("kind", ("date", admin.DateFieldListFilter))
    search_fields = ("name",)
    date_hierarchy = "date"

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return formats.date_format(obj.date, "l")


class CapabilityAdmin:
    """The app's permission matrix (accounts.roles) holds in the admin too: adding, changing and deleting need the
    capability the app's own pages need (``edit_capability``), on top of Django's model permissions. A superuser
    is in the administration department there, nothing more."""

    edit_capability: str = ""

    def _may_edit(self, request) -> bool:
        return can(request.user, self.edit_capability)

    def has_add_permission(self, request, *args):
        return self._may_edit(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request) and super().has_delete_permission(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple_history saves a posted "revert" whatever has_change_permission says: check it here.
        if request.method not in ("GET", "HEAD") and not self.has_change_permission(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    """What the app sent or will send: a record. A failed message is sent again from its page in the app."""

    list_display = ("kind", "object_id", "to", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("to", "subject")
