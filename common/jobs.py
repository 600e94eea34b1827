"""Queueing background jobs so that the web app keeps working when the queue is down, and loses nothing.

A job the app decides to run is a ``common.models.PendingJob`` row written in the same transaction as the
change that causes it (``enqueue_on_commit``). After the commit the row is handed to the queue at once, with a
short connection timeout and no publish retries, so a user never waits on a dead broker. When the queue
cannot be reached the row stays ``waiting``, the page that caused it says so (``JobsWaitingMiddleware``), and
the beat sweep (``common.tasks.deliver_outbox``) or ``manage.py deliver_pending`` hands it over when the queue
is back (``dispatch_pending``).

Each row is claimed with a conditional UPDATE (waiting → handing) before it is published, so the kick after a
commit and a sweep running at the same moment never queue one job twice. The jobs themselves are idempotent
on their own records as well (an acknowledgement already sent, a print job already done, an import already
run are left alone), so a job handed over again after a process died mid-publish does no work twice.

Without a broker (the laptop default, CELERY_TASK_ALWAYS_EAGER) jobs run inline after the commit, as before:
there is no queue that could be down.
"""

import contextvars
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# A claim older than this belongs to a process that died between claiming and publishing.
STALE_CLAIM = timedelta(minutes=10)

# What the current request queued (JobsWaitingMiddleware): the PendingJob ids it recorded, and whether a nudge
# could not reach the queue. None outside a request.
_request_jobs: contextvars.ContextVar[dict | None] = contextvars.ContextVar("request_jobs", default=None)


class QueueDown(Exception):
    pass


def queue_state() -> str:
    """``inline`` without a broker configured, ``ok`` when Redis answers, else ``down``."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return "inline"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except (redis.RedisError, OSError):
        return "down"
    return "ok"


def _publish(task, args, kwargs, task_id: str | None = None) -> None:
    # retry=False: kombu's publish retry policy would keep the user's request waiting on a dead broker; a job
    # that could not be published waits in PendingJob instead.
    task.apply_async(args=args, kwargs=kwargs, task_id=task_id, retry=False)


def enqueue(task, *args, **kwargs) -> None:
    """Send ``task`` to the queue now, raising QueueDown if the broker cannot be reached. Nothing is recorded:
    for jobs that must not be lost use ``enqueue_on_commit``."""
    try:
        _publish(task, args, kwargs)
    except Exception as exc:  # kombu and redis raise several connection error types
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("job queue unreachable, %s not sent: %s", task.name, exc)
        raise QueueDown(str(exc)) from exc


def enqueue_on_commit(task, *args, **kwargs):
    """Record the job in the current transaction and hand it to the queue after the commit (a worker must see
    the rows). Returns the PendingJob (None when jobs run inline). Arguments must be JSON values (ids)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
        return None
    from common.models import PendingJob

    job = PendingJob.objects.create(task=task.name, args=list(args), kwargs=kwargs)
    seen = _request_jobs.get()
    if seen is not None:
        seen["jobs"].append(job.pk)
    transaction.on_commit(lambda: hand_over(job.pk))
    return job


