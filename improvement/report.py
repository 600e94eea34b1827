"""The satisfaction analysis report 《客户满意度调查分析报告》 (§5.12.5): its figures, its states, its PDF.

Customer Service writes one for a closed round: the app fills in the figures (``report_figures``), Customer
Service adds the causes and conclusions and submits it, the management representative confirms it or returns
it with a reason. While the report is in Customer Service's hands (draft, returned) its figures are computed
live on the page; submitting freezes them into ``AnalysisReport.figures``, and what the representative
confirms is that frozen copy. A confirmed report is a record: never edited; a correction is a new version
(``previous`` = the confirmed one) that supersedes it when it is confirmed in turn.

Decisions taken here:

* **The last round** is the latest earlier round (by period end, then id) of the same kind (half-year or ad
  hoc) that is closed. The round's score and the questions are compared with it. A customer is compared with
  the latest such round in which *it* has a score (it may not have been surveyed last time); at most
  ``EARLIER_ROUNDS`` rounds back.
* **Questions across form versions** are matched first by identity (same form), then by the same English or
  Chinese text (a reordered form keeps its criteria), then by the same position among those left (a reworded
  criterion keeps its place). A question with no match has no change.
* A question's mean is on 0–100 (``QuestionStats.mean_points``), comparable across scales and versions.
* The lowest customers are those below "fairly satisfied" (dissatisfied, very dissatisfied), lowest first.
* Complaints count by the day received, returns by the day recorded (local time), the on-time rate by the due
  date of the customer's batches, all within the round's period; the on-time rate counts as the monthly rate
  does (``delivery.ontime``: cancelled orders never count; a batch due from today on counts only once it was
  delivered on time).

All figures are JSON values: Decimals as strings, dates as ISO text.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Dept, can, in_dept, require
from accounts.work import WorkItem, WorkSection, work_limit
from common.errors import DomainError
from common.pdf import render_pdf
from complaints.models import Complaint
from customers.models import Customer
from delivery.models import Return
from delivery.ontime import due_batches
from delivery.selectors import batches_with_delivery, unplanned_lines
from improvement import charts
from improvement.models import Action, AnalysisReport
from satisfaction import scoring
from satisfaction.models import Question, Response, SurveyRound
from satisfaction.records import band_label, english
from satisfaction.selectors import question_statistics, rounds_results

R = AnalysisReport.Status
OPEN = (R.DRAFT, R.SUBMITTED, R.RETURNED)  # one of these per round at most (a database constraint)
EDITABLE = (R.DRAFT, R.RETURNED)  # in Customer Service's hands: figures live, text editable

EARLIER_ROUNDS = 10  # how far back a customer's last score is looked for (five years of half-year rounds)
TREND_ROUNDS = 6  # rounds on the score trend, this one included
LOWEST_QUESTIONS = 3
LOW_BANDS = (scoring.DISSATISFIED.key, scoring.VERY_DISSATISFIED.key)

STATUS_ZH = {
    R.DRAFT: "草稿",
    R.SUBMITTED: "待管理者代表确认",
    R.RETURNED: "退回修改",
    R.CONFIRMED: "已确认",
    R.SUPERSEDED: "已被新版本取代",
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
SOURCE_ZH = {"survey": "调查表", "scorecard": "客户评分表"}
TITLE = ("客户满意度调查分析报告", "Customer satisfaction analysis report")


# --- Figures ---------------------------------------------------------------------------------------------------


def _s(value) -> str | None:
    """A Decimal as JSON text; None stays None."""
    return None if value is None else str(value)


def _qty(value) -> str:
    """A quantity without trailing zeros or an exponent (the databases sum to different scales)."""
    return f"{Decimal(value or 0).normalize():f}"


def _change(current, previous) -> str | None:
    if current is None or previous is None:
        return None
    return str(scoring.round1(Decimal(current) - Decimal(previous)))


def _band_key(score) -> str | None:
    band = scoring.band_for(score)
    return band.key if band else None


def round_label(survey_round: SurveyRound) -> tuple[str, str]:
    """A short name for charts: 2025上半年 / 2025 H1; ad-hoc rounds by the month their period ends."""
    if survey_round.kind == SurveyRound.Kind.HALF_YEAR and survey_round.year and survey_round.half:
        half = "上半年" if survey_round.half == 1 else "下半年"
        return f"{survey_round.year}{half}", f"{survey_round.year} H{survey_round.half}"
    month = survey_round.period_end.isoformat()[:7]
    return f"{month} 临时", f"{month} ad hoc"


def earlier_rounds(survey_round: SurveyRound, limit: int = EARLIER_ROUNDS) -> list[SurveyRound]:
    """The closed rounds of the same kind before this one, the latest first (the first is "the last round")."""
    return list(
        SurveyRound.objects.filter(kind=survey_round.kind, status=SurveyRound.Status.CLOSED)
        .filter(
            Q(period_end__lt=survey_round.period_end) | Q(period_end=survey_round.period_end, pk__lt=survey_round.pk)
        )
        .exclude(pk=survey_round.pk)
        .select_related("form")
        .order_by("-period_end", "-pk")[:limit]
    )


def _norm(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def match_questions(current: list[Question], previous: list[Question]) -> dict[int, Question]:
    """{current question id: the previous round's question it continues} (see the module's decisions)."""
    matched: dict[int, Question] = {}
    claimed: set[int] = set()
    by_id = {q.pk: q for q in previous}
    by_en = {}
    by_zh = {}
    for q in previous:
        by_en.setdefault(_norm(q.text_en), q)
        by_zh.setdefault(_norm(q.text_zh), q)
    for q in current:
        candidate = by_id.get(q.pk) or by_en.get(_norm(q.text_en)) or by_zh.get(_norm(q.text_zh))
        if candidate is not None and candidate.pk not in claimed:
            matched[q.pk] = candidate
            claimed.add(candidate.pk)
    by_position = {q.position: q for q in previous}
    for q in current:
        candidate = by_position.get(q.position)
        if q.pk not in matched and candidate is not None and candidate.pk not in claimed:
            matched[q.pk] = candidate
            claimed.add(candidate.pk)
    return matched


def _period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's local days as aware datetimes [from, to)."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _complaints(start: date, end: date) -> dict[int, dict]:
    """{customer id: {"count": n, "by_category": {category: n}}} for complaints received in the period."""
    result: dict[int, dict] = defaultdict(lambda: {"count": 0, "by_category": {}})
    rows = (
        Complaint.objects.filter(received_on__gte=start, received_on__lte=end)
        .order_by()
        .values("customer_id", "category")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        entry = result[row["customer_id"]]
        entry["count"] += row["n"]
        entry["by_category"][row["category"]] = row["n"]
    return result


def _returns(start: date, end: date) -> dict[int, dict]:
    """{customer id: {"count": n, "quantity": text}} for returns recorded in the period."""
    first, after = _period_bounds(start, end)
    rows = (
        Return.objects.filter(recorded_at__gte=first, recorded_at__lt=after)
        .order_by()
        .values(customer=F("note_line__note__customer_id"))
        .annotate(n=Count("pk"), quantity=Sum("quantity"))
    )
    return {row["customer"]: {"count": row["n"], "quantity": _qty(row["quantity"])} for row in rows}


def _on_time(start: date, end: date, today: date) -> dict[int, tuple[int, int]]:
    """{customer id: (due, on time)} for the batches due in the period, in at most three grouped queries.

    As the monthly rate (delivery.ontime): a batch due before today counts (on time when its whole quantity was
    delivered by its due date); one due from today on counts only once delivered on time, since it may still
    be. The unplanned part of a committed line counts as one batch due on the customer's date, never on time."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    on_time = Q(delivered_on_time__gte=F("quantity"))
    parts = []
    settled_end = min(end, today - timedelta(days=1))
    if settled_end >= start:
        parts.append(due_batches(start, settled_end, batches=batches_with_delivery()))
    if end >= today:
        early = due_batches(max(start, today), end, batches=batches_with_delivery()).filter(on_time)
        parts.append(early)
    for batches in parts:
        rows = (
            batches.order_by()
            .values(customer=F("line__order__customer_id"))
            .annotate(due=Count("pk"), on_time=Count("pk", filter=on_time))
        )
        for row in rows:
            counts[row["customer"]][0] += row["due"]
            counts[row["customer"]][1] += row["on_time"]
    if settled_end >= start:
        unplanned = (
            unplanned_lines()
            .filter(due__gte=start, due__lte=settled_end)
            .order_by()
            .values(customer=F("order__customer_id"))
            .annotate(n=Count("pk"))
        )
        for row in unplanned:
            counts[row["customer"]][0] += row["n"]
    return {customer: (due, done) for customer, (due, done) in counts.items()}


