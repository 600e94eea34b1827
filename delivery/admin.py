"""The admin of delivery's master data: carriers, their agreements and vehicles (§5.5.3).

Saving goes through the same service as the pages (its checks, its history with the author). Nothing is deleted:
a delivery note names its carrier and vehicle for ever; untick "in use" / "in force" to retire. Records (notes,
dispatch requests, customs work) are read in the app, not edited here.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from common.admin import CapabilityAdmin, ReadOnlyRecordAdmin, ReadOnlyRecordInline
from common.errors import DomainError
from delivery.carriers import carrier_record_save
from delivery.models import (
    BatchDueChange,
    Carrier,
    CarrierAgreement,
    CustomsWork,
    DelayReport,
    DeliveryNote,
    DeliveryNoteLine,
    DispatchRequest,
    OnTimeRestatement,
    Return,
    SignBack,
    TransitIncident,
    Vehicle,
)


class _CarrierDataAdmin(CapabilityAdmin, admin.ModelAdmin):
    edit_capability = "carrier.edit"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            carrier_record_save(user=request.user, obj=obj)
        except DomainError as error:
            # The form already ran the model's checks; a refusal here is a rule of the service, shown as a message.
            from django.contrib import messages

            messages.error(request, error.message)


class AgreementInline(CapabilityAdmin, admin.TabularInline):
    model = CarrierAgreement
    edit_capability = "carrier.edit"
    extra = 0
    fields = ["reference", "valid_from", "valid_to", "active"]
    show_change_link = True

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Carrier)
class CarrierAdmin(_CarrierDataAdmin):
    list_display = ["name", "contact", "phone", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    inlines = [AgreementInline]


@admin.register(CarrierAgreement)
class CarrierAgreementAdmin(_CarrierDataAdmin):
    list_display = ["carrier", "reference", "valid_from", "valid_to", "active"]
    list_filter = ["active", "carrier"]
    search_fields = ["reference", "carrier__name"]


@admin.register(Vehicle)
class VehicleAdmin(_CarrierDataAdmin):
    list_display = ["plate", "carrier", "kind", "active"]
    list_filter = ["active", "carrier"]
    search_fields = ["plate", "carrier__name"]


# --- Records: read here, changed only through the delivery pages ---


class NoteLineInline(ReadOnlyRecordInline, admin.TabularInline):
    model = DeliveryNoteLine
    fields = ["batch", "product_code", "product_name", "product_spec", "unit", "quantity"]
    readonly_fields = fields


@admin.register(DeliveryNote)
class DeliveryNoteAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ["number", "customer", "delivery_date", "status", "issued_by", "issued_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "issued_by"]
    search_fields = ["number", "customer__code"]
    inlines = [NoteLineInline]


@admin.register(SignBack)
class SignBackAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ["note", "signed_by_name", "signed_on", "recorded_by", "recorded_at"]
    list_select_related = ["note", "recorded_by"]


@admin.register(Return)
class ReturnAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ["note_line", "quantity", "status", "pickup_date", "picked_up_on"]
    list_filter = ["status"]
    list_select_related = ["note_line__note"]


@admin.register(TransitIncident)
class TransitIncidentAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ["note", "happened_on", "recorded_by", "recorded_at"]
    list_select_related = ["note", "recorded_by"]


@admin.register(DispatchRequest)
class DispatchRequestAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ["number", "note", "use_date", "carrier", "vehicle", "requested_by"]
    list_select_related = ["note", "carrier", "vehicle", "requested_by"]


@admin.register(CustomsWork)
class CustomsWorkAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    list_display = ["note", "kind", "done", "completed_on", "completed_by"]
    list_select_related = ["note", "completed_by"]


@admin.register(BatchDueChange)
class BatchDueChangeAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ["batch", "old_date", "new_date", "changed_by", "changed_at"]
    list_select_related = ["batch", "changed_by"]


@admin.register(DelayReport)
class DelayReportAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ["line", "new_date", "reported_by", "reported_at", "outcome"]
    list_select_related = ["line__order", "reported_by"]


@admin.register(OnTimeRestatement)
class OnTimeRestatementAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ["closed_month", "due", "on_time", "recorded_by", "recorded_at"]
    list_select_related = ["recorded_by"]
