"""Jobs whose worker died: each kind is failed after its age limit, offers "try again", and trying again does the
work once (no duplicate rows, no second e-mail to the customer). No real worker: a dead worker is a record left
"in progress" with an old heartbeat (common.stale). Also: a PDF that cannot be made fails its job with a message,
and a day's sheet that was never sent is sent by the sweep and shown in Customer Service's My work."""

import logging
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.work import sections_for
from common.errors import DomainError
from customers import importing
from customers.models import Customer, ImportJob
from delivery import printing, sheet_jobs
from delivery import tasks as delivery_tasks
from delivery.models import DailySheetRun, PrintJob
from orders import services as order_services
from orders.models import Acknowledgement, Order
from tests.customers.workbooks import row, xlsx
from tests.delivery.conftest import deliverable, issue, order, plan  # noqa: F401 - fixtures
from tests.orders.conftest import REVIEWERS, customer, entered, products, sign, submitted  # noqa: F401

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(hours=3)


def died(model, pk, status, ago=LONG_AGO):
    """The worker was killed while the job was ``status``: the row stays so, its last sign of life long ago."""
    model.objects.filter(pk=pk).update(status=status, heartbeat_at=timezone.now() - ago)


# --- Customer import --------------------------------------------------------------------------------------


@pytest.fixture
def admin(client_for):
    return client_for("admin")


@pytest.fixture
def confirmed_import(admin, users, django_capture_on_commit_callbacks):
    """A previewed two-customer import, confirmed (its job not yet run)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            reverse("admin:customers_customer_import"),
            {"file": SimpleUploadedFile("c.xlsx", xlsx([row("C-0001"), row("C-0002")]))},
        )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PREVIEWED
    return importing.import_job_confirm(user=users["admin"], job=job)


def test_an_import_whose_worker_died_is_failed_with_try_again_and_imports_once(
    admin, confirmed_import, django_capture_on_commit_callbacks
):
    job = confirmed_import
    died(ImportJob, job.pk, ImportJob.Status.IMPORTING)
    url = reverse("admin:customers_customer_import_job", args=[job.pk])
    page = admin.get(url).content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "worker stopped" in job.error
    assert "worker stopped" in page and "Try again" in page

    retry = reverse("admin:customers_customer_import_retry", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(retry)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Customer.objects.count() == 2
    # Again: refused (nothing to retry), and a task delivered once more finds the job done.
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(retry)
    importing.import_job_run(job_id=job.pk)
    assert Customer.objects.count() == 2 and Customer.history.count() == 2


def test_an_import_still_within_its_age_limit_is_left_running(admin, confirmed_import, settings):
    settings.JOB_STALE_MINUTES = {**settings.JOB_STALE_MINUTES, "import": 30}
    died(ImportJob, confirmed_import.pk, ImportJob.Status.IMPORTING, ago=timedelta(minutes=20))
    assert importing.import_jobs_fail_stale() == []
    died(ImportJob, confirmed_import.pk, ImportJob.Status.IMPORTING, ago=timedelta(minutes=31))
    assert importing.import_jobs_fail_stale() == [confirmed_import.pk]


def test_an_import_that_breaks_midway_keeps_nothing_and_can_be_tried_again(
    admin, users, confirmed_import, monkeypatch, django_capture_on_commit_callbacks
):
    """The customers and the job's "done" are one transaction: a failure after some rows were written keeps
    none of them, and the job says why (never "importing" for ever)."""
    real = importing.ImportReport.as_dict

    def crash_after_the_rows_were_written(self):
        assert Customer.objects.count() == 2  # written, in the job's transaction
        raise MemoryError("the worker ran out of memory")

    monkeypatch.setattr(importing.ImportReport, "as_dict", crash_after_the_rows_were_written)
    importing.import_job_run(job_id=confirmed_import.pk)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and "out of memory" in job.error
    assert Customer.objects.count() == 0

    monkeypatch.setattr(importing.ImportReport, "as_dict", real)
    job = importing.import_job_retry(user=users["admin"], job=job)
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Customer.objects.count() == 2


def test_a_slow_worker_whose_import_was_failed_meanwhile_imports_nothing(confirmed_import, monkeypatch):
    """Between the worker's claim and its work the sweep failed the job (and it may be queued again): the job is
    no longer this worker's, so it writes nothing."""
    from django.db.models.fields.files import FieldFile

    real_open = FieldFile.open

    def swept_while_opening(self, mode="rb"):
        ImportJob.objects.filter(pk=confirmed_import.pk).update(status=ImportJob.Status.FAILED, error="stopped")
        return real_open(self, mode)

    monkeypatch.setattr(FieldFile, "open", swept_while_opening)
    importing.import_job_run(job_id=confirmed_import.pk)
    assert Customer.objects.count() == 0
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_an_import_failed_by_its_file_is_not_tried_again(admin, users, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            reverse("admin:customers_customer_import"),
            {"file": SimpleUploadedFile("c.xlsx", xlsx([row("C-0001", tax_rate="abc")]))},
        )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    with pytest.raises(DomainError, match="upload it again"):
        importing.import_job_retry(user=users["admin"], job=job)


