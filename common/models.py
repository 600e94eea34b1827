"""The outbox: every e-mail the app decides to send is first a row here, written in the same transaction as
the change that causes it, and delivered from here by ``common.outbox.deliver_pending`` (DESIGN.md,
cross-cutting rules; CONVENTIONS.md, "an outbox"). A down queue or mail server delays a message; it never
loses one, and one bad address never makes the others be sent twice (one message per recipient)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not sent (no longer needed)")

    # What composes it: a kind registered with common.outbox.register(), and the id of its object.
    kind = models.CharField(_("kind"), max_length=40)
    object_id = models.BigIntegerField()
    to = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("reason"), blank=True)
    # What went out, kept as the record of the message (filled when it is composed).
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["kind", "object_id"]),
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due", condition=Q(status="queued")),
        ]

    def __str__(self):
        return f"{self.kind} #{self.object_id} → {self.to} ({self.status})"


class WorkCalendarDay(models.Model):
    """An exception to the Monday-to-Friday week, kept by administrators: a public holiday on a weekday, or a
    make-up working day (调休) on a weekend. Deadlines counted in working days (review steps, complaints) read
    them through ``common.workdays``."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday (no work)")
        WORKDAY = "workday", _("Make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, help_text=_("For example: National Day, Spring Festival."))

    class Meta:
        verbose_name = _("work calendar day")
        verbose_name_plural = _("work calendar")
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["holiday", "workday"]), name="workcalendarday_kind_valid"),
        ]

    def __str__(self):
        return f"{self.date.isoformat()} {self.name} ({self.get_kind_display()})"

    def clean(self):
        # A holiday may fall on a weekend (a week-long holiday is entered day by day); a make-up day may not
        # fall on a weekday, where it would mean nothing.
        if self.date is not None and self.kind == self.Kind.WORKDAY and self.date.weekday() < 5:
            raise ValidationError(
                {"kind": _("This day is a working day already; only a Saturday or Sunday can be a make-up day.")}
            )


class PendingJob(models.Model):
    """A background job the app decided to run, written in the same transaction as the change that causes it
    (the outbox of jobs, CONVENTIONS.md "an outbox"). It is handed to the queue after the commit; when the
    queue cannot be reached it stays here and the beat sweep or `manage.py deliver_pending` hands it over
    later. Handing over is claimed with a conditional UPDATE, and the queued task carries this row's id as its
    Celery task id, so one job is handed over once."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the job queue")
        HANDING = "handing", _("Being handed to the job queue")
        QUEUED = "queued", _("Handed to the job queue")

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(_("handed to the queue"), null=True, blank=True)

    class Meta:
        verbose_name = _("pending background job")
        verbose_name_plural = _("pending background jobs")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["status"], name="pendingjob_open", condition=~Q(status="queued")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "handing", "queued"]), name="pendingjob_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.task} {self.args} ({self.status})"

    @property
    def celery_task_id(self) -> str:
        return f"pendingjob-{self.pk}"
