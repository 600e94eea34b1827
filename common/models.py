"""The outbox: every e-mail the app decides to send is first a row here, written in the same transaction as
the change that causes it, and delivered from here by ``common.outbox.deliver_pending`` (DESIGN.md,
cross-cutting rules; CONVENTIONS.md, "an outbox"). A down queue or mail server delays a message; it never
loses one, and one bad address never makes the others be sent twice (one message per recipient)."""

from django.conf import settings
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
