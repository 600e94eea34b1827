from celery import shared_task
from django.db import OperationalError


# Thin: an id in, the service does the work (claimed once; any error after the claim fails the job with its reason).
@shared_task(autoretry_for=(OperationalError,), retry_backoff=5, max_retries=3)
def make_archive(job_id: int) -> None:
    from records.services import archive_job_run

    archive_job_run(job_id)


@shared_task(ignore_result=True)
def sweep_stale_archives() -> int:
    """Beat, every few minutes: archives whose worker stopped are failed, to be tried again (common.stale)."""
    from records.services import archive_jobs_fail_stale

    return len(archive_jobs_fail_stale())
