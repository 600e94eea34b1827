"""Jobs of the improvement part. Thin: the services do the work; the e-mails go through the outbox."""

from celery import shared_task


@shared_task(ignore_result=True)
def remind_actions() -> int:
    """Celery beat, daily (ACTION_REMINDER_HOUR): e-mail each owner their overdue actions and those waiting for
    verification. Safe to run twice a day: an owner is written to at most once per day."""
    from improvement.actions import actions_remind

    return actions_remind()