def _rate(due: int, on_time: int) -> str | None:
    if not due:
        return None
    return _s(scoring.round1(Decimal(on_time) * 100 / due))


def report_figures(survey_round: SurveyRound, *, today: date | None = None) -> dict:
    """What the app knows about a round for its analysis report, as JSON values (see the module's decisions).
    A bounded number of queries whatever the number of customers and rounds."""
    today = today or timezone.localdate()
    earlier = earlier_rounds(survey_round)
    results = rounds_results([survey_round, *earlier], today=today)
    current = results[survey_round.pk]
    last = earlier[0] if earlier else None
    last_results = results[last.pk] if last else None

    # Each customer's latest earlier score (newest round first).
    previous_scores: dict[int, tuple[SurveyRound, Decimal]] = {}
    for earlier_round in earlier:
        for result in results[earlier_round.pk].customers:
            if result.score is not None:
                previous_scores.setdefault(result.line.customer_id, (earlier_round, result.score))

    start, end = survey_round.period_start, survey_round.period_end
    complaints = _complaints(start, end)
    returns = _returns(start, end)
    on_time = _on_time(start, end, today)
    names = Customer.objects.in_bulk({c.line.customer_id for c in current.customers})

    customers = []
    for result in current.customers:
        customer = names[result.line.customer_id]
        previous = previous_scores.get(customer.pk)
        due, done = on_time.get(customer.pk, (0, 0))
        band = _band_key(result.score)
        customers.append(
            {
                "id": customer.pk,
                "code": customer.code,
                "name_zh": customer.name_zh,
                "name_en": customer.name_en,
                "answered": result.answered,
                "responses": len(result.responses),
                "score": _s(result.score),
                "source": result.source,
                "band": band,
                "low": band in LOW_BANDS,
                "previous": (
                    {
                        "round_id": previous[0].pk,
                        "round_name": previous[0].name,
                        "score": _s(previous[1]),
                        "band": _band_key(previous[1]),
                    }
                    if previous
                    else None
                ),
                "change": _change(result.score, previous[1] if previous else None),
                "complaints": complaints.get(customer.pk, {"count": 0, "by_category": {}}),
                "returns": returns.get(customer.pk, {"count": 0, "quantity": "0"}),
                "on_time": {"due": due, "on_time": done, "rate": _rate(due, done)},
            }
        )

    stats = question_statistics(survey_round)
    last_stats = {s.question.pk: s for s in question_statistics(last)} if last else {}
    matches = match_questions([s.question for s in stats], [s.question for s in last_stats.values()])
    questions = []
    for number, item in enumerate(stats, 1):
        q = item.question
        before = matches.get(q.pk)
        before_mean = last_stats[before.pk].mean_points if before is not None else None
        change = _change(item.mean_points, before_mean)
        questions.append(
            {
                "id": q.pk,
                "number": number,
                "position": q.position,
                "text_zh": q.text_zh,
                "text_en": q.text_en,
                "weight": _s(q.weight),
                "answers": item.answers,
                "not_applicable": item.not_applicable,
                "mean": _s(item.mean_points),
                "previous": None if before is None else {"id": before.pk, "mean": _s(before_mean)},
                "change": change,
                "fell": change is not None and Decimal(change) < 0,
            }
        )
    with_mean = sorted((q for q in questions if q["mean"] is not None), key=lambda q: (Decimal(q["mean"]), q["number"]))
    low_customers = sorted((c for c in customers if c["low"]), key=lambda c: (Decimal(c["score"]), c["code"]))

    comments = [
        {
            "customer_id": r.line.customer_id,
            "customer_code": r.line.customer.code,
            "customer_name": r.line.customer.display_name,
            "contact": r.invitation.contact.name,
            "text": r.comment,
        }
        for r in Response.objects.filter(round=survey_round)
        .exclude(comment="")
        .select_related("line__customer", "invitation__contact")
        .order_by("line__customer__code", "invitation__contact__name", "pk")
    ]

    trend_rounds = [survey_round, *earlier[: TREND_ROUNDS - 1]][::-1]
    trend = []
    for r in trend_rounds:
        label_zh, label_en = round_label(r)
        score = _s(results[r.pk].score)
        trend.append({"round_id": r.pk, "name": r.name, "label_zh": label_zh, "label_en": label_en, "score": score})

    all_complaints = {"count": 0, "by_category": {}}
    for entry in complaints.values():
        all_complaints["count"] += entry["count"]
        for category, n in entry["by_category"].items():
            all_complaints["by_category"][category] = all_complaints["by_category"].get(category, 0) + n
    all_due = sum(due for due, _done in on_time.values())
    all_on_time = sum(done for _due, done in on_time.values())

    return {
        "schema": 1,
        "computed_at": timezone.now().isoformat(),
        "today": today.isoformat(),
        "round": {
            "id": survey_round.pk,
            "name": survey_round.name,
            "kind": survey_round.kind,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "form_version": survey_round.form.version,
        },
        "weighting": settings.SURVEY_ROUND_WEIGHTING,
        "score": _s(current.score),
        "band": _band_key(current.score),
        "surveyed": current.surveyed,
        "answered": current.answered,
        "rate": _s(current.rate),
        "target": _s(survey_round.target),
        "rate_met": current.rate is not None and current.rate >= survey_round.target,
        "band_counts": [{"band": band.key, "count": n} for band, n in current.band_counts],
        "last_round": (
            {
                "id": last.pk,
                "name": last.name,
                "period_start": last.period_start.isoformat(),
                "period_end": last.period_end.isoformat(),
                "score": _s(last_results.score),
                "band": _band_key(last_results.score),
                "rate": _s(last_results.rate),
            }
            if last
            else None
        ),
        "score_change": _change(current.score, last_results.score if last_results else None),
        "customers": customers,
        "questions": questions,
        "lowest_questions": [q["id"] for q in with_mean[:LOWEST_QUESTIONS]],
        "lowest_customers": [c["id"] for c in low_customers],
        "comments": comments,
        "period": {
            # Every customer's, surveyed or not.
            "complaints": all_complaints,
            "returns": {
                "count": sum(r["count"] for r in returns.values()),
                "quantity": _qty(sum((Decimal(r["quantity"]) for r in returns.values()), Decimal(0))),
            },
            "on_time": {"due": all_due, "on_time": all_on_time, "rate": _rate(all_due, all_on_time)},
        },
        "trend": trend,
    }


