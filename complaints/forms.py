from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Dept
from common.templatetags.numbers import num
from complaints.models import Complaint
from complaints.services import INVESTIGATING_DEPARTMENTS, MAX_ATTACHMENTS
from customers.models import Customer
from delivery.models import DeliveryNote, DeliveryNoteLine, Return
from orders.forms import DATE, clean_scan
from orders.models import Order

# How far back the intake form offers a customer's orders and delivery notes (a customer with years of orders
# would otherwise make a list nobody can use).
LINK_WINDOW_DAYS = 730


def _no_nul(value: str) -> str:
    # NUL reaches PostgreSQL as an error (PITFALLS.md): refuse it at the edge.
    if "\x00" in (value or ""):
        raise forms.ValidationError(_("The text contains a character that cannot be stored."))
    return value


def _not_future(value):
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("The date is in the future."))
    return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe); each is checked like a scanned original."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def department_choices():
    return [("", _("Default: Quality for quality and packaging, else Customer Service"))] + [
        (code, Dept(code).label) for code in INVESTIGATING_DEPARTMENTS
    ]


class ComplaintForm(forms.Form):
    """Intake. The orders, delivery notes and returns offered are the chosen customer's only (the page loads them
    when the customer is chosen); a choice of another customer's is refused as an invalid choice."""

    customer = forms.ModelChoiceField(Customer.objects.order_by("code"), label=_("customer"), to_field_name="code")
    channel = forms.ChoiceField(label=_("received by"), choices=Complaint.Channel.choices)
    received_on = forms.DateField(label=_("received on"), widget=DATE, validators=[_not_future])
    category = forms.ChoiceField(label=_("category"), choices=Complaint.Category.choices)
    department = forms.ChoiceField(label=_("investigated by"), choices=department_choices, required=False)
    description = forms.CharField(
        label=_("what the customer says"), widget=forms.Textarea(attrs={"rows": 4}), validators=[_no_nul]
    )
    orders = forms.ModelMultipleChoiceField(Order.objects.none(), label=_("orders"), required=False)
    notes = forms.ModelMultipleChoiceField(DeliveryNote.objects.none(), label=_("delivery notes"), required=False)
    returns = forms.ModelMultipleChoiceField(Return.objects.none(), label=_("returns"), required=False)
    attachments = MultipleFileField(
        label=_("attachments"), required=False, help_text=_("PDF or images; several files may be chosen.")
    )

    LINKS = ("orders", "notes", "returns")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].label_from_instance = lambda c: f"{c.code} {c.display_name}"
        self.initial.setdefault("received_on", timezone.localdate())
        self.chosen_customer = self._chosen_customer()
        if self.chosen_customer is not None:
            since = timezone.localdate() - timedelta(days=LINK_WINDOW_DAYS)
            self.fields["orders"].queryset = (
                Order.objects.filter(customer=self.chosen_customer, created_at__date__gte=since)
                .exclude(status=Order.Status.DRAFT)
                .order_by("-created_at", "-pk")
            )
            self.fields["notes"].queryset = DeliveryNote.objects.filter(
                customer=self.chosen_customer, status=DeliveryNote.Status.ISSUED, delivery_date__gte=since
            ).order_by("-delivery_date", "-pk")
            self.fields["returns"].queryset = (
                Return.objects.filter(note_line__note__customer=self.chosen_customer)
                .select_related("note_line__note", "note_line__batch__line__product")
                .order_by("-recorded_at", "-pk")
            )
        self.fields["orders"].label_from_instance = lambda o: f"{o.number} · PO {o.customer_po}"
        self.fields["notes"].label_from_instance = lambda n: f"{n.number} · {n.delivery_date.isoformat()}"
        self.fields["returns"].label_from_instance = lambda r: (
            f"{r.note_line.note.number} · {r.note_line.batch.line.product.code} −{num(r.quantity)} · {r.reason[:40]}"
        )

    def _chosen_customer(self) -> Customer | None:
        code = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if isinstance(code, Customer):
            return code
        if not code:
            return None
        return Customer.objects.filter(code=str(code).replace("\x00", "")).first()

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(_("Attach at most %(n)s files at once.") % {"n": MAX_ATTACHMENTS})
        for upload in files:
            clean_scan(upload)
        return files


class AcknowledgeForm(forms.Form):
    on = forms.DateField(label=_("acknowledged on"), widget=DATE, validators=[_not_future])
    text = forms.CharField(
        label=_("what we told the customer"), widget=forms.Textarea(attrs={"rows": 3}), validators=[_no_nul]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("on", timezone.localdate())


class InvestigateForm(forms.Form):
    cause = forms.CharField(label=_("cause found"), widget=forms.Textarea(attrs={"rows": 3}), validators=[_no_nul])
    action = forms.CharField(
        label=_("what is done about it"), widget=forms.Textarea(attrs={"rows": 3}), validators=[_no_nul]
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("answer to the customer"), widget=forms.Textarea(attrs={"rows": 3}), validators=[_no_nul]
    )
    on = forms.DateField(label=_("answered on"), widget=DATE, validators=[_not_future])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("on", timezone.localdate())


class CloseForm(forms.Form):
    accepted_on = forms.DateField(label=_("accepted by the customer on"), widget=DATE, validators=[_not_future])
    note = forms.CharField(
        label=_("closing note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, validators=[_no_nul]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("accepted_on", timezone.localdate())


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("file"), widget=forms.ClearableFileInput(attrs={"accept": ".pdf,image/*"}))
    name = forms.CharField(label=_("name"), max_length=200, required=False, validators=[_no_nul])

    def clean_file(self):
        return clean_scan(self.cleaned_data["file"])


class ReturnForm(forms.Form):
    """A return of goods delivered with one of the complaint's delivery notes."""

    note_line = forms.ModelChoiceField(DeliveryNoteLine.objects.none(), label=_("delivered line"))
    quantity = forms.DecimalField(label=_("quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}), validators=[_no_nul])
    pickup_date = forms.DateField(label=_("pickup date"), widget=DATE, required=False)

    def __init__(self, *args, complaint: Complaint, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note_line"].queryset = (
            DeliveryNoteLine.objects.filter(note__complaints=complaint, note__status=DeliveryNote.Status.ISSUED)
            .select_related("note", "batch__line__product")
            .order_by("note__delivery_date", "note_id", "pk")
        )
        self.fields["note_line"].label_from_instance = lambda line: (
            f"{line.note.number} · {line.batch.line.product.code} {line.batch.line.product.name} · {num(line.quantity)}"
        )
        if not self.is_bound:
            self.initial.setdefault("reason", f"{complaint.number}: {complaint.description[:200]}")


class ReplacementForm(forms.Form):
    ret = forms.ModelChoiceField(Return.objects.none(), label=_("return"))
    due_date = forms.DateField(label=_("due date"), widget=DATE)

    def __init__(self, *args, complaint: Complaint, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ret"].queryset = (
            Return.objects.filter(complaints=complaint, replacement__isnull=True)
            .select_related("note_line__note", "note_line__batch__line__product")
            .order_by("recorded_at", "pk")
        )
        self.fields["ret"].label_from_instance = lambda r: (
            f"{r.note_line.note.number} · {r.note_line.batch.line.product.code} −{num(r.quantity)}"
        )
        self.initial.setdefault("due_date", timezone.localdate() + timedelta(days=3))
