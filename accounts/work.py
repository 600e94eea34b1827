""" "My work": what waits for the user's departments.

Each app contributes a function ``(user) -> list[WorkSection]``; the list of
providers is below so the page needs no knowledge of the apps' models."""

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.utils.module_loading import import_string

# My work shows this many items of a section; "show all (N)" opens the section's full list.
SHOWN = 10

_SHOW_ALL: ContextVar[bool] = ContextVar("work_show_all", default=False)


def work_limit(limit: int) -> int | None:
    """The bound a provider slices its items with: ``limit`` on My work, ``None`` (every item) while a "show all"
    page asks. Providers write ``rows[: work_limit(WORK_LIMIT)]``."""
    return None if _SHOW_ALL.get() else limit


PROVIDERS = [
    "customers.selectors.my_work",
    "orders.selectors.my_work",
    "delivery.selectors.my_work",
    "delivery.customs.my_work",
    "delivery.sheet_jobs.my_work",
    "satisfaction.selectors.my_work",
    "complaints.selectors.my_work",
    "improvement.selectors.my_work",
    "improvement.report.my_work",
]


@dataclass
class WorkItem:
    label: str
    url: str
    detail: str = ""
    overdue: bool = False


@dataclass
class WorkSection:
    title: str
    items: list[WorkItem] = field(default_factory=list)
    total: int = 0  # may exceed len(items) when the section is truncated
    more_url: str = ""

    @property
    def key(self) -> str:
        """Names the section in the "show all" link (from its title, the same in both requests of a user)."""
        return hashlib.sha1(str(self.title).encode(), usedforsecurity=False).hexdigest()[:12]

    @property
    def shown(self) -> list[WorkItem]:
        return self.items[:SHOWN]

    @property
    def count(self) -> int:
        return max(self.total, len(self.items))

    @property
    def has_more(self) -> bool:
        return self.count > SHOWN


def sections_for(user, *, show_all: bool = False) -> list[WorkSection]:
    """Every provider's sections for ``user``; ``show_all`` asks the providers for every item, not the first few."""
    token = _SHOW_ALL.set(show_all)
    try:
        sections: list[WorkSection] = []
        for path in PROVIDERS:
            sections.extend(import_string(path)(user))
        return sections
    finally:
        _SHOW_ALL.reset(token)
