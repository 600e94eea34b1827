"""The admin of orders: checklists are edited here (as new versions); orders and everything signed, sent or
acknowledged on them are records, read here and changed only through the order pages (their services)."""

from django.contrib import admin

from common.admin import ReadOnlyRecordAdmin
from orders import services
from orders.models import (
    Acknowledgement,
    ChangeRequest,
    Checklist,
    Memo,
    MemoReceipt,
    Objection,
    Order,
    OrderRevision,
    ReviewStep,
    SignOff,
)


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


class ReadOnlyAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    pass


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "customer", "customer_po", "status", "revision", "created_at")
    list_filter = ("status",)
    search_fields = ("number", "customer_po", "erp_number", "customer__code")


@admin.register(ReviewStep)
class ReviewStepAdmin(ReadOnlyAdmin):
    list_display = ("order", "revision", "department", "status", "signed_by", "signed_at")
    list_filter = ("department", "status")


@admin.register(OrderRevision)
class OrderRevisionAdmin(ReadOnlyAdmin):
    list_display = ("order", "number", "kind", "created_by", "created_at")
    list_select_related = ("order", "created_by")


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("order", "revision", "signed_by", "signed_at")
    list_select_related = ("order", "signed_by")


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("step", "raised_by", "raised_at", "outcome", "settled_by", "settled_at")
    list_select_related = ("step__order", "raised_by", "settled_by")


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("order", "revision", "recipient", "status", "requested_by")
    list_select_related = ("order", "requested_by")
    list_filter = ("status",)


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("order", "kind", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_select_related = ("order", "requested_by", "decided_by")
    list_filter = ("status",)


@admin.register(Memo)
class MemoAdmin(ReadOnlyAdmin):
    list_display = ("number", "order", "subject", "issued_by", "issued_at")
    list_select_related = ("order", "issued_by")
    search_fields = ("number", "subject")


@admin.register(MemoReceipt)
class MemoReceiptAdmin(ReadOnlyAdmin):
    list_display = ("memo", "department", "acknowledged_by", "acknowledged_at")
    list_select_related = ("memo", "acknowledged_by")
