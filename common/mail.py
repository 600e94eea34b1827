"""Mail to staff (the active members of departments, each in their own language) and plain notices to one address.

Every message is an outbox row first (common.models.OutboxMessage, one per recipient), then sent at once from
there. A message the mail server refuses stays in the outbox and is retried with backoff by the outbox sweep
(common.outbox), on its own: the job that sent it does not fail, so it is never run again, and the other
recipients never get the same mail twice (issue 10).
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import transaction
from django.utils import translation


def department_users(departments):
    """Active users with an e-mail address in any of ``departments`` (group names)."""
    return (
        get_user_model().objects.filter(groups__name__in=list(departments), is_active=True).exclude(email="").distinct()
    )


def mail_each(users, compose: Callable[[], tuple[str, str]]) -> int:
    """Send ``compose()`` (subject, body), built in each user's language, to each user. Returns how many went out
    now (the others wait in the outbox for their retry)."""
    prepared = []
    for user in users:
        language = user.language or settings.LANGUAGE_CODE
        with translation.override(language):
            subject, body = compose()
        prepared.append((user.email, subject, body, language))
    return send_prepared(prepared)


def mail_to(address: str, subject: str, body: str, language: str = "") -> int:
    """One message to one address (a customer's notice), through the outbox. Returns 1 when it went out now."""
    return send_prepared([(address, subject, body, language or settings.LANGUAGE_CODE)])


def send_prepared(items: list[tuple[str, str, str, str]]) -> int:
    """Record (to, subject, body, language) messages in the outbox, then deliver them over one connection."""
    from common.models import OutboxMessage
    from common.outbox import PREPARED, deliver_one

    if not items:
        return 0
    with transaction.atomic():
        rows = [
            OutboxMessage.objects.create(
                kind=PREPARED, object_id=0, to=to, subject=subject[:300], body=body, language=language
            )
            for to, subject, body, language in items
        ]
    sent = 0
    connection = get_connection()
    try:
        for row in rows:
            if deliver_one(row.pk, connection=connection) == OutboxMessage.Status.SENT:
                sent += 1
    finally:
        connection.close()
    return sent
