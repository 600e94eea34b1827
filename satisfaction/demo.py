"""Demo surveys: the default form; last half-year's round, sent and closed, with answers in several bands and
one customer's own scorecard; this half-year's round, open, with some answers, reminders to the others and one
invitation the mail server refused. Through the services, as Customer Service and the contacts would do it;
afterwards the past round's dates are moved back to when it really ran (a round cannot be sent in the past).

Idempotent: if any survey round exists, nothing is touched. Mail goes to memory while seeding (see seed_demo).
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from common.models import OutboxMessage
from common.outbox import deliver_pending
from customers.models import Customer
from satisfaction import services
from satisfaction.defaults import default_form
from satisfaction.models import Invitation, Response, ResponseVersion, Scorecard, SurveyRound

KINDS = [services.INVITATION, services.REMINDER]
BY_HAND = "老客户,每半年例行调查(客服部决定)。Regular customer, surveyed every half-year."

# Last half-year. Answers in the order of the default form's questions (quality 30, delivery 25, service 20,
# price 15, technical support 10), on 1–5: (customer, answers, comment, channel).
PAST_SURVEYED = ["C-0001", "C-0002", "C-0003", "C-0004", "C-0009", "C-0011", "C-0015", "C-0016"]
PAST_ANSWERS = [
    ("C-0001", (5, 5, 5, 5, 5), "合作愉快,继续保持。", Response.Channel.LINK),  # 100.0 very satisfied
    ("C-0002", (5, 5, 5, 4, 4), "", Response.Channel.LINK),  # 95.0 satisfied (corrected from 91.0)
    ("C-0003", (4, 4, 4, 5, 5), "Packaging could be sturdier for sea freight.", Response.Channel.LINK),  # 85.0
    ("C-0004", (4, 3, 3, 4, 4), "交期多次延误,沟通不及时。", Response.Channel.PAPER),  # 71.0 dissatisfied
    ("C-0005", (5, 4, "na", 4, 5), "", Response.Channel.LINK),  # 90.0 fairly satisfied (price not rated)
    ("C-0011", (5, 5, 4, 5, 4), "", Response.Channel.EMAIL),  # 94.0 satisfied
    ("C-0015", (3, 3, 4, 3, 3), "Two lots with scratches; please improve outgoing inspection.", Response.Channel.LINK),
]
# C-0009 rates its suppliers on its own form (§5.11.2.1): that scorecard is its answer. C-0016 and C-0023
# did not answer: 8 of 10 customers, the 80% target exactly.
SCORECARD = ("C-0009", Decimal(172), Decimal(200), "B")

# This half-year: (customer, answers) of those who answered so far.
OPEN_ANSWERS = [
    ("C-0001", (5, 5, 5, 5, 4)),  # 98.0: satisfied, the top of the band
    ("C-0002", (4, 4, 5, 4, 4)),  # 84.0 fairly satisfied
    ("C-0010", (5, 5, 5, 5, 5)),  # 100.0 very satisfied
    ("C-0011", (4, 4, 4, 4, 4)),  # 80.0 fairly satisfied
    ("C-0020", (3, 4, 4, 3, 4)),  # 71.0 dissatisfied
]
REFUSED = "C-0012"  # its contact's mailbox is refused by the mail server: shown under failed e-mails
OPEN_SENT_DAYS_AGO = 8


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if SurveyRound.objects.exists():
        return
    if not Customer.objects.filter(code__in=PAST_SURVEYED).exists():
        return  # no demo customers to survey
    cs = users["cs"]
    default_form(user=users["admin"])
    today = timezone.localdate()
    current = (today.year, 1 if today.month <= 6 else 2)
    previous = (today.year - 1, 2) if current[1] == 1 else (today.year, 1)
    _past_round(cs, *previous, today=today)
    _open_round(cs, *current, today=today)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def _raw(form, values) -> dict[str, str]:
    return {str(q.pk): str(v) for q, v in zip(form.questions.all(), values, strict=True)}


def _invitation(survey_round, code: str) -> Invitation:
    return survey_round.invitations.filter(line__customer__code=code).order_by("pk").first()


def _past_round(cs, year: int, half: int, *, today: date) -> None:
    survey_round, _created = services.round_open_half_year(year=year, half=half, today=today, user=cs)
    for line in survey_round.customers.filter(customer__code__in=PAST_SURVEYED, included=False):
        services.line_set_included(line=line, included=True, reason=BY_HAND, user=cs)
    services.round_send(survey_round=survey_round, user=cs)
    deliver_pending(kinds=KINDS)  # sent while the round was open, as they were
    form = survey_round.form
    for code, values, comment, channel in PAST_ANSWERS:
        invitation = _invitation(survey_round, code)
        if invitation is None:
            continue
        keyed = channel != Response.Channel.LINK
        if code == "C-0002":  # a contact who came back to correct the answers before the deadline
            services.response_submit(invitation=invitation, raw_answers=_raw(form, (5, 5, 4, 4, 4)))
        services.response_submit(
            invitation=invitation,
            raw_answers=_raw(form, values),
            comment=comment,
            channel=channel,
            user=cs if keyed else None,
        )
    code, score, maximum, grade = SCORECARD
    customer = Customer.objects.get(code=code)
    rated_on = survey_round.period_start + timedelta(days=100)
    services.scorecard_record(
        customer=customer,
        rated_on=rated_on,
        score=score,
        maximum=maximum,
        grade=grade,
        note="Kessler Lieferantenbewertung (supplier rating), half-yearly.",
        user=cs,
    )
    services.round_close(survey_round=survey_round, user=cs)

    # When it ran: sent on the half-year's opening day, answered within the response time, closed after it.
    month, day = settings.SURVEY_OPEN_DAYS[half - 1]
    sent = _at(date(year, month, day))
    deadline = min(sent.date() + timedelta(days=settings.SURVEY_RESPONSE_DAYS), today - timedelta(days=1))
    closed = min(_at(deadline + timedelta(days=1), 10), timezone.now())
    SurveyRound.objects.filter(pk=survey_round.pk).update(
        created_at=sent - timedelta(days=1), sent_at=sent, deadline=deadline, closed_at=closed
    )
    survey_round.invitations.update(created_at=sent, token_issued_at=sent)
    OutboxMessage.objects.filter(kind__in=KINDS, object_id__in=survey_round.invitations.values("pk")).update(
        created_at=sent, sent_at=sent + timedelta(minutes=2)
    )
    span = max(1, (deadline - sent.date()).days)
    for number, response in enumerate(survey_round.responses.order_by("pk")):
        answered = min(sent + timedelta(days=1 + (number * 3) % span, hours=number), closed)
        Response.objects.filter(pk=response.pk).update(submitted_at=answered, updated_at=answered)
        ResponseVersion.objects.filter(response=response).update(submitted_at=answered)
    Scorecard.objects.filter(customer=customer, rated_on=rated_on).update(
        recorded_at=_at(min(rated_on + timedelta(days=3), today))
    )


def _open_round(cs, year: int, half: int, *, today: date) -> None:
    survey_round, _created = services.round_open_half_year(year=year, half=half, today=today, user=cs)
    # The customers this story needs are surveyed whatever the demo deliveries of the half-year add up to.
    named = [REFUSED, *(code for code, _values in OPEN_ANSWERS)]
    for line in survey_round.customers.filter(customer__code__in=named, included=False):
        services.line_set_included(line=line, included=True, reason=BY_HAND, user=cs)
    services.round_send(survey_round=survey_round, user=cs)
    deliver_pending(kinds=KINDS)
    survey_round.refresh_from_db()
    # Sent a week ago: some have answered since, the others are reminded today.
    sent = timezone.now() - timedelta(days=OPEN_SENT_DAYS_AGO)
    SurveyRound.objects.filter(pk=survey_round.pk).update(
        created_at=sent - timedelta(hours=2),
        sent_at=sent,
        deadline=timezone.localdate(sent) + timedelta(days=settings.SURVEY_RESPONSE_DAYS),
    )
    survey_round.invitations.update(created_at=sent, token_issued_at=sent)
    OutboxMessage.objects.filter(kind__in=KINDS, object_id__in=survey_round.invitations.values("pk")).update(
        created_at=sent, sent_at=sent + timedelta(minutes=2)
    )
    form = survey_round.form
    for number, (code, values) in enumerate(OPEN_ANSWERS):
        invitation = _invitation(survey_round, code)
        if invitation is None:
            continue
        response = services.response_submit(invitation=invitation, raw_answers=_raw(form, values))
        answered = sent + timedelta(days=1 + number, hours=3)
        Response.objects.filter(pk=response.pk).update(submitted_at=answered, updated_at=answered)
        ResponseVersion.objects.filter(response=response).update(submitted_at=answered)
    services.send_reminders(survey_round=survey_round)
    deliver_pending(kinds=KINDS)
    refused = _invitation(survey_round, REFUSED)
    if refused is not None:
        # What the outbox records when the mail server refuses a mailbox after its attempts.
        OutboxMessage.objects.filter(kind__in=KINDS, object_id=refused.pk).update(
            status=OutboxMessage.Status.FAILED,
            attempts=settings.OUTBOX_MAX_ATTEMPTS,
            sent_at=None,
            error=f"SMTPRecipientsRefused: {{'{refused.email}': (550, b'5.1.1 Mailbox unavailable')}}",
        )
