"""Reads of the surveys: response rate and pace, customers' and the round's scores, per-question statistics.
A fixed number of queries per round, whatever its size (the round page and the tables use these)."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Dept, in_dept
from accounts.work import WorkItem, WorkSection, work_limit
from customers.models import Customer
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

    @cached_property
    def surveyed(self) -> int:
        return len(self.customers)

    @cached_property
    def answered(self) -> int:
        return sum(1 for c in self.customers if c.answered)

    @cached_property
    def not_answered(self) -> list[CustomerResult]:
        return [c for c in self.customers if not c.answered]

    @cached_property
    def rate(self) -> Decimal | None:
        """§5.11.1 回收率: customers who answered ÷ customers surveyed, in percent."""
        if not self.surveyed:
            return None
        return scoring.round1(Decimal(self.answered) * 100 / Decimal(self.surveyed))

    @cached_property
    def days_left(self) -> int:
        return max(0, (self.survey_round.deadline - self.today).days)

    @cached_property
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
        elapsed = (self.today - sent_on).days
        if elapsed < 1:
            return False  # no pace to speak of on the day of sending

        projected = self.answered + Decimal(self.answered) / elapsed * self.days_left
        return projected * 100 / self.surveyed < r.target

    @cached_property
    def score(self) -> Decimal | None:
        scored = [c for c in self.customers if c.score is not None]
        if not scored:
            return None
        if settings.SURVEY_ROUND_WEIGHTING == "quantity":
            return scoring.mean([c.score for c in scored], [c.line.delivered_qty for c in scored])
        return scoring.mean([c.score for c in scored])

    @cached_property
    def band(self):
        return scoring.band_for(self.score)

    @cached_property
    def band_counts(self) -> list[tuple]:
        counts = Counter(c.band.key for c in self.customers if c.band)
        return [(band, counts.get(band.key, 0)) for band in scoring.BANDS]


def _customer_result(line, responses, scorecard) -> CustomerResult:
    """Which score counts for a customer: its contacts' mean, or its own scorecard (SURVEY_SCORECARD_PRECEDENCE
    when both exist)."""
    result = CustomerResult(line=line, contacts=getattr(line, "n_invitations", 0), responses=responses)
    result.survey_score = scoring.mean([r.score for r in responses if r.score is not None])
    result.scorecard = scorecard
    if result.survey_score is not None and (scorecard is None or settings.SURVEY_SCORECARD_PRECEDENCE == "survey"):
        result.score, result.source = result.survey_score, "survey"
    elif scorecard is not None:
        result.score, result.source = scorecard.normalised, "scorecard"
    return result


def rounds_results(rounds: list[SurveyRound], *, details: bool = False, today: date | None = None):
    """{round id: RoundResults} for several rounds in four queries whatever their number (the round list).
    ``details`` adds each line's customer, its number of invitations and the responses' contacts (the round
    page and the tables)."""
    today = today or timezone.localdate()
    if not rounds:
        return {}
    lines = RoundCustomer.objects.filter(round__in=rounds, included=True)
    responses = Response.objects.filter(round__in=rounds)
    if details:
        lines = lines.select_related("customer").annotate(n_invitations=Count("invitations"))
        responses = responses.select_related("invitation__contact")
    else:
        lines = lines.only("pk", "round_id", "customer_id", "delivered_qty")
        responses = responses.only("pk", "round_id", "line_id", "invitation_id", "score", "channel")
    by_round: dict[int, list[RoundCustomer]] = defaultdict(list)
    for line in lines.order_by("customer__code", "pk"):
        by_round[line.round_id].append(line)
    by_line: dict[int, list[Response]] = defaultdict(list)
    for response in responses.order_by("pk"):
        by_line[response.line_id].append(response)
    cards: dict[int, list[Scorecard]] = defaultdict(list)
    for card in Scorecard.objects.filter(
        customer_id__in=lines.values("customer_id"),
        rated_on__gte=min(r.period_start for r in rounds),
        rated_on__lte=max(r.period_end for r in rounds),
    ).order_by("rated_on", "pk"):
        cards[card.customer_id].append(card)
    results = {}
    for survey_round in rounds:
        customers = []
        for line in by_round.get(survey_round.pk, []):
            # The latest scorecard of the round's period counts.
            in_period = [
                c
                for c in cards.get(line.customer_id, [])
                if survey_round.period_start <= c.rated_on <= survey_round.period_end
            ]
            customers.append(_customer_result(line, by_line.get(line.pk, []), in_period[-1] if in_period else None))
        results[survey_round.pk] = RoundResults(survey_round=survey_round, customers=customers, today=today)
    return results


def round_progress(survey_round: SurveyRound, today: date | None = None) -> RoundResults:
    """The round's response rate and pace alone (``surveyed``, ``answered``, ``rate``, ``behind_target``,
    ``days_left``), counted in the database in one query: for My work, which needs no scores. A customer has
    answered as ``CustomerResult.answered`` says: a response, or a scorecard rated in the round's period."""
    answered = Exists(Response.objects.filter(line=OuterRef("pk"))) | Exists(
        Scorecard.objects.filter(
            customer=OuterRef("customer"),
            rated_on__gte=survey_round.period_start,
            rated_on__lte=survey_round.period_end,
        )
    )
    counts = RoundCustomer.objects.filter(round=survey_round, included=True).aggregate(
        surveyed=Count("pk"), answered=Count("pk", filter=answered)
    )
    results = RoundResults(survey_round=survey_round, customers=[], today=today or timezone.localdate())
    results.__dict__.update(surveyed=counts["surveyed"], answered=counts["answered"])  # the cached properties
    return results


def round_results(survey_round: SurveyRound, today: date | None = None, *, details: bool = True) -> RoundResults:
    """``details=False`` for the figures alone (rate, scores, who has not answered): lines without their customer
    loaded (see attach_customers for the rows a page shows)."""
    return rounds_results([survey_round], details=details, today=today)[survey_round.pk]


def attach_customers(results: list[CustomerResult]) -> None:
    """Load the customers of the results a page shows, in one query (after a ``details=False`` read)."""
    customers = Customer.objects.in_bulk({r.line.customer_id for r in results})
    for result in results:
        result.line.customer = customers[result.line.customer_id]


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
        results = round_progress(r)
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
                    for m in failed.order_by("-created_at")[: work_limit(10)]
                ],
                total=count,
                more_url=reverse("satisfaction:failed_mail"),
            )
        )
    return sections