# --- Printing many delivery notes ---------------------------------------------------------------------------


@pytest.fixture
def print_job(users, order, client_for):  # noqa: F811
    batch = plan(users, order, quantity="1000")
    notes = [issue(users, (batch, "10")) for _ in range(2)]
    return PrintJob.objects.create(notes=[n.pk for n in notes], layout="a4", requested_by=users["cs"])


def test_a_print_job_whose_worker_died_is_failed_with_try_again_and_prints_once(
    print_job, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    died(PrintJob, print_job.pk, PrintJob.Status.RUNNING)
    client = client_for("cs")
    page = client.get(reverse("delivery:print_job", args=[print_job.pk])).content.decode()
    print_job.refresh_from_db()
    assert print_job.status == PrintJob.Status.FAILED and "worker stopped" in print_job.error
    assert "Try again" in page

    renders = []
    real = printing.render_document
    monkeypatch.setattr(printing, "render_document", lambda *a, **k: renders.append(1) or real(*a, **k))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("delivery:print_job_retry", args=[print_job.pk]))
    print_job.refresh_from_db()
    assert print_job.status == PrintJob.Status.DONE and print_job.done == 2 and print_job.pdf
    # A task delivered again, and a second "try again", print nothing more.
    printing.print_job_run(print_job.pk)
    with pytest.raises(DomainError):
        printing.print_job_retry(user=print_job.requested_by, job=print_job)
    assert len(renders) == 1


def test_a_waiting_print_job_within_its_age_limit_is_left_alone(print_job):
    died(PrintJob, print_job.pk, PrintJob.Status.QUEUED, ago=timedelta(minutes=5))
    assert printing.print_jobs_fail_stale() == []
    died(PrintJob, print_job.pk, PrintJob.Status.QUEUED, ago=timedelta(minutes=16))
    assert printing.print_jobs_fail_stale() == [print_job.pk]


def test_a_pdf_missing_a_glyph_fails_its_job_with_a_clear_message(print_job, monkeypatch):
    import weasyprint

    real = weasyprint.Document.write_pdf

    def write_with_a_missing_glyph(self, *args, **kwargs):
        logging.getLogger("weasyprint").warning(
            '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)', "𠮷", 0x20BB7
        )
        return real(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.Document, "write_pdf", write_with_a_missing_glyph)
    printing.print_job_run(print_job.pk)
    print_job.refresh_from_db()
    assert print_job.status == PrintJob.Status.FAILED
    assert "font has no glyph" in print_job.error and "U+20BB7" in print_job.error


def test_a_single_note_pdf_missing_a_glyph_is_refused_with_a_message_not_a_server_error(
    print_job, client_for, monkeypatch
):
    import weasyprint

    from delivery.models import DeliveryNote

    real = weasyprint.Document.write_pdf

    def write_with_a_missing_glyph(self, *args, **kwargs):
        logging.getLogger("weasyprint").warning(
            '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)', "𠮷", 0x20BB7
        )
        return real(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.Document, "write_pdf", write_with_a_missing_glyph)
    note = DeliveryNote.objects.get(pk=print_job.notes[0])
    response = client_for("cs").get(reverse("delivery:note_pdf", args=[note.number, "a4"]), follow=True)
    assert response.status_code == 200 and "font has no glyph" in response.content.decode()


