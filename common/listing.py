"""Lists people can use: sorting by a column, a date range, and the .xlsx of exactly what is filtered.

One declarative ``Listing`` per list page names its columns (key, label, value, type, how to sort). A view binds it
to the request, narrows its rows with its own filters as before, and lets the bound listing apply the date range and
the sort; ``format=xlsx`` in the query string then gives the same rows as a workbook::

    ORDERS = Listing(
        name="orders",
        columns=[
            Column("number", _("Order no."), "number", sort="number"),
            Column("entered", _("Entered"), "created_at", DATETIME, sort="created_at"),
            Column("qty", _("Quantity"), lambda o: o.total, NUMBER, sort="total"),
        ],
        default_sort="-entered",
        date_field="created_at",       # ORM path (a DateTimeField is compared by its local date) or a callable
    )

    def order_list(request):
        require(request.user, "order.view")
        listed = ORDERS.bind(request)
        rows = listed.apply(selectors.order_list(...))   # date range, then sort (validated keys only)
        if listed.export:
            return listed.xlsx_response(rows)               # every filtered row, not the page
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        return render(..., {"page": page, "listed": listed, ...})

and in the template: ``{% load listing %}`` then ``{% sort_th listed "number" %}`` for a header cell,
``{% include "common/_date_range.html" %}`` inside the filter form (from/to inputs, the kept sort, the message about
a bad date) and ``{% include "common/_export_link.html" %}`` for the button. Python lists (rows that are not a
queryset) work the same: sorting and the date range use the column values.

Sort keys come from the query string as ``sort=<key>`` or ``sort=-<key>``; only keys of the listing's sortable
columns are used (anything else is ignored, never passed to ``order_by``). ``from``/``to`` are ISO dates; a bad one
gives a message on the page and no date filtering.

The workbook: headers "中文 / English" whatever the user's language, numbers and dates as typed cells (datetimes in
local time), every text through ``common.xlsx.text_cell`` (formula injection), written in openpyxl's write-only mode
row by row from ``QuerySet.iterator`` into a temporary file, so memory does not grow with the number of rows.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import F, QuerySet
from django.db.models.expressions import BaseExpression, OrderBy
from django.http import FileResponse, QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from common.xlsx import XLSX_CONTENT_TYPE, text_cell

TEXT = "text"
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
TYPES = (TEXT, NUMBER, DATE, DATETIME)

EXPORT_CHUNK = 2000  # rows read per query (and per prefetch) while writing a workbook


@dataclass(frozen=True)
class Column:
    """One column of a list.

    ``value``: an attribute path (``"customer.code"``, dots follow relations and dict keys; a callable attribute is
    called) or a function of the row. ``sort``: how the database orders by it — a field path, an expression, or a
    tuple of them; ``True`` sorts by the value itself (for Python lists); ``None`` makes it not sortable.
    ``export=False`` keeps a column off the workbook (e.g. a checkbox column); ``page=False`` off the page header.
    """

    key: str
    label: Any  # gettext_lazy
    value: str | Callable[[Any], Any]
    type: str = TEXT
    sort: Any = None
    width: int | None = None
    export: bool = True

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"unknown column type {self.type!r}")
        getter = self.value
        if not callable(getter):
            parts = tuple(getter.split("."))
            display = _DISPLAY.fullmatch(parts[-1])
            if display and len(parts) == 1:
                getter = choice_label(display.group(1))
            else:
                getter = partial(_follow, parts)
        object.__setattr__(self, "_get", getter)

    @property
    def sortable(self) -> bool:
        return self.sort is not None

    def get(self, row) -> Any:
        return self._get(row)

    def header(self) -> str:
        """The header cell: "中文 / English" whatever the active language (one text when they are the same)."""
        with translation.override("zh-hans"):
            zh = str(self.label)
        with translation.override("en"):
            en = str(self.label)
        return en if zh == en else f"{zh} / {en}"


_DISPLAY = re.compile(r"get_(\w+)_display")


def _follow(parts: tuple[str, ...], row) -> Any:
    current = row
    for part in parts:
        if current is None:
            return None
        if isinstance(current, dict):
            current = current.get(part)
        else:
            try:
                current = getattr(current, part)
            except ObjectDoesNotExist:  # an empty reverse one-to-one (e.g. no sign-back yet)
                return None
        if callable(current) and not isinstance(current, type):
            current = current()
    return current


def choice_label(field_name: str) -> Callable[[Any], Any]:
    """The label of a choice field, like ``get_<field>_display`` but without rebuilding the choices for every row
    (Django hashes every lazy label on each call: eight translations per row for a seven-choice status)."""
    labels_by_model: dict[type, dict] = {}

    def get(row):
        labels = labels_by_model.get(type(row))
        if labels is None:
            labels = dict(type(row)._meta.get_field(field_name).flatchoices)
            labels_by_model[type(row)] = labels
        value = getattr(row, field_name)
        return labels.get(value, value)

    return get


def _order_terms(sort, descending: bool, model=None) -> list[OrderBy]:
    terms = sort if isinstance(sort, (tuple, list)) else (sort,)
    out = []
    for term in terms:
        expression = F(term) if isinstance(term, str) else term
        if not isinstance(expression, (BaseExpression, F)):
            raise TypeError(f"not an orderable expression: {term!r}")
        model_field = _resolve_field(model, term) if model is not None and isinstance(term, str) else None
        if model_field is not None and not model_field.null and "__" not in term:
            # A column that is never NULL: a plain ORDER BY, which an index on it can serve both ways (PostgreSQL
            # cannot use a plain index for DESC NULLS LAST: it sorted all 20,000 orders for each page).
            out.append(expression.desc() if descending else expression.asc())
        else:
            # NULLs last both ways, the same on SQLite and PostgreSQL
            out.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    return out


def parse_day(text: str) -> date | None:
    """An ISO date, or ``None`` for an empty value; ``ValueError`` for anything else."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        return None
    return date.fromisoformat(text)


