from django import forms
from django.utils.translation import gettext_lazy as _

from records.kinds import available_kinds


class ArchiveForm(forms.Form):
    kind = forms.ChoiceField(label=_("Record form"))
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.key, f"{k.name_zh} {k.name}") for k in available_kinds()]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The period ends before it starts."))
        return data


class RetentionForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput)
    years = forms.IntegerField(label=_("Kept for (years)"), min_value=1, max_value=99)
