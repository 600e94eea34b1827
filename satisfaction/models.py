"""Customer satisfaction surveys (§5.11, §5.12.4; records of §7).

A round (调查批次) surveys the customers eligible for its period. Its list of customers is frozen when it is
sent; each surveyed contact gets an invitation with a personal link; each invitation has at most one response,
whose every submission is kept as a version. A survey form is versioned: a version that was sent with a round
is never changed again, editing it makes the next version. Sent rounds, frozen lists, responses and their
versions are records: never edited in place, never deleted (PROTECT everywhere).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import Contact, Customer

SCORE = {"max_digits": 4, "decimal_places": 1}
QTY = {"max_digits": 16, "decimal_places": 3}


def _bilingual(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") and en else zh or en


class SurveyForm(models.Model):
    """《客户满意度调查表》, one version. ``locked`` once a round was sent with it."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, default="客户满意度调查表")
    title_en = models.CharField(_("title (English)"), max_length=200, default="Customer satisfaction survey")
    intro_zh = models.TextField(_("introduction (Chinese)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    locked = models.BooleanField(_("sent with a round"), default=False)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey form")
        verbose_name_plural = _("survey forms")
        ordering = ["-version"]

    def __str__(self):
        return f"{self.title} v{self.version}"

    @property
    def title(self) -> str:
        return _bilingual(self.title_zh, self.title_en)

    @property
    def intro(self) -> str:
        return _bilingual(self.intro_zh, self.intro_en)


class Question(models.Model):
    """One criterion of a form version (quality, delivery, service …) with its weight and scale."""

    form = models.ForeignKey(SurveyForm, on_delete=models.PROTECT, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text_zh = models.CharField(_("question (Chinese)"), max_length=300)
    text_en = models.CharField(_("question (English)"), max_length=300)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    scale_min = models.PositiveSmallIntegerField(_("lowest answer"), default=1)
    scale_max = models.PositiveSmallIntegerField(
        _("highest answer"), default=5, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    allow_na = models.BooleanField(_('"not applicable" allowed'), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["form", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(scale_max__gt=models.F("scale_min")), name="question_scale_valid"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="question_weight_positive"),
        ]

    def __str__(self):
        return self.text

    @property
    def text(self) -> str:
        return _bilingual(self.text_zh, self.text_en)

    @property
    def choices(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))


class SurveyRound(models.Model):
    class Kind(models.TextChoices):
        HALF_YEAR = "half_year", _("Half-year round")
        AD_HOC = "ad_hoc", _("Ad-hoc round")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        CLOSED = "closed", pgettext_lazy("survey round status", "Closed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HALF_YEAR)
    # For half-year rounds: the year and half (1 or 2); at most one round per half (the beat may fire twice).
    year = models.PositiveIntegerField(_("year"), null=True, blank=True)
    half = models.PositiveSmallIntegerField(_("half"), null=True, blank=True, choices=[(1, "H1"), (2, "H2")])
    name = models.CharField(_("name"), max_length=120)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    deadline = models.DateField(_("answers by"))
    target = models.DecimalField(
        _("response-rate target (%)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    reason = models.TextField(_("why (ad-hoc rounds)"), blank=True)
    form = models.ForeignKey(SurveyForm, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("form"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey round")
        verbose_name_plural = _("survey rounds")
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "half"], condition=Q(kind="half_year"), name="one_round_per_half_year"
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="round_period_valid"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("satisfaction:round", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class RoundCustomer(models.Model):
    """One customer's line in a round's list: the figures of the period, the rules it meets, and whether it is
    surveyed. Every active customer has a line, so the list can also say why a customer is *not* on it."""

    round = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="customers")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="survey_lines")
    delivered_qty = models.DecimalField(_("quantity delivered"), default=0, **QTY)
    deliveries = models.PositiveIntegerField(_("deliveries"), default=0)
    rules = models.JSONField(_("rules met"), default=list, blank=True)
    eligible = models.BooleanField(_("eligible by the rules"), default=False)
    included = models.BooleanField(_("surveyed"), default=False)
    # A person's decision against the rules (§5.11.1: ad-hoc additions, exclusions), with who, when and why.
    override_reason = models.TextField(_("reason for the change"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("surveyed customer")
        verbose_name_plural = _("surveyed customers")
        ordering = ["round", "customer__code"]
        constraints = [models.UniqueConstraint(fields=["round", "customer"], name="one_line_per_customer_in_round")]
        indexes = [models.Index(fields=["round", "included"])]

    def __str__(self):
        return f"{self.round} {self.customer}"


class Invitation(models.Model):
    """A surveyed contact's personal link. Resending replaces the token: the old link stops working."""

    round = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="invitations")
    line = models.ForeignKey(RoundCustomer, on_delete=models.PROTECT, related_name="invitations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="survey_invitations")
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    token = models.CharField(max_length=64, unique=True)
    token_issued_at = models.DateTimeField(auto_now_add=True)
    resent_count = models.PositiveIntegerField(_("resent"), default=0)
    reminders_sent = models.PositiveIntegerField(_("reminders sent"), default=0)
    last_reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["round", "line__customer__code", "contact__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "contact"], name="one_invitation_per_contact")]

    def __str__(self):
        return f"{self.round} → {self.contact}"

    def public_url(self) -> str:
        return settings.SITE_URL.rstrip("/") + reverse("survey_public", args=[self.token])


class Response(models.Model):
    """The answer of one invitation (at most one). ``answers`` and ``score`` are the current version's; every
    submission is kept in ResponseVersion, so a correction never loses what was answered before."""

    class Channel(models.TextChoices):
        LINK = "link", _("Personal link")
        PAPER = "paper", _("Paper form (keyed in)")
        EMAIL = "email", _("E-mailed form (keyed in)")
        FAX = "fax", _("Faxed form (keyed in)")

    invitation = models.OneToOneField(Invitation, on_delete=models.PROTECT, related_name="response")
    round = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="responses")
    line = models.ForeignKey(RoundCustomer, on_delete=models.PROTECT, related_name="responses")
    form = models.ForeignKey(SurveyForm, on_delete=models.PROTECT, related_name="responses")
    channel = models.CharField(_("received by"), max_length=10, choices=Channel.choices, default=Channel.LINK)
    answers = models.JSONField(_("answers"), default=dict)  # {question id: value or null for not applicable}
    comment = models.TextField(_("comment"), blank=True)
    score = models.DecimalField(_("score"), null=True, blank=True, **SCORE)
    version = models.PositiveIntegerField(_("version"), default=1)
    scan = models.FileField(_("scanned form"), upload_to="satisfaction/forms/%Y/", blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("first answered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["round", "line__customer__code", "pk"]

    def __str__(self):
        return f"{self.invitation} ({self.score})"


class ResponseVersion(models.Model):
    """One submission of a response, as it was: the history of corrections."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    answers = models.JSONField(_("answers"), default=dict)
    comment = models.TextField(_("comment"), blank=True)
    score = models.DecimalField(_("score"), null=True, blank=True, **SCORE)
    channel = models.CharField(_("received by"), max_length=10, choices=Response.Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)

    class Meta:
        verbose_name = _("response version")
        verbose_name_plural = _("response versions")
        ordering = ["response", "number"]
        constraints = [models.UniqueConstraint(fields=["response", "number"], name="one_number_per_version")]

    def __str__(self):
        return f"{self.response_id} v{self.number}"


class Scorecard(models.Model):
    """The customer's own rating of us on its own form (§5.11.2.1), normalised to 0–100."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="scorecards", verbose_name=_("customer")
    )
    rated_on = models.DateField(_("date of the rating"))
    score = models.DecimalField(
        _("the customer's score"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    maximum = models.DecimalField(
        _("maximum score"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    grade = models.CharField(_("grade (as the customer wrote it)"), max_length=40, blank=True)
    normalised = models.DecimalField(_("score (0–100)"), **SCORE)
    file = models.FileField(_("the customer's form"), upload_to="satisfaction/scorecards/%Y/", blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer's own scorecard")
        verbose_name_plural = _("customers' own scorecards")
        ordering = ["-rated_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=models.F("maximum")), name="scorecard_score_within_max"),
        ]

    def __str__(self):
        return f"{self.customer} {self.rated_on}: {self.normalised}"
