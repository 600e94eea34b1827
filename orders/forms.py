from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.uploads import clean_scan_upload
from customers.models import Currency, Customer, DeliveryAddress, Incoterm, Product
from orders.checklists import item_allows_na, item_text
from orders.models import ChangeRequest, Order, OrderRevision

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# What a stored scan is, for serving it (complaints.views): the first bytes decide, not the name.
SIGNATURES = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
}


def clean_scan(upload):
    """A PDF or an image under the size limit, stored under the app's own name (common.uploads); anything else
    is refused with the reason. Only a new upload is checked (a draft's file already kept was checked when it
    came in)."""
    return clean_scan_upload(upload, max_mb=settings.ORDER_ORIGINAL_MAX_MB)


def chosen_again_note(form, name: str) -> None:
    """A browser cannot put a chosen file back into a re-rendered form: when a form with a file is shown again
    because of an error (or to add a line), say beside the field that the file must be chosen again."""
    upload = form.files.get(form.add_prefix(name)) if form.is_bound else None
    if upload is not None:
        form.fields[name].help_text = _(
            "You chose %(file)s, but a file cannot be kept when the form is shown again: choose it again."
        ) % {"file": getattr(upload, "original_name", upload.name)}
        # A bound field caches its help text when first read (is_valid() reads it): set it there too.
        form[name].help_text = form.fields[name].help_text
        form.file_to_choose_again = getattr(upload, "original_name", upload.name)