def enqueue_recorded(task, *args, **kwargs):
    """For a caller outside the transaction of a change (an import sent from its page): recorded and handed to
    the queue at once (after the commit when inside one); inline, run now."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        enqueue(task, *args, **kwargs)
        return None
    return enqueue_on_commit(task, *args, **kwargs)


def nudge_on_commit(task, *args, **kwargs) -> None:
    """Ask for ``task`` after the commit, without recording it: for a sweep whose work is recorded elsewhere
    (the e-mail outbox), which the beat schedule runs anyway. A down queue only delays it."""

    def send():
        try:
            enqueue(task, *args, **kwargs)
        except QueueDown:
            _note_waiting()

    transaction.on_commit(send)


def hand_over(pk: int) -> bool:
    """Claim one waiting job and publish it. False when the queue could not be reached (the row waits)."""
    from celery import current_app

    from common.models import PendingJob

    seen = _request_jobs.get()
    if seen is not None and seen["queue_failed"]:
        return False  # the queue refused this request once already: its other jobs wait without a second try
    claimed = PendingJob.objects.filter(pk=pk, status=PendingJob.Status.WAITING).update(
        status=PendingJob.Status.HANDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return True  # another dispatcher has it, or it was handed over already
    job = PendingJob.objects.get(pk=pk)
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    try:
        task = _task(current_app, job.task)
        _publish(task, job.args, job.kwargs, task_id=job.celery_task_id)
    except Exception as exc:
        reason = f"{exc.__class__.__name__}: {exc}"[:2000]
        if eager or isinstance(exc, KeyError):
            # The job ran inline and failed (its own record says how), or names no task: not a queue
            # problem, and handing it over again would not help.
            logger.exception("job %s (%s) failed", pk, job.task)
            PendingJob.objects.filter(pk=pk).update(
                status=PendingJob.Status.QUEUED, queued_at=timezone.now(), error=reason
            )
            return True
        logger.warning("job queue unreachable, job %s (%s) waits: %s", pk, job.task, reason)
        PendingJob.objects.filter(pk=pk).update(status=PendingJob.Status.WAITING, error=reason)
        if seen is not None:
            seen["queue_failed"] = True
        return False
    PendingJob.objects.filter(pk=pk).update(status=PendingJob.Status.QUEUED, queued_at=timezone.now(), error="")
    return True


def _task(app, name: str):
    """The registered task ``name``. The apps' task modules are imported by a worker at its start; a web process or
    `manage.py deliver_pending` that has not imported one yet imports them now (without this a job recorded by
    another process, handed over from here, would name "no task" and be lost)."""
    try:
        return app.tasks[name]
    except KeyError:
        app.loader.import_default_modules()
        return app.tasks[name]


def release_stale_claims(now=None) -> int:
    from common.models import PendingJob

    now = now or timezone.now()
    return PendingJob.objects.filter(status=PendingJob.Status.HANDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=PendingJob.Status.WAITING
    )


def dispatch_pending(*, limit: int | None = None) -> dict[str, int]:
    """Hand every waiting job to the queue, oldest first; stop at the first one the queue refuses (it is
    down: trying the others would only wait on it again). Returns {"queued": n, "waiting": m}."""
    from common.models import PendingJob

    release_stale_claims()
    ids = list(
        PendingJob.objects.filter(status=PendingJob.Status.WAITING).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for pk in ids:
        if not hand_over(pk):
            break
        queued += 1
    return {"queued": queued, "waiting": PendingJob.objects.filter(status=PendingJob.Status.WAITING).count()}


def _note_waiting() -> None:
    seen = _request_jobs.get()
    if seen is not None:
        seen["nudge_failed"] = True


class JobsWaitingMiddleware:
    """Tells the person whose action queued a job or an e-mail that it waits for the queue (place it after
    MessageMiddleware, so the message is stored with the response). Asks the database only when the request
    recorded a job."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_jobs.set({"jobs": [], "nudge_failed": False, "queue_failed": False})
        try:
            response = self.get_response(request)
            seen = _request_jobs.get()
            if seen["nudge_failed"] or (seen["jobs"] and _any_waiting(seen["jobs"])):
                messages.warning(
                    request,
                    _(
                        "Your change is saved. The job queue cannot be reached just now: the e-mails and jobs "
                        "it causes are waiting and will be sent as soon as the queue is back."
                    ),
                    fail_silently=True,
                )
        finally:
            _request_jobs.reset(token)
        return response


def _any_waiting(ids: list[int]) -> bool:
    from common.models import PendingJob

    return PendingJob.objects.filter(pk__in=ids, status=PendingJob.Status.WAITING).exists()


def queue_state_cached() -> str:
    """queue_state() for page banners: asked at most every few seconds per process."""
    global _last_state
    now = time.monotonic()
    if _last_state is None or now - _last_state[0] > 10:
        _last_state = (now, queue_state())
    return _last_state[1]


_last_state: tuple[float, str] | None = None
