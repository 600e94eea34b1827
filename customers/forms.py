import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from accounts.roles import Dept
from customers.models import (
    CommunicationLog,
    Contact,
    Customer,
    CustomerEvaluation,
    DeliveryAddress,
    EnvironmentalRequirement,
    Product,
    QualityProblem,
    Quotation,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _users_of(*depts):
    return get_user_model().objects.filter(groups__name__in=depts, is_active=True).distinct().order_by("username")


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("status"), choices=Customer.Status.choices)
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=Customer.Kind.choices)
    trade = django_filters.ChoiceFilter(label=_("trade type"), choices=Customer.Trade.choices)
    marketing_owner = django_filters.ModelChoiceFilter(
        label=_("account manager"), queryset=lambda request: _users_of(Dept.MARKETING)
    )
    important_in_development = django_filters.BooleanFilter(
        label=_("important in development"), widget=forms.CheckboxInput, method="important"
    )

    class Meta:
        model = Customer
        fields = ["q", "status", "kind", "trade", "marketing_owner", "important_in_development"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(name_zh__icontains=value)
            | Q(name_en__icontains=value)
            | Q(short_name__icontains=value)
            | Q(contacts__name__icontains=value)
        ).distinct()

    def important(self, queryset, name, value):
        return queryset.filter(important_in_development=True) if value else queryset


class CustomerForm(forms.ModelForm):
    # The customer's updated_at when the form was opened: refuses to overwrite someone else's later save.
    seen_updated_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = [
            "code",
            "name_zh",
            "name_en",
            "short_name",
            "kind",
            "status",
            "trade",
            "customs_code",
            "customs_handbook",
            "payment_terms",
            "incoterm",
            "currency",
            "tax_rate",
            "marketing_owner",
            "cs_owner",
            "important_in_development",
            "cooperation_since",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "cooperation_since": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["marketing_owner"].queryset = _users_of(Dept.MARKETING)
        self.fields["cs_owner"].queryset = _users_of(Dept.CS)
        if self.instance.pk:
            self.fields["code"].disabled = True  # the key of imports and orders
            self.initial.setdefault("seen_updated_at", self.instance.updated_at)

    def clean(self):
        data = super().clean()
        if not data.get("name_zh") and not data.get("name_en"):
            # Reported together with the other problems, not instead of them.
            self.add_error(None, _("Give the customer a Chinese or an English name."))
        if data.get("trade") in (Customer.Trade.EXPORT, Customer.Trade.TRANSFER) and not data.get("customs_code"):
            self.add_error("customs_code", _("Export and transfer customers need their customs registration code."))
        if data.get("trade") == Customer.Trade.TRANSFER and not data.get("customs_handbook"):
            self.add_error("customs_handbook", _("Transfer customers need the processing-trade handbook number."))
        return data


class _OneFlagFormSet(forms.BaseInlineFormSet):
    flag: str = ""
    message = ""

    def clean(self):
        super().clean()
        flagged = [
            f
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get(self.flag)
        ]
        if len(flagged) > 1:
            raise forms.ValidationError(self.message)


class ContactFormSet(_OneFlagFormSet):
    flag = "is_primary"
    message = _("Mark only one contact as primary.")


class AddressFormSet(_OneFlagFormSet):
    flag = "is_default"
    message = _("Mark only one address as the default.")


ContactInlineFormSet = inlineformset_factory(
    Customer,
    Contact,
    formset=ContactFormSet,
    fields=["name", "title", "phone", "mobile", "email", "receives_surveys", "language", "is_primary"],
    extra=1,
    can_delete=True,
)
AddressInlineFormSet = inlineformset_factory(
    Customer,
    DeliveryAddress,
    formset=AddressFormSet,
    fields=["label", "address", "receiver", "phone", "is_default", "active"],
    extra=1,
    can_delete=True,
)


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["code", "name", "spec", "unit", "is_new", "customer_owned_mould", "mould_owner", "active"]

    def clean(self):
        data = super().clean()
        if data.get("customer_owned_mould") and not data.get("mould_owner"):
            self.add_error("mould_owner", _("Name the customer who owns the mould."))
        return data


class QuotationForm(forms.ModelForm):
    class Meta:
        model = Quotation
        fields = ["product", "reference", "unit_price", "currency", "valid_from", "valid_to"]
        widgets = {"valid_from": DATE, "valid_to": DATE}

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(active=True)
        if customer is not None:
            self.fields["currency"].initial = customer.currency

    def clean_unit_price(self):
        price = self.cleaned_data["unit_price"]
        if price < 0:
            raise forms.ValidationError(_("A price cannot be negative."))
        return price


class QuotationEndForm(forms.Form):
    valid_to = forms.DateField(label=_("valid to"), widget=DATE)


class EnvironmentalRequirementForm(forms.ModelForm):
    class Meta:
        model = EnvironmentalRequirement
        fields = ["standard", "detail", "document_ref", "effective_from", "expires_on"]
        widgets = {"effective_from": DATE, "expires_on": DATE}

    def clean(self):
        data = super().clean()
        start, end = data.get("effective_from"), data.get("expires_on")
        if start and end and end < start:
            self.add_error("expires_on", _("The requirement expires before it takes effect."))
        if data.get("standard") == EnvironmentalRequirement.Standard.OTHER and not data.get("detail"):
            self.add_error("detail", _("Name the standard."))
        return data


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = CustomerEvaluation
        fields = list(CustomerEvaluation.CONTENT_FIELDS)
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "business_scope",
                "quality_requirements",
                "environmental_requirements",
                "risks",
                "recommendation",
            )
        }


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class CommunicationForm(forms.ModelForm):
    class Meta:
        model = CommunicationLog
        fields = ["date", "channel", "contact", "summary", "follow_up", "follow_up_due"]
        widgets = {
            "date": DATE,
            "follow_up_due": DATE,
            "summary": forms.Textarea(attrs={"rows": 3}),
            "follow_up": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()

    def clean(self):
        data = super().clean()
        if data.get("follow_up_due") and not data.get("follow_up"):
            self.add_error("follow_up", _("Say what must be followed up."))
        return data


class QualityProblemForm(forms.ModelForm):
    class Meta:
        model = QualityProblem
        fields = ["reported_on", "product", "description"]
        widgets = {"reported_on": DATE, "description": forms.Textarea(attrs={"rows": 2})}


class QualityFixForm(forms.Form):
    corrective_action = forms.CharField(label=_("corrective action"), widget=forms.Textarea(attrs={"rows": 2}))
    fixed_on = forms.DateField(label=_("fixed on"), widget=DATE)
