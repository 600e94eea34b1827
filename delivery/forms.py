from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Dept
from delivery.models import Carrier, CarrierAgreement, Vehicle
from delivery.services import RETURN_MEMO_DEPARTMENTS
from orders.forms import DATE, clean_scan

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BatchForm(forms.Form):
    quantity = forms.DecimalField(label=_("quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    due_date = forms.DateField(label=_("due date"), widget=DATE)


class ProgressForm(forms.Form):
    planned_completion = forms.DateField(label=_("planned completion"), widget=DATE, required=False)
    produced = forms.DecimalField(label=_("produced"), max_digits=14, decimal_places=3, min_value=0, required=False)
    warehoused = forms.DecimalField(label=_("warehoused"), max_digits=14, decimal_places=3, min_value=0, required=False)


class DelayForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    new_date = forms.DateField(label=_("new completion date"), widget=DATE)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome with the customer"), widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    delivery_date = forms.DateField(label=_("delivery date"), widget=DATE)
    expected_arrival = forms.DateTimeField(label=_("expected arrival"), widget=DATETIME, required=False)
    carrier = forms.ModelChoiceField(Carrier.objects.filter(active=True), label=_("carrier"), required=False)
    vehicle = forms.ModelChoiceField(Vehicle.objects.filter(active=True), label=_("vehicle"), required=False)
    remarks = forms.CharField(label=_("remarks"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, customs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("delivery_date", timezone.localdate())
        self.customs = customs or []
        for item in self.customs:
            self.fields[f"customs_{item['key']}"] = forms.BooleanField(
                label=f"{item['zh']} / {item['en']}", required=False
            )

    def customs_checklist(self) -> dict:
        return {item["key"]: True for item in self.customs if self.cleaned_data.get(f"customs_{item['key']}")}


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
        fields = ["name", "contact", "phone", "active"]


class AgreementForm(forms.ModelForm):
    class Meta:
        model = CarrierAgreement
        fields = ["carrier", "reference", "protection_terms", "valid_from", "valid_to", "signed_file"]
        widgets = {"valid_from": DATE, "valid_to": DATE, "protection_terms": forms.Textarea(attrs={"rows": 2})}

    def clean_signed_file(self):
        return clean_scan(self.cleaned_data.get("signed_file"))

    def clean(self):
        data = super().clean()
        if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
            self.add_error("valid_to", _("The agreement ends before it starts."))
        return data


class VehicleForm(forms.ModelForm):
    class Meta:
        model = Vehicle
        fields = ["carrier", "plate", "kind"]