# --- Presenting the figures (page, PDF) ---------------------------------------------------------------------


def _signed(change: str | None) -> str:
    if change is None:
        return ""
    return f"+{change}" if Decimal(change) > 0 else change


def _band(key: str | None):
    return scoring.BAND_BY_KEY.get(key) if key else None


def _band_text(key: str | None) -> str:
    """很满意 / Very satisfied (the PDF is bilingual whatever the reader's language)."""
    return band_label(_band(key))


def _short(text: str, limit: int) -> str:
    """A question's name without its explanation in brackets, for chart labels."""
    for bracket in ("(", "("):
        if bracket in text[1:]:
            text = text[: text.index(bracket, 1)]
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _categories(by_category: dict) -> list[dict]:
    labels = dict(Complaint.Category.choices)
    return [
        {
            "key": key,
            "label": labels.get(key, key),
            "label_zh": CATEGORY_ZH.get(key, key),
            "label_en": english(labels.get(key, key)),
            "count": n,
        }
        for key, n in sorted(by_category.items(), key=lambda item: (-item[1], item[0]))
    ]


def present(figures: dict) -> dict:
    """The figures with what templates need beside them: band objects, signed changes, category labels, the
    lowest questions and customers as rows. The stored figures are not changed."""
    customers = []
    for c in figures["customers"]:
        customers.append(
            {
                **c,
                "band_obj": _band(c["band"]),
                "band_text": _band_text(c["band"]),
                "change_text": _signed(c["change"]),
                "previous_band_obj": _band(c["previous"]["band"]) if c["previous"] else None,
                "categories": _categories(c["complaints"]["by_category"]),
                "name": c["name_zh"] or c["name_en"],
                "source_zh": SOURCE_ZH.get(c["source"], ""),
            }
        )
    questions = [
        {**q, "change_text": _signed(q["change"]), "short_zh": _short(q["text_zh"], 14)} for q in figures["questions"]
    ]
    by_question = {q["id"]: q for q in questions}
    by_customer = {c["id"]: c for c in customers}
    last = figures["last_round"]
    return {
        **figures,
        "band_obj": _band(figures["band"]),
        "band_text": _band_text(figures["band"]),
        "score_change_text": _signed(figures["score_change"]),
        "last_round": (
            {**last, "band_obj": _band(last["band"]), "band_text": _band_text(last["band"])} if last else None
        ),
        "band_counts": [
            {**b, "band_obj": _band(b["band"]), "band_text": _band_text(b["band"])} for b in figures["band_counts"]
        ],
        "customers": customers,
        "questions": questions,
        "lowest_questions": [by_question[pk] for pk in figures["lowest_questions"] if pk in by_question],
        "lowest_customers": [by_customer[pk] for pk in figures["lowest_customers"] if pk in by_customer],
        "fallen_questions": [q for q in questions if q["fell"]],
        "period_categories": _categories(figures["period"]["complaints"]["by_category"]),
    }


