""" "My work": what waits for the user's departments.

Each app contributes a function ``(user) -> list[WorkSection]``; the list of
providers is below so the page needs no knowledge of the apps' models."""

from dataclasses import dataclass, field

from django.utils.module_loading import import_string

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


def sections_for(user) -> list[WorkSection]:
    sections: list[WorkSection] = []
    for path in PROVIDERS:
        sections.extend(import_string(path)(user))
    return sections
