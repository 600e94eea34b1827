from django.contrib import admin

from orders import services
from orders.models import Checklist, Order, ReviewStep


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    """Editing a checklist saves a new version; steps already opened keep the version they were opened with."""

    list_display = ("department", "version", "created_at")
    list_filter = ("department",)
    readonly_fields = ("version", "created_at")
    fields = ("department", "items", "version", "created_at")

    def save_model(self, request, obj, form, change):
        saved = services.checklist_save(user=request.user, department=obj.department, items=obj.items)
        obj.pk, obj.version = saved.pk, saved.version

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "customer", "customer_po", "status", "revision", "created_at")
    list_filter = ("status",)
    search_fields = ("number", "customer_po", "erp_number", "customer__code")


@admin.register(ReviewStep)
class ReviewStepAdmin(ReadOnlyAdmin):
    list_display = ("order", "revision", "department", "status", "signed_by", "signed_at")
    list_filter = ("department", "status")
