"""A real worker killed with SIGKILL in the middle of a job (issue 10, "nothing stuck"): a customer import after
its rows are written, a batch print after its first chunk, an acknowledgement whose PDF is made but not yet mailed.
Each job ends "failed" with a "try again" (the stale sweep, with a short age limit here), trying again on a
restarted worker succeeds, and the work is done exactly once: no duplicate customers, one PDF, one e-mail to the
customer.

The worker is a subprocess on the test database (PostgreSQL) and Redis (REDIS_URL); it pauses at the job's pause
point (common.faults) so that the kill lands at a known moment of the real code path.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer, ImportJob
from delivery.models import PrintJob
from orders import services as order_services
from orders.models import Acknowledgement, Order
from tests.customers.workbooks import row, xlsx
from tests.delivery.conftest import deliverable, issue, plan  # noqa: F401 - fixtures
from tests.faults.conftest import wait_until
from tests.orders.conftest import TODAY, customer, entered, products  # noqa: F401 - fixtures

# The clauses whose work these jobs carry: customer data (5.1), printing the delivery notes (5.5), the order
# acknowledgement to the customer (5.3).
pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.clause("5.1"),
    pytest.mark.clause("5.3"),
    pytest.mark.clause("5.5"),
]

# The age limit after which a job with no sign of life is failed: seconds here, so the test does not wait long.
SHORT_LIMIT_MINUTES = 0.05


def short_limit(settings, kind: str) -> None:
    settings.JOB_STALE_MINUTES = {**settings.JOB_STALE_MINUTES, kind: SHORT_LIMIT_MINUTES}


def status_of(model, pk):
    return model.objects.values_list("status", flat=True).get(pk=pk)


def files_named(root: Path, pattern: str) -> list[Path]:
    return sorted(root.rglob(pattern)) if root.exists() else []


def test_an_import_killed_midway_fails_with_try_again_and_imports_once(worker_process, pauses, settings, users, client):
    client.force_login(users["admin"])
    upload = SimpleUploadedFile("customers.xlsx", xlsx([row("C-0001"), row("C-0002", name_zh="深圳华光")]))
    client.post(reverse("admin:customers_customer_import"), {"file": upload})
    job = ImportJob.objects.get()
    wait_until(
        lambda: status_of(ImportJob, job.pk) == ImportJob.Status.PREVIEWED, log=worker_process.log, what="the preview"
    )

    pauses.hold("customer-import")
    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    pauses.wait_reached("customer-import", worker_process)
    assert status_of(ImportJob, job.pk) == ImportJob.Status.IMPORTING
    worker_process.kill()  # the rows were written in the worker's transaction, not committed

    short_limit(settings, "import")
    page_url = reverse("admin:customers_customer_import_job", args=[job.pk])
    wait_until(
        lambda: client.get(page_url) and status_of(ImportJob, job.pk) == ImportJob.Status.FAILED,
        seconds=30,
        what="the import to be failed by the sweep",
    )
    page = client.get(page_url).content.decode()
    assert "Try again" in page and "the worker stopped" in page
    assert Customer.objects.count() == 0  # nothing half-imported

    pauses.release("customer-import")
    worker_process.start()
    client.post(reverse("admin:customers_customer_import_retry", args=[job.pk]))
    wait_until(
        lambda: status_of(ImportJob, job.pk) in (ImportJob.Status.DONE, ImportJob.Status.FAILED),
        log=worker_process.log,
        what="the import to finish",
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, (job.error, job.report)
    assert sorted(Customer.objects.values_list("code", flat=True)) == ["C-0001", "C-0002"]
    assert Customer.history.count() == 2  # each customer created once, in one history entry

    # "Try again" once more is refused: the import is done, nothing runs twice.
    client.post(reverse("admin:customers_customer_import_retry", args=[job.pk]))
    assert status_of(ImportJob, job.pk) == ImportJob.Status.DONE and Customer.objects.count() == 2


def test_a_batch_print_killed_midway_fails_with_try_again_and_prints_one_pdf(
    worker_process,
    pauses,
    settings,
    users,
    client,
    deliverable,  # noqa: F811
):
    order = deliverable()
    batch = plan(users, order, quantity="1000", due=TODAY + timedelta(days=2))
    notes = [issue(users, (batch, "10")) for _ in range(6)]  # more than print inline: a background job
    client.force_login(users["cs"])

    pauses.hold("print-job")
    response = client.post(reverse("delivery:print"), {"note": [n.pk for n in notes], "layout": "a4"})
    job = PrintJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("delivery:print_job", args=[job.pk])
    pauses.wait_reached("print-job", worker_process)
    assert status_of(PrintJob, job.pk) == PrintJob.Status.RUNNING
    worker_process.kill()

    short_limit(settings, "print")
    page_url = reverse("delivery:print_job", args=[job.pk])
    wait_until(
        lambda: client.get(page_url) and status_of(PrintJob, job.pk) == PrintJob.Status.FAILED,
        seconds=30,
        what="the print job to be failed by the sweep",
    )
    page = client.get(page_url).content.decode()
    assert "Try again" in page and "the worker stopped" in page
    assert files_named(Path(settings.MEDIA_ROOT), "delivery-notes-*.pdf") == []

    pauses.release("print-job")
    worker_process.start()
    client.post(reverse("delivery:print_job_retry", args=[job.pk]))
    wait_until(
        lambda: status_of(PrintJob, job.pk) in (PrintJob.Status.DONE, PrintJob.Status.FAILED),
        log=worker_process.log,
        what="the print job to finish",
    )
    job.refresh_from_db()
    assert job.status == PrintJob.Status.DONE and job.done == 6, job.error
    [pdf] = files_named(Path(settings.MEDIA_ROOT), "delivery-notes-*.pdf")
    assert job.pdf.name.endswith(pdf.name) and pdf.read_bytes().startswith(b"%PDF-")
    response = client.get(reverse("delivery:print_job_pdf", args=[job.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    response.close()


def test_an_acknowledgement_killed_midway_fails_with_send_again_and_reaches_the_customer_once(
    worker_process,
    pauses,
    settings,
    users,
    client,
    smtp,
    deliverable,  # noqa: F811
):
    order = deliverable()
    pauses.hold("acknowledgement")
    ack = order_services.order_confirm(user=users["cs"], order=order, revision_seen=order.revision)
    pauses.wait_reached("acknowledgement", worker_process)
    ack.refresh_from_db()
    assert ack.status == Acknowledgement.Status.QUEUED and ack.pdf  # the PDF is made, the e-mail not sent
    pdf_name = ack.pdf.name
    worker_process.kill()

    short_limit(settings, "acknowledgement")
    client.force_login(users["cs"])
    page_url = order.get_absolute_url()
    wait_until(
        lambda: client.get(page_url) and status_of(Acknowledgement, ack.pk) == Acknowledgement.Status.FAILED,
        seconds=30,
        what="the acknowledgement to be failed by the sweep",
    )
    page = client.get(page_url).content.decode()
    assert "before the e-mail went out" in page and "Send again" in page
    assert smtp.handler.to("zhang@hongda.example") == []

    pauses.release("acknowledgement")
    worker_process.start()
    client.post(reverse("orders:ack_resend", args=[ack.pk]))
    wait_until(
        lambda: status_of(Acknowledgement, ack.pk) == Acknowledgement.Status.SENT,
        log=worker_process.log,
        what="the acknowledgement to be sent",
    )
    ack.refresh_from_db()
    assert ack.pdf.name == pdf_name  # the one PDF made before the kill, not a second one
    assert len(files_named(Path(settings.MEDIA_ROOT), f"{order.number}-r*.pdf")) == 1
    [mail] = smtp.handler.to("zhang@hongda.example")
    assert "acknowledgement" in mail.subject.lower() and order.number in mail.subject
    assert Order.objects.get(pk=order.pk).status == Order.Status.CONFIRMED

    # Sending again now is refused (it was sent): the customer never gets a second one.
    client.post(reverse("orders:ack_resend", args=[ack.pk]))
    assert len(smtp.handler.to("zhang@hongda.example")) == 1
