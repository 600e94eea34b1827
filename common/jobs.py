"""Queueing background jobs so that the web app keeps working when the queue is down."""

import logging
import time

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


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


def enqueue(task, *args, **kwargs) -> None:
    """Send ``task`` to the queue, raising QueueDown if the broker cannot be reached.

    Callers record the job first and let the user retry: nothing is lost when
    the queue is down, the job simply waits to be sent again.
    """
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception as exc:  # kombu raises several connection error types
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("job queue unreachable, %s not sent: %s", task.name, exc)
        raise QueueDown(str(exc)) from exc


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue after the surrounding transaction commits (a worker must see the rows)."""

    def send():
        try:
            enqueue(task, *args, **kwargs)
        except QueueDown:
            pass  # already logged; the job row stays 'queued' and can be re-sent

    transaction.on_commit(send)


def queue_state_cached() -> str:
    """queue_state() for page banners: asked at most every few seconds per process."""
    global _last_state
    now = time.monotonic()
    if _last_state is None or now - _last_state[0] > 10:
        _last_state = (now, queue_state())
    return _last_state[1]


_last_state: tuple[float, str] | None = None
