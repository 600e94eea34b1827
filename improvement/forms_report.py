"""Forms of the analysis report's pages. They check the input's shape; the rules (what may be submitted,
confirmed, returned, corrected) are the services' (improvement.report), whose refusals the views put beside
the form."""

from django import forms
from django.utils.translation import gettext_lazy as _

TEXT_LIMIT = 20_000


class ReportTextForm(forms.Form):
    """Customer Service's analysis. Both may be left empty while drafting; submitting needs both."""

    causes = forms.CharField(
        label=_("Analysis of the causes"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Why the results are what they are: per question, per customer, compared with the last round."),
    )
    conclusions = forms.CharField(
        label=_("Conclusions and proposals"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the company should do: these become the improvement meeting's agenda (§5.12.6)."),
    )


class ConfirmForm(forms.Form):
    """The representative's confirmation: a button, carrying the service's refusal."""


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("What must be reworked"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what must be reworked.")},
    )


class CorrectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the confirmed report needs a correction"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the confirmed report needs a correction.")},
    )


class NewReportForm(forms.Form):
    """The button on a closed round's page."""
