"""The management review pack (§5.12.7): what the management representative takes to the management review for
a period (normally the half-year), frozen into a ManagementReview when it is prepared; then the date of the
management review meeting and its decisions; the pack as a bilingual PDF and as an .xlsx.

Decisions taken here:

* **A pack is a record.** ``review_prepare`` computes the figures once and stores them; the page, the PDF and
  the workbook read that copy, so later data (a new complaint, a late delivery note) never changes a prepared
  pack. Preparing again for the same period makes a new pack beside the old one: the list shows both.
* **States are as of the day the pack is prepared** (``as_of``): a complaint received in the period and closed
  since counts as closed; an action's open / overdue / done state is that day's. What happened *in the period*
  follows the day of the event: complaints by the day received, returns by the day recorded, actions by the day
  created, verifications by the day made (local days).
* **Satisfaction**: every survey round sent or closed (a draft has no results) whose period ends within the
  pack's period, of any kind, plus the ``TREND_BEFORE`` rounds before the first of them for the trend, oldest
  first; a round still open is marked so (its figures are provisional). The customers below "fairly satisfied"
  are those of the latest round of the period.
* **Open complaints** are every complaint not closed and received by the end of the period, older ones included
  (a complaint open for a year matters more, not less), with their age in days; the days to close run from
  receipt to the customer's acceptance.
* **On-time rate**: ``delivery.ontime.month_rate`` for each month the period touches (whole months), up to the
  current month, which is provisional as that module counts it; none after it.
* A period does not start in the future and is at most ``MAX_MONTHS`` months long (the on-time rate reads each
  month: the number of queries stays bounded).

All figures are JSON values: Decimals as strings, dates as ISO text.
"""

import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Dept, require
from common.errors import DomainError
from common.pdf import render_pdf
from common.xlsx import XLSX_CONTENT_TYPE, text_cell
from complaints.models import Complaint
from customers.models import Customer
from delivery.models import Return
from delivery.ontime import add_months, month_key, month_rate, month_start
from improvement.models import Action, ManagementReview, Verification
from satisfaction import scoring
from satisfaction.models import SurveyRound
from satisfaction.records import KINDS_ZH, STATUSES_ZH, english
from satisfaction.selectors import rounds_results

__all__ = ["XLSX_CONTENT_TYPE", "review_figures", "review_prepare", "review_record"]

TREND_BEFORE = 2  # rounds before the period's on the trend
MAX_MONTHS = 24
LIST_LIMIT = 100  # open complaints and overdue actions listed (all are counted)
LOW_BANDS = (scoring.DISSATISFIED.key, scoring.VERY_DISSATISFIED.key)
TITLE = ("管理评审资料", "Management review pack")

# The pack prints Chinese and English side by side whatever the reader's language (as the survey records), so
# its Chinese labels are written out here rather than translated.
COMPLAINT_STATUS_ZH = {
    Complaint.Status.RECEIVED: "已接收",
    Complaint.Status.ACKNOWLEDGED: "已回复收悉",
    Complaint.Status.INVESTIGATED: "已调查",
    Complaint.Status.ANSWERED: "已答复客户",
    Complaint.Status.CLOSED: "已结案",
}
CATEGORY_ZH = {
    Complaint.Category.QUALITY: "质量",
    Complaint.Category.DELIVERY: "交期",
    Complaint.Category.QUANTITY: "数量",
    Complaint.Category.PACKAGING: "包装",
    Complaint.Category.DOCUMENTS: "单据",
    Complaint.Category.SERVICE: "服务",
    Complaint.Category.OTHER: "其他",
}
RETURN_STATUS_ZH = {Return.Status.OPEN: "待安排取货", Return.Status.PICKED_UP: "已取货", Return.Status.CLOSED: "已结案"}
SOURCE_ZH = {
    Action.Source.ROUND: "调查批次",
    Action.Source.QUESTION: "调查项目",
    Action.Source.CUSTOMER: "客户调查结果",
    Action.Source.COMPLAINT: "客诉",
    Action.Source.RETURN: "退货",
    Action.Source.ON_TIME: "月交期达成率",
    Action.Source.MEETING: "改善措施会议",
    Action.Source.OTHER: "其他",
}
DEPT_ZH = {
    Dept.MARKETING: "营销部",
    Dept.MARKETING_HEAD: "营销部负责人",
    Dept.PRODUCT: "产品组",
    Dept.CS: "客服部",
    Dept.TECH: "技术部",
    Dept.PMC: "PMC",
    Dept.QA: "品管部",
    Dept.WAREHOUSE: "仓务",
    Dept.CUSTOMS: "报关部",
    Dept.MGMT_REP: "管理者代表",
    Dept.ADMIN: "IT",
}
REVIEW_STATUS_ZH = {ManagementReview.Status.PREPARED: "已编制", ManagementReview.Status.REVIEWED: "已经管理评审"}


