"""Reads of the improvement part: the lists of meetings and actions, what waits in My work, the evidence a
verifier can use, an action's history. A fixed number of queries per page, whatever the number of rows."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.roles import Dept, can, in_dept
from accounts.work import WorkItem, WorkSection, work_limit
from improvement import actions as services
from improvement.models import Action, AnalysisReport, ManagementReview, Meeting
from satisfaction.models import Question, SurveyRound

WORK_LIMIT = 20

# The list filters of the actions page (value → label).
FILTERS = {
    "open": pgettext_lazy("corrective action status", "Open"),
    "overdue": gettext_lazy("Overdue"),
    "done": gettext_lazy("Done, waiting for verification"),
    "waiting": gettext_lazy("Ready to verify"),
    "effective": gettext_lazy("Verified effective"),
    "reopened": gettext_lazy("Reopened (not effective)"),
}

HISTORY_LABELS = {
    services.CREATED: gettext_lazy("Created"),
    services.DONE: gettext_lazy("Reported done"),
    services.VERIFIED_EFFECTIVE: gettext_lazy("Verified effective"),
    services.REOPENED: gettext_lazy("Verified not effective: reopened"),
}


def overdue_q(today: date) -> Q:
    return Q(status=Action.Status.OPEN, due_date__lt=today)


def waiting_q(today: date) -> Q:
    """Done, and the date from which the effect can be checked has come."""
    return Q(status=Action.Status.DONE, verify_after__lte=today)


def action_list(*, status: str = "", owner=None, q: str = "", today: date | None = None) -> QuerySet[Action]:
    today = today or timezone.localdate()
    actions = Action.objects.select_related("owner")
    if status == "overdue":
        actions = actions.filter(overdue_q(today))
    elif status == "waiting":
        actions = actions.filter(waiting_q(today))
    elif status == "reopened":
        actions = actions.filter(status=Action.Status.OPEN, reopened__gt=0)
    elif status in Action.Status.values:
        actions = actions.filter(status=status)
    if owner is not None:
        actions = actions.filter(owner=owner)
    if q:
        actions = actions.filter(Q(number__icontains=q) | Q(title__icontains=q))
    return actions.order_by("due_date", "pk")


def action_counts(today: date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    return Action.objects.aggregate(
        open=Count("pk", filter=Q(status=Action.Status.OPEN)),
        overdue=Count("pk", filter=overdue_q(today)),
        done=Count("pk", filter=Q(status=Action.Status.DONE)),
        waiting=Count("pk", filter=waiting_q(today)),
        effective=Count("pk", filter=Q(status=Action.Status.EFFECTIVE)),
    )


def meeting_list() -> QuerySet[Meeting]:
    """Meetings with how many departments have not yet acknowledged their minutes."""
    return (
        Meeting.objects.select_related("memo", "recorded_by", "report__round")
        .annotate(
            receipts=Count("memo__receipts", distinct=True),
            waiting=Count("memo__receipts", filter=Q(memo__receipts__acknowledged_at__isnull=True), distinct=True),
            n_actions=Count("actions", distinct=True),
        )
        .order_by("-held_on", "-pk")
    )


def rounds_with_reports(rounds: list[SurveyRound]) -> None:
    """Attach to each round its newest report version (``round.report``, or None) in one query."""
    latest: dict[int, AnalysisReport] = {}
    for report in AnalysisReport.objects.filter(round__in=rounds).order_by("round_id", "version"):
        latest[report.round_id] = report
    for survey_round in rounds:
        survey_round.report = latest.get(survey_round.pk)


# --- The management review: which half-year needs its pack --------------------------------------------------


def last_completed_half_year(today: date) -> tuple[date, date]:
    """The half-year that ended last before ``today``: H2 of last year during January–June, else H1."""
    if today.month <= 6:
        return date(today.year - 1, 7, 1), date(today.year - 1, 12, 31)
    return date(today.year, 1, 1), date(today.year, 6, 30)


def pack_missing(today: date | None = None) -> tuple[date, date] | None:
    """The last completed half-year when no management review pack covers it, else None. The rule is simple on
    purpose (§5.12.7: "normally the half-year"): a pack whose period contains the whole half-year covers it."""
    start, end = last_completed_half_year(today or timezone.localdate())
    covered = ManagementReview.objects.filter(period_start__lte=start, period_end__gte=end).exists()
    return None if covered else (start, end)


# --- My work ------------------------------------------------------------------------------------------------


def my_work(user) -> list[WorkSection]:
    """The owner: their overdue actions and their reopened ones (not effective: to be done again). The verifying
    departments: actions waiting for verification, except their own. The management representative also:
    analysis reports to confirm and the management review pack to prepare."""
    if not getattr(user, "is_authenticated", False):
        return []
    today = timezone.localdate()
    sections: list[WorkSection] = []
    mine = (
        Action.objects.filter(owner=user, status=Action.Status.OPEN)
        .filter(Q(due_date__lt=today) | Q(reopened__gt=0))
        .order_by("due_date", "pk")
    )
    total = mine.count()
    if total:
        items = [
            WorkItem(
                label=f"{a.number} {a.title}",
                url=a.get_absolute_url(),
                detail=(_("due %(date)s") % {"date": a.due_date.isoformat()})
                + (" · " + _("reopened: not effective") if a.reopened else ""),
                overdue=a.due_date < today,
            )
            for a in mine[: work_limit(WORK_LIMIT)]
        ]
        sections.append(
            WorkSection(
                title=_("Your corrective actions overdue or reopened"),
                items=items,
                total=total,
                more_url=reverse("improvement:actions") + "?mine=1&status=open",
            )
        )
    if can(user, "action.verify"):
        waiting = Action.objects.filter(waiting_q(today)).exclude(owner=user).select_related("owner")
        waiting = waiting.order_by("verify_after", "pk")
        items = [
            WorkItem(
                label=f"{a.number} {a.title}",
                url=reverse("improvement:action_verify", args=[a.number]),
                detail=_("owner %(owner)s, done %(date)s")
                % {"owner": a.owner, "date": timezone.localdate(a.done_at).isoformat() if a.done_at else "—"},
            )
            for a in waiting[: work_limit(WORK_LIMIT)]
        ]
        sections.append(
            WorkSection(
                title=_("Corrective actions waiting for verification"),
                items=items,
                total=waiting.count(),
                more_url=reverse("improvement:actions") + "?status=waiting",
            )
        )
    if in_dept(user, Dept.MGMT_REP):
        reports = AnalysisReport.objects.filter(status=AnalysisReport.Status.SUBMITTED).select_related("round")
        reports = reports.order_by("submitted_at", "pk")
        items = [
            WorkItem(
                label=f"{r.round.name} v{r.version}",
                url=r.get_absolute_url(),
                detail=_("submitted %(date)s") % {"date": timezone.localdate(r.submitted_at).isoformat()}
                if r.submitted_at
                else "",
            )
            for r in reports[: work_limit(WORK_LIMIT)]
        ]
        sections.append(WorkSection(title=_("Analysis reports to confirm"), items=items, total=reports.count()))
        missing = pack_missing(today)
        items = []
        if missing:
            start, end = missing
            items.append(
                WorkItem(
                    label=_("Management review pack for %(start)s – %(end)s")
                    % {"start": start.isoformat(), "end": end.isoformat()},
                    url=reverse("improvement:review_new")
                    + f"?period_start={start.isoformat()}&period_end={end.isoformat()}",
                    detail=_("no pack covers the last half-year yet"),
                )
            )
        sections.append(WorkSection(title=_("Management review packs to prepare"), items=items, total=len(items)))
    return sections


# --- The evidence a verifier can use ------------------------------------------------------------------------


@dataclass
class Evidence:
    """A figure of the round the action came from and the same figure in the next closed round (or month)."""

    what: str
    base_label: str
    base_value: Decimal | None
    next_label: str = ""
    next_value: Decimal | None = None
    unit: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> Decimal | None:
        if self.base_value is None or self.next_value is None:
            return None
        return self.next_value - self.base_value

    def summary(self) -> str:
        """One line for the verifier's evidence text."""
        if self.next_label and self.next_value is not None:
            change = self.change
            sign = "+" if change is not None and change > 0 else ""
            return _("%(what)s: %(before)s%(unit)s in %(base)s → %(after)s%(unit)s in %(next)s (%(change)s).") % {
                "what": self.what,
                "before": _value(self.base_value),
                "base": self.base_label,
                "after": _value(self.next_value),
                "next": self.next_label,
                "change": f"{sign}{change}" if change is not None else "—",
                "unit": self.unit,
            }
        return _("%(what)s: %(before)s%(unit)s in %(base)s; no later figure yet.") % {
            "what": self.what,
            "before": _value(self.base_value),
            "base": self.base_label,
            "unit": self.unit,
        }


