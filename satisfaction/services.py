"""State changes of the satisfaction surveys (§5.11). Views, jobs and commands all come through here."""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from common.errors import DomainError
from common.models import OutboxMessage
from common.outbox import outbox_add, outbox_add_many
from customers.models import Contact, Customer
from satisfaction import eligibility, scoring
from satisfaction.models import (
    Invitation,
    Question,
    Response,
    ResponseVersion,
    RoundCustomer,
    Scorecard,
    SurveyForm,
    SurveyRound,
)

INVITATION = "survey.invitation"
REMINDER = "survey.reminder"


def new_token() -> str:
    """43 characters of a cryptographic random source: never guessable, never sequential."""
    return secrets.token_urlsafe(32)


# --- The form ------------------------------------------------------------------------------------------------


def form_current() -> SurveyForm | None:
    return SurveyForm.objects.order_by("-version").first()


@dataclass
class QuestionData:
    text_zh: str
    text_en: str
    weight: Decimal
    scale_min: int = 1
    scale_max: int = 5
    allow_na: bool = True


def _check_questions(questions: list[QuestionData]) -> None:
    if not questions:
        raise DomainError(_("A survey form needs at least one question."))
    total = sum((Decimal(q.weight) for q in questions), Decimal(0))
    if total != 100:
        raise DomainError(_("The weights add up to %(total)s; they must add up to 100.") % {"total": total})
    for q in questions:
        if q.scale_max <= q.scale_min:
            raise DomainError(_("The highest answer must be above the lowest (%(q)s).") % {"q": q.text_en})
        if not q.text_zh.strip() or not q.text_en.strip():
            raise DomainError(_("Every question needs its text in Chinese and in English."))


def form_save(
    *, user, questions: list[QuestionData], title_zh: str = "", title_en: str = "", intro_zh="", intro_en=""
) -> SurveyForm:
    """Save the form's questions. The current version is changed in place only while no round was sent with
    it; otherwise (or with no form yet) a new version is made and every response keeps the one it answered."""
    _check_questions(questions)
    with transaction.atomic():
        current = SurveyForm.objects.select_for_update().order_by("-version").first()
        if current is None or current.locked:
            form = SurveyForm.objects.create(
                version=(current.version + 1) if current else 1,
                previous=current,
                created_by=user,
                title_zh=title_zh or (current.title_zh if current else "客户满意度调查表"),
                title_en=title_en or (current.title_en if current else "Customer satisfaction survey"),
                intro_zh=intro_zh,
                intro_en=intro_en,
            )
        else:
            form = current
            form.title_zh = title_zh or form.title_zh
            form.title_en = title_en or form.title_en
            form.intro_zh, form.intro_en = intro_zh, intro_en
            form.save()
            # A draft version's questions are replaced: nobody has answered them.
            form.questions.all().delete()
        Question.objects.bulk_create(
            Question(
                form=form,
                position=i,
                text_zh=q.text_zh.strip(),
                text_en=q.text_en.strip(),
                weight=Decimal(q.weight),
                scale_min=q.scale_min,
                scale_max=q.scale_max,
                allow_na=q.allow_na,
            )
            for i, q in enumerate(questions, start=1)
        )
    return form


# --- Rounds --------------------------------------------------------------------------------------------------


def half_year_period(year: int, half: int) -> tuple[date, date]:
    return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))


def _target() -> Decimal:
    return Decimal(settings.SURVEY_TARGET_PERCENT)


def round_open_half_year(*, year: int, half: int, today: date | None = None, user=None) -> tuple[SurveyRound, bool]:
    """The draft round of a half-year (§5.11.1: twice a year). At most one per half: a second call (the beat
    firing twice, a restart replaying it) returns the existing round. Returns (round, created)."""
    today = today or timezone.localdate()
    existing = SurveyRound.objects.filter(kind=SurveyRound.Kind.HALF_YEAR, year=year, half=half).first()
    if existing:
        return existing, False
    form = form_current()
    if form is None:
        raise DomainError(_("There is no survey form yet: make one before opening a round."))
    start, end = half_year_period(year, half)
    try:
        with transaction.atomic():
            survey_round = SurveyRound.objects.create(
                kind=SurveyRound.Kind.HALF_YEAR,
                year=year,
                half=half,
                name=_("Customer satisfaction %(year)s H%(half)s") % {"year": year, "half": half},
                period_start=start,
                period_end=end,
                deadline=max(today, start) + timedelta(days=settings.SURVEY_RESPONSE_DAYS),
                target=_target(),
                form=form,
                created_by=user,
            )
            _fill_list(survey_round)
    except IntegrityError:
        return SurveyRound.objects.get(kind=SurveyRound.Kind.HALF_YEAR, year=year, half=half), False
    return survey_round, True


