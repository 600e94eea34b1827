"""What the procedure does with what customers tell us (§5.12.5–§5.12.7):

- the satisfaction analysis report of a closed survey round (§5.12.5), written by Customer Service and confirmed
  (or returned) by the management representative; a confirmed report is a record, a correction is a new version;
- the improvement meeting (§5.12.6) with its attendees and minutes, sent to the departments as a memo;
- corrective and preventive actions (CAPA) from the meeting's decisions, a complaint, a return, a survey finding or
  a month of the on-time rate, verified by someone other than their owner;
- the management review pack for a period (§5.12.7).

This app reads satisfaction, complaints, delivery, orders and customers; none of them reads it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from complaints.models import Complaint
from customers.models import Customer
from delivery.models import Return
from orders.models import Memo
from satisfaction.models import Question, SurveyRound


class AnalysisReport(models.Model):
    """《客户满意度调查分析报告》 of one round, one version. ``figures`` is what the app computed (frozen when the
    report is submitted); ``causes`` and ``conclusions`` are Customer Service's analysis."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for the management representative")
        RETURNED = "returned", _("Returned for rework")
        CONFIRMED = "confirmed", _("Confirmed")
        SUPERSEDED = "superseded", _("Superseded by a newer version")

    round = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="reports")
    version = models.PositiveIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    causes = models.TextField(_("causes"), blank=True)
    conclusions = models.TextField(_("conclusions and proposals"), blank=True)
    correction_reason = models.TextField(_("why this version corrects the last"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    return_reason = models.TextField(_("why it was returned"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("satisfaction analysis report")
        verbose_name_plural = _("satisfaction analysis reports")
        ordering = ["-round__period_end", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["round", "version"], name="one_report_version_per_round"),
            # At most one version in the works (draft, submitted or returned) per round.
            models.UniqueConstraint(
                fields=["round"],
                condition=Q(status__in=["draft", "submitted", "returned"]),
                name="one_open_report_per_round",
            ),
            models.UniqueConstraint(fields=["round"], condition=Q(status="confirmed"), name="one_confirmed_report"),
        ]

    def __str__(self):
        return f"{self.round} v{self.version}"

    def get_absolute_url(self):
        return reverse("improvement:report", args=[self.pk])


class Meeting(models.Model):
    """The improvement meeting (改善措施会议, §5.12.6) chaired by Customer Service. Its minutes go to the
    departments concerned as an internal memo, each of which acknowledges it."""

    report = models.ForeignKey(AnalysisReport, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings")
    held_on = models.DateField(_("held on"))
    title = models.CharField(_("title"), max_length=200)
    departments = models.JSONField(_("departments attending"), default=list)
    attendees = models.TextField(_("attendees (people)"))
    minutes = models.TextField(_("minutes"))
    decisions = models.TextField(_("decisions"), blank=True)
    memo = models.OneToOneField(Memo, on_delete=models.PROTECT, null=True, blank=True, related_name="meeting")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("improvement meeting")
        verbose_name_plural = _("improvement meetings")
        ordering = ["-held_on", "-pk"]

    def __str__(self):
        return f"{self.held_on} {self.title}"

    def get_absolute_url(self):
        return reverse("improvement:meeting", args=[self.pk])


class ActionCounter(models.Model):
    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Action(models.Model):
    """A correction, corrective, preventive or improvement action (《纠正与预防措施管制程序》). Done by its owner,
    then verified after a set date by someone else: effective closes it, not effective reopens it."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction")
        CORRECTIVE = "corrective", _("Corrective action")
        PREVENTIVE = "preventive", _("Preventive action")
        IMPROVEMENT = "improvement", _("Improvement")

    class Source(models.TextChoices):
        ROUND = "round", _("Survey round")
        QUESTION = "question", _("Survey question")
        CUSTOMER = "customer", _("Customer's survey result")
        COMPLAINT = "complaint", _("Complaint")
        RETURN = "return", _("Return")
        ON_TIME = "on_time", _("On-time rate of a month")
        MEETING = "meeting", _("Improvement meeting")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("corrective action status", "Open")
        DONE = "done", _("Done, waiting for verification")
        EFFECTIVE = "effective", _("Verified effective")

    number = models.CharField(_("action no."), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.CORRECTIVE)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    round = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    ret = models.ForeignKey(Return, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    month = models.CharField(_("month (YYYY-MM)"), max_length=7, blank=True)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    report = models.ForeignKey(AnalysisReport, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("the finding"))
    plan = models.TextField(_("what will be done"))
    owner_department = models.CharField(_("owner department"), max_length=40)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_actions", verbose_name=_("owner")
    )
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    done_text = models.TextField(_("what was done"), blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(_("reported done"), null=True, blank=True)
    verify_after = models.DateField(_("verify the effect after"), null=True, blank=True)
    reopened = models.PositiveIntegerField(_("times reopened"), default=0)
    last_reminded_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("corrective action")
        verbose_name_plural = _("corrective actions")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"]), models.Index(fields=["owner", "status"])]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("improvement:action", args=[self.number])


class Verification(models.Model):
    """Someone other than the owner checks the action's effect (a record: one row per check, never edited)."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="verifications")
    effective = models.BooleanField(_("effective"))
    evidence = models.TextField(_("evidence"))
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(_("verified"), auto_now_add=True)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        ordering = ["action", "verified_at"]

    def __str__(self):
        return f"{self.action} {'effective' if self.effective else 'not effective'}"


class ManagementReview(models.Model):
    """The pack for the management review (§5.12.7) of a period, and what the review decided. ``figures`` is
    frozen when the pack is issued; the representative then records the meeting date and decisions."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Prepared")
        REVIEWED = "reviewed", _("Reviewed by the management")

    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    title = models.CharField(_("title"), max_length=200)
    figures = models.JSONField(_("figures"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREPARED)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(_("prepared"), auto_now_add=True)
    reviewed_on = models.DateField(_("management review meeting on"), null=True, blank=True)
    decisions = models.TextField(_("decisions of the review"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("management review pack")
        verbose_name_plural = _("management review packs")
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="review_period_valid"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("improvement:review", args=[self.pk])
