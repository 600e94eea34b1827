"""What people do with the records register: set a form's retention period (administrators) and ask for the
archive of a form and period (the management representative, administrators), made by a background job."""

import logging
import tempfile
from datetime import date

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import require
from common import stale
from common.errors import DomainError
from common.jobs import enqueue_on_commit
from records.archive import build_archive
from records.kinds import RecordKind, available_kinds, get_kind
from records.models import ArchiveJob, RetentionPeriod

logger = logging.getLogger(__name__)

STOPPED = gettext_lazy("Making the archive stopped (the worker stopped or the job queue was down). Try again.")


def retention_years(kind: RecordKind, periods: dict[str, int] | None = None) -> int:
    if periods is None:
        periods = dict(RetentionPeriod.objects.values_list("kind", "years"))
    return periods.get(kind.key, kind.default_years)


def retention_set(*, user, kind_key: str, years: int) -> RetentionPeriod:
    """§5.12.8: how long the records of a form are kept. The change is kept in the history (who, when, before)."""
    require(user, "records.retention")
    kind = get_kind(kind_key)
    if kind is None:
        raise DomainError(_("There is no record form %(kind)s.") % {"kind": kind_key}, code="kind")
    if not 1 <= years <= 99:
        raise DomainError(_("The retention period is from 1 to 99 years."), code="years")
    with transaction.atomic():
        period, created = RetentionPeriod.objects.select_for_update().get_or_create(
            kind=kind.key, defaults={"years": years, "changed_by": user}
        )
        if created:
            return period
        period.years = years
        period.changed_by = user
        period.changed_at = timezone.now()
        period.save()
    return period


def parse_period(kind_key: str, date_from: str | date, date_to: str | date) -> tuple[RecordKind, date, date]:
    """The kind and the period, or a DomainError saying what is wrong (an unknown kind lists the valid ones)."""
    kind = get_kind(kind_key)
    if kind is None:
        valid = ", ".join(k.key for k in available_kinds())
        raise DomainError(
            _("Unknown record form %(kind)s. The forms are: %(valid)s.") % {"kind": kind_key, "valid": valid},
            code="kind",
        )
    days = []
    for label, value in (("from", date_from), ("to", date_to)):
        if isinstance(value, date):
            days.append(value)
            continue
        try:
            days.append(date.fromisoformat(str(value).strip()))
        except ValueError:
            raise DomainError(
                _("%(value)s is not a date YYYY-MM-DD.") % {"value": value}, code=f"date_{label}"
            ) from None
    if days[0] > days[1]:
        raise DomainError(
            _("The period starts (%(start)s) after it ends (%(end)s).") % {"start": days[0], "end": days[1]},
            code="date_to",
        )
    return kind, days[0], days[1]


def archive_request(*, user, kind_key: str, date_from, date_to) -> ArchiveJob:
    require(user, "records.export")
    kind, start, end = parse_period(kind_key, date_from, date_to)
    with transaction.atomic():
        job = ArchiveJob.objects.create(kind=kind.key, date_from=start, date_to=end, requested_by=user)
        from records import tasks

        enqueue_on_commit(tasks.make_archive, job.pk)
    return job


def archive_job_run(job_id: int) -> None:
    """Make one archive. Claimed with a conditional UPDATE (queued → running): a job delivered twice runs once.
    Each record is a sign of life with the progress. A document that cannot be made is listed in the index and
    in ``problems``; anything else that goes wrong fails the job with the reason (and "try again")."""
    claimed = ArchiveJob.objects.filter(pk=job_id, status=ArchiveJob.Status.QUEUED).update(
        status=ArchiveJob.Status.RUNNING, heartbeat_at=timezone.now(), done=0, total=0, error="", problems=[]
    )
    if not claimed:
        return
    job = ArchiveJob.objects.get(pk=job_id)
    try:
        kind = get_kind(job.kind)
        if kind is None:
            raise DomainError(_("There is no record form %(kind)s.") % {"kind": job.kind})

        def progress(done: int, total: int) -> None:
            stale.beat(ArchiveJob, job.pk, done=done, total=total)

        with tempfile.TemporaryFile() as spool:
            result = build_archive(
                kind=kind, date_from=job.date_from, date_to=job.date_to, out=spool, progress=progress
            )
            spool.seek(0)
            job.file.save(archive_file_name(job), File(spool), save=False)
    except Exception as exc:
        logger.exception("records archive %s failed", job.pk)
        with translation.override(settings.LANGUAGE_CODE):
            reason = (
                exc.message
                if isinstance(exc, DomainError)
                else _("The archive could not be made: %(error)s") % {"error": f"{exc.__class__.__name__}: {exc}"}
            )
        ArchiveJob.objects.filter(pk=job.pk, status=ArchiveJob.Status.RUNNING).update(
            status=ArchiveJob.Status.FAILED, error=str(reason)[:2000], finished_at=timezone.now()
        )
        return
    ArchiveJob.objects.filter(pk=job.pk, status=ArchiveJob.Status.RUNNING).update(
        file=job.file.name,
        status=ArchiveJob.Status.DONE,
        total=result.records,
        done=result.records,
        problems=result.problems,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def archive_file_name(job: ArchiveJob) -> str:
    return f"records-{job.kind}-{job.date_from:%Y%m%d}-{job.date_to:%Y%m%d}-{job.pk}.zip"


def archive_jobs_fail_stale() -> list[int]:
    """Archive jobs whose worker stopped (no record archived for the age limit) are failed, to be tried again."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = str(STOPPED)
    return stale.fail_stale(
        ArchiveJob,
        kind="archive",
        statuses=(ArchiveJob.Status.QUEUED, ArchiveJob.Status.RUNNING),
        task="records.tasks.make_archive",
        status=ArchiveJob.Status.FAILED,
        error=reason,
        finished_at=timezone.now(),
    )


def archive_job_retry(*, user, job: ArchiveJob) -> ArchiveJob:
    require(user, "records.export")
    with transaction.atomic():
        retried = ArchiveJob.objects.filter(pk=job.pk, status=ArchiveJob.Status.FAILED).update(
            status=ArchiveJob.Status.QUEUED, error="", done=0, heartbeat_at=timezone.now(), finished_at=None
        )
        if not retried:
            raise DomainError(_("Only a failed archive can be tried again."))
        from records import tasks

        enqueue_on_commit(tasks.make_archive, job.pk)
    job.refresh_from_db()
    return job
