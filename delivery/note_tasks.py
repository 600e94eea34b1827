"""Jobs around delivery notes: notifications when a note is issued, and printing many notes as one PDF."""

from smtplib import SMTPException

from celery import shared_task


@shared_task(autoretry_for=(OSError, SMTPException), retry_backoff=10, max_retries=5)
def note_issued_notifications(note_id: int) -> int:
    from delivery.notify import note_issued

    return note_issued(note_id)


@shared_task
def print_notes(job_id: int) -> None:
    from delivery.printing import print_job_run

    print_job_run(job_id)


@shared_task(autoretry_for=(OSError, SMTPException), retry_backoff=10, max_retries=5)
def announce_not_ready() -> int:
    """§5.5.1: every afternoon, batches due tomorrow that are not ready are announced to Customer Service,
    PMC and the warehouse (they are also listed in My work)."""
    from delivery.notify import announce_not_ready as announce

    return announce()
