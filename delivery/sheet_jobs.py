"""Sending 《订单交货进度表》 to the departments (§5.4.2): at most once a day, never lost silently.

A sending is a DailySheetRun row. ``sheet_trigger`` creates it first, inside a transaction; the unique
constraint on ``day`` (for unforced runs) makes a second trigger for the same day (the beat firing twice, the
command run by hand, a re-delivered task) find the existing run instead, and send nothing. ``forced`` runs
("send again now", ``--force``) are extra rows, each sent once.

The e-mail is sent by the ``delivery.tasks.send_sheet_run`` job with the run's id. Every attempt counts in
``attempts``; SMTP trouble is recorded in ``error`` and retried with backoff on the same row; after the last
retry the run is ``failed`` and stays visible on the sheet page. A run already ``sent`` (or ``failed``) is never
sent again by the job, whoever delivers it. The run's row is locked while the message goes out, so two workers
handed the same run send it once.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Dept, require
from common import stale
from common.errors import DomainError
from common.jobs import QueueDown, enqueue
from common.mail import department_users
from delivery.models import DailySheetRun
from delivery.progress_sheet import (
    SHEET_TITLE,
    XLSX_CONTENT_TYPE,
    Summary,
    bilingual,
    build_workbook,
    open_lines,
    sheet_filename,
    summarize,
)

logger = logging.getLogger(__name__)

# The departments the sheet goes to when DELIVERY_SHEET_RECIPIENTS is not set.
SHEET_DEPARTMENTS = (Dept.CS, Dept.MARKETING, Dept.PMC, Dept.QA, Dept.WAREHOUSE, Dept.CUSTOMS)
# A scheduled run still waiting for its first attempt after this long was lost on the way (queue or worker
# down between creating the run and sending it): the next trigger for the day queues it again.
STUCK_AFTER = timedelta(minutes=15)

Run = DailySheetRun


class NoRecipients(Exception):
    """Nobody to send the sheet to: a setup problem, not retried."""


@dataclass(frozen=True)
class Trigger:
    run: DailySheetRun
    queued: bool  # False: the day's sheet was already sent, is being sent, or failed; nothing was sent now


# --- Recipients and message ----------------------------------------------------------------------------------


def sheet_recipients() -> list[str]:
    """DELIVERY_SHEET_RECIPIENTS, else the e-mail addresses of the active users of the departments."""
    configured = getattr(settings, "DELIVERY_SHEET_RECIPIENTS", None) or []
    if configured:
        addresses = configured
    else:
        addresses = department_users(SHEET_DEPARTMENTS).values_list("email", flat=True)
    seen, unique = set(), []
    for address in addresses:
        key = address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            unique.append(address.strip())
    return sorted(unique, key=str.lower)


SUMMARY_LINES = (
    (gettext_lazy("Open order lines: %(count)s"), "open_lines"),
    (gettext_lazy("At risk: %(count)s"), "at_risk"),
    (gettext_lazy("Past the due date: %(count)s"), "overdue"),
    (gettext_lazy("Due today: %(count)s"), "due_today"),
    (gettext_lazy("Due tomorrow: %(count)s"), "due_tomorrow"),
    (gettext_lazy("Due tomorrow and not ready: %(count)s"), "not_ready_tomorrow"),
)


def message_subject(day: date, forced: bool) -> str:
    again = bilingual(gettext_lazy("sent again"), " / ")
    return f"{SHEET_TITLE} {day.isoformat()}" + (f" ({again})" if forced else "")


def message_body(day: date, summary: Summary) -> str:
    """A short summary, Chinese then English (once only while the catalogue has no translation)."""
    link = settings.SITE_URL.rstrip("/") + reverse("delivery:sheet")
    blocks = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            lines = [_("The delivery-progress sheet of %(day)s is attached.") % {"day": day.isoformat()}]
            lines += [str(text) % {"count": getattr(summary, field)} for text, field in SUMMARY_LINES]
            lines.append(_("At-risk lines are filled red. The sheet at any time: %(url)s") % {"url": link})
            blocks.append("\n".join(lines))
    return blocks[0] if blocks[0] == blocks[1] else "\n\n".join(blocks)


# --- Triggering ----------------------------------------------------------------------------------------------


def sheet_trigger(*, day: date, forced: bool = False) -> Trigger:
    """Create the run for ``day`` and queue its sending after commit; unforced, at most once per day."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = Run.objects.create(day=day, forced=forced)
        except IntegrityError:
            run = Run.objects.select_for_update().get(day=day, forced=False)
            stuck = (
                run.status == Run.Status.SENDING and run.attempts == 0 and timezone.now() - run.started_at > STUCK_AFTER
            )
            if not stuck:
                return Trigger(run, queued=False)
            logger.warning("daily sheet %s: run %s never started, queued again", day, run.pk)
            Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
        _queue_send(run.pk)
    return Trigger(run, queued=True)