# --- Periods -----------------------------------------------------------------------------------------------------


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last completed half-year: the second half of last year from January to June, else this year's first."""
    today = today or timezone.localdate()
    if today.month <= 6:
        return date(today.year - 1, 7, 1), date(today.year - 1, 12, 31)
    return date(today.year, 1, 1), date(today.year, 6, 30)


def default_title(start: date, end: date) -> str:
    """2026年上半年管理评审资料 / Management review pack 2026 H1 (the year, or the dates, for other periods)."""
    year = start.year
    halves = {(date(year, 1, 1), date(year, 6, 30)): 1, (date(year, 7, 1), date(year, 12, 31)): 2}
    half = halves.get((start, end))
    if half:
        return f"{year}年{'上' if half == 1 else '下'}半年{TITLE[0]} / {TITLE[1]} {year} H{half}"
    if (start, end) == (date(year, 1, 1), date(year, 12, 31)):
        return f"{year}年度{TITLE[0]} / {TITLE[1]} {year}"
    dates = f"{start.isoformat()} – {end.isoformat()}"
    return f"{TITLE[0]} {dates} / {TITLE[1]} {dates}"


def months_touched(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def check_period(start: date | None, end: date | None, today: date) -> None:
    """A DomainError naming the field (``period_start`` / ``period_end``) unless the period can have a pack."""
    if start is None:
        raise DomainError(_("Give the first day of the period."), code="period_start")
    if end is None:
        raise DomainError(_("Give the last day of the period."), code="period_end")
    if end < start:
        raise DomainError(_("The period cannot end before it starts."), code="period_end")
    if start > today:
        raise DomainError(_("The period cannot start in the future: there are no figures yet."), code="period_start")
    if months_touched(start, end) > MAX_MONTHS:
        raise DomainError(
            _("A pack covers at most %(months)s months: choose a shorter period.") % {"months": MAX_MONTHS},
            code="period_end",
        )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's local days as aware datetimes [from, to)."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


# --- The figures -------------------------------------------------------------------------------------------------


def _s(value) -> str | None:
    """A Decimal as JSON text; None stays None."""
    return None if value is None else str(value)


def _qty(value) -> str:
    """A quantity without trailing zeros or an exponent (the databases sum to different scales)."""
    return f"{Decimal(value or 0).normalize():f}"


def _band_key(score) -> str | None:
    band = scoring.band_for(score)
    return band.key if band else None


def _percent(part: int, whole: int) -> str | None:
    return None if not whole else str(scoring.round1(Decimal(part) * 100 / whole))


def _satisfaction(start: date, end: date, today: date) -> dict:
    """The rounds of the period and the TREND_BEFORE before them, and the low customers of the latest."""
    sent = SurveyRound.objects.exclude(status=SurveyRound.Status.DRAFT)
    in_period = list(sent.filter(period_end__gte=start, period_end__lte=end).order_by("period_end", "pk"))
    before = list(sent.filter(period_end__lt=start).order_by("-period_end", "-pk")[:TREND_BEFORE])[::-1]
    rounds = before + in_period
    results = rounds_results(rounds, today=today)
    period_ids = {r.pk for r in in_period}
    rows = []
    last_score = None
    for survey_round in rounds:
        result = results[survey_round.pk]
        score = result.score
        rows.append(
            {
                "id": survey_round.pk,
                "name": survey_round.name,
                "kind": survey_round.kind,
                "status": survey_round.status,
                "closed": survey_round.status == SurveyRound.Status.CLOSED,
                "in_period": survey_round.pk in period_ids,
                "period_start": survey_round.period_start.isoformat(),
                "period_end": survey_round.period_end.isoformat(),
                "surveyed": result.surveyed,
                "answered": result.answered,
                "rate": _s(result.rate),
                "target": _s(survey_round.target),
                "rate_met": result.rate is not None and result.rate >= survey_round.target,
                "score": _s(score),
                "band": _band_key(score),
                "change": None if score is None or last_score is None else str(scoring.round1(score - last_score)),
                "band_counts": [{"band": band.key, "count": n} for band, n in result.band_counts],
            }
        )
        if score is not None:
            last_score = score
    latest = in_period[-1] if in_period else None
    low = []
    if latest is not None:
        low_results = [c for c in results[latest.pk].customers if c.band and c.band.key in LOW_BANDS]
        names = Customer.objects.in_bulk({c.line.customer_id for c in low_results})
        for c in sorted(low_results, key=lambda c: (c.score, names[c.line.customer_id].code)):
            customer = names[c.line.customer_id]
            low.append(
                {
                    "id": customer.pk,
                    "code": customer.code,
                    "name_zh": customer.name_zh,
                    "name_en": customer.name_en,
                    "score": _s(c.score),
                    "band": c.band.key,
                    "source": c.source,
                }
            )
    return {
        "rounds": rows,
        "in_period": len(in_period),
        "latest": None if latest is None else {"id": latest.pk, "name": latest.name, "status": latest.status},
        "low_customers": low,
    }


def _complaints(start: date, end: date, today: date) -> dict:
    received = Complaint.objects.filter(received_on__gte=start, received_on__lte=end)
    by_status = dict.fromkeys(Complaint.Status.values, 0)
    by_category = dict.fromkeys(Complaint.Category.values, 0)
    for row in received.order_by().values("status", "category").annotate(n=Count("pk")):
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        by_category[row["category"]] = by_category.get(row["category"], 0) + row["n"]
    days = [
        ((accepted_on or timezone.localdate(closed_at)) - received_on).days
        for received_on, accepted_on, closed_at in received.filter(status=Complaint.Status.CLOSED).values_list(
            "received_on", "accepted_on", "closed_at"
        )
        if accepted_on or closed_at
    ]
    still_open = Complaint.objects.filter(received_on__lte=end).exclude(status=Complaint.Status.CLOSED)
    listed = still_open.select_related("customer").order_by("received_on", "pk")[:LIST_LIMIT]
    return {
        "count": sum(by_status.values()),
        "by_status": [{"status": key, "count": n} for key, n in by_status.items()],
        "by_category": [{"category": key, "count": n} for key, n in by_category.items()],
        "closed": by_status.get(Complaint.Status.CLOSED, 0),
        "average_days_to_close": str(scoring.round1(Decimal(sum(days)) / len(days))) if days else None,
        "open_total": still_open.count(),
        "open": [
            {
                "number": c.number,
                "customer_code": c.customer.code,
                "customer_name_zh": c.customer.name_zh,
                "customer_name_en": c.customer.name_en,
                "category": c.category,
                "status": c.status,
                "department": c.department,
                "received_on": c.received_on.isoformat(),
                "age_days": (today - c.received_on).days,
                "before_period": c.received_on < start,
            }
            for c in listed
        ],
    }


def _returns(start: date, end: date) -> dict:
    first, after = _bounds(start, end)
    by_status = {key: {"status": key, "count": 0, "quantity": "0"} for key in Return.Status.values}
    rows = (
        Return.objects.filter(recorded_at__gte=first, recorded_at__lt=after)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), quantity=Sum("quantity"))
    )
    total = Decimal(0)
    for row in rows:
        by_status[row["status"]] = {"status": row["status"], "count": row["n"], "quantity": _qty(row["quantity"])}
        total += Decimal(row["quantity"] or 0)
    return {
        "count": sum(entry["count"] for entry in by_status.values()),
        "quantity": _qty(total),
        "by_status": list(by_status.values()),
    }