@dataclass
class Listing:
    """The declaration of one list: its columns, its default order, the field its date range filters on."""

    name: str  # the workbook's file name and sheet title start with it
    columns: list[Column]
    default_sort: str = ""  # a key, "-key" for descending; "" keeps the rows' own order
    date_field: str | Callable[[Any], date | None] | None = None
    date_label: Any = None  # what the date range filters on, shown beside the inputs
    sheet_title: Any = None  # gettext_lazy; defaults to the name
    by_key: dict[str, Column] = field(init=False, repr=False)

    def __post_init__(self):
        self.by_key = {c.key: c for c in self.columns}
        if len(self.by_key) != len(self.columns):
            raise ValueError(f"duplicate column keys in listing {self.name!r}")
        if self.default_sort and self.default_sort.lstrip("-") not in self.by_key:
            raise ValueError(f"default sort {self.default_sort!r} is not a column of {self.name!r}")

    def bind(self, request=None, *, params: QueryDict | dict | None = None) -> BoundListing:
        params = request.GET if params is None else params
        return BoundListing(self, params)


class BoundListing:
    """A listing with the request's sort, date range and export choice."""

    def __init__(self, listing: Listing, params):
        self.listing = listing
        self.params = params if isinstance(params, QueryDict) else _querydict(params)
        self.errors: list[str] = []
        self.sort_key, self.descending = self._sort(self.params.get("sort", ""))
        self.date_from = self._day("from", _("From"))
        self.date_to = self._day("to", _("To"))
        if self.date_from and self.date_to and self.date_to < self.date_from:
            self.errors.append(_("The end date is before the start date: no date filter applied."))
            self.date_from = self.date_to = None
        self.export = self.params.get("format") == "xlsx"

    # --- reading the query string ------------------------------------------------------------------------------

    def _sort(self, text: str) -> tuple[str, bool]:
        text = (text or "").strip()
        key = text.lstrip("-")
        column = self.listing.by_key.get(key)
        if column is None or not column.sortable:  # unknown keys are ignored, never passed to order_by
            text = self.listing.default_sort
            key = text.lstrip("-")
        return key, text.startswith("-")

    def _day(self, name: str, label: str) -> date | None:
        raw = self.params.get(name, "")
        try:
            return parse_day(raw)
        except ValueError:
            self.errors.append(
                _("%(field)s: “%(value)s” is not a date (use YYYY-MM-DD); no date filter applied.")
                % {"field": label, "value": raw.replace("\x00", "")[:40]}
            )
            return None

    @property
    def sort(self) -> str:
        """The sort in force as the query string carries it ("" for the rows' own order)."""
        if not self.sort_key:
            return ""
        return f"-{self.sort_key}" if self.descending else self.sort_key

    @property
    def filtered_by_date(self) -> bool:
        return bool(self.listing.date_field) and bool(self.date_from or self.date_to) and not self.errors

    # --- applying it -------------------------------------------------------------------------------------------

    def apply(self, rows):
        """``rows`` narrowed to the date range and sorted (a queryset stays a queryset, a list stays a list)."""
        return self.order(self.filter_dates(rows))

    def filter_dates(self, rows):
        if self.errors or not (self.date_from or self.date_to) or not self.listing.date_field:
            return rows
        field_ = self.listing.date_field
        if isinstance(rows, QuerySet) and isinstance(field_, str):
            model_field = _resolve_field(rows.model, field_)  # None for an annotation (e.g. a computed due date)
            is_datetime = model_field is not None and model_field.get_internal_type() == "DateTimeField"
            lookup = f"{field_}__date" if is_datetime else field_
            if self.date_from:
                rows = rows.filter(**{f"{lookup}__gte": self.date_from})
            if self.date_to:
                rows = rows.filter(**{f"{lookup}__lte": self.date_to})
            return rows
        getter = field_ if callable(field_) else Column("_", "", field_).get
        kept = []
        for row in rows:
            day = getter(row)
            if isinstance(day, datetime):
                day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
            if day is None:
                continue
            if (self.date_from and day < self.date_from) or (self.date_to and day > self.date_to):
                continue
            kept.append(row)
        return kept

    def order(self, rows):
        if not self.sort_key:
            return rows
        column = self.listing.by_key[self.sort_key]
        if isinstance(rows, QuerySet):
            if column.sort is True:
                raise TypeError(f"column {column.key!r} sorts Python lists only")
            terms = _order_terms(column.sort, self.descending, rows.model)
            return rows.order_by(*terms, "-pk" if self.descending else "pk")
        rows = list(rows)
        present = [r for r in rows if column.get(r) is not None]
        missing = [r for r in rows if column.get(r) is None]
        key = column.sort if callable(column.sort) and column.sort is not True else column.get
        present.sort(key=lambda r: _sortable(key(r)), reverse=self.descending)
        return present + missing  # no value last, both ways (as in the database)

    # --- links ---------------------------------------------------------------------------------------------------

    def query_with(self, **changes) -> str:
        """The current query string (without the page) with ``changes`` (a value of None removes the key)."""
        query = self.params.copy()
        query.pop("page", None)
        for name, value in changes.items():
            if value is None or value == "":
                query.pop(name, None)
            else:
                query[name] = value
        return query.urlencode()

    @property
    def export_query(self) -> str:
        return self.query_with(format="xlsx")

    @property
    def page_query(self) -> str:
        """For the pagination fragment: everything but the page (and never the export switch)."""
        return self.query_with(format=None)

    def header(self, key: str) -> dict:
        """What the sortable header fragment needs for column ``key``."""
        column = self.listing.by_key[key]
        active = self.sort_key == key
        if column.sortable:
            next_sort = key if not active or self.descending else f"-{key}"
            url = "?" + self.query_with(sort=next_sort, format=None)
        else:
            url = ""
        return {
            "label": column.label,
            "key": key,
            "url": url,
            "active": active,
            "descending": active and self.descending,
            "numeric": column.type == NUMBER,
        }

    # --- the workbook ------------------------------------------------------------------------------------------

    def export_columns(self) -> list[Column]:
        return [c for c in self.listing.columns if c.export]

    def write_workbook(self, rows: Iterable, out) -> int:
        """Write ``rows`` to ``out`` (a path or binary file) as .xlsx; returns the number of rows written."""
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        count = self.write_sheet(book, rows)
        book.save(out)
        return count

    def write_sheet(self, book, rows: Iterable, *, footer: list | None = None) -> int:
        """Add a sheet of ``rows`` to ``book`` (a write-only workbook): the bilingual header, one typed row per
        row, then ``footer`` (e.g. a total line) if given. Returns the number of rows written."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        columns = self.export_columns()
        with translation.override("zh-hans"):
            zh_title = str(self.listing.sheet_title or self.listing.name)
        with translation.override("en"):
            en_title = str(self.listing.sheet_title or self.listing.name)
        sheet = book.create_sheet(title=_sheet_title(zh_title if zh_title == en_title else f"{zh_title} {en_title}"))
        for index, column in enumerate(columns, 1):
            width = column.width or {TEXT: 24, NUMBER: 12, DATE: 12, DATETIME: 17}[column.type]
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column.header())
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        if isinstance(rows, QuerySet):
            rows = rows.iterator(chunk_size=EXPORT_CHUNK)
        count = 0
        for row in rows:
            sheet.append([_cell(sheet, column, column.get(row)) for column in columns])
            count += 1
        if footer is not None:
            sheet.append([text_cell(sheet, v) for v in footer])
        return count

    def xlsx_response(self, rows: Iterable, filename: str = "") -> FileResponse:
        """The workbook of ``rows`` as a download. It is built in a temporary file (write-only mode keeps memory
        flat) and streamed from there; the file goes away when the response is closed."""
        spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 — FileResponse closes it
        self.write_workbook(rows, spool)
        spool.seek(0)
        name = filename or f"{self.listing.name}-{timezone.localdate().isoformat()}.xlsx"
        return FileResponse(spool, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)


def _querydict(params: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in params.items():
        query[name] = value
    return query


def _resolve_field(model, path: str):
    field_ = None
    for part in path.split("__"):
        try:
            field_ = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field_.related_model if field_.is_relation else model
    return field_


def _sortable(value):
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def _sheet_title(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return text[:31] or "Sheet"


def _cell(sheet, column: Column, value):
    """A typed cell: numbers as numbers, dates as dates (local time, as Excel has no time zones), text as text."""
    if value is None or value == "":
        return None
    if column.type == NUMBER:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float, Decimal)):
            return value
        return text_cell(sheet, str(value))
    if column.type in (DATE, DATETIME):
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)
            if column.type == DATE:
                value = value.date()
        if isinstance(value, date):
            return value  # openpyxl writes a date cell with a date format (yyyy-mm-dd, with h:mm:ss for a time)
        return text_cell(sheet, str(value))
    if isinstance(value, bool):
        value = _("yes") if value else _("no")
    return text_cell(sheet, str(value))