def rounds_due(today: date) -> list[tuple[int, int]]:
    """The half-years whose opening day (SURVEY_OPEN_DAYS) has come: this year's H1 and H2, and last year's H2
    (opened in late December, it may be caught up in early January after a scheduler outage)."""
    due = []
    (m1, d1), (m2, d2) = settings.SURVEY_OPEN_DAYS
    if (today.month, today.day) >= (m1, d1):
        due.append((today.year, 1))
    if (today.month, today.day) >= (m2, d2):
        due.append((today.year, 2))
    if today.month == 1:
        due.append((today.year - 1, 2))
    return due


def open_due_rounds(today: date | None = None) -> list[SurveyRound]:
    """Celery beat, daily: open the half-year rounds that are due and do not exist yet, as drafts. Nothing is
    sent: Customer Service checks the list and presses send."""
    today = today or timezone.localdate()
    opened = []
    if form_current() is None:
        return opened
    for year, half in rounds_due(today):
        survey_round, created = round_open_half_year(year=year, half=half, today=today)
        if created:
            opened.append(survey_round)
    return opened


def round_create_ad_hoc(
    *, user, name: str, reason: str, period_start: date, period_end: date, deadline: date, customers
) -> SurveyRound:
    """An ad-hoc round for one or a few customers (§5.11.1: after a serious incident)."""
    if not reason.strip():
        raise DomainError(_("Say why this ad-hoc round is needed."))
    if period_end < period_start:
        raise DomainError(_("The period ends before it starts."))
    if deadline < timezone.localdate():
        raise DomainError(_("The deadline is in the past."))
    customers = list(customers)
    if not customers:
        raise DomainError(_("Choose at least one customer."))
    form = form_current()
    if form is None:
        raise DomainError(_("There is no survey form yet: make one before opening a round."))
    with transaction.atomic():
        survey_round = SurveyRound.objects.create(
            kind=SurveyRound.Kind.AD_HOC,
            name=name.strip() or _("Ad-hoc survey"),
            reason=reason.strip(),
            period_start=period_start,
            period_end=period_end,
            deadline=deadline,
            target=_target(),
            form=form,
            created_by=user,
        )
        _fill_list(survey_round, only=customers, user=user, reason=reason.strip())
    return survey_round


def _fill_list(survey_round: SurveyRound, only=None, user=None, reason: str = "") -> None:
    verdicts = eligibility.eligibility(survey_round.period_start, survey_round.period_end)
    chosen = {c.pk for c in only} if only is not None else None
    now = timezone.now()
    lines = []
    for v in verdicts:
        included = v.eligible if chosen is None else v.customer.pk in chosen
        line = RoundCustomer(
            round=survey_round,
            customer=v.customer,
            delivered_qty=v.delivered_qty,
            deliveries=v.deliveries,
            rules=v.rules,
            eligible=v.eligible,
            included=included,
        )
        if chosen is not None and included:
            line.override_reason, line.override_by, line.override_at = reason, user, now
        lines.append(line)
    bulk_create_with_history(lines, RoundCustomer, batch_size=500)


def round_refresh(*, survey_round: SurveyRound, user) -> SurveyRound:
    """Recompute a draft's figures from today's data; decisions made by hand are kept."""
    with transaction.atomic():
        survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
        if not survey_round.is_draft:
            raise DomainError(_("The list of a sent round is frozen."))
        verdicts = eligibility.eligibility(survey_round.period_start, survey_round.period_end)
        lines = {line.customer_id: line for line in survey_round.customers.all()}
        new = []
        for v in verdicts:
            line = lines.get(v.customer.pk)
            if line is None:
                new.append(
                    RoundCustomer(
                        round=survey_round,
                        customer=v.customer,
                        delivered_qty=v.delivered_qty,
                        deliveries=v.deliveries,
                        rules=v.rules,
                        eligible=v.eligible,
                        included=v.eligible and survey_round.kind == SurveyRound.Kind.HALF_YEAR,
                    )
                )
                continue
            line.delivered_qty, line.deliveries, line.rules, line.eligible = (
                v.delivered_qty,
                v.deliveries,
                v.rules,
                v.eligible,
            )
            if not line.override_at:
                line.included = v.eligible if survey_round.kind == SurveyRound.Kind.HALF_YEAR else line.included
            line.save()
        bulk_create_with_history(new, RoundCustomer, batch_size=500)
    return survey_round


