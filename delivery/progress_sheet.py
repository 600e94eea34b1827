"""《订单交货进度表》 (§5.4.2): the open order lines with their progress, and the Excel sheet made of them.

``open_lines_queryset(today)`` is the one definition of an *open line* and of *at risk*; everything is computed
in the database (one query, no per-line queries), so other pages ("My work") can filter and count on it:

- open: the order is signed off or confirmed to the customer, and quantity minus delivered is above zero;
  delivered = the lines of *issued* delivery notes for the line's batches (cancelled notes count for nothing),
  read from each batch's stored ``delivered_quantity`` (``delivery.ontime.batch_state_recompute``);
- due date: the earliest due date of what is still outstanding on the line, by the definitions of
  ``delivery.selectors`` shared with My work and the on-time rate: its batches with quantity outstanding, and its
  unplanned part, due on the customer's date (confirmed, else requested);
- at risk, for any of three reasons:
  ``late_plan``  the planned completion is later than the day before the due date (i.e. on or after it);
  ``delayed``    a delay report that Customer Service has not settled yet;
  ``overdue``    a batch (or the unplanned part) past its due date with quantity outstanding.

``open_lines(today)`` returns the same lines as ``SheetRow`` objects with ``at_risk`` and ``at_risk_reason``;
``build_workbook(rows, day)`` writes them into an .xlsx (openpyxl write-only: rows are streamed, memory stays flat).
"""

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.xlsx import text_cell
from delivery.models import DelayReport
from delivery.selectors import ZERO, customer_date, lines_not_ready, planned_in_batches
from orders.models import Order, OrderLine, SignOff
from orders.selectors import UNDER_REVIEW

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The form's name in the procedure; printed in both languages whatever the reader's language.
SHEET_TITLE = "订单交货进度表 / Delivery progress"
OPEN_ORDER_STATUSES = (Order.Status.SIGNED_OFF, Order.Status.CONFIRMED)
QTY = DecimalField(max_digits=14, decimal_places=3)

# Reasons a line is at risk, in the order they are listed.
LATE_PLAN, DELAYED, OVERDUE = "late_plan", "delayed", "overdue"
RISKS = (LATE_PLAN, DELAYED, OVERDUE)


# --- The open lines ----------------------------------------------------------------------------------------


def open_lines_queryset(today: date, lines: QuerySet[OrderLine] | None = None) -> QuerySet[OrderLine]:
    """Open order lines annotated with ``due``, ``planned``, ``produced``, ``warehoused``, ``delivered``,
    ``outstanding``, the risk flags ``late_plan``, ``delayed``, ``overdue``, ``at_risk`` and
    ``delay_new_date`` (the newest unsettled delay report's date); ordered by due date, order, line.

    ``lines`` narrows the base (e.g. one customer's lines); ``.filter(at_risk=True)`` works in the database.
    """
    unsettled = DelayReport.objects.filter(line=OuterRef("pk"), settled_at__isnull=True)
    base = OrderLine.objects.all() if lines is None else lines
    return (
        # An order back in review after a change stays on the sheet, its state shown (orders.selectors
        # .shipping_refusal says what of it may ship meanwhile).
        base.alias(signed_once=Exists(SignOff.objects.filter(order=OuterRef("order"))))
        # Open: quantity outstanding (written as the partial index line_open_idx's condition, so it is used).
        .filter(quantity__gt=F("delivered_quantity"))
        .filter(Q(order__status__in=OPEN_ORDER_STATUSES) | Q(order__status__in=UNDER_REVIEW, signed_once=True))
        .annotate(
            # Delivered by issued notes and the first batch with quantity outstanding: the line's stored sums
            # over its batches (delivery.selectors, "each order line's sums").
            delivered=F("delivered_quantity"),
            customer_due=customer_date(),
            unplanned=ExpressionWrapper(F("quantity") - planned_in_batches(), output_field=QTY),
            planned=F("progress__planned_completion"),
            produced=Coalesce("progress__produced", ZERO),
            warehoused=Coalesce("progress__warehoused", ZERO),
        )
        .annotate(
            outstanding=ExpressionWrapper(F("quantity") - F("delivered"), output_field=QTY),
            # The first date something of the line is due: its unplanned part counts as due on the customer's date.
            due=Case(
                When(
                    Q(unplanned__gt=0) & (Q(next_batch_due__isnull=True) | Q(next_batch_due__gt=F("customer_due"))),
                    then=F("customer_due"),
                ),
                default=Coalesce(F("next_batch_due"), F("customer_due")),
            ),
        )
        .annotate(
            # "later than the day before the due date" is "on or after the due date" for whole days.
            late_plan=ExpressionWrapper(Q(planned__isnull=False, planned__gte=F("due")), output_field=BooleanField()),
            delayed=Exists(unsettled),
            overdue=ExpressionWrapper(Q(due__lt=today), output_field=BooleanField()),
            delay_new_date=Subquery(unsettled.order_by("-reported_at", "-pk").values("new_date")[:1]),
        )
        .annotate(
            at_risk=ExpressionWrapper(
                Q(late_plan=True) | Q(delayed=True) | Q(overdue=True), output_field=BooleanField()
            )
        )
        .order_by("due", "order__number", "position")
    )


