"""After an order is confirmed (§5.4 to §5.9): production progress, delivery batches, carriers, delivery notes,
sign-back, returns and the daily delivery-progress sheet.

Issued delivery notes, sign-backs and sent sheets are records: never edited in place. A cancelled note keeps
its number and says why.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from common.validators import validate_name
from customers.models import Customer, DeliveryAddress
from orders.models import OrderLine

QTY = dict(max_digits=14, decimal_places=3)


# --- Production progress (§5.4.1) ----------------------------------------------------------------------


class ProductionProgress(models.Model):
    """PMC's progress on one order line: planned completion, produced, warehoused."""

    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="progress", verbose_name=_("line"))
    planned_completion = models.DateField(_("planned completion"), null=True, blank=True)
    produced = models.DecimalField(_("produced"), default=0, validators=[MinValueValidator(0)], **QTY)
    warehoused = models.DecimalField(_("warehoused"), default=0, validators=[MinValueValidator(0)], **QTY)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("production progress")
        verbose_name_plural = _("production progress")

    def __str__(self):
        return f"{self.line}"


class DelayReport(models.Model):
    """PMC's written delay report (reason, new date); Customer Service records how Marketing settled it."""

    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="delay_reports", verbose_name=_("line"))
    reason = models.TextField(_("reason"))
    new_date = models.DateField(_("new completion date"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)
    outcome = models.TextField(_("outcome with the customer"), blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delay report")
        verbose_name_plural = _("delay reports")
        ordering = ["-reported_at"]

    def __str__(self):
        return f"{self.line}: {self.new_date}"


# --- Delivery batches (§5.5) ------------------------------------------------------------------------------


class DeliveryBatch(models.Model):
    """交货批: part of an order line's quantity due on one date. The on-time rate counts batches."""

    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="batches", verbose_name=_("line"))
    quantity = models.DecimalField(_("quantity"), validators=[MinValueValidator(0.001)], **QTY)
    due_date = models.DateField(_("due date"))
    # Why the batch is due after the customer's date (the customer agreed); empty when it is due on or before it.
    due_reason = models.TextField(_("why due after the customer's date"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The delivery state, kept by delivery.ontime.batch_state_recompute in the same transaction as every change of
    # the batch's notes (never edited by hand): what issued notes carry, and the day the whole quantity was
    # delivered (the delivery date of the note that completed it), NULL while part is outstanding. The on-time
    # rate reads these: on time when delivered_on <= due_date.
    delivered_quantity = models.DecimalField(_("delivered"), default=0, editable=False, **QTY)
    delivered_on = models.DateField(_("delivered in full on"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("delivery batch")
        verbose_name_plural = _("delivery batches")
        ordering = ["due_date", "pk"]
        indexes = [
            models.Index(fields=["due_date"]),
            # The monthly on-time count reads only these columns of the batches due in a range (index-only).
            models.Index(fields=["due_date", "delivered_on", "line"], name="batch_ontime_idx"),
            # What each order line has planned (selectors: the unplanned part of a line counts as a batch).
            models.Index(fields=["line", "quantity"], name="batch_line_quantity_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="batch_quantity_positive")]

    def __str__(self):
        return f"{self.line} {self.quantity} @ {self.due_date}"


class BatchDueChange(models.Model):
    """A batch's due date moved (later: with the customer's agreement as the reason). A record: never edited."""

    # Goes with its batch: a batch withdrawn from a cancelled or changed order (orders/hooks) takes its moves along.
    batch = models.ForeignKey(DeliveryBatch, on_delete=models.CASCADE, related_name="due_changes")
    old_date = models.DateField(_("old due date"))
    new_date = models.DateField(_("new due date"))
    reason = models.TextField(_("reason"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("due date change")
        verbose_name_plural = _("due date changes")
        ordering = ["batch", "changed_at", "pk"]

    def __str__(self):
        return f"{self.batch_id}: {self.old_date} → {self.new_date}"


# --- Carriers (§5.5.3) ------------------------------------------------------------------------------------


class Carrier(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["name"]

    def __str__(self):
        return self.name


class CarrierAgreement(models.Model):
    """The transport agreement with its product-protection terms; a carrier without a valid one is not chosen."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("carrier"))
    reference = models.CharField(_("agreement no."), max_length=60)
    protection_terms = models.TextField(_("product-protection terms"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    signed_file = models.FileField(_("signed agreement"), upload_to="delivery/agreements/%Y/", blank=True)
    # A retired agreement (ended early, replaced, entered by mistake) is kept but no longer makes a carrier usable.
    active = models.BooleanField(_("in force"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("carrier agreement")
        verbose_name_plural = _("carrier agreements")
        ordering = ["carrier", "-valid_to"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__gte=F("valid_from")), name="agreement_ends_after_start")
        ]

    def __str__(self):
        return f"{self.carrier} {self.reference}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The agreement ends before it starts.")})


class Vehicle(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("carrier"))
    plate = models.CharField(_("plate number"), max_length=20)
    kind = models.CharField(_("vehicle type"), max_length=60, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["carrier", "plate"]

    def __str__(self):
        return self.plate

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.active and self.carrier_id and not self.carrier.active:
            raise ValidationError(
                _("%(carrier)s is retired: its vehicles cannot be in use.") % {"carrier": self.carrier}
            )


# --- Delivery notes (§5.6) --------------------------------------------------------------------------------


class NoteCounter(models.Model):
    """The last delivery-note number issued per year (row-locked: numbers never skip or repeat)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class DeliveryNote(models.Model):
    """送货单 (with its vehicle dispatch request, 车辆调度申请单): one customer and address, lines from batches."""

    class Status(models.TextChoices):
        ISSUED = "issued", pgettext_lazy("delivery note status", "Issued")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("delivery note no."), max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="delivery_notes")
    address = models.ForeignKey(DeliveryAddress, on_delete=models.PROTECT, related_name="+")
    # What the note said when issued: editing the customer's address later changes new notes only.
    address_label = models.CharField(_("label"), max_length=60, blank=True)
    address_text = models.CharField(_("delivery address"), max_length=300, blank=True)
    address_receiver = models.CharField(_("receiver"), max_length=100, blank=True)
    address_phone = models.CharField(_("phone"), max_length=40, blank=True)
    delivery_date = models.DateField(_("delivery date"))
    expected_arrival = models.DateTimeField(_("expected arrival"), null=True, blank=True)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="notes")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="notes")
    customs_checklist = models.JSONField(_("customs paperwork"), default=dict, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    # A note dated before the day it was issued says why (kept with the note; the on-time rate reads the date).
    backdate_reason = models.TextField(_("why dated before the day of issue"), blank=True)
    # Processing-trade transfer (结转, §5.9): done when the customs transfer of this delivery is completed.
    transfer_completed_on = models.DateField(_("transfer completed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    cancel_reason = models.TextField(_("why cancelled"), blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delivery note")
        verbose_name_plural = _("delivery notes")
        ordering = ["-issued_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "delivery_date"]),
            # The note list's default order (newest delivery first): a page is read from the index, not sorted.
            models.Index(fields=["-delivery_date", "-id"], name="note_newest_first"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("delivery:note", args=[self.number])


class DeliveryNoteLine(models.Model):
    note = models.ForeignKey(DeliveryNote, on_delete=models.PROTECT, related_name="lines")
    batch = models.ForeignKey(DeliveryBatch, on_delete=models.PROTECT, related_name="note_lines")
    quantity = models.DecimalField(_("quantity"), validators=[MinValueValidator(0.001)], **QTY)
    # The product as the note named it when issued: renaming the product later changes new notes only.
    product_code = models.CharField(_("product code"), max_length=40, blank=True)
    product_name = models.CharField(_("name"), max_length=200, blank=True)
    product_spec = models.CharField(_("specification"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("delivery note line")
        verbose_name_plural = _("delivery note lines")
        ordering = ["note", "pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="note_line_quantity_positive")]

    def __str__(self):
        return f"{self.note} {self.batch_id} {self.quantity}"


class SignBack(models.Model):
    """回签: the stamped and signed delivery note, scanned, with who signed and when (§5.8)."""

    note = models.OneToOneField(DeliveryNote, on_delete=models.PROTECT, related_name="sign_back")
    scan = models.FileField(_("signed note (scan)"), upload_to="delivery/signbacks/%Y/%m/")
    signed_by_name = models.CharField(_("signed by (customer)"), max_length=100, validators=[validate_name])
    signed_on = models.DateField(_("signed on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sign-back")
        verbose_name_plural = _("sign-backs")

    def __str__(self):
        return f"{self.note} ← {self.signed_by_name}"


class TransitIncident(models.Model):
    note = models.ForeignKey(DeliveryNote, on_delete=models.PROTECT, related_name="incidents")
    happened_on = models.DateField(_("date"))
    description = models.TextField(_("what happened"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("incident in transit")
        verbose_name_plural = _("incidents in transit")
        ordering = ["-happened_on"]

    def __str__(self):
        return self.description[:60]


class Return(models.Model):
    """退货 (§5.7): goods of a delivery-note line coming back, with Quality's internal memo."""

    class Status(models.TextChoices):
        OPEN = "open", _("Pickup to arrange")
        PICKED_UP = "picked_up", _("Picked up")
        CLOSED = "closed", pgettext_lazy("return status", "Closed")

    note_line = models.ForeignKey(DeliveryNoteLine, on_delete=models.PROTECT, related_name="returns")
    quantity = models.DecimalField(_("quantity"), validators=[MinValueValidator(0.001)], **QTY)
    reason = models.TextField(_("reason"))
    pickup_date = models.DateField(_("pickup date"), null=True, blank=True)
    # Before numbered memos: the write-up as plain text (kept for returns recorded then; new ones use memos).
    quality_memo = models.TextField(_("Quality's internal memo"), blank=True)
    # Quality's write-ups as numbered internal memos (《内部联络函》): a new write-up is a new memo, never an edit.
    memos = models.ManyToManyField("orders.Memo", blank=True, related_name="returns", verbose_name=_("memos"))
    picked_up_on = models.DateField(_("picked up on"), null=True, blank=True)
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    replacement = models.ForeignKey(
        DeliveryBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="replaces"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Who moved the return along and when (pickup, Quality's memos, closing), as a trail.
    history = HistoricalRecords(m2m_fields=[memos])

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.note_line} −{self.quantity}"


# --- The daily delivery-progress sheet (§5.4.2) -------------------------------------------------------------


class DailySheetRun(models.Model):
    """One sending of 《订单交货进度表》. At most one scheduled send per day (unique); --force adds another."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    day = models.DateField(_("day"))
    forced = models.BooleanField(_("sent again by hand"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    workbook = models.FileField(_("sheet"), upload_to="delivery/sheets/%Y/", blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life (queued, each attempt): a run left "sending" by a worker that stopped is failed.
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily sheet sending")
        verbose_name_plural = _("daily sheet sendings")
        ordering = ["-day", "-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["day"], condition=Q(forced=False), name="daily_sheet_once_per_day")
        ]

    def __str__(self):
        return f"{self.day} {self.status}"


class PrintJob(models.Model):
    """Many delivery notes printed as one PDF, made by a background job with visible progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the job queue")
        RUNNING = "running", _("Printing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    notes = models.JSONField(_("delivery notes"))
    layout = models.CharField(_("layout"), max_length=10, default="a4")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    pdf = models.FileField(upload_to="delivery/print/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    # Last sign of life (queued, claimed, each chunk printed): a job whose worker stopped is failed (common.stale).
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{len(self.notes)} notes ({self.status})"


# --- The vehicle dispatch request and the customs work of a delivery (§5.6.1, §5.6.2, §5.9.2) ---------------------


class DispatchCounter(models.Model):
    """The last vehicle dispatch request number issued per year (row-locked like the note counter)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class DispatchRequest(models.Model):
    """车辆调度申请单 (§5.6.1): Customer Service's numbered request for a vehicle, opened with its delivery note.
    The carrier, vehicle and destination are copied when it is made: the printed request says what was asked."""

    number = models.CharField(_("dispatch request no."), max_length=20, unique=True)
    note = models.OneToOneField(
        DeliveryNote, on_delete=models.PROTECT, related_name="dispatch", verbose_name=_("delivery note")
    )
    use_date = models.DateField(_("vehicle needed on"))
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("carrier")
    )
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("vehicle")
    )
    destination = models.TextField(_("destination"))
    expected_arrival = models.DateTimeField(_("expected arrival"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vehicle dispatch request")
        verbose_name_plural = _("vehicle dispatch requests")
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return self.number


class CustomsWork(models.Model):
    """The customs side of one delivery note: the export paperwork of a direct export (§5.6.2), or the
    processing-trade transfer (结转) of a domestic delivery (§5.9.2). Customs does it; Customer Service assists
    and sees the state. Each change is kept with who and when (history)."""

    class Kind(models.TextChoices):
        EXPORT = "export", _("Export paperwork")
        TRANSFER = "transfer", _("Processing-trade transfer (结转)")

    note = models.OneToOneField(
        DeliveryNote, on_delete=models.PROTECT, related_name="customs_work", verbose_name=_("delivery note")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # item key -> {"by": user id, "at": ISO time}: the export paperwork done so far.
    done = models.JSONField(_("paperwork done"), default=dict, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    completed_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("customs work")
        verbose_name_plural = _("customs work")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["kind", "completed_at"])]

    def __str__(self):
        return f"{self.note} {self.kind}"


# --- The on-time rate's closed months (§5.5.2) ----------------------------------------------------------------


class OnTimeMonth(models.Model):
    """A month of the on-time rate (all customers), closed ``ONTIME_CLOSE_DAYS`` after its end and kept as a
    record: the figures as they were when it closed. A later change is an OnTimeRestatement, never an edit."""

    month = models.DateField(_("month"), unique=True)  # its first day
    due = models.PositiveIntegerField(_("due"))
    on_time = models.PositiveIntegerField(_("on time"))
    delivered_late = models.PositiveIntegerField(_("delivered late"))
    not_delivered = models.PositiveIntegerField(_("not delivered"))
    closed_at = models.DateTimeField(_("closed"), auto_now_add=True)

    class Meta:
        verbose_name = _("closed on-time month")
        verbose_name_plural = _("closed on-time months")
        ordering = ["-month"]

    def __str__(self):
        return f"{self.month:%Y-%m}"


class OnTimeRestatement(models.Model):
    """A change to a closed month's figures after it closed, with its reason (§5.5.2, records §7.0)."""

    closed_month = models.ForeignKey(OnTimeMonth, on_delete=models.PROTECT, related_name="restatements")
    due = models.PositiveIntegerField(_("due"))
    on_time = models.PositiveIntegerField(_("on time"))
    delivered_late = models.PositiveIntegerField(_("delivered late"))
    not_delivered = models.PositiveIntegerField(_("not delivered"))
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("restatement")
        verbose_name_plural = _("restatements")
        ordering = ["closed_month", "recorded_at", "pk"]

    def __str__(self):
        return f"{self.closed_month}: {self.reason[:60]}"