def _value(value) -> str:
    return "—" if value is None else str(value)


def next_closed_round(survey_round: SurveyRound) -> SurveyRound | None:
    """The first closed round whose period ends after ``survey_round``'s."""
    return (
        SurveyRound.objects.filter(status=SurveyRound.Status.CLOSED, period_end__gt=survey_round.period_end)
        .select_related("form")
        .order_by("period_end", "pk")
        .first()
    )


def _same_question(question: Question, survey_round: SurveyRound) -> Question | None:
    """The question in ``survey_round``'s form: itself on the same form version, else the one with the same
    Chinese (or English) text on the newer version."""
    if survey_round.form_id == question.form_id:
        return question
    return (
        survey_round.form.questions.filter(Q(text_zh=question.text_zh) | Q(text_en=question.text_en))
        .order_by("position", "pk")
        .first()
    )


def _question_mean(survey_round: SurveyRound, question: Question | None) -> Decimal | None:
    from satisfaction.selectors import question_statistics

    if question is None:
        return None
    for stats in question_statistics(survey_round):
        if stats.question.pk == question.pk:
            return stats.mean_points
    return None


def _customer_score(survey_round: SurveyRound, customer_id: int) -> Decimal | None:
    from satisfaction.selectors import round_results

    for result in round_results(survey_round, details=False).customers:
        if result.line.customer_id == customer_id:
            return result.score
    return None