def _queue_send(run_id: int) -> None:
    """Queue the sending after commit; a queue that cannot be reached fails the run visibly."""
    from delivery import tasks

    def send():
        try:
            enqueue(tasks.send_sheet_run, run_id)
        except QueueDown as exc:
            sheet_failed(run_id, f"job queue unreachable: {exc}")

    transaction.on_commit(send)


# --- Sending -------------------------------------------------------------------------------------------------


def sheet_send(run_id: int) -> DailySheetRun:
    """One attempt to send a run: build the sheet, store it on the run, e-mail it. Idempotent: a run that is
    no longer ``sending`` is returned untouched. SMTP errors (smtplib.SMTPException, OSError) propagate to
    the job, which records them and retries; NoRecipients fails the run at once."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status != Run.Status.SENDING:
            return run
        run.attempts += 1
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["attempts", "heartbeat_at"])

    recipients = sheet_recipients()
    if not recipients:
        sheet_failed(run_id, "no recipients: set DELIVERY_SHEET_RECIPIENTS or give the departments' users e-mails")
        raise NoRecipients
    # The sheet is made again on every attempt, so the body and the attachment always agree; the file kept
    # on the run is the one that went out.
    with translation.override(settings.LANGUAGE_CODE):
        rows = open_lines(run.day)
        data = build_workbook(rows, run.day)
    summary = summarize(rows, run.day)
    message = EmailMessage(message_subject(run.day, run.forced), message_body(run.day, summary), to=recipients)
    message.attach(sheet_filename(run.day), data, XLSX_CONTENT_TYPE)
    if run.workbook:
        run.workbook.delete(save=False)
    run.workbook.save(sheet_filename(run.day), ContentFile(data), save=False)
    Run.objects.filter(pk=run_id).update(workbook=run.workbook.name, rows=len(rows), recipients=recipients)

    with transaction.atomic():
        # Locked while the message goes out: a second worker given the same run waits here and then sees "sent".
        current = Run.objects.select_for_update().get(pk=run_id)
        if current.status != Run.Status.SENDING:
            return current
        message.send()
        Run.objects.filter(pk=run_id).update(status=Run.Status.SENT, sent_at=timezone.now(), error="")
    run.refresh_from_db()
    logger.info("daily sheet %s sent to %d recipients (%d lines)", run.day, len(recipients), len(rows))
    return run


def sheet_retrying(run_id: int, error: str) -> None:
    Run.objects.filter(pk=run_id, status=Run.Status.SENDING).update(error=error[:2000], heartbeat_at=timezone.now())


def sheet_failed(run_id: int, error: str) -> None:
    logger.error("daily sheet run %s failed: %s", run_id, error)
    Run.objects.filter(pk=run_id).exclude(status=Run.Status.SENT).update(status=Run.Status.FAILED, error=error[:2000])


# --- A worker or scheduler that stopped: failed runs, tried again; a missed morning caught up --------------------

STOPPED = gettext_lazy("The sending stopped (the worker or the job queue was down). Try again.")
# A scheduled run made this long after the sheet's time was late (the scheduler or worker was down then).
LATE_AFTER = timedelta(minutes=15)


def sheet_runs_fail_stale() -> list[int]:
    """Runs left "sending" by a worker that stopped (no attempt for the age limit) are failed, to be tried again.
    The message goes to the company's own departments: a sheet that went out just before the worker died may
    arrive twice, never to a customer."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = str(STOPPED)
    return stale.fail_stale(Run, kind="sheet", statuses=(Run.Status.SENDING,), status=Run.Status.FAILED, error=reason)


