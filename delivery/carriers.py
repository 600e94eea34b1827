"""The transport suppliers (§5.5.3): carriers, their agreements and vehicles, added, edited and retired.

Nothing here is deleted: a delivery note names its carrier and vehicle for ever. Retiring keeps the row (and its
history of edits) and takes it out of what a new delivery note may choose.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from accounts.roles import require
from common.errors import DomainError
from delivery.models import Carrier, CarrierAgreement, Vehicle

MODELS = {"carrier": Carrier, "agreement": CarrierAgreement, "vehicle": Vehicle}


def usable_carriers(on: date) -> QuerySet[Carrier]:
    """Carriers in use with an agreement in force on ``on``: what a delivery note of that date may name."""
    valid = CarrierAgreement.objects.filter(carrier=OuterRef("pk"), active=True, valid_from__lte=on, valid_to__gte=on)
    return Carrier.objects.filter(active=True).filter(Exists(valid))


def usable_vehicles(on: date) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(active=True, carrier__in=usable_carriers(on)).select_related("carrier")


def carrier_record_save(*, user, obj: Carrier | CarrierAgreement | Vehicle) -> Carrier | CarrierAgreement | Vehicle:
    """Add or edit a carrier, an agreement or a vehicle; the model's own checks hold here as in the admin."""
    require(user, "carrier.edit")
    try:
        obj.full_clean()
    except ValidationError as error:
        raise DomainError(" ".join(error.messages)) from None
    with transaction.atomic():
        obj._history_user = user
        obj.save()
        if isinstance(obj, Carrier) and not obj.active:
            _retire_vehicles(user, obj)
    return obj


def _retire_vehicles(user, carrier: Carrier) -> None:
    for vehicle in carrier.vehicles.filter(active=True):
        vehicle.active = False
        vehicle._history_user = user
        vehicle.save(update_fields=["active"])


def carrier_record_retire(*, user, obj, retire: bool = True):
    """Retire (or put back in use) a carrier, an agreement or a vehicle. A retired carrier's vehicles retire too."""
    require(user, "carrier.edit")
    with transaction.atomic():
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        if obj.active == (not retire):
            raise DomainError(_("It is already retired.") if retire else _("It is already in use."))
        if not retire and isinstance(obj, Vehicle) and not obj.carrier.active:
            raise DomainError(
                _("%(carrier)s is retired: put the carrier back in use first.") % {"carrier": obj.carrier}
            )
        obj.active = not retire
        obj._history_user = user
        obj.save(update_fields=["active"])
        if retire and isinstance(obj, Carrier):
            _retire_vehicles(user, obj)
    return obj
