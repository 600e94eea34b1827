"""Reads of the surveys: response rate and pace, customers' and the round's scores, per-question statistics.
A fixed number of queries per round, whatever its size (the round page and the tables use these)."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Dept, in_dept
from accounts.work import WorkItem, WorkSection
from satisfaction import scoring
from satisfaction.models import Question, Response, RoundCustomer, Scorecard, SurveyRound


@dataclass
class CustomerResult:
    line: RoundCustomer
    contacts: int = 0
    responses: list[Response] = field(default_factory=list)
    survey_score: Decimal | None = None
    scorecard: Scorecard | None = None
    score: Decimal | None = None
    source: str = ""  # "survey" or "scorecard": which one counts

    @property
    def customer(self):
        return self.line.customer

    @property
    def answered(self) -> bool:
        return self.score is not None or bool(self.responses) or self.scorecard is not None

    @property
    def band(self):
        return scoring.band_for(self.score)


@dataclass
class RoundResults:
    survey_round: SurveyRound
    customers: list[CustomerResult]
    today: date

    @property
    def surveyed(self) -> int:
        return len(self.customers)

    @property
    def answered(self) -> int:
        return sum(1 for c in self.customers if c.answered)

    @property
    def not_answered(self) -> list[CustomerResult]:
        return [c for c in self.customers if not c.answered]

    @property
    def rate(self) -> Decimal | None:
        """§5.11.1 回收率: customers who answered ÷ customers surveyed, in percent."""
        if not self.surveyed:
            return None
        return scoring.round1(Decimal(self.answered) * 100 / Decimal(self.surveyed))

    @property
    def days_left(self) -> int:
        return max(0, (self.survey_round.deadline - self.today).days)

    @property
    def behind_target(self) -> bool:
        """The round will miss its target at the current pace (answers per day since sending, carried on to the
        deadline), or has missed it."""
        r = self.survey_round
        if r.status == SurveyRound.Status.DRAFT or not self.surveyed:
            return False
        if self.rate >= r.target:
            return False
        if r.status == SurveyRound.Status.CLOSED or self.today > r.deadline:
            return True
        sent_on = timezone.localdate(r.sent_at) if r.sent_at else self.today
        elapsed = max(1, (self.today - sent_on).days)
        projected = self.answered + Decimal(self.answered) / elapsed * self.days_left
        return projected * 100 / self.surveyed < r.target

    @property
    def score(self) -> Decimal | None:
        scored = [c for c in self.customers if c.score is not None]
        if not scored:
            return None
        if settings.SURVEY_ROUND_WEIGHTING == "quantity":
            return scoring.mean([c.score for c in scored], [c.line.delivered_qty for c in scored])
        return scoring.mean([c.score for c in scored])

    @property
    def band(self):
        return scoring.band_for(self.score)

    @property
    def band_counts(self) -> list[tuple]:
        counts = Counter(c.band.key for c in self.customers if c.band)
        return [(band, counts.get(band.key, 0)) for band in scoring.BANDS]


def round_results(survey_round: SurveyRound, today: date | None = None) -> RoundResults:
    lines = list(
        survey_round.customers.filter(included=True)
        .select_related("customer")
        .annotate(n_invitations=Count("invitations"))
        .order_by("customer__code")
    )
    by_line: dict[int, list[Response]] = defaultdict(list)
    for response in survey_round.responses.select_related("invitation__contact").order_by("pk"):
        by_line[response.line_id].append(response)
    scorecards: dict[int, Scorecard] = {}
    for card in Scorecard.objects.filter(
        customer_id__in=[line.customer_id for line in lines],
        rated_on__gte=survey_round.period_start,
        rated_on__lte=survey_round.period_end,
    ).order_by("rated_on", "pk"):
        scorecards[card.customer_id] = card  # the latest in the period counts
    results = []
    for line in lines:
        result = CustomerResult(line=line, contacts=line.n_invitations, responses=by_line.get(line.pk, []))
        scores = [r.score for r in result.responses if r.score is not None]
        result.survey_score = scoring.mean(scores)
        result.scorecard = scorecards.get(line.customer_id)
        if result.survey_score is not None and (
            result.scorecard is None or settings.SURVEY_SCORECARD_PRECEDENCE == "survey"
        ):
            result.score, result.source = result.survey_score, "survey"
        elif result.scorecard is not None:
            result.score, result.source = result.scorecard.normalised, "scorecard"
        results.append(result)
    return RoundResults(survey_round=survey_round, customers=results, today=today or timezone.localdate())


@dataclass
class QuestionStats:
    question: Question
    answers: int = 0
    not_applicable: int = 0
    total: int = 0
    distribution: dict[int, int] = field(default_factory=dict)

    @property
    def mean(self) -> Decimal | None:
        """The mean answer on the question's own scale."""
        return scoring.round1(Decimal(self.total) / self.answers) if self.answers else None

    @property
    def mean_points(self) -> Decimal | None:
        """The mean on 0–100, comparable across scales and rounds."""
        if not self.answers:
            return None
        return scoring.round1(scoring.answer_points(1, self.question.scale_max) * self.total / self.answers)

    def rows(self) -> list[tuple[int, int]]:
        return [(value, self.distribution.get(value, 0)) for value in self.question.choices]


