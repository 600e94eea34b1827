"""The admin of delivery's master data: carriers, their agreements and vehicles (§5.5.3).

Saving goes through the same service as the pages (its checks, its history with the author). Nothing is deleted:
a delivery note names its carrier and vehicle for ever; untick "in use" / "in force" to retire. Records (notes,
dispatch requests, customs work) are read in the app, not edited here.
"""

from django.contrib import admin

from common.errors import DomainError
from delivery.carriers import carrier_record_save
from delivery.models import Carrier, CarrierAgreement, Vehicle


class _CarrierDataAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            carrier_record_save(user=request.user, obj=obj)
        except DomainError as error:
            # The form already ran the model's checks; a refusal here is a rule of the service, shown as a message.
            from django.contrib import messages

            messages.error(request, error.message)


class AgreementInline(admin.TabularInline):
    model = CarrierAgreement
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
