"""Printing delivery notes (送货单, with the vehicle dispatch request 车辆调度申请单): A4, or the 241 mm
continuous form used for multi-copy notes; many notes as one PDF in a background job."""

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import require
from common import stale
from common.errors import DomainError
from common.faults import pause_point
from common.jobs import enqueue_on_commit
from common.pdf import MissingGlyphs, render_document, render_pdf, write_documents
from delivery.models import DeliveryNote, DeliveryNoteLine, PrintJob

LAYOUTS = {
    # name: (page size for @page, template)
    "a4": ("A4", "delivery/pdf/note_a4.html"),
    "form241": (f"241mm {settings.DELIVERY_FORM_HEIGHT_MM}mm", "delivery/pdf/note_form.html"),
}
logger = logging.getLogger(__name__)
PRINT_JOB_INLINE_MAX = 5  # up to this many notes print in the request; more go to a background job


def _notes(ids):
    lines = DeliveryNoteLine.objects.select_related("batch__line__product", "batch__line__order").order_by("pk")
    notes = (
        DeliveryNote.objects.filter(pk__in=ids)
        .select_related("customer", "address", "carrier", "vehicle", "issued_by", "dispatch")
        .prefetch_related(Prefetch("lines", queryset=lines))
    )
    by_id = {n.pk: n for n in notes}
    return [by_id[i] for i in ids if i in by_id]


def _context(notes, layout):
    if layout not in LAYOUTS:
        raise DomainError("unknown layout")
    return {
        "notes": notes,
        "page_size": LAYOUTS[layout][0],
        "company_zh": settings.COMPANY_NAME_ZH,
        "company_en": settings.COMPANY_NAME_EN,
    }


def notes_pdf(notes: list[DeliveryNote], layout: str = "a4") -> bytes:
    return render_pdf(LAYOUTS.get(layout, ("", ""))[1], _context(notes, layout))


def notes_pdf_or_refuse(notes: list[DeliveryNote], layout: str = "a4") -> bytes:
    """notes_pdf for a page: a PDF that cannot be made is a DomainError with a message naming the note."""
    try:
        return notes_pdf(notes, layout)
    except MissingGlyphs as exc:
        raise DomainError(_glyph_message(notes, exc)) from exc


def _glyph_message(notes: list[DeliveryNote], exc: MissingGlyphs) -> str:
    culprits = [n.number for n in notes if _missing_glyphs(n)] if len(notes) > 1 else [n.number for n in notes]
    return (
        _("The PDF could not be made: the font has no glyph for some characters of delivery note %(numbers)s.")
        % {"numbers": ", ".join(culprits) or "?"}
        + f" ({exc})"
    )


def print_job_create(*, user, note_ids: list[int], layout: str) -> PrintJob:
    require(user, "delivery.view")
    if not note_ids:
        raise DomainError("no notes")
    with transaction.atomic():
        job = PrintJob.objects.create(notes=list(note_ids), layout=layout, requested_by=user)
    from delivery import note_tasks

    enqueue_on_commit(note_tasks.print_notes, job.pk)
    return job


def print_job_run(job_id: int) -> None:
    """Print a job's notes into one PDF. The worker claims the job with a conditional UPDATE (queued -> running),
    so a task delivered twice prints once; every chunk is a sign of life (heartbeat). A PDF that cannot be made
    (a character missing from the font, bad data) fails this job with the reason and the note it stopped at."""
    now = timezone.now()
    claimed = PrintJob.objects.filter(pk=job_id, status=PrintJob.Status.QUEUED).update(
        status=PrintJob.Status.RUNNING, heartbeat_at=now, done=0, error=""
    )
    if not claimed:
        return  # already printed, being printed, or failed: nothing to do
    job = PrintJob.objects.get(pk=job_id)
    try:
        notes = _notes(job.notes)
        # Laid out in chunks so progress is visible, then written as one PDF.
        documents, chunk = [], 10
        for start in range(0, len(notes), chunk):
            part = notes[start : start + chunk]
            documents.append(_render_chunk(part, job.layout))
            stale.beat(PrintJob, job.pk, done=start + len(part))
            pause_point("print-job")  # tests/faults: a chunk is laid out, the PDF not yet written
        job.pdf.save(f"delivery-notes-{job.pk}.pdf", ContentFile(_write(documents, notes)), save=False)
    except Exception as exc:
        logger.exception("print job %s failed", job.pk)
        with translation.override(settings.LANGUAGE_CODE):
            reason = (
                str(exc)
                if isinstance(exc, PrintError)
                else _("The PDF could not be made: %(error)s") % {"error": f"{exc.__class__.__name__}: {exc}"}
            )
        PrintJob.objects.filter(pk=job.pk, status=PrintJob.Status.RUNNING).update(
            status=PrintJob.Status.FAILED, error=reason[:2000]
        )
        return
    PrintJob.objects.filter(pk=job.pk, status=PrintJob.Status.RUNNING).update(
        pdf=job.pdf.name, status=PrintJob.Status.DONE, done=len(notes), heartbeat_at=timezone.now()
    )


class PrintError(Exception):
    """A PDF that cannot be made, with a message for the person who asked for it."""


def _render_chunk(notes: list[DeliveryNote], layout: str):
    try:
        return render_document(LAYOUTS[layout][1], _context(notes, layout))
    except Exception as exc:
        raise PrintError(_culprit(notes, layout, exc)) from exc


def _write(documents, notes: list[DeliveryNote]) -> bytes:
    try:
        return write_documents(documents)
    except MissingGlyphs as exc:
        raise PrintError(_glyph_message(notes, exc)) from exc


def _missing_glyphs(note: DeliveryNote) -> bool:
    try:
        notes_pdf([note], "a4")
    except MissingGlyphs:
        return True
    except Exception:  # another fault of this note: not the one looked for here
        return False
    return False


def _culprit(notes, layout, exc) -> str:
    """The message naming the first note that cannot be laid out on its own."""
    for note in notes:
        try:
            render_document(LAYOUTS[layout][1], _context([note], layout))
        except Exception as own:
            return _("Delivery note %(number)s could not be printed: %(error)s") % {
                "number": note.number,
                "error": f"{own.__class__.__name__}: {own}",
            }
    return _("The PDF could not be made: %(error)s") % {"error": f"{exc.__class__.__name__}: {exc}"}


def print_jobs_fail_stale() -> list[int]:
    """Print jobs whose worker stopped (no chunk printed for the age limit) are failed, to be tried again."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = str(STOPPED)
    return stale.fail_stale(
        PrintJob,
        kind="print",
        statuses=(PrintJob.Status.QUEUED, PrintJob.Status.RUNNING),
        task="delivery.note_tasks.print_notes",
        status=PrintJob.Status.FAILED,
        error=reason,
    )


STOPPED = gettext_lazy("The printing stopped (the worker stopped or the job queue was down). Try again.")


def print_job_retry(*, user, job: PrintJob) -> PrintJob:
    """Try a failed print job again: the same job, queued again (allowed to whoever may print it)."""
    require(user, "delivery.view")
    if job.requested_by_id != user.pk:
        raise DomainError(_("Only the person who asked for this print job can try it again."))
    with transaction.atomic():
        retried = PrintJob.objects.filter(pk=job.pk, status=PrintJob.Status.FAILED).update(
            status=PrintJob.Status.QUEUED, error="", done=0, heartbeat_at=timezone.now()
        )
        if not retried:
            raise DomainError(_("Only a failed print job can be tried again."))
        from delivery import note_tasks

        enqueue_on_commit(note_tasks.print_notes, job.pk)
    job.refresh_from_db()
    return job