def line_set_included(*, line: RoundCustomer, included: bool, reason: str, user) -> RoundCustomer:
    """Customer Service adds a customer to a draft's list or removes one, with a written reason (§5.11.1)."""
    if not reason.strip():
        raise DomainError(_("Write why this customer is added or removed."))
    with transaction.atomic():
        survey_round = SurveyRound.objects.select_for_update().get(pk=line.round_id)
        if not survey_round.is_draft:
            raise DomainError(_("The list of a sent round is frozen."))
        line = RoundCustomer.objects.select_for_update().get(pk=line.pk)
        if line.included == included:
            raise DomainError(
                _("This customer is already on the list.") if included else _("This customer is not on the list.")
            )
        line.included = included
        line.override_reason, line.override_by, line.override_at = reason.strip(), user, timezone.now()
        line.save()
    return line


def surveyed_contacts(customer_ids) -> dict[int, list[Contact]]:
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=customer_ids, receives_surveys=True).exclude(email=""):
        contacts.setdefault(contact.customer_id, []).append(contact)
    return contacts


def lines_without_contacts(survey_round: SurveyRound) -> list[RoundCustomer]:
    """Surveyed customers with no contact who receives surveys (with an e-mail): flagged before sending."""
    lines = list(survey_round.customers.filter(included=True).select_related("customer"))
    contacts = surveyed_contacts([line.customer_id for line in lines])
    return [line for line in lines if line.customer_id not in contacts]


def round_send(*, survey_round: SurveyRound, user) -> int:
    """Freeze the list and queue one invitation per surveyed contact. The e-mails go out from the outbox in the
    background (a down queue or mail server delays them, loses none). Returns the number of invitations."""
    with transaction.atomic():
        survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
        if not survey_round.is_draft:
            raise DomainError(_("This round has already been sent."))
        if survey_round.deadline < timezone.localdate():
            raise DomainError(_("The deadline is in the past: set a new one before sending."))
        missing = lines_without_contacts(survey_round)
        if missing:
            names = ", ".join(line.customer.code for line in missing[:20])
            raise DomainError(
                _(
                    "%(n)s surveyed customers have no contact who receives surveys: %(names)s. Add a contact "
                    "(with an e-mail) or remove the customer from the list with a reason."
                )
                % {"n": len(missing), "names": names}
            )
        lines = list(survey_round.customers.filter(included=True))
        if not lines:
            raise DomainError(_("Nobody is on the list: there is nothing to send."))
        contacts = surveyed_contacts([line.customer_id for line in lines])
        invitations = [
            Invitation(
                round=survey_round,
                line=line,
                contact=contact,
                email=contact.email,
                language=contact.language or settings.LANGUAGE_CODE,
                token=new_token(),
            )
            for line in lines
            for contact in contacts[line.customer_id]
        ]
        Invitation.objects.bulk_create(invitations, batch_size=500)
        # Read the ids back (bulk_create sets them on PostgreSQL only).
        ids = dict(survey_round.invitations.values_list("contact_id", "pk"))
        outbox_add_many(
            [
                OutboxMessage(
                    kind=INVITATION,
                    object_id=ids[inv.contact_id],
                    to=inv.email,
                    language=inv.language,
                    created_by=user,
                )
                for inv in invitations
            ]
        )
        survey_round.form.locked = True
        survey_round.form.save(update_fields=["locked"])
        survey_round.status = SurveyRound.Status.SENT
        survey_round.sent_by, survey_round.sent_at = user, timezone.now()
        survey_round.save(update_fields=["status", "sent_by", "sent_at"])
    return len(invitations)


