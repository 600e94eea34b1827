from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.roles import can
from common.errors import DomainError
from common.models import OutboxMessage, PendingJob, WorkCalendarDay


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


class SendAgainAdmin:
    """The one thing the admin may do with an outbox row besides reading it: send a failed one again (the same row,
    through the service that checks its state), for those the app lets do it (``outbox.resend``)."""

    def _may_send_again(self, request) -> bool:
        return can(request.user, "outbox.resend")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._may_send_again(request):
            actions.pop("send_again", None)
        return actions

    def _refuse_unless_allowed(self, request) -> None:
        if not self._may_send_again(request):
            raise PermissionDenied


@admin.register(OutboxMessage)
class OutboxMessageAdmin(SendAgainAdmin, ReadOnlyRecordAdmin, admin.ModelAdmin):
    """What the app sent or will send: a record. A failed message can be sent again (here, or from its page in the
    app); nothing else is changed here."""

    list_display = ("kind", "object_id", "to", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("to", "subject")
    actions = ["send_again"]

    @admin.action(description=_("Send the failed e-mails again"))
    def send_again(self, request, queryset):
        from common.outbox import message_resend

        self._refuse_unless_allowed(request)
        sent, refused = 0, 0
        for message in queryset.order_by("pk"):
            try:
                message_resend(message=message, user=request.user)
            except DomainError:
                refused += 1
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("%(n)d e-mail is queued to be sent again.", "%(n)d e-mails are queued to be sent again.", sent)
                % {"n": sent},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(n)d e-mail was not failed and is left as it is.",
                    "%(n)d e-mails were not failed and are left as they are.",
                    refused,
                )
                % {"n": refused},
                messages.WARNING,
            )


@admin.register(PendingJob)
class PendingJobAdmin(SendAgainAdmin, ReadOnlyRecordAdmin, admin.ModelAdmin):
    """The background jobs the app recorded (common.jobs): read-only. One still waiting because the queue refused it
    (its reason shown) can be handed to the queue again now, instead of waiting for the next sweep."""

    list_display = ("task", "args", "status", "attempts", "error", "created_at", "queued_at")
    list_filter = ("status", "task")
    search_fields = ("task",)
    actions = ["send_again"]

    @admin.action(description=_("Hand the waiting jobs to the queue again"))
    def send_again(self, request, queryset):
        from common.jobs import hand_over, release_stale_claims

        self._refuse_unless_allowed(request)
        release_stale_claims()  # a claim left by a process that died is waiting again
        handed, waiting, skipped = 0, 0, 0
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            if not PendingJob.objects.filter(pk=pk, status=PendingJob.Status.WAITING).exists():
                skipped += 1
            elif hand_over(pk):
                handed += 1
            else:
                waiting += 1
                break  # the queue refused: the others would only wait on it again
        if handed:
            self.message_user(
                request,
                ngettext("%(n)d job was handed to the queue.", "%(n)d jobs were handed to the queue.", handed)
                % {"n": handed},
                messages.SUCCESS,
            )
        if waiting:
            self.message_user(
                request,
                _("The job queue still cannot be reached: the jobs keep waiting and go out when it is back."),
                messages.ERROR,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d job was not waiting for the queue and is left as it is.",
                    "%(n)d jobs were not waiting for the queue and are left as they are.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )
