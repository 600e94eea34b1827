"""Background jobs whose worker died: noticed by an age limit, failed with a reason, tried again by a person.

A Celery task whose worker is killed (``kill -9``, out of memory) is simply gone (PITFALLS.md), so every job row
keeps ``heartbeat_at``, its last sign of life: set when it is queued, when a worker claims it, and as it makes
progress. A row still "in progress" whose heartbeat is older than its kind's limit (settings.JOB_STALE_MINUTES)
belonged to a worker that stopped: ``fail_stale`` marks it failed with the reason, and its page offers
"try again". The sweep runs from beat (each app's ``sweep_stale_*`` task) and also when the job's page is shown,
so nothing shows "in progress" for ever even without beat.

A worker that is alive holds the row lock while it works where it can (an import): the sweep skips locked rows
(``skip_locked`` on PostgreSQL), so a slow job that is still running is never failed under the worker's feet.
Outbox messages (survey invitations and the other e-mails) have their own claim and stale-claim rule in
``common.outbox``.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def stale_after(kind: str) -> timedelta:
    return timedelta(minutes=settings.JOB_STALE_MINUTES[kind])


def stale_cutoff(kind: str, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - stale_after(kind)


def _still_with_the_queue(task: str, cutoff: datetime) -> set[int]:
    """Ids of the jobs of ``task`` that no worker can have had long: still waiting for a queue that was down
    (common.jobs.PendingJob), or handed to it after ``cutoff``. Their age counts from the hand-over: a job
    that waited out a queue outage goes out when the queue is back, as promised, and is not failed for it."""
    from django.db.models import Q

    from common.models import PendingJob

    pending = PendingJob.objects.filter(task=task).filter(
        Q(status__in=(PendingJob.Status.WAITING, PendingJob.Status.HANDING)) | Q(queued_at__gte=cutoff)
    )
    return {args[0] for args in pending.values_list("args", flat=True) if args and isinstance(args[0], int)}


def fail_stale(
    model: type[models.Model],
    *,
    kind: str,
    statuses: tuple[str, ...],
    task: str = "",
    now: datetime | None = None,
    **updates,
) -> list[int]:
    """Set ``updates`` (the failed status and its reason) on the rows of ``model`` still in one of ``statuses``
    whose ``heartbeat_at`` is older than the limit of ``kind``. ``task``: the Celery task that runs one row
    (its id the first argument); rows whose job is still with the queue are left alone. Returns the ids
    of the rows failed."""
    cutoff = stale_cutoff(kind, now)
    with transaction.atomic():
        stale = model.objects.select_for_update(skip_locked=True).filter(status__in=statuses, heartbeat_at__lt=cutoff)
        ids = list(stale.values_list("pk", flat=True))
        if ids and task:
            waiting = _still_with_the_queue(task, cutoff)
            ids = [pk for pk in ids if pk not in waiting]
        if ids:
            # The conditions again: a row that moved on meanwhile (SQLite has no row locks) is left alone.
            model.objects.filter(pk__in=ids, status__in=statuses, heartbeat_at__lt=cutoff).update(**updates)
    if ids:
        logger.warning("%s job(s) %s: no sign of life since %s, failed (the worker stopped)", kind, ids, cutoff)
    return ids


def beat(model: type[models.Model], pk: int, **updates) -> int:
    """Record a sign of life of a running job (with any progress fields)."""
    return model.objects.filter(pk=pk).update(heartbeat_at=timezone.now(), **updates)
