"""Customer master data (§5.1, §5.2.2, §5.10)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from common.validators import validate_name


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan (CNY)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    HKD = "HKD", _("Hong Kong dollar (HKD)")
    JPY = "JPY", _("Japanese yen (JPY)")


class Incoterm(models.TextChoices):
    EXW = "EXW", "EXW"
    FCA = "FCA", "FCA"
    FOB = "FOB", "FOB"
    CFR = "CFR", "CFR"
    CIF = "CIF", "CIF"
    CPT = "CPT", "CPT"
    CIP = "CIP", "CIP"
    DAP = "DAP", "DAP"
    DPU = "DPU", "DPU"
    DDP = "DDP", "DDP"


class Customer(models.Model):
    class Kind(models.TextChoices):
        OWN = "own", _("Own product")
        OEM = "oem", _("OEM")

    class Status(models.TextChoices):
        DEVELOPMENT = "development", _("In development")
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    class Trade(models.TextChoices):
        DOMESTIC = "domestic", _("Domestic")
        EXPORT = "export", _("Export")
        TRANSFER = "transfer", _("Processing-trade transfer (结转)")

    code = models.CharField(
        _("customer code"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9][A-Z0-9_-]*$",
                _("Use capital letters, digits, '-' and '_' only (e.g. C-0012)."),
            )
        ],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True, validators=[validate_name])
    name_en = models.CharField(_("English name"), max_length=200, blank=True, validators=[validate_name])
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OWN)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DEVELOPMENT)
    trade = models.CharField(_("trade type"), max_length=10, choices=Trade.choices, default=Trade.DOMESTIC)
    # Customs data for export and processing-trade transfer customers (§5.2.4.2, §5.9.2).
    customs_code = models.CharField(_("customs registration code"), max_length=30, blank=True)
    customs_handbook = models.CharField(
        _("processing-trade handbook no."), max_length=40, blank=True, help_text=_("For transfer (结转) customers.")
    )
    # Trade terms, checked against every order (§5.2.4.1, §5.2.4.2).
    payment_terms = models.CharField(_("payment terms"), max_length=100, blank=True)
    incoterm = models.CharField(_("Incoterms"), max_length=3, choices=Incoterm.choices, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=13,
        help_text=_("VAT in percent, e.g. 13."),
        # The same range as the check constraint, as field validators: forms and imports report it per field
        # without the query a constraint check costs.
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    marketing_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager (Marketing)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cs_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner in Customer Service"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    important_in_development = models.BooleanField(
        _("important customer in development"),
        default=False,
        help_text=_("Named by Marketing; always surveyed for satisfaction (§5.11.1)."),
    )
    cooperation_since = models.DateField(_("customer since"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(name_zh="") | ~Q(name_en=""), name="customer_has_a_name"),
            models.CheckConstraint(condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="customer_tax_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name_zh or self.name_en

    @property
    def is_export(self) -> bool:
        return self.trade in (self.Trade.EXPORT, self.Trade.TRANSFER)

    def mail_contact(self) -> str:
        """The e-mail address documents go to: the primary contact's, else the first contact's that has one."""
        contacts = sorted((c for c in self.contacts.all() if c.email), key=lambda c: (not c.is_primary, c.pk))
        return contacts[0].email if contacts else ""


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=100, validators=[validate_name])
    title = models.CharField(_("position"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    receives_surveys = models.BooleanField(_("receives satisfaction surveys"), default=False)
    # The language of what the app sends this contact (survey invitations and reminders).
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans", blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="one_primary_contact_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DeliveryAddress(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("customer")
    )
    label = models.CharField(_("label"), max_length=60, help_text=_("e.g. Main plant, Warehouse 2"))
    address = models.CharField(_("address"), max_length=300)
    receiver = models.CharField(_("receiver"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_default = models.BooleanField(_("default address"), default=False)
    active = models.BooleanField(_("in use"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("delivery address")
        verbose_name_plural = _("delivery addresses")
        ordering = ["-is_default", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_default=True), name="one_default_address_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.address}"


class Product(models.Model):
    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, validators=[validate_name])
    spec = models.CharField(_("specification"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=10, default="PCS")
    is_new = models.BooleanField(_("new product"), default=False)
    customer_owned_mould = models.BooleanField(_("customer-owned mould (客户私模)"), default=False)
    mould_owner = models.ForeignKey(
        Customer,
        verbose_name=_("mould owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_mould_products",
    )
    active = models.BooleanField(_("in use"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Quotation(models.Model):
    """《报价单》: the agreed unit price of a product for a customer, valid for a period."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="quotations", verbose_name=_("customer")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="quotations", verbose_name=_("product"))
    reference = models.CharField(_("quotation no."), max_length=40, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("Empty: until further notice."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quotation")
        verbose_name_plural = _("quotations")
        ordering = ["customer", "product", "-valid_from"]
        indexes = [models.Index(fields=["customer", "product", "valid_from"])]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quotation_price_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="quotation_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer.code} {self.product.code} {self.unit_price} {self.currency}"


class EnvironmentalRequirement(models.Model):
    """A line of Quality's 《客户环保要求一览表》 (§5.2.2)."""

    class Standard(models.TextChoices):
        ROHS = "rohs", "RoHS"
        REACH = "reach", "REACH"
        HALOGEN_FREE = "halogen_free", _("Halogen-free")
        PAHS = "pahs", _("PAHs")
        PROP65 = "prop65", "California Prop 65"
        POPS = "pops", _("POPs")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="environmental_requirements", verbose_name=_("customer")
    )
    standard = models.CharField(_("standard"), max_length=20, choices=Standard.choices)
    detail = models.CharField(
        _("detail"), max_length=200, blank=True, help_text=_("Version, limits or the name of another standard.")
    )
    document_ref = models.CharField(_("document reference"), max_length=100, blank=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("environmental requirement")
        verbose_name_plural = _("environmental requirements")
        ordering = ["customer", "standard"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(expires_on__gte=F("effective_from")),
                name="envreq_period_order",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_standard_display()
        return f"{label} {self.detail}".strip()


class CustomerEvaluation(models.Model):
    """《客户资料评估表》 (§5.1.1): filled by Marketing, decided by the marketing head, filed by CS.

    An approved form is a record and is never edited; a new version supersedes it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for rework")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    class Credit(models.TextChoices):
        GOOD = "good", _("Good")
        NORMAL = "normal", _("Normal")
        RISKY = "risky", _("Risky")

    OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)
    LOCKED_STATUSES = (Status.APPROVED, Status.SUPERSEDED)

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("customer")
    )
    version = models.PositiveIntegerField(_("version"))
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("supersedes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)

    # The form's content.
    business_scope = models.TextField(_("business and main products"), blank=True)
    established_year = models.PositiveIntegerField(_("year established"), null=True, blank=True)
    registered_capital = models.CharField(_("registered capital"), max_length=60, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    certifications = models.CharField(
        _("certifications"), max_length=200, blank=True, help_text=_("e.g. ISO 9001, IATF 16949, ISO 14001")
    )
    expected_annual_volume = models.CharField(_("expected annual volume"), max_length=100, blank=True)
    proposed_payment_terms = models.CharField(_("proposed payment terms"), max_length=100, blank=True)
    credit_rating = models.CharField(_("credit assessment"), max_length=10, choices=Credit.choices, blank=True)
    quality_requirements = models.TextField(_("quality requirements"), blank=True)
    environmental_requirements = models.TextField(_("environmental requirements"), blank=True)
    risks = models.TextField(_("risks"), blank=True)
    recommendation = models.TextField(_("Marketing's recommendation"), blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("prepared by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("head's comment"), blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filed by"),
    )
    filed_at = models.DateTimeField(_("filed with Customer Service"), null=True, blank=True)

    history = HistoricalRecords()

    CONTENT_FIELDS = (
        "business_scope",
        "established_year",
        "registered_capital",
        "employees",
        "certifications",
        "expected_annual_volume",
        "proposed_payment_terms",
        "credit_rating",
        "quality_requirements",
        "environmental_requirements",
        "risks",
        "recommendation",
    )

    class Meta:
        verbose_name = _("customer evaluation form")
        verbose_name_plural = _("customer evaluation forms")
        ordering = ["customer", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "version"], name="evaluation_version_unique"),
            # At most one form in the works and one approved (current) form per customer.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["draft", "submitted", "returned"]),
                name="one_open_evaluation_per_customer",
            ),
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status="approved"), name="one_approved_evaluation_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer.code} v{self.version}"

    @property
    def is_locked(self) -> bool:
        return self.status in self.LOCKED_STATUSES


class QualityProblem(models.Model):
    """A quality problem in goods made for the customer (历史做货之品质异常), kept by Quality. Reviewers of the
    customer's next orders see the open ones (§5.2.4.5: earlier problems fixed?)."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("quality problem status", "Open")
        FIXED = "fixed", _("Fixed")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="quality_problems", verbose_name=_("customer")
    )
    reported_on = models.DateField(_("reported on"))
    product = models.ForeignKey(
        "Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    description = models.TextField(_("problem"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    fixed_on = models.DateField(_("fixed on"), null=True, blank=True)
    # Who recorded the fix and when (the history keeps every change with its author too).
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fix recorded by"),
    )
    fixed_at = models.DateTimeField(_("fix recorded at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quality problem")
        verbose_name_plural = _("quality problems")
        ordering = ["-reported_on", "-pk"]

    def __str__(self):
        return self.description[:60]


class CommunicationLog(models.Model):
    """§5.10.1: what Marketing and Customer Service discussed with the customer."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        VISIT = "visit", _("Visit")
        MEETING = "meeting", _("Meeting")
        WECHAT = "wechat", _("WeChat")
        FAX = "fax", _("Fax")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="communications", verbose_name=_("customer")
    )
    date = models.DateField(_("date"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("contact")
    )
    summary = models.TextField(_("summary"))
    follow_up = models.TextField(_("follow-up"), blank=True)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    follow_up_done = models.BooleanField(_("follow-up done"), default=False)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("communication")
        verbose_name_plural = _("communication log")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["follow_up_done", "follow_up_due"])]

    def __str__(self) -> str:
        return f"{self.customer.code} {self.date} {self.get_channel_display()}"


class ImportJob(models.Model):
    """An Excel customer import: previewed first, imported only on confirmation, run as a background job."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the job queue")
        PREVIEWING = "previewing", _("Checking the file")
        PREVIEWED = "previewed", _("Checked")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Nothing imported")

    RUNNING = (Status.QUEUED, Status.PREVIEWING, Status.IMPORTING)

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    report = models.JSONField(_("report"), default=dict, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Last sign of life (queued, claimed by a worker): a job "in progress" long after it stopped (common.stale).
    heartbeat_at = models.DateTimeField(default=timezone.now)
    # Why the job stopped when it was not the file's fault (the worker stopped, an error): it can be tried again.
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"