def test_a_note_that_cannot_be_laid_out_fails_the_job_naming_the_note(print_job, monkeypatch):
    from delivery.models import DeliveryNote

    bad = DeliveryNote.objects.get(pk=print_job.notes[1])
    real = printing.render_document

    def refuse_the_bad_note(template, context):
        if any(n.pk == bad.pk for n in context["notes"]):
            raise ValueError("bad data")
        return real(template, context)

    monkeypatch.setattr(printing, "render_document", refuse_the_bad_note)
    printing.print_job_run(print_job.pk)
    print_job.refresh_from_db()
    assert print_job.status == PrintJob.Status.FAILED
    assert bad.number in print_job.error and "bad data" in print_job.error


# --- The order acknowledgement to the customer --------------------------------------------------------------


@pytest.fixture
def ack(submitted, users):  # noqa: F811
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    order_services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    submitted.refresh_from_db()
    # Queued, its job lost with the worker (the on-commit callback never runs here).
    return order_services.order_confirm(user=users["cs"], order=submitted, revision_seen=1)


def test_an_acknowledgement_whose_worker_died_before_sending_is_failed_and_sent_once(
    ack, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    died(Acknowledgement, ack.pk, Acknowledgement.Status.QUEUED)
    client = client_for("cs")
    page = client.get(ack.order.get_absolute_url()).content.decode()
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.FAILED and "before the e-mail went out" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("orders:ack_resend", args=[ack.pk]))
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.SENT and len(mailoutbox) == 1
    order_services.acknowledgement_send(ack.pk)  # the lost task delivered after all
    assert len(mailoutbox) == 1
    assert Order.objects.get(pk=ack.order_id).status == Order.Status.CONFIRMED


def test_an_acknowledgement_interrupted_while_sending_is_not_sent_again_without_a_check(
    ack, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    died(Acknowledgement, ack.pk, Acknowledgement.Status.SENDING)
    order_services.acknowledgement_send(ack.pk)  # a second worker: it is being sent, so not again
    assert mailoutbox == []
    client = client_for("cs")
    page = client.get(ack.order.get_absolute_url()).content.decode()
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.UNSURE
    assert "may have received" in page and "I checked" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("orders:ack_resend", args=[ack.pk]))
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.UNSURE and mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("orders:ack_resend", args=[ack.pk]), {"checked": "1"})
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.SENT and len(mailoutbox) == 1


def test_an_acknowledgement_whose_pdf_cannot_be_made_fails_with_the_reason(ack, monkeypatch, mailoutbox):
    from common.pdf import MissingGlyphs

    def no_glyph(the_order, revision):
        raise MissingGlyphs(".notdef glyph rendered for U+20BB7")

    monkeypatch.setattr("orders.documents.acknowledgement_pdf", no_glyph)
    order_services.acknowledgement_send(ack.pk)
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.FAILED
    assert "The PDF could not be made" in ack.error and "U+20BB7" in ack.error and mailoutbox == []


def test_an_acknowledgement_waiting_out_a_queue_outage_is_not_failed_for_it(ack):
    """Its job waits in common.jobs.PendingJob while the queue is down: it goes out when the queue is back, and
    its age counts from the hand-over."""
    from common.models import PendingJob

    died(Acknowledgement, ack.pk, Acknowledgement.Status.QUEUED)
    job = PendingJob.objects.create(task="orders.tasks.send_acknowledgement", args=[ack.pk])
    assert order_services.acknowledgements_fail_stale() == []
    PendingJob.objects.filter(pk=job.pk).update(status=PendingJob.Status.QUEUED, queued_at=timezone.now())
    assert order_services.acknowledgements_fail_stale() == []
    PendingJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - LONG_AGO)
    assert order_services.acknowledgements_fail_stale() == [ack.pk]


def test_the_beat_sweep_fails_stale_acknowledgements(ack):
    from orders.tasks import sweep_stale_acknowledgements

    died(Acknowledgement, ack.pk, Acknowledgement.Status.QUEUED, ago=timedelta(minutes=10))
    assert sweep_stale_acknowledgements() == 0
    died(Acknowledgement, ack.pk, Acknowledgement.Status.QUEUED)
    assert sweep_stale_acknowledgements() == 1


# --- The daily delivery-progress sheet --------------------------------------------------------------------


@pytest.fixture
def sheet_settings(settings):
    settings.DELIVERY_SHEET_RECIPIENTS = ["cs@example.com"]
    settings.DELIVERY_SHEET_TIME = "08:00"


def at(hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour, minute)))


