"""The records register's own rows: the retention period of each record form (changed by administrators, with
history) and the archive jobs (the records of one form and period as one .zip, made in the background)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class RetentionPeriod(models.Model):
    """How long the records of one form are kept (§5.12.8, 《记录管制程序》). A form without a row keeps the default
    of records.kinds; an administrator sets it here, on the register page, without a deploy."""

    kind = models.CharField(_("record form"), max_length=40, unique=True)
    years = models.PositiveSmallIntegerField(
        _("kept for (years)"), validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(years__gte=1) & Q(years__lte=99), name="retention_years_valid"),
        ]

    def __str__(self):
        return f"{self.kind}: {self.years}"


class ArchiveJob(models.Model):
    """The records of one form for one period as one .zip (the documents as issued and an index sheet)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the job queue")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("record form"), max_length=40)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("records"), default=0)
    done = models.PositiveIntegerField(default=0)
    # Documents that could not be made: listed in the archive's index with the reason, and here.
    problems = models.JSONField(_("documents that could not be made"), default=list, blank=True)
    file = models.FileField(_("archive"), upload_to="records/archives/%Y/", blank=True, max_length=200)
    error = models.TextField(_("reason"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life (queued, claimed, each record): a job whose worker stopped is failed (common.stale).
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("records archive")
        verbose_name_plural = _("records archives")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=models.F("date_from")), name="archive_period_valid"),
        ]

    def __str__(self):
        return f"{self.kind} {self.date_from}–{self.date_to} ({self.status})"
