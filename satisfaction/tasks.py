"""Jobs of the surveys. Thin: the services do the work; the e-mails go through the outbox."""

from celery import shared_task


@shared_task(ignore_result=True)
def open_due_rounds() -> list[int]:
    """Celery beat, daily: open the half-year rounds that are due, as drafts (never sent without a person)."""
    from satisfaction.services import open_due_rounds as open_rounds

    return [r.pk for r in open_rounds()]


@shared_task(ignore_result=True)
def send_reminders() -> int:
    """Celery beat, daily: remind the contacts of customers who have not answered."""
    from satisfaction.services import send_reminders as remind

    return len(remind())
