import logging
from smtplib import SMTPException

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError, SMTPException), retry_backoff=10, max_retries=5)
def notify_departments(order_id: int, departments: list[str], kind: str) -> int:
    from orders.notify import send_notifications

    return send_notifications(order_id, departments, kind)


@shared_task(bind=True, max_retries=5)
def send_acknowledgement(self, ack_id: int) -> None:
    """Make and e-mail the acknowledgement PDF. SMTP trouble is retried with backoff, then recorded as failed
    (Customer Service sees it and can send again); it is never lost silently."""
    from orders.services import acknowledgement_failed, acknowledgement_retrying, acknowledgement_send

    try:
        acknowledgement_send(ack_id)
    except (OSError, SMTPException) as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            acknowledgement_failed(ack_id, str(exc))
            return
        acknowledgement_retrying(ack_id, str(exc))
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
    except Exception as exc:
        # Bad data or a bug: failed with the reason at once, never left "being sent" (an acknowledgement already
        # handed to the mail server is left to the stale sweep, which asks a person to check).
        logger.exception("acknowledgement %s could not be sent", ack_id)
        acknowledgement_failed(ack_id, f"{exc.__class__.__name__}: {exc}")


@shared_task(ignore_result=True)
def sweep_stale_acknowledgements() -> int:
    """Beat, every few minutes: acknowledgements whose worker stopped are failed (or, stopped while handing the
    message to the mail server, marked for a person to check) (common.stale)."""
    from orders.services import acknowledgements_fail_stale

    return len(acknowledgements_fail_stale())