def sheet_retry(*, user, run: DailySheetRun) -> DailySheetRun:
    """Send a failed run again: the same run (the day's one scheduled sending), queued again."""
    require(user, "sheet.send")
    with transaction.atomic():
        retried = Run.objects.filter(pk=run.pk, status=Run.Status.FAILED).update(
            status=Run.Status.SENDING, heartbeat_at=timezone.now()
        )
        if not retried:
            raise DomainError(_("Only a sending that failed can be tried again."))
        _queue_send(run.pk)
    run.refresh_from_db()
    return run


def sheet_due_at(day: date) -> datetime:
    """When the scheduled sheet of ``day`` is due (DELIVERY_SHEET_TIME, local time)."""
    hour, minute = (int(part) for part in settings.DELIVERY_SHEET_TIME.split(":"))
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def sheet_catch_up(now: datetime | None = None) -> Trigger | None:
    """The sweep: today's sheet is past its time and was never triggered (beat or its worker was down): send it
    now. A day's run that exists (sent, sending or failed) is left to its own rules; failed shows in My work."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if now < sheet_due_at(today) or Run.objects.filter(day=today, forced=False).exists():
        return None
    logger.warning("daily sheet %s was not sent at %s: sending it now", today, settings.DELIVERY_SHEET_TIME)
    return sheet_trigger(day=today)


def run_late(run: DailySheetRun) -> bool:
    return not run.forced and run.started_at > sheet_due_at(run.day) + LATE_AFTER


def my_work(user) -> list:
    """Customer Service (who sends the sheet again by hand) sees a scheduled sheet that failed, is missing past
    its time, or went out late, for today and the two days before."""
    from accounts.roles import Dept, in_dept
    from accounts.work import WorkItem, WorkSection

    if not in_dept(user, Dept.CS):
        return []
    now = timezone.now()
    today = timezone.localdate(now)
    days = [today - timedelta(days=back) for back in range(3)]
    runs = {r.day: r for r in Run.objects.filter(day__in=days, forced=False)}
    resent = set(Run.objects.filter(day__in=days, forced=True, status=Run.Status.SENT).values_list("day", flat=True))
    url = reverse("delivery:sheet")
    items = []
    for day in days:
        run = runs.get(day)
        label = f"{SHEET_TITLE} {day.isoformat()}"
        if run is None:
            if day == today and now >= sheet_due_at(day) + LATE_AFTER:
                detail = _("not sent yet; it was due at %(time)s") % {"time": settings.DELIVERY_SHEET_TIME}
                items.append(WorkItem(label=label, url=url, detail=detail, overdue=True))
        elif run.status == Run.Status.FAILED and day not in resent:
            items.append(
                WorkItem(
                    label=label, url=url, detail=_("sending failed: %(error)s") % {"error": run.error}, overdue=True
                )
            )
        elif run.status == Run.Status.SENT and run_late(run) and day == today:
            when = timezone.localtime(run.sent_at or run.started_at).strftime("%H:%M")
            detail = _("sent late, at %(time)s (due at %(due)s)") % {"time": when, "due": settings.DELIVERY_SHEET_TIME}
            items.append(WorkItem(label=label, url=url, detail=detail))
    if not items:
        return []
    return [WorkSection(title=_("Delivery-progress sheet late or failed"), items=items, total=len(items))]
