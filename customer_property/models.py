"""Customer property (客供品, §5.10.3 《客户供应品管制程序》): what a customer lends or supplies us — moulds, fixtures,
materials, packaging, documents — from its receipt to its return.

The register entry (``PropertyItem``) carries the current state (where it is kept, its condition, the last check,
its return), changed only by the services, with every version kept (simple_history). Checks, incidents and the
customer's documents are records: written once, never edited or deleted; a correction is a new record.
Returning an item ends it: nothing more is recorded on it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from customers.models import CommunicationLog, Customer, Product


class PropertyCounter(models.Model):
    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Kind(models.TextChoices):
    MOULD = "mould", _("Mould")
    FIXTURE = "fixture", _("Fixture")
    MATERIAL = "material", _("Material")
    PACKAGING = "packaging", _("Packaging")
    DOCUMENT = "document", pgettext_lazy("customer property kind", "Document")


class Condition(models.TextChoices):
    GOOD = "good", _("Good")
    NEEDS_REPAIR = "needs_repair", _("Needs repair")
    DAMAGED = "damaged", _("Damaged")
    LOST = "lost", _("Lost")


# Kinds identified by a tool number and cavities; kinds counted in a quantity and a unit.
TOOL_KINDS = (Kind.MOULD, Kind.FIXTURE)
COUNTED_KINDS = (Kind.MATERIAL, Kind.PACKAGING)
# A condition the customer must be told about (an incident).
INCIDENT_CONDITIONS = (Condition.DAMAGED, Condition.LOST)


class PropertyItem(models.Model):
    number = models.CharField(_("register no."), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="property_items", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    customer_ref = models.CharField(_("the customer's no."), max_length=60, blank=True)
    mould_no = models.CharField(_("mould / fixture no."), max_length=60, blank=True)
    cavities = models.PositiveIntegerField(_("cavities"), null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    location = models.CharField(_("kept at"), max_length=120)
    condition = models.CharField(_("condition"), max_length=14, choices=Condition.choices, default=Condition.GOOD)
    products = models.ManyToManyField(
        Product, blank=True, related_name="customer_property", verbose_name=_("used for products")
    )
    notes = models.TextField(_("notes"), blank=True)

    received_on = models.DateField(_("received on"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=pgettext_lazy("customer property", "received by"),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    last_checked_on = models.DateField(_("last checked on"), null=True, blank=True)

    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    returned_to = models.CharField(_("returned to"), max_length=120, blank=True)
    return_note = models.TextField(_("return note"), blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(m2m_fields=[products])

    class Meta:
        verbose_name = _("customer property item")
        verbose_name_plural = _("customer property")
        ordering = ["-received_on", "-pk"]
        indexes = [
            models.Index(fields=["customer", "kind"]),
            models.Index(fields=["returned_on", "kind"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(cavities__isnull=True) | (Q(kind__in=TOOL_KINDS) & Q(cavities__gt=0)),
                name="custprop_cavities_only_for_tools",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=COUNTED_KINDS) & Q(quantity__gt=0) & ~Q(unit=""))
                | (~Q(kind__in=COUNTED_KINDS) & Q(quantity__isnull=True)),
                name="custprop_quantity_for_counted_kinds",
            ),
            models.CheckConstraint(condition=~Q(kind=Kind.MOULD) | ~Q(mould_no=""), name="custprop_mould_has_a_number"),
            models.CheckConstraint(
                condition=Q(returned_on__isnull=True) | Q(returned_on__gte=models.F("received_on")),
                name="custprop_returned_after_received",
            ),
            # One kept mould or fixture per number and customer (a returned one may come back as a new entry).
            models.UniqueConstraint(
                fields=["customer", "mould_no"],
                condition=Q(returned_on__isnull=True) & ~Q(mould_no=""),
                name="custprop_one_kept_tool_per_number",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.identification}"

    def get_absolute_url(self):
        return reverse("customer_property:detail", args=[self.number])

    @property
    def identification(self) -> str:
        """How people name it: the mould number first for tools, then the name."""
        parts = [self.mould_no, self.name] if self.mould_no else [self.name]
        return " ".join(p for p in parts if p)

    @property
    def is_returned(self) -> bool:
        return self.returned_on is not None


class PropertyCheck(models.Model):
    """A periodic check (or any check) of an item: the day, who, the condition found. A record."""

    item = models.ForeignKey(PropertyItem, on_delete=models.PROTECT, related_name="checks")
    checked_on = models.DateField(_("checked on"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checked by")
    )
    condition_found = models.CharField(_("condition found"), max_length=14, choices=Condition.choices)
    location = models.CharField(_("kept at"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer property check")
        verbose_name_plural = _("customer property checks")
        ordering = ["-checked_on", "-pk"]

    def __str__(self):
        return f"{self.item.number} {self.checked_on}"


class PropertyIncident(models.Model):
    """Damage or loss of an item, found in a check or reported on its own, and how the customer and the
    departments were told: one communication-log entry and one internal memo (《内部联络函》) each. A record."""

    class Kind(models.TextChoices):
        DAMAGED = Condition.DAMAGED.value, _("Damage")
        LOST = Condition.LOST.value, _("Loss")

    item = models.ForeignKey(PropertyItem, on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField(_("what happened"), max_length=14, choices=Kind.choices)
    found_on = models.DateField(_("found on"))
    description = models.TextField(_("description"))
    check_record = models.OneToOneField(
        PropertyCheck, on_delete=models.PROTECT, null=True, blank=True, related_name="incident"
    )
    told_by = models.CharField(_("customer told by"), max_length=10, choices=CommunicationLog.Channel.choices)
    communication = models.OneToOneField(
        CommunicationLog, on_delete=models.PROTECT, related_name="property_incident", verbose_name=_("communication")
    )
    memo = models.OneToOneField(
        "orders.Memo", on_delete=models.PROTECT, related_name="property_incident", verbose_name=_("internal memo")
    )
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer property incident")
        verbose_name_plural = _("customer property incidents")
        ordering = ["-found_on", "-pk"]

    def __str__(self):
        return f"{self.item.number} {self.get_kind_display()} {self.found_on}"


class PropertyDocument(models.Model):
    """A document of the customer's about an item (a drawing, a delivery list, a handover form). A record."""

    item = models.ForeignKey(PropertyItem, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(_("file"), upload_to="customer_property/%Y/")
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer property document")
        verbose_name_plural = _("customer property documents")
        ordering = ["item", "uploaded_at"]

    def __str__(self):
        return self.name
