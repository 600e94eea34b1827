"""Jobs through a real Celery worker on Redis (run by .ci/run with REDIS_URL set; skipped without it).

The worker runs in a thread of this process (celery.contrib.testing) and consumes from the real broker,
so the task travels through Redis and is decoded by the worker exactly as in production. The database
must be shared with the worker thread: transactional tests, committed rows.
"""

import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.importing import import_job_confirm, import_job_create, import_job_send
from customers.models import Customer, ImportJob
from tests.customers.workbooks import row, xlsx
from tests.orders.conftest import TODAY, customer, products  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real broker); .ci/run sets it"),
]


@pytest.fixture
def worker():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    assert not app.conf.task_always_eager, "the worker test must not run tasks inline"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as started:
        yield started


def wait_for(job, *states, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job stayed {job.status}, expected one of {states}")


@pytest.mark.django_db(transaction=True)
def test_a_customer_import_previews_and_imports_in_the_worker(worker, users):
    upload = SimpleUploadedFile("customers.xlsx", xlsx([row("C-0001"), row("C-0002", name_zh="深圳华光")]))
    job = import_job_create(user=users["admin"], upload=upload)
    import_job_send(job)

    wait_for(job, ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED)
    assert job.status == ImportJob.Status.PREVIEWED, job.report
    assert job.report["counts"]["new"] == 2
    assert Customer.objects.count() == 0  # a preview writes nothing

    import_job_confirm(user=users["admin"], job=job)
    import_job_send(job)
    wait_for(job, ImportJob.Status.DONE, ImportJob.Status.FAILED)
    assert job.status == ImportJob.Status.DONE, job.report
    assert set(Customer.objects.values_list("name_zh", flat=True)) == {"测试客户C-0001", "深圳华光"}


@pytest.mark.django_db(transaction=True)
def test_a_bad_file_fails_in_the_worker_and_writes_nothing(worker, users):
    upload = SimpleUploadedFile("customers.xlsx", xlsx([row("C-0001"), row("C-0002", tax_rate="abc")]))
    job = import_job_create(user=users["admin"], upload=upload)
    import_job_send(job)
    wait_for(job, ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED)
    assert job.status == ImportJob.Status.FAILED
    assert any("not a number" in e for r in job.report["rows"] for e in r["errors"])
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_healthz_reports_the_real_queue_as_ok(client):
    body = client.get("/healthz").json()
    assert body["queue"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_an_order_acknowledgement_is_made_and_mailed_by_the_worker(worker, users, customer, products, mailoutbox):  # noqa: F811
    from orders import services
    from orders.models import Acknowledgement
    from tests.orders.conftest import REVIEWERS, sign

    order = services.order_create(
        user=users["cs"],
        customer=customer,
        customer_po="PO-W-1",
        delivery_address=customer.addresses.get(),
        lines=[services.LineInput(products["lamp"], 100, products["lamp"].quotations.get().unit_price, TODAY)],
    )
    services.order_submit(user=users["cs"], order=order)
    for reviewer in REVIEWERS:
        sign(users, order, reviewer)
    services.head_signoff(user=users["head"], order=order, revision_seen=1)
    ack = services.order_confirm(user=users["cs"], order=order, revision_seen=1)  # queued after commit

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ack.refresh_from_db()
        if ack.status != Acknowledgement.Status.QUEUED:
            break
        time.sleep(0.2)
    assert ack.status == Acknowledgement.Status.SENT, ack.error
    assert any(m.to == ["zhang@hongda.example"] and m.attachments for m in mailoutbox)