def survey_evidence(action: Action) -> Evidence | None:
    """For a survey finding: the figure in the action's round and in the next closed round, if any (§5.12.6:
    the next round's score on that question can be the evidence)."""
    from satisfaction.selectors import round_results

    S = Action.Source
    if action.round_id is None or action.source not in (S.ROUND, S.QUESTION, S.CUSTOMER):
        return None
    base = action.round
    following = next_closed_round(base)
    notes = []
    if following is None:
        notes.append(_("No closed survey round after %(round)s yet.") % {"round": base.name})
    if action.source == S.QUESTION:
        what = _("Mean score (0–100) of “%(question)s”") % {"question": action.question.text}
        before = _question_mean(base, action.question)
        after = None
        if following is not None:
            same = _same_question(action.question, following)
            if same is None:
                notes.append(_("The question is not on the form of %(round)s.") % {"round": following.name})
            after = _question_mean(following, same)
    elif action.source == S.CUSTOMER:
        what = _("Score of %(customer)s") % {"customer": action.customer.display_name}
        before = _customer_score(base, action.customer_id)
        after = _customer_score(following, action.customer_id) if following is not None else None
        if following is not None and after is None:
            notes.append(_("The customer has no score in %(round)s.") % {"round": following.name})
    else:
        what = _("The round's score")
        before = round_results(base, details=False).score
        after = round_results(following, details=False).score if following is not None else None
    return Evidence(
        what=str(what),
        base_label=base.name,
        base_value=before,
        next_label=following.name if following else "",
        next_value=after,
        notes=notes,
    )


def ontime_evidence(action: Action, today: date | None = None) -> Evidence | None:
    """For a month of the on-time rate: that month's rate and the last complete month's."""
    from delivery.ontime import add_months, month_key, month_rate, month_start, parse_month

    if action.source != Action.Source.ON_TIME or not action.month:
        return None
    today = today or timezone.localdate()
    month = parse_month(action.month)
    last = add_months(month_start(today), -1)
    before = month_rate(month, today=today).rate
    evidence = Evidence(what=str(_("On-time delivery rate")), base_label=action.month, base_value=before, unit="%")
    if last > month:
        evidence.next_label, evidence.next_value = month_key(last), month_rate(last, today=today).rate
    return evidence


def history_rows(action: Action) -> list[dict]:
    rows = []
    for record in action.history.select_related("history_user").order_by("history_date", "history_id"):
        label = HISTORY_LABELS.get(record.history_change_reason or "")
        rows.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "what": label if label is not None else _("Changed"),
                "status": Action.Status(record.status).label if record.status in Action.Status.values else "",
            }
        )
    return rows
