"""Working days: Monday to Friday, except the public holidays in the work calendar, plus its make-up working days
(调休, a Saturday or Sunday worked instead of a bridge day). Every deadline counted in working days uses these
functions: review steps (orders.selectors.is_overdue) and complaint steps (complaints.selectors).

The calendar is a few dozen rows a year. It is read whole, once, and kept in the cache until an administrator
changes it, so counting days for a list of a hundred rows costs at most one query."""

from datetime import date, timedelta

from django.core.cache import cache
from django.db import transaction

CACHE_KEY = "common:work-calendar:v1"
# Changes are seen at once where the cache is shared (Redis); where each process keeps its own (the laptop's
# local memory), another process sees them within this time.
CACHE_SECONDS = 300


def _exceptions() -> dict[date, bool]:
    """The calendar's days: date -> True for a make-up working day, False for a holiday."""
    days = cache.get(CACHE_KEY)
    if days is None:
        from common.models import WorkCalendarDay

        days = {
            day: kind == WorkCalendarDay.Kind.WORKDAY
            for day, kind in WorkCalendarDay.objects.values_list("date", "kind")
        }
        cache.set(CACHE_KEY, days, timeout=CACHE_SECONDS)
    return days


def calendar_changed(**kwargs) -> None:
    """Forget the cached calendar (connected to the model's save and delete signals in CommonConfig.ready).

    Once now, and again after the commit: a request reading the calendar between the change and its commit
    would otherwise cache the old days for good."""
    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))


def is_working_day(day: date, _days: dict[date, bool] | None = None) -> bool:
    days = _exceptions() if _days is None else _days
    if day in days:
        return days[day]
    return day.weekday() < 5


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    days = _exceptions()
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current, days):
            count += 1
    return count


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself for 0)."""
    days = _exceptions()
    current = start
    while count > 0:
        current += timedelta(days=1)
        if is_working_day(current, days):
            count -= 1
    return current


def earliest_start_within(count: int, today: date) -> date:
    """The earliest start day from which no more than ``count`` working days have passed by ``today``: a step
    started before it is overdue. ``working_days_between(start, today)`` only grows as ``start`` moves back, so
    walking back from today finds it, and the database can then compare dates instead of counting days."""
    days = _exceptions()
    start, counted = today, 0
    while True:
        counted_if_earlier = counted + (1 if is_working_day(start, days) else 0)
        if counted_if_earlier > count:
            return start
        counted = counted_if_earlier
        start -= timedelta(days=1)
