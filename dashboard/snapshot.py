"""The dashboard's figures, counted together in the background and kept, so that opening the page never waits for
them.

Some figures come from the heaviest reads of the app (the delivery-progress sheet's counts, the on-time rate over a
year, the review times of a month of signatures): about a second of database work at a factory's full volume. They
are counted by the job ``dashboard.tasks.refresh_figures``, which Celery beat runs every ``REFRESH_SECONDS``, and
kept in the cache (Redis in production: shared by every web process) with the moment they were counted. The page
reads what is kept (a cache read) and says as of when:

- kept figures older than ``REFRESH_SECONDS`` (beat stopped, the worker busy) are still shown, and one refresh is
  queued (at most one per ``REFRESH_SECONDS``, whoever asks); a queue that is down changes nothing on the page;
- nothing kept, or kept on another day (never yesterday's figures), or "Refresh" (``?refresh=1``): counted at once,
  in the request, and kept;
- without Redis (a laptop, the tests) jobs run inline and the cache is the process's own: the page counts when
  nothing fresh is kept, as before.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from dashboard import selectors

logger = logging.getLogger(__name__)

# How often beat counts them (the setting its schedule uses); older figures are shown and a refresh is queued.
REFRESH_SECONDS = settings.DASHBOARD_REFRESH_SECONDS
KEEP_SECONDS = 24 * 3600  # how long counted figures stay in the cache (a new day counts again anyway)
KEY = "dashboard:figures:v2"
QUEUED_KEY = "dashboard:figures:queued"


def count() -> dict:
    """Every figure group of the page, counted now, with the day and the moment; kept for the page."""
    today = timezone.localdate()
    snapshot = {
        "today": today,
        "at": timezone.now(),
        "ontime": selectors.ontime_figures(today),
        "satisfaction": selectors.satisfaction_figures(today),
        "review": selectors.review_figures(today),
        "delivery": selectors.delivery_figures(today),
        "complaints": selectors.complaint_figures(today),
    }
    cache.set(KEY, snapshot, timeout=KEEP_SECONDS)
    return snapshot


def _queue_refresh() -> None:
    """Queue one refresh, unless one was queued in the last REFRESH_SECONDS. A broker that is down is logged: the
    page shows the figures kept, with their time."""
    if not cache.add(QUEUED_KEY, True, timeout=REFRESH_SECONDS):
        return
    from dashboard.tasks import refresh_figures

    try:
        refresh_figures.delay()
    except Exception:  # noqa: BLE001 - the queue being down must not break a page that only reads
        cache.delete(QUEUED_KEY)
        logger.warning("dashboard: could not queue a refresh of the figures", exc_info=True)


def figures(*, refresh: bool = False) -> dict:
    """The figures for the page: those kept if counted today (a refresh queued when older than REFRESH_SECONDS),
    else counted now."""
    if refresh:
        return count()
    snapshot = cache.get(KEY)
    if snapshot is None or snapshot["today"] != timezone.localdate():
        return count()
    if (timezone.now() - snapshot["at"]).total_seconds() > REFRESH_SECONDS:
        _queue_refresh()
    return snapshot