def clock(monkeypatch, hour: int, minute: int = 0) -> None:
    """It is ``hour``:``minute`` today (local time)."""
    moment = at(hour, minute)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_a_sheet_run_whose_worker_died_is_failed_and_sent_once_on_try_again(
    sheet_settings, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    run = DailySheetRun.objects.create(day=timezone.localdate(), attempts=1)
    died(DailySheetRun, run.pk, DailySheetRun.Status.SENDING)
    client = client_for("cs")
    page = client.get(reverse("delivery:sheet")).content.decode()
    run.refresh_from_db()
    assert run.status == DailySheetRun.Status.FAILED and "worker" in run.error and "Try again" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("delivery:sheet_run_retry", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == DailySheetRun.Status.SENT and len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("delivery:sheet_run_retry", args=[run.pk]))
    assert len(mailoutbox) == 1 and DailySheetRun.objects.count() == 1


def test_a_missed_sheet_is_sent_by_the_sweep_once_its_time_has_passed(
    sheet_settings, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    clock(monkeypatch, 7, 30)
    assert sheet_jobs.sheet_catch_up() is None  # not its time yet
    clock(monkeypatch, 9, 30)
    with django_capture_on_commit_callbacks(execute=True):
        result = delivery_tasks.sweep_stale_jobs()
    assert result["sheet_caught_up"] and len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        delivery_tasks.sweep_stale_jobs()
    assert len(mailoutbox) == 1 and DailySheetRun.objects.count() == 1


def test_customer_service_sees_a_late_missing_or_failed_sheet_in_my_work(
    sheet_settings, users, monkeypatch, django_capture_on_commit_callbacks
):
    def titles(name):
        return {s.title: s for s in sections_for(users[name])}

    title = "Delivery-progress sheet late or failed"
    clock(monkeypatch, 9, 30)
    assert "not sent yet" in titles("cs")[title].items[0].detail  # the scheduler was down at 08:00
    assert title not in titles("pmc")  # Customer Service sends it again by hand

    with django_capture_on_commit_callbacks(execute=True):
        sheet_jobs.sheet_catch_up()
    assert "sent late" in titles("cs")[title].items[0].detail

    DailySheetRun.objects.update(status=DailySheetRun.Status.FAILED, error="SMTPException: 421")
    assert "sending failed: SMTPException: 421" in titles("cs")[title].items[0].detail

    DailySheetRun.objects.all().delete()
    on_time = DailySheetRun.objects.create(day=timezone.localdate(), status=DailySheetRun.Status.SENT)
    DailySheetRun.objects.filter(pk=on_time.pk).update(started_at=at(8, 0), sent_at=at(8, 1))
    assert title not in titles("cs")


# --- Survey sending (the common outbox) ---------------------------------------------------------------------


def test_a_survey_invitation_left_sending_by_a_dead_worker_is_failed_not_sent_twice(users, mailoutbox):
    from common.models import OutboxMessage
    from common.outbox import deliver_pending

    message = OutboxMessage.objects.create(
        kind="survey.invitation", object_id=1, to="buyer@example.com", status=OutboxMessage.Status.SENDING
    )
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_at=timezone.now() - LONG_AGO)
    deliver_pending()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and "worker stopped" in message.error
    assert mailoutbox == []


def test_a_sheet_that_cannot_be_made_fails_its_run_with_the_reason(
    sheet_settings, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    def bad_data(rows, day):
        raise ValueError("a cell the workbook cannot hold")

    monkeypatch.setattr(sheet_jobs, "build_workbook", bad_data)
    with django_capture_on_commit_callbacks(execute=True):
        sheet_jobs.sheet_trigger(day=timezone.localdate())
    run = DailySheetRun.objects.get()
    assert run.status == DailySheetRun.Status.FAILED and "cannot hold" in run.error and mailoutbox == []


def test_an_acknowledgement_that_breaks_is_failed_at_once_unless_it_was_handed_to_the_mail_server(
    ack, monkeypatch, mailoutbox
):
    from orders.tasks import send_acknowledgement

    def broken(ack_id):
        raise KeyError("a field the acknowledgement needs")

    monkeypatch.setattr(order_services, "acknowledgement_send", broken)
    send_acknowledgement.apply(args=[ack.pk])
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.FAILED and "KeyError" in ack.error

    Acknowledgement.objects.filter(pk=ack.pk).update(status=Acknowledgement.Status.SENDING, error="")
    send_acknowledgement.apply(args=[ack.pk])
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.SENDING and mailoutbox == []
