from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = _("Common")

    def ready(self):
        from common.models import WorkCalendarDay
        from common.workdays import calendar_changed

        # Keeping a cache in step, not business logic: the admin's bulk delete sends these signals too.
        post_save.connect(calendar_changed, sender=WorkCalendarDay, dispatch_uid="common.calendar_saved")
        post_delete.connect(calendar_changed, sender=WorkCalendarDay, dispatch_uid="common.calendar_deleted")