# The values one sheet row needs: one query, dicts, no model instances.
VALUE_FIELDS = (
    "pk",
    "order__number",
    "order__customer__code",
    "order__customer__name_zh",
    "order__customer__name_en",
    "order__customer_po",
    "position",
    "product__code",
    "product__name",
    "quantity",
    "requested_date",
    "confirmed_date",
    "due",
    "planned",
    "produced",
    "warehoused",
    "delivered",  # outstanding = quantity - delivered, in Python: the subquery once in the SELECT, not twice
    "late_plan",
    "delayed",
    "overdue",
    "delay_new_date",
    "order__status",
)


class Stage:
    """How far a line has got, from its progress figures (the sheet's Status column)."""

    NOT_PLANNED = "not_planned"
    PLANNED = "planned"
    IN_PRODUCTION = "in_production"
    PRODUCED = "produced"
    PART_WAREHOUSED = "part_warehoused"
    WAREHOUSED = "warehoused"
    PART_DELIVERED = "part_delivered"

    LABELS = {
        NOT_PLANNED: gettext_lazy("Not planned"),
        PLANNED: gettext_lazy("Planned"),
        IN_PRODUCTION: gettext_lazy("In production"),
        PRODUCED: gettext_lazy("Produced"),
        PART_WAREHOUSED: gettext_lazy("Partly warehoused"),
        WAREHOUSED: gettext_lazy("Warehoused"),
        PART_DELIVERED: gettext_lazy("Partly delivered"),
    }


@dataclass(slots=True)
class SheetRow:
    line_id: int
    order_number: str
    customer_code: str
    customer_name: str
    customer_po: str
    position: int
    product_code: str
    product_name: str
    quantity: Decimal
    requested_date: date
    confirmed_date: date | None
    due_date: date
    planned_completion: date | None
    produced: Decimal
    warehoused: Decimal
    delivered: Decimal
    outstanding: Decimal
    risks: tuple[str, ...]  # codes from RISKS; empty when the line is on track
    delay_new_date: date | None = None
    order_status: str = ""

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    @property
    def at_risk_reason(self) -> str:
        """Why the line is at risk, in the active language ("" when it is not)."""
        texts = []
        for risk in self.risks:
            if risk == LATE_PLAN:
                texts.append(
                    _("planned completion %(planned)s is not before the due date %(due)s")
                    % {"planned": self.planned_completion.isoformat(), "due": self.due_date.isoformat()}
                )
            elif risk == DELAYED:
                if self.delay_new_date:
                    texts.append(
                        _("delay reported, not settled yet (new date %(date)s)")
                        % {"date": self.delay_new_date.isoformat()}
                    )
                else:
                    texts.append(_("delay reported, not settled yet"))
            elif risk == OVERDUE:
                texts.append(_("past the due date %(due)s") % {"due": self.due_date.isoformat()})
        return "; ".join(texts)

    @property
    def stage(self) -> str:
        if self.delivered > 0:
            return Stage.PART_DELIVERED
        if self.warehoused >= self.quantity:
            return Stage.WAREHOUSED
        if self.warehoused > 0:
            return Stage.PART_WAREHOUSED
        if self.produced >= self.quantity:
            return Stage.PRODUCED
        if self.produced > 0:
            return Stage.IN_PRODUCTION
        if self.planned_completion:
            return Stage.PLANNED
        return Stage.NOT_PLANNED

    @property
    def status(self) -> str:
        stage = str(Stage.LABELS[self.stage])
        if self.order_status in UNDER_REVIEW:
            return f"{stage} · {Order.Status(self.order_status).label}"
        return stage

    @property
    def customer(self) -> str:
        return f"{self.customer_code} {self.customer_name}"


