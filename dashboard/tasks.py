"""Jobs of the dashboard: counting its figures in the background (dashboard.snapshot)."""

from celery import shared_task


@shared_task
def refresh_figures() -> None:
    """Celery beat, every few minutes, and the page when the figures kept are older: count and keep them."""
    from django.core.cache import cache

    from dashboard import snapshot

    snapshot.count()
    cache.delete(snapshot.QUEUED_KEY)
