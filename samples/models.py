"""Samples (§4.0.2, §5.8.1, §5.2.4.3): a request for samples of a new or changed product, the sample delivery
notes Customer Service issues (numbered per year without gaps, their own series), the customer's signed receipt
of each note, and the customer's written verdict on the sample.

Issued sample notes, receipts and verdicts are records: never edited in place. A cancelled note keeps its
number and says why. Every change is kept with who and when (history).

A request moves: requested → delivered (an issued sample note) → approved / approved with conditions / rejected
(the customer's written verdict), or cancelled. A rejected sample may be delivered again (a new note: delivered
again), and then gets a new verdict; each verdict stays on the request.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts.roles import Dept
from common.validators import validate_name
from customers.models import Customer, DeliveryAddress, Product

QTY = dict(max_digits=14, decimal_places=3)
# The departments that ask for samples and record the customer's verdict (accounts.roles: sample.request).
REQUESTING_DEPARTMENTS = (Dept.MARKETING, Dept.TECH)


class SampleRequest(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New product")
        CHANGED = "changed", _("Changed product")

    class Status(models.TextChoices):
        REQUESTED = "requested", pgettext_lazy("sample status", "Requested")
        DELIVERED = "delivered", pgettext_lazy("sample status", "Delivered, waiting for the verdict")
        APPROVED = "approved", pgettext_lazy("sample status", "Approved")
        APPROVED_WITH_CONDITIONS = "approved_cond", pgettext_lazy("sample status", "Approved with conditions")
        REJECTED = "rejected", pgettext_lazy("sample status", "Rejected")
        CANCELLED = "cancelled", pgettext_lazy("sample status", "Cancelled")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="sample_requests", verbose_name=_("customer")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="sample_requests", verbose_name=_("product")
    )
    kind = models.CharField(_("new or changed product"), max_length=10, choices=Kind.choices, default=Kind.NEW)
    description = models.TextField(_("what is asked"))
    quantity = models.DecimalField(_("quantity"), validators=[MinValueValidator(0.001)], **QTY)
    unit = models.CharField(_("unit"), max_length=10)
    requested_date = models.DateField(_("samples wanted by"))
    department = models.CharField(
        _("asked by department"),
        max_length=40,
        choices=[(d.value, d.label) for d in REQUESTING_DEPARTMENTS],
    )
    drawing = models.FileField(
        _("specification or drawing"), upload_to="samples/drawings/%Y/", blank=True, max_length=200
    )
    drawing_name = models.CharField(_("file name"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.REQUESTED)
    cancel_reason = models.TextField(_("why cancelled"), blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    requested_at = models.DateTimeField(_("asked on"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sample request")
        verbose_name_plural = _("sample requests")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["customer", "product", "status"])]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="sample_quantity_positive")]

    def __str__(self):
        return f"{self.reference} {self.product.code}"

    def get_absolute_url(self):
        return reverse("samples:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"SR-{self.pk:05d}" if self.pk else "SR-?"

    @property
    def approved(self) -> bool:
        return self.status in (self.Status.APPROVED, self.Status.APPROVED_WITH_CONDITIONS)


class SampleNoteCounter(models.Model):
    """The last sample-note number issued per year (row-locked: numbers never skip or repeat)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class SampleNote(models.Model):
    """送样单: the sample delivery note, printed like a delivery note. What it says is copied when issued."""

    class Status(models.TextChoices):
        ISSUED = "issued", pgettext_lazy("sample note status", "Issued")
        CANCELLED = "cancelled", pgettext_lazy("sample note status", "Cancelled")

    number = models.CharField(_("sample note no."), max_length=20, unique=True)
    request = models.ForeignKey(
        SampleRequest, on_delete=models.PROTECT, related_name="notes", verbose_name=_("sample request")
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sample_notes")
    address = models.ForeignKey(DeliveryAddress, on_delete=models.PROTECT, related_name="+")
    address_label = models.CharField(_("label"), max_length=60, blank=True)
    address_text = models.CharField(_("delivery address"), max_length=300, blank=True)
    address_receiver = models.CharField(_("receiver"), max_length=100, blank=True)
    address_phone = models.CharField(_("phone"), max_length=40, blank=True)
    delivery_date = models.DateField(_("delivery date"))
    quantity = models.DecimalField(_("quantity"), validators=[MinValueValidator(0.001)], **QTY)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    product_code = models.CharField(_("product code"), max_length=40, blank=True)
    product_name = models.CharField(_("name"), max_length=200, blank=True)
    product_spec = models.CharField(_("specification"), max_length=300, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    cancel_reason = models.TextField(_("why cancelled"), blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sample note")
        verbose_name_plural = _("sample notes")
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["status", "delivery_date"])]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="sample_note_quantity_positive")]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("samples:note", args=[self.number])


class SampleReceipt(models.Model):
    """The customer's signed receipt of a sample note, scanned, with who signed and when (§5.8.1)."""

    note = models.OneToOneField(SampleNote, on_delete=models.PROTECT, related_name="receipt")
    scan = models.FileField(_("signed sample note (scan)"), upload_to="samples/receipts/%Y/%m/", max_length=200)
    signed_by_name = models.CharField(_("signed by (customer)"), max_length=100, validators=[validate_name])
    signed_on = models.DateField(_("signed on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sample receipt")
        verbose_name_plural = _("sample receipts")

    def __str__(self):
        return f"{self.note} ← {self.signed_by_name}"


class SampleVerdict(models.Model):
    """The customer's written verdict on the sample (客户书面回签, §5.2.4.3), with the customer's document."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", pgettext_lazy("sample verdict", "Approved")
        APPROVED_WITH_CONDITIONS = "approved_cond", pgettext_lazy("sample verdict", "Approved with conditions")
        REJECTED = "rejected", pgettext_lazy("sample verdict", "Rejected")

    request = models.ForeignKey(
        SampleRequest, on_delete=models.PROTECT, related_name="verdicts", verbose_name=_("sample request")
    )
    outcome = models.CharField(_("the customer's verdict"), max_length=14, choices=Outcome.choices)
    conditions = models.TextField(_("conditions"), blank=True)
    document = models.FileField(_("the customer's written verdict"), upload_to="samples/verdicts/%Y/", max_length=200)
    document_date = models.DateField(_("date of the customer's document"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sample verdict")
        verbose_name_plural = _("sample verdicts")
        ordering = ["request", "recorded_at", "pk"]
        constraints = [
            # Approved with conditions says which; the other verdicts carry none.
            models.CheckConstraint(
                condition=~Q(outcome="approved_cond") | ~Q(conditions=""), name="sample_verdict_conditions_given"
            )
        ]

    def __str__(self):
        return f"{self.request.reference} {self.get_outcome_display()}"