def figures_of(report: AnalysisReport) -> dict:
    """Live while in Customer Service's hands (draft, returned), the frozen copy once submitted."""
    if report.status in EDITABLE or not report.figures:
        return report_figures(report.round)
    return report.figures


# --- Charts ----------------------------------------------------------------------------------------------------

CHARTS = ("trend", "bands", "questions")


def chart_svg(figures: dict, name: str, *, font: str = charts.WEB_FONT, fluid: bool = True) -> str:
    """One of the report's CHARTS as SVG (ValueError for another name). Labels in Chinese, with English
    beneath where there is room."""
    if name == "trend":
        thresholds = [
            charts.Threshold(score=lowest, label=band.label_zh)
            for band, lowest in zip(scoring.BANDS, settings.SURVEY_BANDS, strict=False)
        ]
        points = [charts.TrendPoint(t["label_zh"], t["label_en"], t["score"]) for t in figures["trend"]]
        return charts.trend_svg(
            points, title="满意度得分趋势 Score trend", thresholds=thresholds, font=font, fluid=fluid
        )
    if name == "bands":
        bars = []
        for entry in figures["band_counts"]:
            band = _band(entry["band"])
            bars.append(
                charts.Bar(
                    label=band.label_zh,
                    sublabel=english(band.label),
                    value=entry["count"],
                    colour=charts.BAND_COLOURS.get(band.css, charts.LINE),
                )
            )
        return charts.bars_svg(
            bars,
            title="各满意等级客户数 Customers per rating",
            label_width=150,
            integer=True,
            font=font,
            fluid=fluid,
        )
    if name == "questions":
        bars = [
            charts.Bar(
                label=f"{q['number']}. {_short(q['text_zh'], 14)}",
                sublabel=_short(q["text_en"], 34),
                value=q["mean"],
                previous=q["previous"]["mean"] if q["previous"] else None,
            )
            for q in figures["questions"]
        ]
        return charts.bars_svg(
            bars,
            title="各调查项目平均分(0–100) Mean per question (0–100)",
            maximum=100,
            label_width=230,
            legend="上次调查平均分 Mean in the last round" if figures["last_round"] else "",
            font=font,
            fluid=fluid,
        )
    raise ValueError(f"no chart {name!r}")