ACTION_COLUMNS = ("created", "open", "overdue", "reopened", "done", "ready", "effective", "not_effective")


def _actions(start: date, end: date, today: date) -> dict:
    first, after = _bounds(start, end)
    S = Action.Status
    counts = {source: dict.fromkeys(ACTION_COLUMNS, 0) for source in Action.Source.values}
    rows = (
        Action.objects.order_by()
        .values("source")
        .annotate(
            created=Count("pk", filter=Q(created_at__gte=first, created_at__lt=after)),
            open=Count("pk", filter=Q(status=S.OPEN)),
            overdue=Count("pk", filter=Q(status=S.OPEN, due_date__lt=today)),
            reopened=Count("pk", filter=Q(status=S.OPEN, reopened__gt=0)),
            done=Count("pk", filter=Q(status=S.DONE)),
            ready=Count("pk", filter=Q(status=S.DONE, verify_after__lte=today)),
        )
    )
    for row in rows:
        counts[row["source"]].update({key: row[key] for key in ACTION_COLUMNS if key in row})
    verified = (
        Verification.objects.filter(verified_at__gte=first, verified_at__lt=after)
        .order_by()
        .values("action__source", "effective")
        .annotate(n=Count("pk"))
    )
    for row in verified:
        counts[row["action__source"]]["effective" if row["effective"] else "not_effective"] += row["n"]
    overdue = (
        Action.objects.filter(status=S.OPEN, due_date__lt=today).select_related("owner").order_by("due_date", "pk")
    )
    return {
        "totals": {key: sum(c[key] for c in counts.values()) for key in ACTION_COLUMNS},
        "by_source": [{"source": source, **c} for source, c in counts.items() if any(c.values())],
        "overdue": [
            {
                "number": a.number,
                "title": a.title,
                "kind": a.kind,
                "source": a.source,
                "owner_department": a.owner_department,
                "owner": a.owner.get_full_name() or a.owner.get_username(),
                "due_date": a.due_date.isoformat(),
                "days_overdue": (today - a.due_date).days,
                "reopened": a.reopened,
            }
            for a in overdue[:LIST_LIMIT]
        ],
    }


