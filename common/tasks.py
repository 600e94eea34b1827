from celery import shared_task


@shared_task(ignore_result=True)
def deliver_outbox() -> dict:
    """Deliver the outbox: kicked after a commit that queued mail, and swept by beat every minute."""
    from common.outbox import deliver_pending

    return deliver_pending()