# --- Proposing actions from low results ------------------------------------------------------------------------


def propose_links(report: AnalysisReport, shown: dict) -> None:
    """Add ``propose_url`` (improvement:action_new prefilled with the source) to each customer below fairly
    satisfied and each question whose mean fell, in the presented figures ``shown``."""
    base = reverse("improvement:action_new")
    round_id = report.round_id
    for c in shown["lowest_customers"]:
        band = c["band_obj"]
        title = _("Low satisfaction: %(customer)s, %(score)s (%(band)s)") % {
            "customer": f"{c['code']} {c['name']}",
            "score": c["score"],
            "band": band.label if band else "",
        }
        problem = _("%(customer)s scored %(score)s (%(band)s) in %(round)s.") % {
            "customer": f"{c['code']} {c['name']}",
            "score": c["score"],
            "band": band.label if band else "",
            "round": report.round.name,
        }
        if c["previous"]:
            problem += " " + _("Last score %(score)s in %(round)s.") % {
                "score": c["previous"]["score"],
                "round": c["previous"]["round_name"],
            }
        query = {
            "source": Action.Source.CUSTOMER,
            "customer": c["id"],
            "round": round_id,
            "report": report.pk,
            "title": title[:200],
            "problem": problem,
        }
        c["propose_url"] = f"{base}?{urlencode(query)}"
    for q in shown["fallen_questions"]:
        title = _("Falling mean: %(question)s") % {"question": _short(q["text_zh"], 60)}
        problem = _("The mean of “%(question)s” fell from %(before)s to %(now)s (%(change)s) in %(round)s.") % {
            "question": f"{q['text_zh']} / {q['text_en']}",
            "before": q["previous"]["mean"],
            "now": q["mean"],
            "change": q["change_text"],
            "round": report.round.name,
        }
        query = {
            "source": Action.Source.QUESTION,
            "question": q["id"],
            "round": round_id,
            "report": report.pk,
            "title": title[:200],
            "problem": problem,
        }
        q["propose_url"] = f"{base}?{urlencode(query)}"