def rows_from_values(values: Iterable[dict]) -> Iterable[SheetRow]:
    """SheetRows from ``open_lines_queryset(...).values(*VALUE_FIELDS)`` dicts."""
    for v in values:
        yield SheetRow(
            line_id=v["pk"],
            order_number=v["order__number"],
            customer_code=v["order__customer__code"],
            customer_name=v["order__customer__name_zh"] or v["order__customer__name_en"],
            customer_po=v["order__customer_po"],
            position=v["position"],
            product_code=v["product__code"],
            product_name=v["product__name"],
            quantity=v["quantity"],
            requested_date=v["requested_date"],
            confirmed_date=v["confirmed_date"],
            due_date=v["due"],
            planned_completion=v["planned"],
            produced=v["produced"],
            warehoused=v["warehoused"],
            delivered=v["delivered"],
            outstanding=v["quantity"] - v["delivered"],
            risks=tuple(risk for risk in RISKS if v[risk]),
            delay_new_date=v["delay_new_date"],
            order_status=v.get("order__status", ""),
        )


def open_lines(today: date, lines: QuerySet[OrderLine] | None = None) -> list[SheetRow]:
    """The open lines on ``today`` as sheet rows (see the module docstring for the rules)."""
    values = open_lines_queryset(today, lines).values(*VALUE_FIELDS)
    return list(rows_from_values(values.iterator(chunk_size=2000)))


@dataclass(frozen=True, slots=True)
class Summary:
    open_lines: int
    at_risk: int
    overdue: int
    due_today: int
    due_tomorrow: int
    not_ready_tomorrow: int = 0  # the lines My work lists as "Due tomorrow and not ready" (the same query)


def summarize(rows: Iterable[SheetRow], today: date) -> Summary:
    """The counts of the e-mail body and the page, from rows already read (and the not-ready count, asked of
    the database with My work's definition)."""
    tomorrow = today + timedelta(days=1)
    total = at_risk = overdue = due_today = due_tomorrow = 0
    for row in rows:
        total += 1
        at_risk += row.at_risk
        overdue += OVERDUE in row.risks
        due_today += row.due_date == today
        due_tomorrow += row.due_date == tomorrow
    return Summary(total, at_risk, overdue, due_today, due_tomorrow, lines_not_ready(tomorrow).count())


def summary_counts(today: date, lines: QuerySet[OrderLine] | None = None) -> Summary:
    """``summarize`` in the database, for pages that show one page of rows but the counts of all.

    One grouped query (by due date and flags; a few hundred groups at most). Not ``aggregate(Count(filter=
    Q(at_risk=True)))``: Django 5.2 renders that filter as a bare alias absent from the SELECT, which SQLite
    silently reads as a string and PostgreSQL refuses."""
    tomorrow = today + timedelta(days=1)
    groups = (
        open_lines_queryset(today, lines).order_by().values("due", "at_risk", "overdue").annotate(count=Count("pk"))
    )
    total = at_risk = overdue = due_today = due_tomorrow = 0
    for group in groups:
        count = group["count"]
        total += count
        at_risk += count if group["at_risk"] else 0
        overdue += count if group["overdue"] else 0
        due_today += count if group["due"] == today else 0
        due_tomorrow += count if group["due"] == tomorrow else 0
    return Summary(total, at_risk, overdue, due_today, due_tomorrow, lines_not_ready(tomorrow, lines).count())


# --- The Excel sheet ---------------------------------------------------------------------------------------

# (label, width): the sheet's columns in order; the values come from _cells() in the same order.
COLUMNS = (
    (gettext_lazy("Order no."), 14),
    (gettext_lazy("Customer"), 30),
    (gettext_lazy("Customer PO"), 16),
    (gettext_lazy("Line"), 6),
    (gettext_lazy("Product code"), 14),
    (gettext_lazy("Product"), 24),
    (gettext_lazy("Quantity"), 11),
    (gettext_lazy("Requested date"), 12),
    (gettext_lazy("Confirmed date"), 12),
    (gettext_lazy("Planned completion"), 12),
    (gettext_lazy("Produced"), 11),
    (gettext_lazy("Warehoused"), 11),
    (gettext_lazy("Delivered"), 11),
    (gettext_lazy("Outstanding"), 11),
    (gettext_lazy("Status"), 16),
    (gettext_lazy("At risk"), 8),
    (gettext_lazy("Why at risk"), 60),
)
HEADER_ROW = 3  # title, summary, then the header
AT_RISK_FILL = "FFC7CE"  # Excel's "light red fill"
HEADER_FILL = "DDEBF7"
DATE_FORMAT = "yyyy-mm-dd"