def _on_time(start: date, end: date, today: date) -> dict:
    current = month_start(today)
    month, last = month_start(start), min(month_start(end), current)
    months = []
    while month <= last:
        rate = month_rate(month, today=today)
        months.append(
            {
                "month": month_key(month),
                "due": rate.due,
                "on_time": rate.on_time,
                "delivered_late": rate.delivered_late,
                "not_delivered": rate.not_delivered,
                "late": rate.late,
                "rate": _s(rate.rate),
                "provisional": rate.provisional,
            }
        )
        month = add_months(month, 1)
    due = sum(m["due"] for m in months)
    late = sum(m["late"] for m in months)
    return {
        "months": months,
        "due": due,
        "late": late,
        "rate": _percent(due - late, due),
        "provisional": any(m["provisional"] for m in months),
    }


def review_figures(period_start: date, period_end: date, *, today: date | None = None) -> dict:
    """What the management review needs about the period (see the module's decisions), as JSON values. A bounded
    number of queries: a fixed number per part, one or two per month of the on-time rate."""
    today = today or timezone.localdate()
    check_period(period_start, period_end, today)
    return {
        "schema": 1,
        "computed_at": timezone.now().isoformat(),
        "as_of": today.isoformat(),
        "period": {
            "start": period_start.isoformat(),
            "end": period_end.isoformat(),
            "months": months_touched(period_start, period_end),
            # The period is not over yet: its figures can still change.
            "provisional": period_end >= today,
        },
        "satisfaction": _satisfaction(period_start, period_end, today),
        "complaints": _complaints(period_start, period_end, today),
        "returns": _returns(period_start, period_end),
        "actions": _actions(period_start, period_end, today),
        "on_time": _on_time(period_start, period_end, today),
    }


# --- State changes -----------------------------------------------------------------------------------------------


def review_prepare(
    *, user, period_start: date | None = None, period_end: date | None = None, title: str = ""
) -> ManagementReview:
    """Customer Service or the management representative prepares the pack of a period (without one, the last
    completed half-year): its figures are frozen now. Another pack for the same period is a new row; the earlier
    one stays as it was."""
    require(user, "review.prepare")
    today = timezone.localdate()
    if period_start is None and period_end is None:
        period_start, period_end = default_period(today)
    check_period(period_start, period_end, today)
    title = (title or "").strip() or default_title(period_start, period_end)
    if len(title) > ManagementReview._meta.get_field("title").max_length:
        raise DomainError(_("The title is too long."), code="title")
    figures = review_figures(period_start, period_end, today=today)
    review = ManagementReview(
        period_start=period_start, period_end=period_end, title=title, figures=figures, prepared_by=user
    )
    review._history_user = user
    review.save()
    return review