# --- State changes ---------------------------------------------------------------------------------------------


def _locked(report: AnalysisReport) -> AnalysisReport:
    return AnalysisReport.objects.select_for_update().get(pk=report.pk)


def _next_version(survey_round: SurveyRound) -> int:
    return (AnalysisReport.objects.filter(round=survey_round).aggregate(v=Max("version"))["v"] or 0) + 1


def _refuse_open(survey_round: SurveyRound) -> None:
    existing = AnalysisReport.objects.filter(round=survey_round, status__in=OPEN).first()
    if existing is not None:
        raise DomainError(
            _("This round already has a report in progress (version %(version)s, %(status)s).")
            % {"version": existing.version, "status": existing.get_status_display()},
            code="open",
        )


def report_create(*, user, survey_round: SurveyRound) -> AnalysisReport:
    """Start the report of a closed round (version 1, or the next after a correction's history)."""
    require(user, "report.write")
    with transaction.atomic():
        survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
        if survey_round.status != SurveyRound.Status.CLOSED:
            raise DomainError(
                _("The analysis report is written once the round is closed; this round is %(status)s.")
                % {"status": survey_round.get_status_display()},
                code="round_not_closed",
            )
        _refuse_open(survey_round)
        if AnalysisReport.objects.filter(round=survey_round, status=R.CONFIRMED).exists():
            raise DomainError(
                _("This round's report is confirmed. To change it, start a correction from the confirmed report."),
                code="confirmed",
            )
        try:
            with transaction.atomic():
                return AnalysisReport.objects.create(
                    round=survey_round, version=_next_version(survey_round), created_by=user
                )
        except IntegrityError:
            raise DomainError(_("Someone else has just started this round's report."), code="open") from None


