from django.contrib import admin
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from common.models import WorkCalendarDay


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
