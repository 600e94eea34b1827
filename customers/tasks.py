from celery import shared_task
from django.db import OperationalError


# Thin: an id in, the service does the work. Retried only for a database that is briefly unavailable;
# the service itself is idempotent (a job that already ran is left alone).
@shared_task(autoretry_for=(OperationalError,), retry_backoff=5, max_retries=3)
def customer_import_job(job_id: int) -> None:
    from customers.importing import import_job_run

    import_job_run(job_id=job_id)
