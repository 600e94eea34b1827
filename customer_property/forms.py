import re

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.roles import Dept
from common.uploads import clean_scan_upload
from customer_property.models import Condition, Kind, PropertyIncident
from customer_property.services import MAX_DOCUMENTS
from customers.models import CommunicationLog, Customer, Product
from orders.forms import DATE


def _no_nul(value: str) -> str:
    # NUL reaches PostgreSQL as an error (PITFALLS.md): refuse it at the edge.
    if "\x00" in (value or ""):
        raise forms.ValidationError(_("The text contains a character that cannot be stored."))
    return value


def _not_future(value):
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("The date is in the future."))
    return value


def _scan(upload):
    from django.conf import settings

    return clean_scan_upload(upload, max_mb=settings.ORDER_ORIGINAL_MAX_MB)


def department_choices():
    """Every department but the administrators, who get no internal memos."""
    return [(code, label) for code, label in Dept.choices if code != Dept.ADMIN]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def clean_product_codes(text: str) -> list[Product]:
    codes = list(dict.fromkeys(c for c in re.split(r"[\s,;，；]+", text or "") if c))
    found = {p.code: p for p in Product.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise forms.ValidationError(_("Unknown product codes: %(codes)s.") % {"codes": ", ".join(unknown)})
    return [found[c] for c in codes]


class ItemForm(forms.Form):
    """A new register entry. Which identification fields apply depends on the kind; the service says which is
    missing or out of place, beside the field."""

    customer = forms.ModelChoiceField(Customer.objects.order_by("code"), label=_("customer"), to_field_name="code")
    kind = forms.ChoiceField(label=_("kind"), choices=Kind.choices)
    name = forms.CharField(label=_("name"), max_length=200, validators=[_no_nul])
    customer_ref = forms.CharField(label=_("the customer's no."), max_length=60, required=False, validators=[_no_nul])
    mould_no = forms.CharField(
        label=_("mould / fixture no."),
        max_length=60,
        required=False,
        validators=[_no_nul],
        help_text=_("Moulds and fixtures only; required for a mould."),
    )
    cavities = forms.IntegerField(
        label=_("cavities"), required=False, min_value=1, help_text=_("Moulds and fixtures only.")
    )
    quantity = forms.DecimalField(
        label=_("quantity"),
        max_digits=14,
        decimal_places=3,
        min_value=0.001,
        required=False,
        help_text=_("Materials and packaging only."),
    )
    unit = forms.CharField(label=_("unit"), max_length=10, required=False, validators=[_no_nul])
    location = forms.CharField(label=_("kept at"), max_length=120, validators=[_no_nul])
    received_on = forms.DateField(label=_("received on"), widget=DATE, validators=[_not_future])
    received_by = forms.ModelChoiceField(
        get_user_model().objects.filter(is_active=True).order_by("username"),
        label=pgettext_lazy("customer property", "received by"),
        required=False,
        help_text=_("Leave empty if you received it yourself."),
    )
    products = forms.CharField(
        label=_("used for products"),
        required=False,
        validators=[_no_nul],
        help_text=_("Product codes, separated by commas or spaces."),
    )
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    documents = MultipleFileField(
        label=_("the customer's documents"), required=False, help_text=_("PDF or images; several files may be chosen.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].label_from_instance = lambda c: f"{c.code} {c.display_name}"
        self.initial.setdefault("received_on", timezone.localdate())

    def clean_products(self):
        return clean_product_codes(self.cleaned_data.get("products"))

    def clean_documents(self):
        files = self.cleaned_data.get("documents") or []
        if len(files) > MAX_DOCUMENTS:
            raise forms.ValidationError(_("Attach at most %(n)s files at once.") % {"n": MAX_DOCUMENTS})
        for upload in files:
            _scan(upload)
        return files


class _Incident(forms.Form):
    """How the customer and the departments are told of a damage or loss."""

    told_by = forms.ChoiceField(
        label=_("customer told by"), choices=CommunicationLog.Channel.choices, initial=CommunicationLog.Channel.EMAIL
    )
    departments = forms.MultipleChoiceField(
        label=_("internal memo to"),
        choices=department_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Empty: the usual departments for this kind of property."),
    )


class CheckForm(_Incident):
    checked_on = forms.DateField(label=_("checked on"), widget=DATE, validators=[_not_future])
    condition = forms.ChoiceField(label=_("condition found"), choices=Condition.choices)
    location = forms.CharField(
        label=_("kept at"),
        max_length=120,
        required=False,
        validators=[_no_nul],
        help_text=_("Only if it was found somewhere else than the register says."),
    )
    notes = forms.CharField(
        label=_("notes"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        validators=[_no_nul],
        help_text=_("Required for damage or loss: it is written to the customer's log and the memo."),
    )
    field_order = ["checked_on", "condition", "location", "notes", "told_by", "departments"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("checked_on", timezone.localdate())
        self.fields["told_by"].help_text = _("For damage or loss.")


class IncidentForm(_Incident):
    kind = forms.ChoiceField(label=_("what happened"), choices=PropertyIncident.Kind.choices)
    found_on = forms.DateField(label=_("found on"), widget=DATE, validators=[_not_future])
    description = forms.CharField(
        label=_("description"), widget=forms.Textarea(attrs={"rows": 3}), validators=[_no_nul]
    )
    field_order = ["kind", "found_on", "description", "told_by", "departments"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("found_on", timezone.localdate())


class ReturnForm(forms.Form):
    returned_on = forms.DateField(label=_("returned on"), widget=DATE, validators=[_not_future])
    returned_to = forms.CharField(
        label=_("returned to"), max_length=120, validators=[_no_nul], help_text=_("Who took it for the customer.")
    )
    note = forms.CharField(
        label=_("return note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, validators=[_no_nul]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("returned_on", timezone.localdate())


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("file"), widget=forms.ClearableFileInput(attrs={"accept": ".pdf,image/*"}))
    name = forms.CharField(label=_("name"), max_length=200, required=False, validators=[_no_nul])

    def clean_file(self):
        return _scan(self.cleaned_data["file"])


class ProductsForm(forms.Form):
    products = forms.CharField(
        label=_("used for products"),
        required=False,
        validators=[_no_nul],
        help_text=_("Product codes, separated by commas or spaces. Empty: used for no product."),
    )

    def clean_products(self):
        return clean_product_codes(self.cleaned_data.get("products"))