class OrderForm(forms.ModelForm):
    """A new order, or a draft being edited (``instance``): the same fields and checks."""

    file_to_choose_again = ""
    customer = forms.ModelChoiceField(
        Customer.objects.exclude(status=Customer.Status.INACTIVE).order_by("code"), label=_("customer")
    )
    verbal = forms.CharField(
        label=_("Requirements given only verbally"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line. The order cannot be accepted until the customer confirms them in writing."),
    )
    # The draft's last save when the form was opened: a draft saved meanwhile by someone else is not overwritten.
    seen = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Order
        fields = [
            "customer",
            "customer_po",
            "source",
            "original",
            "delivery_address",
            "packaging",
            "labelling",
            "inspection",
            "other_requirements",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ("packaging", "labelling", "inspection", "other_requirements")
        }
        help_texts = {"packaging": _("The customer's environmental requirements are added when the order is saved.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery_address"].queryset = DeliveryAddress.objects.filter(active=True).select_related(
            "customer"
        )
        self.fields["delivery_address"].label_from_instance = lambda a: f"{a.customer.code} · {a.label} · {a.address}"
        self.fields["delivery_address"].required = True
        if self.instance.pk and not self.is_bound:
            self.initial["seen"] = self.instance.updated_at.isoformat()
            self.initial["verbal"] = "\n".join(
                v.text for v in self.instance.verbal_requirements.all() if v.confirmed_at is None
            )

    def clean_original(self):
        return clean_scan(self.cleaned_data.get("original"))

    def clean(self):
        data = super().clean()
        address, customer = data.get("delivery_address"), data.get("customer")
        if address and customer and address.customer_id != customer.pk:
            self.add_error("delivery_address", _("This address belongs to another customer."))
        return data

    def verbal_requirements(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("verbal", "").splitlines() if line.strip()]


MAX_LINES = 300


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        Product.objects.filter(active=True).order_by("code"), label=_("product"), required=False
    )
    quantity = forms.DecimalField(label=_("quantity"), max_digits=14, decimal_places=3, required=False)
    unit_price = forms.DecimalField(label=_("unit price"), max_digits=14, decimal_places=4, required=False)
    requested_date = forms.DateField(label=_("requested date"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        filled = [
            name for name in ("product", "quantity", "unit_price", "requested_date") if data.get(name) not in (None, "")
        ]
        if not filled:
            return data  # an empty extra row
        if data.get("product") is None:
            self.add_error("product", _("Choose the product of this line."))
        quantity = data.get("quantity")
        if quantity is None or quantity <= 0:
            self.add_error("quantity", _("The quantity must be more than zero."))
        price = data.get("unit_price")
        if price is None or price < 0:
            self.add_error("unit_price", _("Give a unit price of zero or more."))
        requested = data.get("requested_date")
        if requested is None:
            self.add_error("requested_date", _("Give the requested date."))
        elif requested < timezone.localdate() and requested != self.initial.get("requested_date"):
            self.add_error("requested_date", _("The requested date is in the past."))
        return data


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not any(f.cleaned_data.get("product") for f in self.forms):
            raise forms.ValidationError(_("An order needs at least one line."))


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=3, max_num=MAX_LINES, validate_max=True, absolute_max=MAX_LINES
)


def line_formset(data=None, *, initial=None, extra: int | None = None, add_line: bool = False):
    """The lines of an order form. Any number of lines: "Add a line" (a plain submit button, so it works
    without JavaScript) shows the form again with one more empty row; static/js/order_lines.js adds the row in
    the page instead when scripts run."""
    if data is not None and add_line:
        data = data.copy()
        key = "lines-TOTAL_FORMS"
        try:
            data[key] = str(min(int(data.get(key, 0)) + 1, MAX_LINES))
        except ValueError:
            pass  # a tampered count: the formset reports it
    formset_class = LineFormSet
    if extra is not None:
        formset_class = forms.formset_factory(
            LineForm, formset=BaseLineFormSet, extra=extra, max_num=MAX_LINES, validate_max=True, absolute_max=MAX_LINES
        )
    return formset_class(data, prefix="lines", initial=initial)


class SignForm(forms.Form):
    """The checklist of one step, each item answered yes or no, with a comment; PMC adds a date per line."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, step, order, language, **kwargs):
        super().__init__(*args, **kwargs)
        self.step = step
        for item in step.checklist.items:
            # "not applicable" only where the item offers it (a domestic customer's customs item); a "no" is refused by
            # the service: it is an objection (§5.2.3).
            choices = [("yes", _("Yes")), ("no", _("No"))]
            if item_allows_na(item, order.customer):
                choices.append(("na", _("Not applicable")))
            self.fields[f"item_{item['key']}"] = forms.TypedChoiceField(
                label=item_text(item, language),
                choices=choices,
                widget=forms.RadioSelect,
                coerce=lambda v: {"yes": True, "no": False}.get(v),
            )
        self.lines = list(order.lines.all()) if step.department == "pmc" else []
        for line in self.lines:
            self.fields[f"date_{line.position}"] = forms.DateField(
                label=_("Confirmed date, line %(n)s (%(product)s)")
                % {"n": line.position, "product": line.product.code},
                initial=line.requested_date,
                widget=DATE,
            )

    def answers(self) -> dict[str, bool]:
        return {item["key"]: self.cleaned_data[f"item_{item['key']}"] for item in self.step.checklist.items}

    def confirmed_dates(self) -> dict:
        return {line.position: self.cleaned_data[f"date_{line.position}"] for line in self.lines}


class ObjectForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"rows": 2}))


class SettleForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome with the customer"), widget=forms.Textarea(attrs={"rows": 2}))


class SignOffForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConfirmationForm(forms.Form):
    confirmation = forms.FileField(label=_("Customer's written confirmation (PDF or image)"))

    def clean_confirmation(self):
        return clean_scan(self.cleaned_data["confirmation"])


class ErpForm(forms.Form):
    erp_number = forms.CharField(label=_("SAP order no."), max_length=30)


class ChangeForm(forms.Form):
    """A change or cancellation: the order's content as it should become, with who asked and why."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("What"), choices=ChangeRequest.Kind.choices, widget=forms.RadioSelect)
    origin = forms.ChoiceField(label=_("Requested by"), choices=OrderRevision.Origin.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    customer_po = forms.CharField(label=_("customer PO no."), max_length=60)
    delivery_address = forms.ModelChoiceField(DeliveryAddress.objects.none(), label=_("delivery address"))
    payment_terms = forms.CharField(label=_("payment terms"), max_length=100, required=False)
    currency = forms.ChoiceField(label=_("currency"), choices=Currency.choices)
    incoterm = forms.ChoiceField(label=_("Incoterms"), choices=[("", "—"), *Incoterm.choices], required=False)
    packaging = forms.CharField(
        label=_("packaging requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    labelling = forms.CharField(
        label=_("labelling requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    inspection = forms.CharField(
        label=_("inspection requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    other_requirements = forms.CharField(
        label=_("other requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    HEADER = (
        "customer_po",
        "payment_terms",
        "currency",
        "incoterm",
        "packaging",
        "labelling",
        "inspection",
        "other_requirements",
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery_address"].queryset = DeliveryAddress.objects.filter(customer=order.customer_id)
        if not self.is_bound:
            self.initial.update({name: getattr(order, name) for name in self.HEADER})
            self.initial.update(
                {"revision": order.revision, "delivery_address": order.delivery_address_id, "kind": "change"}
            )

    def clean(self):
        data = super().clean()
        if data.get("kind") == ChangeRequest.Kind.CANCEL:
            for name in (*self.HEADER, "delivery_address"):
                self.errors.pop(name, None)  # a cancellation changes nothing else
        return data

    def header(self) -> dict:
        values = {name: self.cleaned_data.get(name, "") for name in self.HEADER}
        values["delivery_address"] = self.cleaned_data["delivery_address"]
        return values


class DecideChangeForm(forms.Form):
    approve = forms.TypedChoiceField(choices=[("yes", "yes"), ("no", "no")], coerce=lambda v: v == "yes")
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AcknowledgementForm(forms.Form):
    """Whom the acknowledgement goes to, chosen after its preview: the customer's contacts (the primary one
    ticked to begin with) and any addresses that get a copy."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    to = forms.MultipleChoiceField(label=_("Send to"), widget=forms.CheckboxSelectMultiple)
    cc = forms.CharField(
        label=_("Copy to"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E-mail addresses, separated by commas or one per line."),
    )

    def __init__(self, *args, order, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [
            (c.email, f"{c.name} <{c.email}>" + (f" · {_('primary contact')}" if c.is_primary else ""))
            for c in contacts
        ]
        if not self.is_bound:
            self.initial.setdefault("revision", order.revision)
            self.initial.setdefault("to", [contacts[0].email] if contacts else [])

    def clean_cc(self) -> list[str]:
        import re

        from django.core.validators import validate_email

        addresses = [a for a in re.split(r"[,;\s]+", self.cleaned_data.get("cc", "")) if a]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                bad.append(address)
        if bad:
            raise forms.ValidationError(
                _("Not an e-mail address: %(addresses)s") % {"addresses": ", ".join(bad)}, code="invalid"
            )
        return addresses


class VerbalForm(forms.Form):
    """A requirement the customer gave only by word of mouth, recorded during the review (§5.2.3)."""

    text = forms.CharField(
        label=_("Requirement given only verbally"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The head cannot sign off until the customer confirms it in writing."),
    )