def _check_editable(report: AnalysisReport) -> None:
    if report.status == R.SUBMITTED:
        raise DomainError(_("This report is waiting for the management representative."), code="state")
    if report.status not in EDITABLE:
        raise DomainError(
            _("A confirmed report is a record and is never edited: start a correction instead."), code="state"
        )


def report_update(*, user, report: AnalysisReport, causes: str, conclusions: str) -> AnalysisReport:
    """Customer Service's text of a draft or returned report."""
    require(user, "report.write")
    with transaction.atomic():
        report = _locked(report)
        _check_editable(report)
        report.causes, report.conclusions = causes.strip(), conclusions.strip()
        report.save(update_fields=["causes", "conclusions"])
    return report


def report_submit(
    *, user, report: AnalysisReport, causes: str | None = None, conclusions: str | None = None
) -> AnalysisReport:
    """Submit to the management representative, with the text given (or the one saved). The figures are frozen
    now: what the representative confirms is what was submitted."""
    require(user, "report.write")
    with transaction.atomic():
        report = _locked(report)
        _check_editable(report)
        if causes is not None:
            report.causes = causes.strip()
        if conclusions is not None:
            report.conclusions = conclusions.strip()
        if not report.causes.strip():
            raise DomainError(_("Write the analysis of the causes before submitting (§5.12.5)."), code="causes")
        if not report.conclusions.strip():
            raise DomainError(_("Write the conclusions and proposals before submitting."), code="conclusions")
        report.figures = report_figures(report.round)
        report.status = R.SUBMITTED
        report.submitted_by, report.submitted_at = user, timezone.now()
        report.decided_by, report.decided_at = None, None
        report.save()
    return report


def _check_waiting(report: AnalysisReport) -> None:
    if report.status != R.SUBMITTED:
        raise DomainError(
            _("This report is not waiting for confirmation (it may have been decided already)."), code="state"
        )


def report_confirm(*, user, report: AnalysisReport) -> AnalysisReport:
    """The management representative confirms (§5.12.5). A confirmed correction supersedes the version before."""
    require(user, "report.decide")
    with transaction.atomic():
        report = _locked(report)
        _check_waiting(report)
        # The old confirmed version steps down first: one confirmed report per round (a constraint).
        for older in AnalysisReport.objects.select_for_update().filter(round_id=report.round_id, status=R.CONFIRMED):
            older.status = R.SUPERSEDED
            older.save(update_fields=["status"])
        report.status = R.CONFIRMED
        report.decided_by, report.decided_at = user, timezone.now()
        report.save(update_fields=["status", "decided_by", "decided_at"])
    return report


def report_return(*, user, report: AnalysisReport, reason: str) -> AnalysisReport:
    """Back to Customer Service for rework, with the representative's reason."""
    require(user, "report.decide")
    if not (reason or "").strip():
        raise DomainError(_("Say what must be reworked."), code="reason")
    with transaction.atomic():
        report = _locked(report)
        _check_waiting(report)
        report.status = R.RETURNED
        report.return_reason = reason.strip()
        report.decided_by, report.decided_at = user, timezone.now()
        report.save(update_fields=["status", "return_reason", "decided_by", "decided_at"])
    return report