def review_record(*, user, review: ManagementReview, reviewed_on: date | None, decisions: str) -> ManagementReview:
    """The management representative records when the pack went to the management review meeting and what it
    decided (§5.12.7). Once: the recorded review is a record, never changed."""
    require(user, "review.record")
    with transaction.atomic():
        review = ManagementReview.objects.select_for_update().get(pk=review.pk)
        if review.status != ManagementReview.Status.PREPARED:
            raise DomainError(
                _("The management review of this pack is already recorded (meeting of %(date)s): it is not changed.")
                % {"date": review.reviewed_on.isoformat() if review.reviewed_on else "—"},
                code="state",
            )
        if reviewed_on is None:
            raise DomainError(_("Give the date of the management review meeting."), code="reviewed_on")
        if reviewed_on > timezone.localdate():
            raise DomainError(_("The meeting cannot be in the future."), code="reviewed_on")
        prepared_on = timezone.localdate(review.prepared_at)
        if reviewed_on < prepared_on:
            raise DomainError(
                _("The meeting cannot have reviewed this pack before it was prepared (%(date)s).")
                % {"date": prepared_on.isoformat()},
                code="reviewed_on",
            )
        decisions = (decisions or "").strip()
        if not decisions:
            raise DomainError(_("Write the decisions of the management review."), code="decisions")
        review.status = ManagementReview.Status.REVIEWED
        review.reviewed_on, review.decisions = reviewed_on, decisions
        review.recorded_by, review.recorded_at = user, timezone.now()
        review._history_user = user
        review.save(update_fields=["status", "reviewed_on", "decisions", "recorded_by", "recorded_at"])
    return review


# --- Presenting the figures (page, PDF, workbook) ----------------------------------------------------------------


def _signed(change: str | None) -> str:
    if change is None:
        return ""
    return f"+{change}" if Decimal(change) > 0 else change


def _labels(choices, zh: dict, key: str) -> dict:
    """The label of a choice value: ``label`` (the reader's language), ``label_zh``, ``label_en``."""
    label = dict(choices).get(key, key)
    return {"label": label, "label_zh": zh.get(key, key), "label_en": english(label)}


def _band(key: str | None) -> dict:
    band = scoring.BAND_BY_KEY.get(key) if key else None
    if band is None:
        return {"band_obj": None, "band_zh": "", "band_en": ""}
    return {"band_obj": band, "band_zh": band.label_zh, "band_en": english(band.label)}


def _bars(rows: list[dict]) -> list[dict]:
    """Each row with ``bar``: its count as a percentage of the largest (the width of its bar on the page)."""
    top = max((row["count"] for row in rows), default=0)
    return [{**row, "bar": str(round(row["count"] * 100 / top, 1)) if top else "0"} for row in rows]


def _dept(key: str) -> dict:
    return _labels(Dept.choices, DEPT_ZH, key)


def present(figures: dict) -> dict:
    """The frozen figures with what templates need beside them: labels in both languages, band objects, signed
    changes. The stored figures are not changed."""
    sat = figures["satisfaction"]
    rounds = [
        {
            **r,
            **_band(r["band"]),
            "kind_labels": _labels(SurveyRound.Kind.choices, KINDS_ZH, r["kind"]),
            "status_labels": _labels(SurveyRound.Status.choices, STATUSES_ZH, r["status"]),
            "change_text": _signed(r["change"]),
            "band_counts": [{**b, **_band(b["band"])} for b in r["band_counts"]],
        }
        for r in sat["rounds"]
    ]
    complaints = figures["complaints"]
    actions = figures["actions"]
    return {
        **figures,
        "satisfaction": {
            **sat,
            "rounds": rounds,
            "period_rounds": [r for r in rounds if r["in_period"]],
            "low_customers": [{**c, **_band(c["band"])} for c in sat["low_customers"]],
        },
        "complaints": {
            **complaints,
            "by_status": _bars(
                [
                    {**s, **_labels(Complaint.Status.choices, COMPLAINT_STATUS_ZH, s["status"])}
                    for s in complaints["by_status"]
                ]
            ),
            "by_category": _bars(
                [
                    {**c, **_labels(Complaint.Category.choices, CATEGORY_ZH, c["category"])}
                    for c in complaints["by_category"]
                ]
            ),
            "open": [
                {
                    **c,
                    "category_labels": _labels(Complaint.Category.choices, CATEGORY_ZH, c["category"]),
                    "status_labels": _labels(Complaint.Status.choices, COMPLAINT_STATUS_ZH, c["status"]),
                    "department_labels": _dept(c["department"]),
                }
                for c in complaints["open"]
            ],
            "more_open": complaints["open_total"] - len(complaints["open"]),
        },
        "returns": {
            **figures["returns"],
            "by_status": [
                {**r, **_labels(Return.Status.choices, RETURN_STATUS_ZH, r["status"])}
                for r in figures["returns"]["by_status"]
            ],
        },
        "actions": {
            **actions,
            "by_source": [
                {**s, **_labels(Action.Source.choices, SOURCE_ZH, s["source"])} for s in actions["by_source"]
            ],
            "overdue": [
                {
                    **a,
                    "source_labels": _labels(Action.Source.choices, SOURCE_ZH, a["source"]),
                    "department_labels": _dept(a["owner_department"]),
                }
                for a in actions["overdue"]
            ],
            "more_overdue": actions["totals"]["overdue"] - len(actions["overdue"]),
        },
    }


