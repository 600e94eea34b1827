import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from delivery.models import DailySheetRun
from delivery.sheet_jobs import sheet_trigger


class Command(BaseCommand):
    help = (
        "Build the delivery-progress sheet (订单交货进度表) and e-mail it to the departments, as the morning job "
        "does. A day is sent once: without --force, a day already sent (or being sent, or failed) is not sent "
        "again. Exit 1 when the sending failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="the sheet's day (default: today)")
        parser.add_argument("--force", action="store_true", help="send even if the day's sheet was already sent")
        parser.add_argument(
            "--wait",
            type=int,
            default=60,
            metavar="SECONDS",
            help="with a job queue, how long to wait for the worker's first attempt (default 60)",
        )

    def handle(self, *args, **options):
        day = timezone.localdate()
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date {options['date']!r} is not a date in the form YYYY-MM-DD.") from None
        trigger = sheet_trigger(day=day, forced=options["force"])
        run = trigger.run
        if not trigger.queued:
            state = {
                DailySheetRun.Status.SENT: f"was already sent at {_when(run.sent_at)}",
                DailySheetRun.Status.SENDING: "is being sent",
                DailySheetRun.Status.FAILED: f"failed ({run.error})",
            }[run.status]
            self.stdout.write(
                self.style.WARNING(
                    f"Not sent: the sheet for {day} {state} (run #{run.pk}). Use --force to send it again."
                )
            )
            return
        run = self._wait(run, options["wait"])
        if run.status == DailySheetRun.Status.SENT:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Sent the sheet for {day} ({run.rows} open lines) to {len(run.recipients)} recipients "
                    f"(run #{run.pk}{', forced' if run.forced else ''})."
                )
            )
        elif run.status == DailySheetRun.Status.FAILED:
            raise CommandError(f"Sending the sheet for {day} failed after {run.attempts} attempts: {run.error}")
        elif run.error:
            self.stderr.write(f"Attempt {run.attempts} failed: {run.error}. The worker retries (run #{run.pk}).")
        else:
            self.stdout.write(f"Queued (run #{run.pk}); the worker has not sent it yet. See /delivery/sheet/.")

    def _wait(self, run, seconds: int):
        """Inline jobs (no REDIS_URL) are done already; with a worker, wait for its first attempt to end."""
        deadline = time.monotonic() + (0 if settings.CELERY_TASK_ALWAYS_EAGER else seconds)
        while True:
            run.refresh_from_db()
            if run.status != DailySheetRun.Status.SENDING or run.error or time.monotonic() >= deadline:
                return run
            time.sleep(0.5)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "?"