def bilingual(text, sep: str = "\n") -> str:
    """A (lazy) message in Chinese and English, joined by ``sep``; once only when both read the same."""
    with translation.override("zh-hans"):
        zh = str(text)
    with translation.override("en"):
        en = str(text)
    return zh if zh == en else f"{zh}{sep}{en}"


def _number(value: Decimal) -> int | float:
    """Quantities as Excel numbers: whole numbers stay whole (no "1000.000")."""
    return int(value) if value == value.to_integral_value() else float(value)


def _cells(row: SheetRow, yes: str) -> list:
    return [
        row.order_number,
        row.customer,
        row.customer_po,
        row.position,
        row.product_code,
        row.product_name,
        _number(row.quantity),
        row.requested_date,
        row.confirmed_date,
        row.planned_completion,
        _number(row.produced),
        _number(row.warehoused),
        _number(row.delivered),
        _number(row.outstanding),
        row.status,
        yes if row.at_risk else "",
        row.at_risk_reason,
    ]


def build_workbook(rows: Iterable[SheetRow], day: date) -> bytes:
    """The .xlsx of ``rows`` for ``day``: title and summary lines, a frozen bilingual header with a filter,
    dates as Excel dates, at-risk rows filled light red. Texts in the cells (status, reasons) are in the
    active language. Rows are streamed to the file (write-only mode); only the at-risk ones are styled."""
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
    from openpyxl.utils import get_column_letter

    rows = rows if isinstance(rows, list) else list(rows)
    summary = summarize(rows, day)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="订单交货进度表")
    for index, (_label, width) in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    last_column = get_column_letter(len(COLUMNS))
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last_column}{HEADER_ROW + max(len(rows), 1)}"
    sheet.row_dimensions[HEADER_ROW].height = 32
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    title = WriteOnlyCell(sheet, value=SHEET_TITLE)
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    line = gettext_lazy(
        "%(day)s: %(open)s open lines, %(at_risk)s at risk, %(overdue)s overdue, "
        "%(due_today)s due today, %(due_tomorrow)s due tomorrow (%(not_ready)s not ready)"
    )
    params = {
        "day": day.isoformat(),
        "open": summary.open_lines,
        "at_risk": summary.at_risk,
        "overdue": summary.overdue,
        "due_today": summary.due_today,
        "due_tomorrow": summary.due_tomorrow,
        "not_ready": summary.not_ready_tomorrow,
    }
    sheet.append([bilingual(line, " / ") % params])

    header = []
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="top")
    for label, _width in COLUMNS:
        cell = WriteOnlyCell(sheet, value=bilingual(label))
        cell.font, cell.fill, cell.alignment = header_font, header_fill, wrap
        header.append(cell)
    sheet.append(header)

    yes = _("Yes")
    # At-risk cells take a named style (one look-up per cell) rather than a fill each (hashed per cell):
    # a third of the time of the sheet at 10,000 lines. Dates need their own, the style replaces the format.
    risk_fill = PatternFill("solid", fgColor=AT_RISK_FILL)
    workbook.add_named_style(NamedStyle("at_risk", fill=risk_fill))
    workbook.add_named_style(NamedStyle("at_risk_date", fill=risk_fill, number_format=DATE_FORMAT))
    for row in rows:
        # Customer, product names and reasons are people's text: never a formula (issue 10).
        values = [text_cell(sheet, value) for value in _cells(row, yes)]
        if row.at_risk:
            styled = []
            for value in values:
                cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
                quoted = cell.quotePrefix
                cell.style = "at_risk_date" if isinstance(value, date) else "at_risk"
                cell.quotePrefix = quoted  # the named style would reset text_cell's quote prefix
                styled.append(cell)
            values = styled
        sheet.append(values)

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_filename(day: date) -> str:
    return f"delivery-progress-{day.isoformat()}.xlsx"