def status_label(review: ManagementReview) -> str:
    # The choice's lazy label: get_status_display() is already in the reader's language.
    label = dict(ManagementReview.Status.choices).get(review.status, review.status)
    return f"{REVIEW_STATUS_ZH.get(review.status, review.status)} / {english(label)}"


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def filename(review: ManagementReview, ext: str) -> str:
    period = f"{review.period_start.isoformat()}_{review.period_end.isoformat()}"
    return re.sub(r"[^\w.-]+", "-", f"management-review-{review.pk}-{period}.{ext}")


# --- The PDF -----------------------------------------------------------------------------------------------------

PDF_TEMPLATE = "improvement/pdf/review.html"


def pdf_context(review: ManagementReview) -> dict:
    return {
        "company_zh": settings.COMPANY_NAME_ZH,
        "company_en": settings.COMPANY_NAME_EN,
        "title_zh": TITLE[0],
        "title_en": TITLE[1],
        "review": review,
        "status": status_label(review),
        "prepared_by": _person(review.prepared_by),
        "recorded_by": _person(review.recorded_by),
        "f": present(review.figures),
        "printed_at": timezone.localtime(),
    }


def review_pdf(review: ManagementReview) -> bytes:
    """The bilingual pack with who prepared it and, once recorded, the review's date and decisions. Refused
    (common.pdf.MissingGlyphs) rather than printed with empty boxes."""
    return render_pdf(PDF_TEMPLATE, pdf_context(review))


# --- The workbook ------------------------------------------------------------------------------------------------

HEADER_FILL = "DDE4EE"
NUMBER_FORMAT = "0.0"


def _both(zh: str, en: str, sep: str = " / ") -> str:
    return f"{zh}{sep}{en}"


def _num(value: str | None):
    """A figure stored as text (a score, a rate) back as a number for the sheet; empty when there is none."""
    return "" if value is None else Decimal(value)


