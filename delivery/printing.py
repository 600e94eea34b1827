"""Printing delivery notes (送货单, with the vehicle dispatch request 车辆调度申请单): A4, or the 241 mm
continuous form used for multi-copy notes; many notes as one PDF in a background job."""

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch

from accounts.roles import require
from common.errors import DomainError
from common.jobs import enqueue_on_commit
from common.pdf import render_document, render_pdf, write_documents
from delivery.models import DeliveryNote, DeliveryNoteLine, PrintJob

LAYOUTS = {
    # name: (page size for @page, template)
    "a4": ("A4", "delivery/pdf/note_a4.html"),
    "form241": (f"241mm {settings.DELIVERY_FORM_HEIGHT_MM}mm", "delivery/pdf/note_form.html"),
}
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
    with transaction.atomic():
        job = PrintJob.objects.select_for_update().get(pk=job_id)
        if job.status != PrintJob.Status.QUEUED:
            return
        job.status = PrintJob.Status.RUNNING
        job.save(update_fields=["status"])
    try:
        notes = _notes(job.notes)
        # Laid out in chunks so progress is visible, then written as one PDF.
        documents, chunk = [], 10
        for start in range(0, len(notes), chunk):
            part = notes[start : start + chunk]
            documents.append(render_document(LAYOUTS[job.layout][1], _context(part, job.layout)))
            PrintJob.objects.filter(pk=job.pk).update(done=start + len(part))
        job.pdf.save(f"delivery-notes-{job.pk}.pdf", ContentFile(write_documents(documents)), save=False)
        PrintJob.objects.filter(pk=job.pk).update(pdf=job.pdf.name, status=PrintJob.Status.DONE, done=len(notes))
    except Exception as exc:
        PrintJob.objects.filter(pk=job.pk).update(status=PrintJob.Status.FAILED, error=str(exc)[:2000])
        raise
