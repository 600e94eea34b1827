from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Dept
from delivery.carriers import usable_carriers, usable_vehicles
from delivery.models import Carrier, CarrierAgreement, Vehicle
from delivery.services import RETURN_MEMO_DEPARTMENTS
from orders.forms import DATE, clean_scan

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BatchForm(forms.Form):
    quantity = forms.DecimalField(label=_("quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    due_date = forms.DateField(label=_("due date"), widget=DATE)
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 1}),
        help_text=_("Needed when the batch is due after the customer's date (the customer's agreement)."),
    )


class BatchMoveForm(forms.Form):
    due_date = forms.DateField(label=_("new due date"), widget=DATE)
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 1}),
        help_text=_("Needed to move a batch later (the customer's agreement)."),
    )


class ProgressForm(forms.Form):
    planned_completion = forms.DateField(label=_("planned completion"), widget=DATE, required=False)
    produced = forms.DecimalField(label=_("produced"), max_digits=14, decimal_places=3, min_value=0, required=False)
    warehoused = forms.DecimalField(label=_("warehoused"), max_digits=14, decimal_places=3, min_value=0, required=False)


class DelayForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    new_date = forms.DateField(label=_("new completion date"), widget=DATE)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome with the customer"), widget=forms.Textarea(attrs={"rows": 2}))


class VehicleSelect(forms.Select):
    """Each vehicle option names its carrier (``data-carrier``) so the page can offer only that carrier's."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-carrier"] = str(instance.carrier_id)
        return option


def vehicle_label(vehicle: Vehicle) -> str:
    return " · ".join(filter(None, [vehicle.plate, vehicle.kind, str(vehicle.carrier)]))


class NoteForm(forms.Form):
    delivery_date = forms.DateField(label=_("delivery date"), widget=DATE)
    expected_arrival = forms.DateTimeField(label=_("expected arrival"), widget=DATETIME, required=False)
    carrier = forms.ModelChoiceField(
        Carrier.objects.none(),
        label=_("carrier"),
        required=False,
        help_text=_("Carriers with a transport agreement in force on the delivery date."),
        error_messages={"invalid_choice": _("This carrier has no transport agreement in force on the delivery date.")},
    )
    vehicle = forms.ModelChoiceField(
        Vehicle.objects.none(),
        label=_("vehicle"),
        required=False,
        widget=VehicleSelect,
        error_messages={"invalid_choice": _("This vehicle is retired or its carrier cannot be chosen on this date.")},
    )
    remarks = forms.CharField(label=_("remarks"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    backdate_reason = forms.CharField(
        label=_("why dated before today"),
        widget=forms.Textarea(attrs={"rows": 1}),
        required=False,
        help_text=_("Only when the goods left on an earlier day: the reason is kept with the note."),
    )

    def __init__(self, *args, customs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("delivery_date", timezone.localdate())
        # The carriers offered are those usable on the date the form carries (§5.5.3); the service checks again.
        on = self._date()
        self.fields["carrier"].queryset = usable_carriers(on)
        self.fields["vehicle"].queryset = usable_vehicles(on)
        self.fields["vehicle"].label_from_instance = vehicle_label
        self.customs = customs or []
        for item in self.customs:
            self.fields[f"customs_{item['key']}"] = forms.BooleanField(
                label=f"{item['zh']} / {item['en']}", required=False
            )

    def _date(self):
        if self.is_bound:
            try:
                return self.fields["delivery_date"].clean(self.data.get(self.add_prefix("delivery_date")))
            except forms.ValidationError:
                pass
        initial = self.initial.get("delivery_date")
        return initial() if callable(initial) else initial

    def clean(self):
        data = super().clean()
        carrier, vehicle = data.get("carrier"), data.get("vehicle")
        if vehicle is not None and carrier is None:
            self.add_error("carrier", _("Choose the carrier of vehicle %(plate)s.") % {"plate": vehicle.plate})
        elif vehicle is not None and vehicle.carrier_id != carrier.pk:
            self.add_error("vehicle", _("Vehicle %(plate)s belongs to another carrier.") % {"plate": vehicle.plate})
        return data

    def customs_checklist(self) -> dict:
        return {item["key"]: True for item in self.customs if self.cleaned_data.get(f"customs_{item['key']}")}


class TransferForm(forms.Form):
    completed_on = forms.DateField(label=_("Transfer completed on"), widget=DATE)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("why cancelled"), widget=forms.Textarea(attrs={"rows": 2}))


class SignBackForm(forms.Form):
    scan = forms.FileField(label=_("signed note (scan)"))
    signed_by_name = forms.CharField(label=_("signed by (customer)"), max_length=100)
    signed_on = forms.DateField(label=_("signed on"), widget=DATE)

    def clean_scan(self):
        return clean_scan(self.cleaned_data["scan"])


class IncidentForm(forms.Form):
    happened_on = forms.DateField(label=_("date"), widget=DATE)
    description = forms.CharField(label=_("what happened"), widget=forms.Textarea(attrs={"rows": 2}))


class ReturnForm(forms.Form):
    quantity = forms.DecimalField(label=_("quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    pickup_date = forms.DateField(label=_("pickup date"), widget=DATE, required=False)


def memo_department_choices():
    """Every department but the administrators, who get no internal memos."""
    return [(value, label) for value, label in Dept.choices if value != Dept.ADMIN]


class ReturnMemoForm(forms.Form):
    """Quality's write-up of a return, issued as a numbered internal memo (§5.7)."""

    subject = forms.CharField(
        label=_("subject"), max_length=200, required=False, help_text=_("Left empty: the return's note and product.")
    )
    memo = forms.CharField(label=_("Quality's write-up"), widget=forms.Textarea(attrs={"rows": 4}))
    departments = forms.MultipleChoiceField(
        label=_("to departments"),
        choices=memo_department_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one department to send the memo to.")},
    )
    # How many memos the page showed: a double click or a colleague's memo meanwhile is refused, not sent twice.
    memos_seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("departments", list(RETURN_MEMO_DEPARTMENTS))
        super().__init__(*args, **kwargs)


