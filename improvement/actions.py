"""The improvement meeting and corrective actions (§5.12.6, with 《纠正与预防措施管制程序》).

- ``meeting_record``: Customer Service records the meeting; its minutes go out, in the same transaction, as a
  numbered internal memo (《内部联络函》) to the departments concerned, each of which acknowledges it through the
  memo pages. A meeting is a record: there is no edit. (A correction would be a further memo: not built yet.)
- ``action_create`` → ``action_done`` (the owner) → ``action_verify`` (someone else, after ``verify_after``):
  effective closes the action; not effective reopens it and the owner must report it done again. Every
  verification is its own row (a record); every step is in ``Action.history`` with who did it and why.
- ``actions_remind``: the daily e-mail to each owner of overdue actions and of actions waiting for verification,
  at most one per owner per day however often the job runs.

Every service guards its transition first and raises DomainError (a translated message) or PermissionDenied;
rows that two people may touch at once are locked (select_for_update).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Dept, can, departments_of, require
from common.errors import DomainError
from common.numbering import next_in_year
from common.outbox import outbox_add
from improvement.models import Action, ActionCounter, AnalysisReport, Meeting, Verification
from orders.models import Memo
from orders.services import memo_issue

# The outbox kind of the daily reminder; its object is the owner (a user id).
REMINDER = "improvement.action_reminder"
# When the owner reports an action done without saying when its effect can be checked.
DEFAULT_VERIFY_DAYS = 30

# Action.history's change reasons (stored as codes; the pages translate them, see HISTORY_LABELS in selectors).
CREATED, DONE, VERIFIED_EFFECTIVE, REOPENED = "created", "done", "effective", "not_effective"


# --- The improvement meeting ------------------------------------------------------------------------------------


def _dept_labels(departments, language: str) -> str:
    with translation.override(language):
        return ", ".join(str(Dept(d).label) for d in departments)


def meeting_memo_text(meeting: Meeting) -> tuple[str, str]:
    """The minutes as the memo carries them: bilingual, because a memo is read as it was issued."""
    subject = f"改善措施会议纪要 Improvement meeting minutes: {meeting.held_on.isoformat()} {meeting.title}"
    lines = [
        "改善措施会议纪要 Minutes of the improvement meeting (§5.12.6)",
        f"日期 Date: {meeting.held_on.isoformat()}",
        f"主题 Title: {meeting.title}",
        f"参加部门 Departments: {_dept_labels(meeting.departments, 'zh-hans')} / "
        f"{_dept_labels(meeting.departments, 'en')}",
        f"参加人员 Attendees: {meeting.attendees}",
    ]
    if meeting.report_id:
        lines.append(f"分析报告 Analysis report: {meeting.report}")
    lines += ["", "会议记录 Minutes:", meeting.minutes]
    if meeting.decisions:
        lines += ["", "决议 Decisions:", meeting.decisions]
    recorder = meeting.recorded_by.get_full_name() or meeting.recorded_by.get_username()
    lines += ["", f"记录人 Recorded by: {recorder}"]
    return subject[:200], "\n".join(lines)


def meeting_record(
    *,
    user,
    held_on: date,
    title: str,
    departments: list[str],
    attendees: str,
    minutes: str,
    decisions: str = "",
    report: AnalysisReport | None = None,
) -> Meeting:
    """Record the improvement meeting and send its minutes to the departments concerned (§5.12.6)."""
    require(user, "meeting.record")
    departments = sorted(set(departments))
    title, attendees, minutes, decisions = title.strip(), attendees.strip(), minutes.strip(), decisions.strip()
    if held_on > timezone.localdate():
        raise DomainError(_("A meeting is recorded after it was held: the date is in the future."), code="held_on")
    if not title:
        raise DomainError(_("Give the meeting a title."), code="title")
    if not departments:
        raise DomainError(_("Choose the departments the minutes go to."), code="departments")
    unknown = [d for d in departments if d not in Dept.values]
    if unknown:
        raise DomainError(_("Unknown department: %(codes)s.") % {"codes": ", ".join(unknown)}, code="departments")
    if not attendees:
        raise DomainError(_("Say who attended."), code="attendees")
    if not minutes:
        raise DomainError(_("The minutes are empty."), code="minutes")
    with transaction.atomic():
        meeting = Meeting.objects.create(
            report=report,
            held_on=held_on,
            title=title,
            departments=departments,
            attendees=attendees,
            minutes=minutes,
            decisions=decisions,
            recorded_by=user,
        )
        subject, body = meeting_memo_text(meeting)
        meeting.memo = memo_issue(
            user=user, topic=Memo.Topic.MEETING, subject=subject, body=body, departments=departments
        )
        meeting.save(update_fields=["memo"])
    return meeting


# --- Corrective actions ----------------------------------------------------------------------------------------


@dataclass
class Refs:
    """What an action comes from. Which one must be there depends on the source (``check_source``)."""

    round: object = None
    question: object = None
    customer: object = None
    complaint: object = None
    ret: object = None
    month: str = ""
    meeting: object = None
    report: object = None


def _valid_month(text: str) -> bool:
    from delivery.ontime import parse_month

    if len(text) != 7 or text[4] != "-":
        return False
    try:
        parse_month(text)
    except DomainError:
        return False
    return True


def check_source(source: str, refs: Refs) -> None:
    """The source must come with its reference: a complaint with the complaint, a month with YYYY-MM … A survey
    question or customer also needs its round (the next round's figures are the evidence of the effect)."""
    S = Action.Source
    if source not in S.values:
        raise DomainError(_("Choose where the action comes from."), code="source")
    if refs.report is not None:
        if refs.round is None:
            refs.round = refs.report.round
        elif refs.round.pk != refs.report.round_id:
            raise DomainError(_("The report is of another survey round."), code="round")
    if refs.month and not _valid_month(refs.month):
        raise DomainError(_("Give the month as YYYY-MM, for example 2025-03."), code="month")
    needs = {
        S.ROUND: ("round",),
        S.QUESTION: ("round", "question"),
        S.CUSTOMER: ("round", "customer"),
        S.COMPLAINT: ("complaint",),
        S.RETURN: ("ret",),
        S.ON_TIME: ("month",),
        S.MEETING: ("meeting",),
        S.OTHER: (),
    }[source]
    missing_messages = {
        "round": _("Choose the survey round the finding comes from."),
        "question": _("Choose the survey question the finding is about."),
        "customer": _("Choose the customer whose result the action answers."),
        "complaint": _("Choose the complaint the action answers."),
        "ret": _("Choose the return the action answers."),
        "month": _("Give the month of the on-time rate (YYYY-MM)."),
        "meeting": _("Choose the improvement meeting that decided the action."),
    }
    for name in needs:
        if not getattr(refs, name):
            raise DomainError(missing_messages[name], code=name)
    if source == S.QUESTION and refs.question.form_id != refs.round.form_id:
        raise DomainError(_("That question is not on the form of the chosen round."), code="question")


def check_owner(owner, owner_department: str) -> None:
    if owner_department not in Dept.values:
        raise DomainError(_("Choose the owner's department."), code="owner_department")
    if owner is None or not owner.is_active:
        raise DomainError(_("Choose an active user as the owner."), code="owner")
    if owner_department not in departments_of(owner):
        raise DomainError(
            _("%(user)s does not belong to %(department)s.")
            % {"user": owner, "department": Dept(owner_department).label},
            code="owner",
        )


def action_create(
    *,
    user,
    kind: str,
    source: str,
    title: str,
    problem: str,
    plan: str,
    owner,
    owner_department: str,
    due_date: date,
    verify_after: date | None = None,
    round=None,
    question=None,
    customer=None,
    complaint=None,
    ret=None,
    month: str = "",
    meeting=None,
    report=None,
) -> Action:
    """A new action numbered CA-YYYY-NNNN without gaps in the year."""
    require(user, "action.create")
    if kind not in Action.Kind.values:
        raise DomainError(_("Choose the kind of action."), code="kind")
    refs = Refs(round, question, customer, complaint, ret, (month or "").strip(), meeting, report)
    check_source(source, refs)
    check_owner(owner, owner_department)
    title, problem, plan = title.strip(), problem.strip(), plan.strip()
    if not title or not problem or not plan:
        raise DomainError(_("An action needs a title, the finding and what will be done."))
    if due_date is None:
        raise DomainError(_("Give a due date."), code="due_date")
    if verify_after is not None and verify_after < timezone.localdate():
        raise DomainError(_("The effect cannot be verified in the past."), code="verify_after")
    with transaction.atomic():
        year = timezone.localdate().year
        number = f"CA-{year}-{next_in_year(ActionCounter, year):04d}"
        action = Action(
            number=number,
            kind=kind,
            source=source,
            round=refs.round,
            question=refs.question,
            customer=refs.customer,
            complaint=refs.complaint,
            ret=refs.ret,
            month=refs.month,
            meeting=refs.meeting,
            report=refs.report,
            title=title,
            problem=problem,
            plan=plan,
            owner=owner,
            owner_department=owner_department,
            due_date=due_date,
            verify_after=verify_after,
            created_by=user,
        )
        action._history_user = user
        action._change_reason = CREATED
        action.save()
    return action


def action_done(*, user, action: Action, done_text: str, verify_after: date | None = None) -> Action:
    """The owner reports the action done and says from when its effect can be checked (default: in 30 days)."""
    today = timezone.localdate()
    with transaction.atomic():
        action = Action.objects.select_for_update().get(pk=action.pk)
        if action.owner_id != user.pk:
            raise PermissionDenied  # only the owner reports their own action done
        if action.status != Action.Status.OPEN:
            raise DomainError(_("Only an open action can be reported done."))
        done_text = done_text.strip()
        if not done_text:
            raise DomainError(_("Say what was done."), code="done_text")
        if verify_after is None:
            verify_after = today + timedelta(days=DEFAULT_VERIFY_DAYS)
        if verify_after < today:
            raise DomainError(_("The effect cannot be verified before today."), code="verify_after")
        action.status = Action.Status.DONE
        action.done_text, action.done_by, action.done_at = done_text, user, timezone.now()
        action.verify_after = verify_after
        action._history_user = user
        action._change_reason = DONE
        action.save(update_fields=["status", "done_text", "done_by", "done_at", "verify_after"])
    return action


def action_verify(*, user, action: Action, effective: bool, evidence: str) -> Verification:
    """Someone other than the owner checks the effect once ``verify_after`` is reached. Not effective reopens
    the action: the owner must do more and report it done again."""
    require(user, "action.verify")
    today = timezone.localdate()
    with transaction.atomic():
        action = Action.objects.select_for_update().get(pk=action.pk)
        # The CAPA procedure's point: nobody checks their own work, whatever their rights.
        if action.owner_id == user.pk:
            raise DomainError(_("You own this action: someone else must verify its effect."), code="owner")
        if action.status != Action.Status.DONE:
            raise DomainError(_("Only an action reported done can be verified."))
        if action.verify_after and today < action.verify_after:
            raise DomainError(
                _("The effect can be verified from %(date)s.") % {"date": action.verify_after.isoformat()}
            )
        evidence = evidence.strip()
        if not evidence:
            raise DomainError(_("Say what shows the effect (or its absence)."), code="evidence")
        verification = Verification.objects.create(
            action=action, effective=effective, evidence=evidence, verified_by=user
        )
        if effective:
            action.status = Action.Status.EFFECTIVE
            action._change_reason = VERIFIED_EFFECTIVE
            fields = ["status"]
        else:
            action.status = Action.Status.OPEN
            action.reopened += 1
            action.done_by, action.done_at, action.verify_after = None, None, None
            action._change_reason = REOPENED
            fields = ["status", "reopened", "done_by", "done_at", "verify_after"]
        action._history_user = user
        action.save(update_fields=fields)
    return verification


def can_verify(user, action: Action, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        can(user, "action.verify")
        and action.owner_id != user.pk
        and action.status == Action.Status.DONE
        and (action.verify_after is None or action.verify_after <= today)
    )


# --- The daily reminder ----------------------------------------------------------------------------------------


def reminder_filter(today: date) -> Q:
    """Overdue (open past its due date) or waiting for verification (done, verify date reached)."""
    return Q(status=Action.Status.OPEN, due_date__lt=today) | Q(status=Action.Status.DONE, verify_after__lte=today)


def actions_remind(*, today: date | None = None) -> int:
    """Queue one e-mail per owner with overdue actions or actions waiting for verification. At most one per owner
    per day: the owner's actions are locked and marked (``last_reminded_on``) in the transaction that queues the
    message, so a second run (beat replaying a missed run, two workers) finds them marked and sends nothing.
    Returns the number of e-mails queued."""
    today = today or timezone.localdate()
    owner_ids = sorted(set(Action.objects.filter(reminder_filter(today)).values_list("owner_id", flat=True)))
    owners = get_user_model().objects.in_bulk(owner_ids)
    queued = 0
    for owner_id in owner_ids:
        owner = owners.get(owner_id)
        if owner is None or not owner.is_active or not owner.email:
            continue  # nobody to write to; My work still shows the actions
        with transaction.atomic():
            # Lock every action of the owner: the per-owner-day check below must see a concurrent run's mark.
            mine = list(Action.objects.select_for_update().filter(owner_id=owner_id).order_by("pk"))
            if any(a.last_reminded_on == today for a in mine):
                continue
            due = [a.pk for a in mine if _needs_reminder(a, today)]
            if not due:
                continue
            # A queryset update: the reminder is not a step of the action and stays out of its history.
            Action.objects.filter(pk__in=due).update(last_reminded_on=today)
            outbox_add(
                kind=REMINDER, object_id=owner_id, to=owner.email, language=owner.language or settings.LANGUAGE_CODE
            )
            queued += 1
    return queued


def _needs_reminder(action: Action, today: date) -> bool:
    if action.status == Action.Status.OPEN:
        return action.due_date < today
    return action.status == Action.Status.DONE and action.verify_after is not None and action.verify_after <= today
