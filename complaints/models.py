"""Customer complaints (客诉, §5.10.2): from receipt to the customer's acceptance of our answer.

A complaint moves received → acknowledged (to the customer) → investigated (by the department responsible:
Quality for quality) → answered (to the customer) → closed (the customer accepts). Each step keeps its date
and who did it; the record is never edited in place and never deleted (history kept, PROTECT everywhere).
Numbers are per year without gaps (a locked counter row, as delivery notes).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from customers.models import Customer, QualityProblem
from delivery.models import DeliveryNote, Return
from orders.models import Order


class ComplaintCounter(models.Model):
    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Complaint(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        VISIT = "visit", _("Visit")
        CUSTOMER_REPORT = "customer_report", _("The customer's own report")
        OTHER = "other", _("Other")

    class Category(models.TextChoices):
        QUALITY = "quality", pgettext_lazy("complaint category", "Quality")
        DELIVERY = "delivery", _("Delivery")
        QUANTITY = "quantity", _("Quantity")
        PACKAGING = "packaging", _("Packaging")
        DOCUMENTS = "documents", _("Documents")
        SERVICE = "service", _("Service")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged to the customer")
        INVESTIGATED = "investigated", _("Investigated")
        ANSWERED = "answered", _("Answer sent to the customer")
        CLOSED = "closed", _("Closed (accepted by the customer)")

    number = models.CharField(_("complaint no."), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("customer")
    )
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices, default=Channel.PHONE)
    received_on = models.DateField(_("received on"))
    description = models.TextField(_("what the customer says"))
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    # The department that investigates (§5.10.2 with the complaints procedure): Quality for quality.
    department = models.CharField(_("investigated by"), max_length=40)
    orders = models.ManyToManyField(Order, blank=True, related_name="complaints", verbose_name=_("orders"))
    notes = models.ManyToManyField(
        DeliveryNote, blank=True, related_name="complaints", verbose_name=_("delivery notes")
    )
    returns = models.ManyToManyField(Return, blank=True, related_name="complaints", verbose_name=_("returns"))
    quality_problem = models.OneToOneField(
        QualityProblem, on_delete=models.PROTECT, null=True, blank=True, related_name="complaint"
    )
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.RECEIVED)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    acknowledged_on = models.DateField(_("acknowledged on"), null=True, blank=True)
    acknowledgement = models.TextField(_("what we told the customer"), blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    cause = models.TextField(_("cause found"), blank=True)
    action_taken = models.TextField(_("what is done about it"), blank=True)
    investigated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    investigated_at = models.DateTimeField(null=True, blank=True)

    answer = models.TextField(_("answer to the customer"), blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    accepted_on = models.DateField(_("accepted by the customer on"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["status", "received_on"]), models.Index(fields=["customer", "received_on"])]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("complaints:detail", args=[self.number])


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to="complaints/%Y/")
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["complaint", "uploaded_at"]

    def __str__(self):
        return self.name
