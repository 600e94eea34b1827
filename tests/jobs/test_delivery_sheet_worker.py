"""The daily delivery-progress sheet through a real Celery worker on Redis (skipped without REDIS_URL).

As in test_celery_worker.py: the worker runs in a thread of this process and consumes from the real broker;
transactional tests, so the worker sees committed rows. The morning job is sent to the queue as Celery beat
sends it; the worker creates the day's run and queues its e-mail, which it then sends.
"""

import io
import time
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings as django_settings

from common.jobs import enqueue
from delivery import tasks
from delivery.models import DailySheetRun
from delivery.progress_sheet import HEADER_ROW
from orders.models import Order, OrderLine
from tests.orders.conftest import TODAY, customer, products  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.clause("5.4.2"),
    pytest.mark.celery_worker,
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL (a real broker); .ci/run sets it"),
]


@pytest.fixture
def worker():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    assert not app.conf.task_always_eager, "the worker test must not run tasks inline"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as started:
        yield started


def wait_for_runs(count, *, sent, seconds=60):
    """Poll until ``count`` runs exist and ``sent`` of them are sent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runs = list(DailySheetRun.objects.order_by("pk"))
        if len(runs) == count and sum(r.status == DailySheetRun.Status.SENT for r in runs) == sent:
            return runs
        if any(r.status == DailySheetRun.Status.FAILED for r in runs):
            raise AssertionError(f"a run failed: {[r.error for r in runs]}")
        time.sleep(0.1)
    raise AssertionError(f"runs: {list(DailySheetRun.objects.values_list('status', 'forced'))}")


@pytest.mark.django_db(transaction=True)
def test_the_daily_sheet_is_sent_once_by_the_worker_and_again_only_when_forced(
    worker,
    settings,
    users,
    customer,  # noqa: F811
    products,  # noqa: F811
    mailoutbox,
):
    settings.DELIVERY_SHEET_RECIPIENTS = ["delivery-list@example.com"]
    order = Order.objects.create(
        number="SO-W-00001",
        customer=customer,
        customer_po="PO-W",
        delivery_address=customer.addresses.get(),
        status=Order.Status.CONFIRMED,
        revision=1,
        created_by=users["cs"],
    )
    for position, due in ((1, TODAY - timedelta(days=1)), (2, TODAY + timedelta(days=10))):
        OrderLine.objects.create(
            order=order,
            position=position,
            product=products["lamp"],
            quantity=Decimal("100"),
            unit_price=Decimal("1.50"),
            requested_date=due,
        )

    enqueue(tasks.send_daily_sheet)  # as Celery beat sends it in the morning
    [first] = wait_for_runs(1, sent=1)
    assert (first.forced, first.attempts, first.rows) == (False, 1, 2)
    assert len(mailoutbox) == 1
    name, content, _mimetype = mailoutbox[0].attachments[0]
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert [(r[0], r[3]) for r in rows] == [("SO-W-00001", 1), ("SO-W-00001", 2)]
    assert rows[0][15] and not rows[1][15]  # the overdue line is at risk

    enqueue(tasks.send_daily_sheet)  # the job fires a second time the same day: nothing is sent
    enqueue(tasks.send_sheet_run, first.pk)  # a worker restart re-delivers the sending: nothing is sent
    enqueue(tasks.send_daily_sheet, forced=True)  # "send again now": a second, forced run is sent
    # The solo worker takes jobs in order, so once the forced run is sent the two before it were handled.
    runs = wait_for_runs(2, sent=2)
    assert [r.forced for r in runs] == [False, True]
    assert len(mailoutbox) == 2
    first.refresh_from_db()
    assert first.attempts == 1