class _Sheet:
    """A write-only sheet: every value goes through text_cell (people's text is never a formula)."""

    def __init__(self, workbook, title: str, widths: list[int]):
        from openpyxl.utils import get_column_letter

        self.sheet = workbook.create_sheet(title=title)
        for index, width in enumerate(widths, 1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width

    def append(self, values: list, *, header: bool = False) -> None:
        from openpyxl.cell import Cell, WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill

        cells = []
        for value in values:
            value = text_cell(self.sheet, value)
            if header or isinstance(value, Decimal):
                cell = value if isinstance(value, Cell) else WriteOnlyCell(self.sheet, value=value)
                if isinstance(value, Decimal):
                    cell.number_format = NUMBER_FORMAT
                if header:
                    cell.font = Font(bold=True)
                    cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
                    cell.alignment = Alignment(wrap_text=True)
                value = cell
            cells.append(value)
        self.sheet.append(cells)


def _pair(labels: dict) -> str:
    """A presented label (``_labels``, ``_band``) as 中文 / English."""
    if "label_zh" in labels:
        return _both(labels["label_zh"], labels["label_en"])
    return _both(labels["band_zh"], labels["band_en"]) if labels.get("band_obj") else ""


def _yes(flag: bool, no: str = "") -> str:
    return _both("是", "Yes") if flag else no


def _name(zh: str, en: str) -> str:
    return " ".join(filter(None, [zh, en]))


def _table(sheet: _Sheet, columns: list[tuple], rows: list[dict], *, title: list | None = None) -> None:
    """``columns``: (Chinese, English, the cell of a row). A title line, the header, the rows, an empty line."""
    if title:
        sheet.append(title, header=True)
    sheet.append([_both(zh, en) for zh, en, _cell in columns], header=True)
    for row in rows:
        sheet.append([cell(row) for _zh, _en, cell in columns])
    sheet.append([])


def build_xlsx(review: ManagementReview) -> bytes:
    """The pack as a workbook: one sheet per part (summary, satisfaction, complaints, returns, corrective actions,
    on-time rate), Chinese and English headers side by side."""
    from openpyxl import Workbook

    f = present(review.figures)
    workbook = Workbook(write_only=True)

    sheet = _Sheet(workbook, "概要 Summary", [34, 70])
    sheet.append([_both(*TITLE)], header=True)
    for zh, en, value in [
        ("公司", "Company", f"{settings.COMPANY_NAME_ZH} / {settings.COMPANY_NAME_EN}"),
        ("标题", "Title", review.title),
        ("期间", "Period", f"{review.period_start.isoformat()} – {review.period_end.isoformat()}"),
        ("数据截至", "Figures as of", f["as_of"]),
        ("暂定", "Provisional", _yes(f["period"]["provisional"], _both("否", "No"))),
        ("状态", "Status", status_label(review)),
        ("编制", "Prepared by", f"{_person(review.prepared_by)} {_local(review.prepared_at)}".strip()),
        ("管理评审会议日期", "Management review meeting", review.reviewed_on.isoformat() if review.reviewed_on else ""),
        ("记录人", "Recorded by", f"{_person(review.recorded_by)} {_local(review.recorded_at)}".strip()),
        ("评审决议", "Decisions of the review", review.decisions),
    ]:
        sheet.append([_both(zh, en), value])

    sat = f["satisfaction"]
    sheet = _Sheet(workbook, "满意度 Satisfaction", [26, 14, 12, 24, 10, 10, 10, 10, 10, 10, 22, 10, 10, 10, 10, 10])
    bands = [
        (band.label_zh, english(band.label), lambda r, i=i: r["band_counts"][i]["count"])
        for i, band in enumerate(scoring.BANDS)
    ]
    _table(
        sheet,
        [
            ("调查批次", "Survey round", lambda r: r["name"]),
            ("类别", "Kind", lambda r: _pair(r["kind_labels"])),
            ("状态", "Status", lambda r: _pair(r["status_labels"])),
            ("调查期间", "Period", lambda r: f"{r['period_start']} – {r['period_end']}"),
            ("本期", "In the period", lambda r: _yes(r["in_period"], _both("否", "No"))),
            ("调查客户", "Surveyed", lambda r: r["surveyed"]),
            ("已答复", "Answered", lambda r: r["answered"]),
            ("回收率 %", "Response rate %", lambda r: _num(r["rate"])),
            ("目标 %", "Target %", lambda r: _num(r["target"])),
            ("得分", "Score", lambda r: _num(r["score"])),
            ("满意等级", "Rating", _pair),
            ("变化", "Change", lambda r: _num(r["change"])),
            *bands,
        ],
        sat["rounds"],
    )
    _table(
        sheet,
        [
            ("客户代码", "Code", lambda c: c["code"]),
            ("客户名称", "Customer", lambda c: _name(c["name_zh"], c["name_en"])),
            ("得分", "Score", lambda c: _num(c["score"])),
            ("满意等级", "Rating", _pair),
        ],
        sat["low_customers"],
        title=[
            _both("低于“一般满意”的客户", "Customers below “fairly satisfied”"),
            sat["latest"]["name"] if sat["latest"] else "—",
        ],
    )

    complaints = f["complaints"]
    sheet = _Sheet(workbook, "客诉 Complaints", [20, 16, 30, 14, 20, 16, 14, 10, 12])
    sheet.append([_both("本期客诉", "Complaints received in the period"), complaints["count"]], header=True)
    sheet.append([_both("已结案", "Closed"), complaints["closed"]])
    sheet.append([_both("平均结案天数", "Average days to close"), _num(complaints["average_days_to_close"])])
    sheet.append([])
    count = ("数量", "Count", lambda row: row["count"])
    _table(sheet, [("状态", "Status", _pair), count], complaints["by_status"])
    _table(sheet, [("类别", "Category", _pair), count], complaints["by_category"])
    _table(
        sheet,
        [
            ("客诉编号", "No.", lambda c: c["number"]),
            ("客户代码", "Code", lambda c: c["customer_code"]),
            ("客户名称", "Customer", lambda c: _name(c["customer_name_zh"], c["customer_name_en"])),
            ("类别", "Category", lambda c: _pair(c["category_labels"])),
            ("状态", "Status", lambda c: _pair(c["status_labels"])),
            ("负责部门", "Department", lambda c: _pair(c["department_labels"])),
            ("接收日期", "Received", lambda c: c["received_on"]),
            ("天数", "Age (days)", lambda c: c["age_days"]),
            ("期间前", "Before the period", lambda c: _yes(c["before_period"])),
        ],
        complaints["open"],
        title=[_both("未结案客诉", "Open complaints"), complaints["open_total"]],
    )

    returns = f["returns"]
    sheet = _Sheet(workbook, "退货 Returns", [26, 12, 14])
    total = {"label_zh": "合计", "label_en": "Total", "count": returns["count"], "quantity": returns["quantity"]}
    _table(
        sheet,
        [
            ("状态", "Status", _pair),
            ("笔数", "Returns", lambda r: r["count"]),
            ("数量", "Quantity", lambda r: Decimal(r["quantity"])),
        ],
        [*returns["by_status"], total],
    )

    actions = f["actions"]
    sheet = _Sheet(workbook, "纠正措施 Actions", [22, 40, 18, 22, 20, 12, 12, 12, 12])
    total = {"label_zh": "合计", "label_en": "Total", **actions["totals"]}
    _table(
        sheet,
        [
            ("来源", "Source", _pair),
            *[
                (zh, en, lambda s, key=key: s[key])
                for key, zh, en in [
                    ("created", "本期新增", "Created in the period"),
                    ("open", "未完成", "Open"),
                    ("overdue", "逾期", "Overdue"),
                    ("reopened", "验证无效后重开", "Reopened"),
                    ("done", "已完成待验证", "Done, waiting for verification"),
                    ("ready", "可验证", "Ready to verify"),
                    ("effective", "本期验证有效", "Verified effective in the period"),
                    ("not_effective", "本期验证无效", "Verified not effective in the period"),
                ]
            ],
        ],
        [*actions["by_source"], total],
    )
    _table(
        sheet,
        [
            ("编号", "No.", lambda a: a["number"]),
            ("标题", "Title", lambda a: a["title"]),
            ("来源", "Source", lambda a: _pair(a["source_labels"])),
            ("负责部门", "Department", lambda a: _pair(a["department_labels"])),
            ("负责人", "Owner", lambda a: a["owner"]),
            ("期限", "Due", lambda a: a["due_date"]),
            ("逾期天数", "Days overdue", lambda a: a["days_overdue"]),
            ("重开次数", "Reopened", lambda a: a["reopened"]),
        ],
        actions["overdue"],
        title=[_both("逾期措施", "Overdue actions"), actions["totals"]["overdue"]],
    )

    on_time = f["on_time"]
    sheet = _Sheet(workbook, "交期达成率 On-time", [12, 12, 12, 14, 14, 12, 16])
    total = {"month": _both("合计", "Total"), "on_time": on_time["due"] - on_time["late"], "provisional": False}
    total.update({key: on_time[key] for key in ("due", "rate")})
    _table(
        sheet,
        [
            ("月份", "Month", lambda m: m["month"]),
            ("应交批数", "Batches due", lambda m: m["due"]),
            ("准时", "On time", lambda m: m["on_time"]),
            ("延迟交货", "Delivered late", lambda m: m.get("delivered_late", "")),
            ("未交货", "Not delivered", lambda m: m.get("not_delivered", "")),
            ("达成率 %", "Rate %", lambda m: _num(m["rate"])),
            ("暂定", "Provisional", lambda m: _yes(m["provisional"])),
        ],
        [*on_time["months"], total],
    )

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