def report_correct(*, user, report: AnalysisReport, reason: str) -> AnalysisReport:
    """A new draft version of a confirmed report, with its text and why it corrects it. The confirmed version
    stays in force until the correction is confirmed."""
    require(user, "report.write")
    if not (reason or "").strip():
        raise DomainError(_("Say why the confirmed report needs a correction."), code="reason")
    with transaction.atomic():
        survey_round = SurveyRound.objects.select_for_update().get(pk=report.round_id)
        report = _locked(report)
        if report.status != R.CONFIRMED:
            raise DomainError(_("Only the confirmed report can be corrected."), code="state")
        _refuse_open(survey_round)
        try:
            with transaction.atomic():
                return AnalysisReport.objects.create(
                    round=survey_round,
                    version=_next_version(survey_round),
                    previous=report,
                    causes=report.causes,
                    conclusions=report.conclusions,
                    correction_reason=reason.strip(),
                    created_by=user,
                )
        except IntegrityError:
            raise DomainError(_("Someone else has just started a correction of this report."), code="open") from None


# --- Who may do what next (the page's buttons) -----------------------------------------------------------------


def allowed(user, report: AnalysisReport) -> dict[str, bool]:
    write, decide = can(user, "report.write"), can(user, "report.decide")
    return {
        "edit": write and report.status in EDITABLE,
        "decide": decide and report.status == R.SUBMITTED,
        "correct": write and report.status == R.CONFIRMED and not has_next_version(report),
        "propose": can(user, "action.create") and report.status != R.SUPERSEDED,
    }


def has_next_version(report: AnalysisReport) -> bool:
    """Whether a later version was made from this one."""
    return AnalysisReport.objects.filter(previous=report).exists()


# --- My work ---------------------------------------------------------------------------------------------------

WORK_LIMIT = 20


def my_work(user) -> list[WorkSection]:
    """Customer Service: reports returned for rework, closed rounds without a report. (The representative's
    reports to confirm are in improvement.selectors.my_work.)"""
    sections = []
    if in_dept(user, Dept.CS):
        returned = AnalysisReport.objects.filter(status=R.RETURNED).select_related("round").order_by("decided_at")
        items = [
            WorkItem(label=f"{r.round.name} v{r.version}", url=r.get_absolute_url(), detail=r.return_reason[:120])
            for r in returned[: work_limit(WORK_LIMIT)]
        ]
        if items:
            sections.append(
                WorkSection(title=_("Analysis reports returned for rework"), items=items, total=returned.count())
            )
        missing = SurveyRound.objects.filter(status=SurveyRound.Status.CLOSED, reports__isnull=True).order_by(
            "period_end"
        )
        items = [
            WorkItem(label=r.name, url=r.get_absolute_url(), detail=_("no analysis report yet"))
            for r in missing[: work_limit(WORK_LIMIT)]
        ]
        if items:
            sections.append(
                WorkSection(
                    title=_("Closed survey rounds without an analysis report"), items=items, total=missing.count()
                )
            )
    return sections


# --- The PDF ---------------------------------------------------------------------------------------------------


def status_label(report: AnalysisReport) -> str:
    return f"{STATUS_ZH.get(report.status, report.status)} / {english(report.get_status_display())}"


def pdf_filename(report: AnalysisReport) -> str:
    return f"analysis-report-{report.round_id}-v{report.version}.pdf"


PDF_TEMPLATE = "improvement/pdf/report.html"


def pdf_context(report: AnalysisReport) -> dict:
    figures = figures_of(report)
    return {
        "company_zh": settings.COMPANY_NAME_ZH,
        "company_en": settings.COMPANY_NAME_EN,
        "title_zh": TITLE[0],
        "title_en": TITLE[1],
        "report": report,
        "status": status_label(report),
        "live": report.status in EDITABLE,
        "f": present(figures),
        # Drawn with the document's CJK face (templates/pdf/base.html) so their Chinese labels print.
        "charts": {name: chart_svg(figures, name, font="DocCJK", fluid=False) for name in CHARTS},
        "printed_at": timezone.localtime(),
    }


def report_pdf(report: AnalysisReport) -> bytes:
    """The bilingual report with its version, status, who submitted and confirmed it and when, and its charts.
    Refused (MissingGlyphs) rather than printed with empty boxes."""
    return render_pdf(PDF_TEMPLATE, pdf_context(report))
