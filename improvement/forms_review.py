"""Forms of the management review pages (§5.12.7). They check the input's shape; the rules (which periods may
have a pack, when the review may be recorded, and only once) are the services' (improvement.review), whose
refusals the views put beside the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.forms import DATE

TEXT_LIMIT = 20_000


class ReviewNewForm(forms.Form):
    period_start = forms.DateField(label=_("period from"), widget=DATE)
    period_end = forms.DateField(label=_("period to"), widget=DATE)
    title = forms.CharField(
        label=_("title"),
        max_length=200,
        required=False,
        help_text=_("Leave it empty for the usual title, e.g. “Management review pack 2026 H1”."),
    )


class ReviewRecordForm(forms.Form):
    reviewed_on = forms.DateField(label=_("management review meeting on"), widget=DATE)
    decisions = forms.CharField(
        label=_("decisions of the review"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the management review decided about customer satisfaction and the actions. Recorded once."),
        error_messages={"required": _("Write the decisions of the management review.")},
    )
