"""Sales orders and their review (§5.2, §5.3).

An order's content lives in the Order and its lines; every submitted state of that content is kept as an
OrderRevision (a snapshot), and every signature points to the revision it signed. Signed steps, head
sign-offs and sent acknowledgements are records: they are never updated after signing, only superseded
by the steps of a later revision.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Dept
from customers.models import Currency, Customer, DeliveryAddress, Product

# The departments that review every order (§5.2.4), in the order the order page shows them.
REVIEW_DEPARTMENTS = (Dept.PRODUCT, Dept.MARKETING, Dept.CS, Dept.TECH, Dept.PMC, Dept.QA)


class Order(models.Model):
    class Source(models.TextChoices):
        FAX = "fax", _("Fax")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        ON_HOLD = "on_hold", _("Objection raised")
        AWAITING_SIGNOFF = "awaiting_signoff", _("Waiting for the head's sign-off")
        SIGNED_OFF = "signed_off", _("Signed off")
        CONFIRMED = "confirmed", _("Confirmed to the customer")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("order no."), max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer"))
    customer_po = models.CharField(_("customer PO no."), max_length=60)
    source = models.CharField(_("received by"), max_length=10, choices=Source.choices, default=Source.FAX)
    original = models.FileField(_("scanned original"), upload_to="orders/originals/%Y/%m/", blank=True)
    delivery_address = models.ForeignKey(
        DeliveryAddress,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery address"),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    payment_terms = models.CharField(_("payment terms"), max_length=100, blank=True)
    incoterm = models.CharField(_("Incoterms"), max_length=3, blank=True)
    packaging = models.TextField(_("packaging requirements"), blank=True)
    labelling = models.TextField(_("labelling requirements"), blank=True)
    inspection = models.TextField(_("inspection requirements"), blank=True)
    other_requirements = models.TextField(_("other requirements"), blank=True)
    erp_number = models.CharField(_("SAP order no."), max_length=30, blank=True)
    # Recorded once, after the head's sign-off, and never overwritten: who and when are kept with it.
    erp_number_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SAP order no. recorded by"),
    )
    erp_number_at = models.DateTimeField(_("SAP order no. recorded at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(_("revision"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The fields a revision snapshots and compares, and the departments a change to each concerns (§5.3).
    HEADER_FIELDS = (
        "customer_po",
        "delivery_address_id",
        "currency",
        "payment_terms",
        "incoterm",
        "packaging",
        "labelling",
        "inspection",
        "other_requirements",
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="order_newest_first"),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["customer", "-created_at"]),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("orders:detail", args=[self.number])

    @property
    def is_new_product(self) -> bool:
        return any(line.product.is_new for line in self.lines.all())

    @property
    def has_customer_mould(self) -> bool:
        return any(line.product.customer_owned_mould for line in self.lines.all())


class OrderCounter(models.Model):
    """The last order number issued per year; locked row, so numbers never repeat under concurrency."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    position = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, validators=[MinValueValidator(0.001)]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)]
    )
    requested_date = models.DateField(_("requested date"))
    confirmed_date = models.DateField(_("confirmed date"), null=True, blank=True)
    # What the delivery app has of the line, summed from its delivery batches: the quantity planned in batches, what
    # issued notes delivered against them, and the earliest due date of a batch with quantity outstanding (NULL when
    # none). Kept by delivery (``delivery.ontime.line_state_recompute``) in the transaction of every change of the
    # line's batches and of their delivery state, like a counter; orders never writes or reads them. The progress
    # sheet, readiness and the on-time rate read these instead of summing every line's batches.
    planned_quantity = models.DecimalField(
        _("planned in batches"), max_digits=14, decimal_places=3, default=0, editable=False
    )
    delivered_quantity = models.DecimalField(_("delivered"), max_digits=14, decimal_places=3, default=0, editable=False)
    next_batch_due = models.DateField(_("next batch due"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position"]
        constraints = [models.UniqueConstraint(fields=["order", "position"], name="order_line_position_unique")]
        indexes = [
            # Partial indexes over the few lines still open or not fully planned: the sheet, readiness and the
            # unplanned parts of the on-time rate start from these instead of reading every line.
            models.Index(fields=["order"], condition=Q(quantity__gt=F("delivered_quantity")), name="line_open_idx"),
            models.Index(fields=["order"], condition=Q(quantity__gt=F("planned_quantity")), name="line_unplanned_idx"),
        ]

    def __str__(self):
        return f"{self.order.number}/{self.position}"


class VerbalRequirement(models.Model):
    """A requirement the customer gave only by word of mouth (§5.2.3): blocks acceptance until confirmed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="verbal_requirements")
    text = models.TextField(_("requirement"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    confirmation = models.FileField(
        _("customer's written confirmation"), upload_to="orders/confirmations/%Y/%m/", blank=True
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("verbal requirement")
        verbose_name_plural = _("verbal requirements")
        ordering = ["recorded_at", "pk"]

    def __str__(self):
        return self.text[:60]


class OrderRevision(models.Model):
    """The order as it was submitted for review: the first submission, then every change."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Submitted for review")
        CHANGE = "change", _("Change")
        CANCEL = "cancel", _("Cancellation")

    class Origin(models.TextChoices):
        CUSTOMER = "customer", _("Requested by the customer")
        COMPANY = "company", _("Our company")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.INITIAL)
    origin = models.CharField(_("requested by"), max_length=10, choices=Origin.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    snapshot = models.JSONField(_("content"))
    changes = models.JSONField(_("changes"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order revision")
        verbose_name_plural = _("order revisions")
        ordering = ["order", "number"]
        constraints = [models.UniqueConstraint(fields=["order", "number"], name="order_revision_unique")]

    def __str__(self):
        return f"{self.order} r{self.number}"


class Checklist(models.Model):
    """A department's review checklist (§5.2.4). Editing makes a new version; steps keep theirs."""

    department = models.CharField(_("department"), max_length=40, choices=[(d, d) for d in REVIEW_DEPARTMENTS])
    version = models.PositiveIntegerField(_("version"))
    items = models.JSONField(_("items"), help_text=_("One question per line; each has a Chinese and English text."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review checklist")
        verbose_name_plural = _("review checklists")
        ordering = ["department", "-version"]
        constraints = [models.UniqueConstraint(fields=["department", "version"], name="checklist_version_unique")]

    def __str__(self):
        return f"{self.department} v{self.version}"


class ReviewStep(models.Model):
    """One department's review of one revision. Signed or objected steps are records."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting")
        SIGNED = "signed", _("Signed")
        OBJECTED = "objected", _("Objection raised")
        SUPERSEDED = "superseded", _("Re-opened by a change")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="steps")
    revision = models.PositiveIntegerField(_("revision"))
    department = models.CharField(_("department"), max_length=40)
    checklist = models.ForeignKey(Checklist, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    answers = models.JSONField(_("answers"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    confirmed_dates = models.JSONField(_("confirmed dates"), default=dict, blank=True)  # PMC: line position → date

    class Meta:
        verbose_name = _("review step")
        verbose_name_plural = _("review steps")
        ordering = ["order", "revision", "pk"]
        indexes = [models.Index(fields=["department", "status"])]
        constraints = [
            # At most one live (open or signed) step per department and order; objected and superseded
            # steps stay as records beside it.
            models.UniqueConstraint(
                fields=["order", "department"],
                condition=models.Q(status__in=["open", "signed"]),
                name="review_step_one_live_per_department",
            )
        ]

    def __str__(self):
        return f"{self.order} r{self.revision} {self.department}"


class Objection(models.Model):
    """异议: a department's objection; Marketing settles it with the customer and the review resumes."""

    step = models.OneToOneField(ReviewStep, on_delete=models.PROTECT, related_name="objection")
    reason = models.TextField(_("reason"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    outcome = models.TextField(_("outcome with the customer"), blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self):
        return self.reason[:60]


class SignOff(models.Model):
    """签核: the marketing head's sign-off of one revision."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="signoffs")
    revision = models.PositiveIntegerField(_("revision"))
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("head sign-off")
        verbose_name_plural = _("head sign-offs")
        constraints = [models.UniqueConstraint(fields=["order", "revision"], name="signoff_once_per_revision")]

    def __str__(self):
        return f"{self.order} r{self.revision}"


class Acknowledgement(models.Model):
    """The order acknowledgement sent to the customer for one signed-off revision (§5.2.3). A record."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Being sent")
        # Handed to the mail server: if the worker stops here nobody knows whether the customer got it.
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Sending failed")
        # The worker stopped while sending: the customer may have it. A person checks before sending again.
        UNSURE = "unsure", _("Interrupted while sending: check with the customer")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="acknowledgements")
    revision = models.PositiveIntegerField(_("revision"))
    recipient = models.EmailField(_("sent to"))
    # Whom Customer Service chose when it previewed the acknowledgement: the customer's contacts it goes to
    # (``recipient`` is the first of them) and the addresses that get a copy.
    recipients = models.JSONField(_("to"), default=list, blank=True)
    cc = models.JSONField(_("copy to"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    pdf = models.FileField(_("acknowledgement (PDF)"), upload_to="orders/acknowledgements/%Y/", blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Last sign of life (queued, each attempt, handed to the mail server): see common.stale.
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("order acknowledgement")
        verbose_name_plural = _("order acknowledgements")
        ordering = ["order", "revision"]
        constraints = [models.UniqueConstraint(fields=["order", "revision"], name="acknowledgement_once_per_revision")]

    def __str__(self):
        return f"{self.order} r{self.revision} → {self.recipient}"


class ChangeRequest(models.Model):
    """A change or cancellation (§5.3.1). From the customer it waits for the sales head's confirmation; from
    our company it applies at once. Applying makes a new revision and an internal memo."""

    class Kind(models.TextChoices):
        CHANGE = "change", _("Change")
        CANCEL = "cancel", _("Cancellation")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the sales head's confirmation")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="change_requests")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    origin = models.CharField(_("requested by"), max_length=10, choices=OrderRevision.Origin.choices)
    reason = models.TextField(_("reason"))
    proposed = models.JSONField(_("proposed content"), default=dict, blank=True)
    base_revision = models.PositiveIntegerField(_("based on revision"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    revision = models.PositiveIntegerField(_("resulting revision"), null=True, blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["order", "requested_at"]

    def __str__(self):
        return f"{self.order} {self.kind} ({self.status})"


class MemoCounter(models.Model):
    """The last number of the memos not tied to an order revision, per year (returns, meeting minutes)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Memo(models.Model):
    """《内部联络函》: the internal memo that tells the departments concerned about something they must act on:
    an order's change or cancellation (§5.3), Quality's write-up of a return (§5.7), the minutes of an
    improvement meeting (§5.12.6). Each department acknowledges it; it is never edited once issued."""

    class Topic(models.TextChoices):
        ORDER_CHANGE = "order_change", _("Order change or cancellation")
        RETURN = "return", _("Return")
        MEETING = "meeting", _("Improvement meeting")
        OTHER = "other", _("Other")

    topic = models.CharField(_("about"), max_length=20, choices=Topic.choices, default=Topic.ORDER_CHANGE)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="memos", null=True, blank=True)
    number = models.CharField(_("memo no."), max_length=24, unique=True)
    revision = models.PositiveIntegerField(_("revision"), default=0)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("content"))
    departments = models.JSONField(_("to departments"), default=list)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("internal memo")
        verbose_name_plural = _("internal memos")
        ordering = ["-issued_at"]

    def __str__(self):
        return self.number


class MemoReceipt(models.Model):
    """One department's acknowledgement of a memo; who has not acknowledged is visible."""

    memo = models.ForeignKey(Memo, on_delete=models.CASCADE, related_name="receipts")
    department = models.CharField(_("department"), max_length=40)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("memo receipt")
        verbose_name_plural = _("memo receipts")
        constraints = [models.UniqueConstraint(fields=["memo", "department"], name="memo_receipt_once")]
        indexes = [models.Index(fields=["department", "acknowledged_at"])]

    def __str__(self):
        return f"{self.memo} {self.department}"
