"""Writing and delivering outbox messages (common.models.OutboxMessage).

An app registers a composer per kind: ``register("survey.invitation", compose)`` where ``compose(object_id)``
returns ``(subject, body)`` built in the active language, or None when the message is no longer wanted (the
customer answered before its reminder went out): such a message is marked cancelled, never sent.

Delivery claims each row with a conditional UPDATE (queued → sending), so two dispatchers at once (the beat
sweep and a kick after a commit) never send one message twice, on SQLite and PostgreSQL alike. SMTP trouble is
retried with backoff; after OUTBOX_MAX_ATTEMPTS the message is failed with its reason and can be sent again by
hand. A message found "sending" long after it was claimed belonged to a worker that died: whether the mail
server took it is unknown, so it is failed with that reason for a person to decide, not sent a second time.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from common.errors import DomainError
from common.models import OutboxMessage

logger = logging.getLogger(__name__)

Composer = Callable[[int], tuple[str, str] | None]
_COMPOSERS: dict[str, Composer] = {}

# A claim older than this belongs to a worker that died while sending.
STALE_CLAIM = timedelta(minutes=10)
# A message written out in full when it was decided (common.mail: staff notifications, a customer's shipping
# notice): its stored subject and body are what is sent, no composer needed.
PREPARED = "prepared"


def register(kind: str, compose: Composer) -> None:
    _COMPOSERS[kind] = compose


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each failed attempt, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def outbox_add(*, kind: str, object_id: int, to: str, language: str, user=None) -> OutboxMessage:
    """Queue one message; call inside the transaction of the change that causes it."""
    if kind not in _COMPOSERS:
        raise ValueError(f"no composer registered for {kind!r}")
    message = OutboxMessage.objects.create(
        kind=kind, object_id=object_id, to=to, language=language or settings.LANGUAGE_CODE, created_by=user
    )
    kick_on_commit()
    return message


def outbox_add_many(messages: list[OutboxMessage]) -> None:
    """Queue many unsaved OutboxMessage rows at once (a survey round's invitations)."""
    for message in messages:
        if message.kind not in _COMPOSERS:
            raise ValueError(f"no composer registered for {message.kind!r}")
    OutboxMessage.objects.bulk_create(messages, batch_size=500)
    if messages:
        kick_on_commit()


def kick_on_commit() -> None:
    """Ask a worker to deliver once the transaction commits. A down queue is fine: the beat sweep and
    `manage.py deliver_pending` pick the messages up later."""
    from common import tasks
    from common.jobs import nudge_on_commit

    # The messages are rows already: the kick needs no record of its own (the sweep runs every minute).
    nudge_on_commit(tasks.deliver_outbox)


def message_resend(*, message: OutboxMessage, user=None) -> OutboxMessage:
    """Send a failed message again (the same row: one message, several attempts)."""
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != OutboxMessage.Status.FAILED:
            raise DomainError(_("Only a failed message can be sent again."))
        locked.status = OutboxMessage.Status.QUEUED
        locked.next_attempt_at = None
        locked.attempts = 0
        locked.save(update_fields=["status", "next_attempt_at", "attempts"])
        kick_on_commit()
    return locked


def fail_stale_claims(now=None) -> int:
    now = now or timezone.now()
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=OutboxMessage.Status.FAILED,
        error=_("The sending was interrupted (the worker stopped); it may not have been sent. Send it again."),
    )


def _claim(pk: int, now) -> bool:
    return bool(
        OutboxMessage.objects.filter(pk=pk, status=OutboxMessage.Status.QUEUED).update(
            status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def deliver_one(pk: int, connection=None) -> str:
    """Claim and send one message; returns its status afterwards ('' when another dispatcher had it).
    ``connection``: an open mail connection to reuse (a run of many messages opens one, not one each)."""
    now = timezone.now()
    if not _claim(pk, now):
        return ""
    message = OutboxMessage.objects.get(pk=pk)
    compose = (
        (lambda _id: (message.subject, message.body)) if message.kind == PREPARED else _COMPOSERS.get(message.kind)
    )
    if compose is None:
        _finish(message, OutboxMessage.Status.FAILED, error=f"no composer for {message.kind}")
        return OutboxMessage.Status.FAILED
    try:
        with translation.override(message.language):
            composed = compose(message.object_id)
    except Exception as exc:  # a bug or bad data in one message must not stop the others, nor stay "sending"
        logger.exception("outbox message %s could not be composed", pk)
        _finish(message, OutboxMessage.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}")
        return OutboxMessage.Status.FAILED
    if composed is None:
        _finish(message, OutboxMessage.Status.CANCELLED)
        return OutboxMessage.Status.CANCELLED
    subject, body = composed
    try:
        EmailMessage(subject, body, None, [message.to], connection=connection).send()
    except (OSError, SMTPException) as exc:
        if connection is not None:
            connection.close()  # a broken session is not reused: the next message opens a fresh one
        reason = f"{exc.__class__.__name__}: {exc}"
        if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _finish(message, OutboxMessage.Status.FAILED, error=reason, subject=subject, body=body)
            return OutboxMessage.Status.FAILED
        OutboxMessage.objects.filter(pk=pk).update(
            status=OutboxMessage.Status.QUEUED,
            error=reason,
            next_attempt_at=timezone.now() + retry_delay(message.attempts),
        )
        logger.warning("outbox message %s not sent (attempt %s): %s", pk, message.attempts, reason)
        return OutboxMessage.Status.QUEUED
    _finish(message, OutboxMessage.Status.SENT, subject=subject, body=body)
    return OutboxMessage.Status.SENT


def _finish(message, status, *, error="", subject="", body="") -> None:
    fields = {"status": status, "error": error, "subject": subject[:300], "body": body}
    if status == OutboxMessage.Status.SENT:
        fields["sent_at"] = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)


def due_messages(now=None):
    now = now or timezone.now()
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def deliver_pending(*, limit: int | None = None, kinds: list[str] | None = None) -> dict[str, int]:
    """Deliver every message that is due. Returns counts by the resulting status."""
    fail_stale_claims()
    pending = due_messages()
    if kinds:
        pending = pending.filter(kind__in=kinds)
    ids = list(pending.order_by("pk").values_list("pk", flat=True)[:limit])
    counts = {status: 0 for status in ("sent", "queued", "failed", "cancelled")}
    if not ids:
        return counts
    connection = get_connection()
    try:
        for pk in ids:
            status = deliver_one(pk, connection=connection)
            if status:
                counts[status] += 1
    finally:
        connection.close()
    return counts