def round_close(*, survey_round: SurveyRound, user) -> SurveyRound:
    with transaction.atomic():
        survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
        if survey_round.status != SurveyRound.Status.SENT:
            raise DomainError(_("Only a sent round can be closed."))
        survey_round.status = SurveyRound.Status.CLOSED
        survey_round.closed_by, survey_round.closed_at = user, timezone.now()
        survey_round.save(update_fields=["status", "closed_by", "closed_at"])
    return survey_round


def round_set_deadline(*, survey_round: SurveyRound, deadline: date, user) -> SurveyRound:
    """A draft's deadline can be moved; once sent it can only be extended, never shortened."""
    with transaction.atomic():
        survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
        if survey_round.status == SurveyRound.Status.CLOSED:
            raise DomainError(_("The round is closed."))
        if deadline < timezone.localdate():
            raise DomainError(_("The deadline is in the past."))
        if not survey_round.is_draft and deadline < survey_round.deadline:
            raise DomainError(_("The deadline of a sent round can be extended, not shortened."))
        survey_round.deadline = deadline
        survey_round.save(update_fields=["deadline"])
    return survey_round


# --- Invitations and reminders ----------------------------------------------------------------------------------


def round_is_open(survey_round: SurveyRound, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return survey_round.status == SurveyRound.Status.SENT and today <= survey_round.deadline


def invitation_resend(*, invitation: Invitation, user) -> Invitation:
    """A fresh link for the contact (lost e-mail, wrong person): the old link stops working at once."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("round").get(pk=invitation.pk)
        if not round_is_open(invitation.round):
            raise DomainError(_("The round is not open: invitations cannot be sent."))
        contact = invitation.contact
        if not contact.email:
            raise DomainError(_("The contact has no e-mail address."))
        invitation.token = new_token()
        invitation.token_issued_at = timezone.now()
        invitation.email = contact.email
        invitation.language = contact.language or invitation.language
        invitation.resent_count += 1
        invitation.save(update_fields=["token", "token_issued_at", "email", "language", "resent_count"])
        # A message still waiting would carry the new link too: one e-mail with the fresh link is enough.
        OutboxMessage.objects.filter(
            kind__in=[INVITATION, REMINDER], object_id=invitation.pk, status=OutboxMessage.Status.QUEUED
        ).update(status=OutboxMessage.Status.CANCELLED, error=_("Replaced by a new link."))
        outbox_add(
            kind=INVITATION, object_id=invitation.pk, to=invitation.email, language=invitation.language, user=user
        )
    return invitation


def customer_answered(line: RoundCustomer) -> bool:
    if line.responses.exists():
        return True
    return scorecards_in_period(line.round).filter(customer_id=line.customer_id).exists()


def scorecards_in_period(survey_round: SurveyRound):
    return Scorecard.objects.filter(rated_on__gte=survey_round.period_start, rated_on__lte=survey_round.period_end)


def reminders_due(survey_round: SurveyRound, now=None):
    """Invitations to remind now: the round is open, the customer has not answered (by any contact, or by its
    own scorecard), fewer than SURVEY_REMINDER_MAX reminders, the last contact at least the gap ago."""
    now = now or timezone.now()
    if not round_is_open(survey_round, timezone.localdate(now)):
        return Invitation.objects.none()
    gap = now - timedelta(days=settings.SURVEY_REMINDER_GAP_DAYS)
    answered_lines = survey_round.responses.values("line_id")
    scorecard_customers = scorecards_in_period(survey_round).values("customer_id")
    return (
        survey_round.invitations.exclude(line_id__in=answered_lines)
        .exclude(line__customer_id__in=scorecard_customers)
        .filter(reminders_sent__lt=settings.SURVEY_REMINDER_MAX, token_issued_at__lte=gap)
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=gap))
        .select_related("contact", "line__customer")
    )


def send_reminders(*, survey_round: SurveyRound | None = None, user=None, now=None) -> list[Invitation]:
    """Queue a reminder for each invitation due (daily beat; `manage.py survey_remind`). Each invitation is
    locked and checked again, so two runs at once never remind anyone twice."""
    now = now or timezone.now()
    rounds = [survey_round] if survey_round else SurveyRound.objects.filter(status=SurveyRound.Status.SENT)
    reminded = []
    for current in rounds:
        for pk in list(reminders_due(current, now).values_list("pk", flat=True)):
            with transaction.atomic():
                invitation = reminders_due(current, now).select_for_update(of=("self",)).filter(pk=pk).first()
                if invitation is None:
                    continue
                invitation.reminders_sent += 1
                invitation.last_reminded_at = now
                invitation.save(update_fields=["reminders_sent", "last_reminded_at"])
                outbox_add(
                    kind=REMINDER, object_id=invitation.pk, to=invitation.email, language=invitation.language, user=user
                )
            reminded.append(invitation)
    return reminded


# --- Responses ------------------------------------------------------------------------------------------------


def validate_answers(form: SurveyForm, raw: dict) -> dict[str, int | None]:
    """{question id: value or None (not applicable)} from a submitted dict; every question must be answered."""
    answers: dict[str, int | None] = {}
    missing = []
    for question in form.questions.all():
        value = raw.get(str(question.pk), raw.get(question.pk))
        if value in (None, ""):
            missing.append(question)
            continue
        if value == "na":
            if not question.allow_na:
                raise DomainError(_("“Not applicable” is not an answer to: %(q)s") % {"q": question.text})
            answers[str(question.pk)] = None
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise DomainError(_("Choose one of the answers for: %(q)s") % {"q": question.text}) from None
        if not question.scale_min <= number <= question.scale_max:
            raise DomainError(_("Choose one of the answers for: %(q)s") % {"q": question.text})
        answers[str(question.pk)] = number
    if missing:
        raise DomainError(_("Please answer every question (%(q)s).") % {"q": "; ".join(q.text for q in missing[:3])})
    return answers


def response_submit(
    *,
    invitation: Invitation,
    raw_answers: dict,
    comment: str = "",
    channel: str = Response.Channel.LINK,
    user=None,
    scan=None,
) -> Response:
    """Record the answers of an invitation. One response per invitation whatever happens (double click,
    back button, forwarded link): a later submission is a new version of the same response, kept in its
    history; an identical one changes nothing. The contact may correct until the deadline; Customer Service
    keys in paper or e-mailed forms until the round is closed."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("round__form").get(pk=invitation.pk)
        survey_round = invitation.round
        if user is None and not round_is_open(survey_round):
            raise DomainError(_("This survey is closed."), code="closed")
        if user is not None and survey_round.status != SurveyRound.Status.SENT:
            raise DomainError(_("Answers can be entered only while the round is sent and not closed."))
        form = survey_round.form
        answers = validate_answers(form, raw_answers)
        score = scoring.response_score(form.questions.all(), answers)
        comment = (comment or "").strip()
        response = Response.objects.filter(invitation=invitation).first()
        if response is None:
            response = Response.objects.create(
                invitation=invitation,
                round=survey_round,
                line_id=invitation.line_id,
                form=form,
                channel=channel,
                answers=answers,
                comment=comment,
                score=score,
                entered_by=user,
                scan=scan or "",
            )
        else:
            if response.answers == answers and response.comment == comment and not scan:
                return response
            response.version += 1
            response.answers, response.comment, response.score = answers, comment, score
            response.channel = channel
            response.entered_by = user
            if scan:
                response.scan = scan
            response.save()
        ResponseVersion.objects.create(
            response=response,
            number=response.version,
            answers=answers,
            comment=comment,
            score=score,
            channel=channel,
            entered_by=user,
        )
    return response


# --- The customer's own scorecards (§5.11.2.1) -----------------------------------------------------------------


def scorecard_record(
    *, customer: Customer, rated_on: date, score: Decimal, maximum: Decimal, user, grade="", file=None, note=""
) -> Scorecard:
    if maximum <= 0:
        raise DomainError(_("The maximum score must be above zero."))
    if score < 0 or score > maximum:
        raise DomainError(_("The score must be between 0 and the maximum."))
    if rated_on > timezone.localdate():
        raise DomainError(_("The date of the rating cannot be in the future."))
    return Scorecard.objects.create(
        customer=customer,
        rated_on=rated_on,
        score=score,
        maximum=maximum,
        grade=grade.strip(),
        normalised=scoring.normalise_scorecard(score, maximum),
        file=file or "",
        note=note.strip(),
        recorded_by=user,
    )
