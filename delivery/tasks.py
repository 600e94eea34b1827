"""Jobs of delivery: the daily delivery-progress sheet (§5.4.2). Thin: ids and dates in, services do the work."""

import logging
from datetime import date
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)

# Backoff between attempts at e-mailing the sheet: 1, 2, 4, 8, 16 minutes, then the run is failed.
SEND_RETRIES = 5


def retry_countdown(retries: int) -> int:
    return min(30 * 60, 60 * 2**retries)


@shared_task
def send_daily_sheet(day: str | None = None, forced: bool = False) -> bool:
    """Celery beat, every morning: create the day's run (at most one unforced per day) and queue its sending.
    Returns whether a sending was queued (False: already sent, being sent or failed today)."""
    from delivery.sheet_jobs import sheet_trigger

    the_day = date.fromisoformat(day) if day else timezone.localdate()
    return sheet_trigger(day=the_day, forced=forced).queued


@shared_task(bind=True, max_retries=SEND_RETRIES)
def send_sheet_run(self, run_id: int) -> None:
    """E-mail one run. SMTP trouble is recorded and retried with backoff on the same run, then the run is
    failed (shown on the sheet page, where it can be sent again); never lost silently."""
    from delivery.sheet_jobs import NoRecipients, sheet_failed, sheet_retrying, sheet_send

    try:
        sheet_send(run_id)
    except NoRecipients:
        return  # recorded as failed by the service; retrying would not help
    except (OSError, SMTPException) as exc:
        error = f"attempt {self.request.retries + 1}: {exc.__class__.__name__}: {exc}"
        if self.request.retries >= self.max_retries:
            sheet_failed(run_id, error)
            return
        sheet_retrying(run_id, error)
        if self.request.is_eager:
            # Jobs inline (no REDIS_URL): no worker to come back later, so the retries follow at once.
            send_sheet_run.apply(args=[run_id], retries=self.request.retries + 1)
            return
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc
    except Exception as exc:
        # Bad data or a bug in making the sheet: the run fails with the reason at once, never stays "sending".
        logger.exception("daily sheet run %s could not be sent", run_id)
        sheet_failed(run_id, f"{exc.__class__.__name__}: {exc}")


@shared_task
def close_ontime_months() -> int:
    """Daily: close the on-time months whose closing day has come, and record any change to a closed month that
    came without a restatement (§5.5.2). Returns how many months were closed."""
    from delivery.ontime import months_check, months_close

    closed = months_close()
    months_check()
    return len(closed)


@shared_task(ignore_result=True)
def sweep_stale_jobs() -> dict:
    """Beat, every few minutes: fail print jobs and sheet sendings whose worker stopped (common.stale), and send
    today's sheet if its time has passed and it was never triggered (beat or the worker was down then)."""
    from delivery.printing import print_jobs_fail_stale
    from delivery.sheet_jobs import sheet_catch_up, sheet_runs_fail_stale

    printed = print_jobs_fail_stale()
    sheets = sheet_runs_fail_stale()
    caught_up = sheet_catch_up()
    return {"print": len(printed), "sheet": len(sheets), "sheet_caught_up": caught_up is not None}
