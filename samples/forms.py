import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.roles import departments_of
from common.uploads import clean_scan_upload
from customers.models import Customer, DeliveryAddress, Product
from samples.models import REQUESTING_DEPARTMENTS, SampleRequest, SampleVerdict

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _scan(upload):
    """A PDF or an image, content-checked and stored under the app's own name (common.uploads)."""
    return clean_scan_upload(upload, max_mb=settings.ORDER_ORIGINAL_MAX_MB)


class RequestForm(forms.Form):
    customer = forms.ModelChoiceField(
        Customer.objects.exclude(status=Customer.Status.INACTIVE).order_by("code"), label=_("customer")
    )
    product = forms.ModelChoiceField(
        Product.objects.filter(active=True).order_by("code"),
        label=_("product"),
        help_text=_("A product not in the list yet is added first under Products (Marketing or Technical)."),
    )
    kind = forms.ChoiceField(
        label=_("new or changed product"), choices=SampleRequest.Kind.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("what is asked"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the customer wants to see or test, what changed, special requirements."),
    )
    quantity = forms.DecimalField(label=_("quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    unit = forms.CharField(label=_("unit"), max_length=10, required=False, help_text=_("Empty: the product's unit."))
    requested_date = forms.DateField(label=_("samples wanted by"), widget=DATE)
    department = forms.ChoiceField(label=_("asked by department"))
    drawing = forms.FileField(
        label=_("specification or drawing"), required=False, help_text=_("A PDF or an image (scan, photo).")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        mine = departments_of(user) if user is not None else frozenset()
        self.fields["department"].choices = [(d.value, d.label) for d in REQUESTING_DEPARTMENTS if d in mine]
        if len(self.fields["department"].choices) == 1:
            self.fields["department"].initial = self.fields["department"].choices[0][0]

    def clean_drawing(self):
        return _scan(self.cleaned_data.get("drawing"))


class NoteForm(forms.Form):
    address = forms.ModelChoiceField(DeliveryAddress.objects.none(), label=_("delivery address"))
    delivery_date = forms.DateField(label=_("delivery date"), widget=DATE)
    quantity = forms.DecimalField(label=_("quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    remarks = forms.CharField(label=_("remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, request: SampleRequest, **kwargs):
        super().__init__(*args, **kwargs)
        addresses = DeliveryAddress.objects.filter(customer_id=request.customer_id, active=True).order_by(
            "-is_default", "label"
        )
        self.fields["address"].queryset = addresses
        self.fields["address"].label_from_instance = lambda a: f"{a.label} · {a.address}"


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("why cancelled"), widget=forms.Textarea(attrs={"rows": 2}))


class ReceiptForm(forms.Form):
    scan = forms.FileField(label=_("signed sample note (scan)"))
    signed_by_name = forms.CharField(label=_("signed by (customer)"), max_length=100)
    signed_on = forms.DateField(label=_("signed on"), widget=DATE)

    def clean_scan(self):
        return _scan(self.cleaned_data["scan"])


class VerdictForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("the customer's verdict"), choices=SampleVerdict.Outcome.choices, widget=forms.RadioSelect
    )
    conditions = forms.CharField(
        label=_("conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for an approval with conditions: what the customer asks for."),
    )
    document = forms.FileField(
        label=_("the customer's written verdict"),
        help_text=_("The signed approval form, letter or e-mail: a PDF or an image."),
    )
    document_date = forms.DateField(label=_("date of the customer's document"), widget=DATE)

    def clean_document(self):
        return _scan(self.cleaned_data["document"])

    def clean(self):
        data = super().clean()
        if (
            data.get("outcome") == SampleVerdict.Outcome.APPROVED_WITH_CONDITIONS
            and not (data.get("conditions") or "").strip()
        ):
            self.add_error("conditions", _("Write down the customer's conditions."))
        return data


class SampleFilter(django_filters.FilterSet):
    customer = django_filters.ModelChoiceFilter(
        label=_("customer"), queryset=Customer.objects.filter(sample_requests__isnull=False).distinct().order_by("code")
    )
    product = django_filters.CharFilter(label=_("product"), method="product_search")
    status = django_filters.ChoiceFilter(label=_("status"), choices=SampleRequest.Status.choices)
    requested_from = django_filters.DateFilter(
        label=_("wanted from"), field_name="requested_date", lookup_expr="gte", widget=DATE
    )
    requested_to = django_filters.DateFilter(
        label=_("wanted until"), field_name="requested_date", lookup_expr="lte", widget=DATE
    )
    department = django_filters.ChoiceFilter(
        label=_("department"), choices=[(d.value, d.label) for d in REQUESTING_DEPARTMENTS]
    )

    class Meta:
        model = SampleRequest
        fields = ["customer", "product", "status", "requested_from", "requested_to", "department"]

    def product_search(self, queryset, name, value):
        value = value.replace("\x00", "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(product__code__icontains=value) | Q(product__name__icontains=value))
