from celery import shared_task
from django.db import OperationalError


# Thin: an id in, the service does the work. Retried only for a database that is unavailable before the job
# is claimed; once claimed, any error fails the job with its reason and "try again" (the service is idempotent:
# a job that already ran, or is being run, is left alone).
@shared_task(autoretry_for=(OperationalError,), retry_backoff=5, max_retries=3)
def customer_import_job(job_id: int) -> None:
    from customers.importing import import_job_run

    import_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def sweep_stale_imports() -> int:
    """Beat, every few minutes: imports whose worker stopped are failed, to be tried again (common.stale)."""
    from customers.importing import import_jobs_fail_stale

    return len(import_jobs_fail_stale())