def question_statistics(survey_round: SurveyRound) -> list[QuestionStats]:
    """《客户满意度调查统计表》: per question, the answers, their mean and distribution."""
    stats = {q.pk: QuestionStats(question=q) for q in survey_round.form.questions.all()}
    for answers in survey_round.responses.values_list("answers", flat=True):
        for key, value in answers.items():
            item = stats.get(int(key))
            if item is None:
                continue
            if value is None:
                item.not_applicable += 1
                continue
            item.answers += 1
            item.total += int(value)
            item.distribution[int(value)] = item.distribution.get(int(value), 0) + 1
    return list(stats.values())


def sending_progress(survey_round: SurveyRound) -> dict[str, int]:
    """The round's e-mails by outbox status (the sending job's progress)."""
    from common.models import OutboxMessage
    from satisfaction.services import INVITATION, REMINDER

    rows = (
        OutboxMessage.objects.filter(
            kind__in=[INVITATION, REMINDER], object_id__in=survey_round.invitations.values("pk")
        )
        .values("kind", "status")
        .annotate(n=Count("pk"))
    )
    progress = {f"{kind}:{status}": 0 for kind in ("invitation", "reminder") for status in OutboxMessage.Status.values}
    for row in rows:
        kind = "invitation" if row["kind"] == INVITATION else "reminder"
        progress[f"{kind}:{row['status']}"] = row["n"]
    invitations = [progress[f"invitation:{s}"] for s in OutboxMessage.Status.values]
    progress["invitation:total"] = sum(invitations)
    progress["invitation:done"] = (
        progress["invitation:total"] - progress["invitation:queued"] - progress["invitation:sending"]
    )
    return progress


def my_work(user) -> list[WorkSection]:
    """Customer Service: rounds to check and send, rounds behind their target, e-mails that failed."""
    if not in_dept(user, Dept.CS):
        return []
    sections = []
    drafts = list(SurveyRound.objects.filter(status=SurveyRound.Status.DRAFT).order_by("period_end")[:20])
    if drafts:
        sections.append(
            WorkSection(
                title=_("Survey rounds to check and send"),
                items=[WorkItem(label=r.name, url=r.get_absolute_url(), detail=_("draft")) for r in drafts],
                total=len(drafts),
            )
        )
    open_rounds = SurveyRound.objects.filter(status=SurveyRound.Status.SENT).order_by("deadline")[:10]
    behind = []
    for r in open_rounds:
        results = round_results(r)
        if results.behind_target:
            behind.append(
                WorkItem(
                    label=r.name,
                    url=r.get_absolute_url(),
                    detail=_("response rate %(rate)s%% of %(target)s%%, %(days)s days left")
                    % {"rate": results.rate, "target": r.target, "days": results.days_left},
                    overdue=True,
                )
            )
    if behind:
        sections.append(
            WorkSection(title=_("Survey rounds behind their response target"), items=behind, total=len(behind))
        )
    from common.models import OutboxMessage
    from satisfaction.services import INVITATION, REMINDER

    failed = OutboxMessage.objects.filter(kind__in=[INVITATION, REMINDER], status=OutboxMessage.Status.FAILED)
    count = failed.count()
    if count:
        sections.append(
            WorkSection(
                title=_("Survey e-mails that failed"),
                items=[
                    WorkItem(label=m.to, url=reverse("satisfaction:failed_mail"), detail=m.error[:120], overdue=True)
                    for m in failed.order_by("-created_at")[:10]
                ],
                total=count,
                more_url=reverse("satisfaction:failed_mail"),
            )
        )
    return sections