class PickUpForm(forms.Form):
    picked_up_on = forms.DateField(label=_("picked up on"), widget=DATE)

    def clean_picked_up_on(self):
        value = self.cleaned_data["picked_up_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The pickup date is in the future."))
        return value


class ReturnCloseForm(forms.Form):
    """Closing needs no input; the form carries the CSRF token and the refusal shown beside the button."""


class ReplacementForm(forms.Form):
    due_date = forms.DateField(label=_("due date"), widget=DATE)


class CarrierForm(forms.ModelForm):
    class Meta:
        model = Carrier
        fields = ["name", "contact", "phone"]


def _carriers_for(field, instance):
    """Carriers in use, and the record's own carrier when it is edited (even if retired since)."""
    current = getattr(instance, "carrier_id", None)
    field.queryset = Carrier.objects.filter(active=True) | Carrier.objects.filter(pk=current)


class AgreementForm(forms.ModelForm):
    class Meta:
        model = CarrierAgreement
        fields = ["carrier", "reference", "protection_terms", "valid_from", "valid_to", "signed_file"]
        widgets = {"valid_from": DATE, "valid_to": DATE, "protection_terms": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _carriers_for(self.fields["carrier"], self.instance)

    def clean_signed_file(self):
        return clean_scan(self.cleaned_data.get("signed_file"))


class VehicleForm(forms.ModelForm):
    class Meta:
        model = Vehicle
        fields = ["carrier", "plate", "kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _carriers_for(self.fields["carrier"], self.instance)


CARRIER_FORMS = {"carrier": CarrierForm, "agreement": AgreementForm, "vehicle": VehicleForm}
