from celery import shared_task


@shared_task(ignore_result=True)
def deliver_outbox() -> dict:
    """Deliver the outbox: kicked after a commit that queued mail, and swept by beat every minute. The sweep
    also hands over the background jobs that waited while the queue was down (common.jobs)."""
    from common.jobs import dispatch_pending
    from common.outbox import deliver_pending

    dispatch_pending()
    return deliver_pending()
