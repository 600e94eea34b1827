"""The daily delivery-progress sheet 《订单交货进度表》 (§5.4.2): rows, the at-risk rule, the workbook, sending at
most once a day, retries, the page and its download. Orders are built directly with the ORM (fast)."""

import io
import itertools
import smtplib
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.mail import EmailMessage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from delivery import tasks
from delivery.models import DailySheetRun, DelayReport, DeliveryBatch, DeliveryNote, DeliveryNoteLine
from delivery.progress_sheet import (
    COLUMNS,
    HEADER_ROW,
    build_workbook,
    open_lines,
    open_lines_queryset,
    summarize,
    summary_counts,
)
from delivery.sheet_jobs import sheet_recipients, sheet_trigger
from orders.models import Order, OrderLine
from tests.orders.conftest import TODAY, customer, products  # noqa: F401 - fixtures

pytestmark = [pytest.mark.clause("5.4.2"), pytest.mark.clause("7.2")]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def distribution_list(settings):
    settings.DELIVERY_SHEET_RECIPIENTS = ["delivery-list@example.com"]


@pytest.fixture
def make_order(users, customer):  # noqa: F811
    def make(status=Order.Status.CONFIRMED, number=None):
        return Order.objects.create(
            number=number or f"SO-T-{next(_numbers):05d}",
            customer=customer,
            customer_po="PO-1",
            delivery_address=customer.addresses.get(),
            status=status,
            revision=1,
            created_by=users["cs"],
        )

    return make


@pytest.fixture
def make_line(products):  # noqa: F811
    def make(order, quantity="1000", requested=None, confirmed=None, position=None, product="lamp"):
        return OrderLine.objects.create(
            order=order,
            position=position or order.lines.count() + 1,
            product=products[product],
            quantity=Decimal(quantity),
            unit_price=Decimal("1.50"),
            requested_date=requested or TODAY + timedelta(days=30),
            confirmed_date=confirmed,
        )

    return make


@pytest.fixture
def deliver(users):
    """deliver(line, "300") issues a delivery note for a new batch of ``line``; status="cancelled" cancels it."""

    def make(line, quantity, status=DeliveryNote.Status.ISSUED):
        batch = DeliveryBatch.objects.create(
            line=line, quantity=Decimal(quantity), due_date=line.requested_date, created_by=users["cs"]
        )
        buyer = line.order.customer
        note = DeliveryNote.objects.create(
            number=f"DN-T-{next(_numbers):05d}",
            customer=buyer,
            address=buyer.addresses.get(),
            delivery_date=TODAY,
            status=status,
            issued_by=users["cs"],
        )
        DeliveryNoteLine.objects.create(note=note, batch=batch, quantity=Decimal(quantity))
        return note

    return make


def progress(line, planned=None, produced="0", warehoused="0"):
    from delivery.models import ProductionProgress

    return ProductionProgress.objects.create(
        line=line, planned_completion=planned, produced=Decimal(produced), warehoused=Decimal(warehoused)
    )


def by_line(rows):
    return {row.line_id: row for row in rows}


def sheet_rows(data: bytes):
    """The workbook's data rows (below the header) as lists of values, and the sheet."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)]
    return rows, sheet


# --- Rows -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_open_lines_of_signed_off_and_confirmed_orders_with_delivered_and_outstanding(
    make_order, make_line, deliver
):
    order = make_order()
    partly = make_line(order, "1000")
    deliver(partly, "200")
    deliver(partly, "100")
    deliver(partly, "500", status=DeliveryNote.Status.CANCELLED)  # a cancelled note delivers nothing
    done = make_line(order, "400")
    deliver(done, "400")  # fully delivered: not open
    untouched = make_line(order, "50.5")
    signed_off = make_line(make_order(Order.Status.SIGNED_OFF), "10")
    for status in (Order.Status.DRAFT, Order.Status.IN_REVIEW, Order.Status.ON_HOLD, Order.Status.CANCELLED):
        make_line(make_order(status), "10")

    rows = by_line(open_lines(TODAY))

    assert set(rows) == {partly.pk, untouched.pk, signed_off.pk}
    assert rows[partly.pk].delivered == Decimal("300")
    assert rows[partly.pk].outstanding == Decimal("700")
    assert rows[untouched.pk].delivered == 0
    assert rows[untouched.pk].outstanding == Decimal("50.5")
    row = rows[partly.pk]
    assert (row.order_number, row.customer_code, row.position, row.product_code) == (
        order.number,
        "C-0001",
        1,
        "P-1",
    )
    assert row.customer == "C-0001 东莞宏达电子有限公司"


@pytest.mark.django_db
def test_progress_figures_and_status(make_order, make_line, deliver):
    order = make_order()
    none = make_line(order)
    planned = make_line(order)
    progress(planned, planned=TODAY + timedelta(days=5))
    producing = make_line(order, "100")
    progress(producing, planned=TODAY + timedelta(days=5), produced="40", warehoused="0")
    stored = make_line(order, "100")
    progress(stored, produced="100", warehoused="100")
    delivering = make_line(order, "100")
    progress(delivering, produced="100", warehoused="100")
    deliver(delivering, "30")

    rows = by_line(open_lines(TODAY))

    assert rows[none.pk].produced == 0 and rows[none.pk].planned_completion is None
    assert rows[none.pk].status == "Not planned"
    assert rows[planned.pk].status == "Planned"
    assert (rows[producing.pk].produced, rows[producing.pk].status) == (Decimal("40"), "In production")
    assert (rows[stored.pk].warehoused, rows[stored.pk].status) == (Decimal("100"), "Warehoused")
    assert rows[delivering.pk].status == "Partly delivered"
    assert [r.line_id for r in open_lines(TODAY)][:1]  # ordered, no error


# --- At risk --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_planned_completion_on_or_after_the_due_date_is_at_risk_the_day_before_is_not(make_order, make_line):
    order = make_order()
    due = TODAY + timedelta(days=10)
    on_due = make_line(order, requested=due)
    progress(on_due, planned=due)
    day_before = make_line(order, requested=due)
    progress(day_before, planned=due - timedelta(days=1))
    # The confirmed date is the due date when there is one, not the requested date.
    confirmed_earlier = make_line(order, requested=due + timedelta(days=20), confirmed=due)
    progress(confirmed_earlier, planned=due + timedelta(days=2))
    no_plan = make_line(order, requested=due)

    rows = by_line(open_lines(TODAY))

    assert rows[on_due.pk].at_risk
    assert rows[on_due.pk].risks == ("late_plan",)
    assert f"planned completion {due.isoformat()} is not before the due date" in rows[on_due.pk].at_risk_reason
    assert not rows[day_before.pk].at_risk and rows[day_before.pk].at_risk_reason == ""
    assert rows[confirmed_earlier.pk].at_risk and rows[confirmed_earlier.pk].due_date == due
    assert not rows[no_plan.pk].at_risk


@pytest.mark.django_db
def test_an_unsettled_delay_report_is_at_risk_a_settled_one_is_not(make_order, make_line, users):
    order = make_order()
    unsettled, settled = make_line(order), make_line(order)
    new_date = TODAY + timedelta(days=12)
    DelayReport.objects.create(line=unsettled, reason="模具维修", new_date=new_date, reported_by=users["pmc"])
    DelayReport.objects.create(
        line=settled,
        reason="缺料",
        new_date=new_date,
        reported_by=users["pmc"],
        outcome="customer agreed",
        settled_by=users["cs"],
        settled_at=timezone.now(),
    )

    rows = by_line(open_lines(TODAY))

    assert rows[unsettled.pk].risks == ("delayed",)
    assert new_date.isoformat() in rows[unsettled.pk].at_risk_reason
    assert not rows[settled.pk].at_risk


@pytest.mark.django_db
def test_past_the_due_date_with_quantity_outstanding_is_at_risk(make_order, make_line, deliver):
    order = make_order()
    overdue = make_line(order, "100", requested=TODAY - timedelta(days=1))
    deliver(overdue, "60")
    due_today = make_line(order, requested=TODAY)
    late_but_delivered = make_line(order, "100", requested=TODAY - timedelta(days=3))
    deliver(late_but_delivered, "100")

    rows = by_line(open_lines(TODAY))

    assert rows[overdue.pk].risks == ("overdue",) and rows[overdue.pk].outstanding == 40
    assert not rows[due_today.pk].at_risk
    assert late_but_delivered.pk not in rows
    # The same line seen from a later day is overdue too: "today" is a parameter.
    assert by_line(open_lines(TODAY + timedelta(days=1)))[due_today.pk].risks == ("overdue",)


@pytest.mark.django_db
def test_at_risk_filters_and_counts_in_the_database(make_order, make_line, users):
    order = make_order()
    risky = make_line(order, requested=TODAY - timedelta(days=2))
    make_line(order, requested=TODAY)
    make_line(order, requested=TODAY + timedelta(days=1))
    DelayReport.objects.create(line=risky, reason="x", new_date=TODAY, reported_by=users["pmc"])

    assert list(open_lines_queryset(TODAY).filter(at_risk=True).values_list("pk", flat=True)) == [risky.pk]
    counts = summary_counts(TODAY)
    assert counts == summarize(open_lines(TODAY), TODAY)
    assert (counts.open_lines, counts.at_risk, counts.overdue, counts.due_today, counts.due_tomorrow) == (3, 1, 1, 1, 1)
    assert len(open_lines(TODAY, lines=OrderLine.objects.filter(pk=risky.pk))) == 1


# --- The workbook ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_workbook_opens_with_openpyxl_and_holds_the_rows(make_order, make_line, deliver):
    order = make_order()
    late = make_line(order, "1000", requested=TODAY - timedelta(days=1))
    deliver(late, "250")
    fine = make_line(order, "12.5", requested=TODAY + timedelta(days=9), confirmed=TODAY + timedelta(days=7))
    progress(fine, planned=TODAY + timedelta(days=3), produced="12.5", warehoused="5")

    rows, sheet = sheet_rows(build_workbook(open_lines(TODAY), TODAY))

    assert sheet.title == "订单交货进度表"
    assert "订单交货进度表" in sheet["A1"].value and "Delivery progress" in sheet["A1"].value
    assert "2 open lines, 1 at risk" in sheet["A2"].value
    header = [c.value for c in sheet[HEADER_ROW]]
    assert len(header) == len(COLUMNS)
    assert header[0].endswith("Order no.") and header[-2].endswith("At risk")
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    assert len(rows) == 2
    first, second = rows
    assert first[:4] == [order.number, "C-0001 东莞宏达电子有限公司", "PO-1", 1]
    assert first[6] == 1000 and first[12] == 250 and first[13] == 750  # quantity, delivered, outstanding
    assert first[15] == "Yes" and "past the due date" in first[16]
    assert second[6] == 12.5 and second[10:14] == [12.5, 5, 0, 12.5]
    assert second[7].date() == fine.requested_date and second[8].date() == fine.confirmed_date
    assert second[9].date() == TODAY + timedelta(days=3)
    assert second[15] is None and second[14] == "Partly warehoused"
    # At-risk rows are filled light red, the others not.
    assert sheet.cell(row=HEADER_ROW + 1, column=1).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=HEADER_ROW + 2, column=1).fill.fill_type is None
    assert sheet.cell(row=HEADER_ROW + 1, column=8).number_format == "yyyy-mm-dd"


@pytest.mark.django_db
def test_an_empty_sheet_is_still_a_workbook(db):
    rows, sheet = sheet_rows(build_workbook(open_lines(TODAY), TODAY))
    assert rows == [] and "0 open lines" in sheet["A2"].value


# --- Sending at most once a day ---------------------------------------------------------------------------------


@pytest.fixture
def one_open_line(make_order, make_line):
    return make_line(make_order(), "100", requested=TODAY - timedelta(days=1))


def command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("send_delivery_progress", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_command_sends_once_a_second_run_says_so_and_force_sends_again(one_open_line, mailoutbox):
    output = command()
    assert "Sent the sheet for" in output and "1 open lines" in output
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["delivery-list@example.com"]
    assert "订单交货进度表" in message.subject and TODAY.isoformat() in message.subject
    assert "Open order lines: 1" in message.body and "At risk: 1" in message.body
    name, content, mimetype = message.attachments[0]
    assert name.endswith(".xlsx") and mimetype == XLSX
    rows, _sheet = sheet_rows(content)
    assert [r[0] for r in rows] == [one_open_line.order.number]
    run = DailySheetRun.objects.get()
    assert (run.status, run.attempts, run.rows, run.forced) == ("sent", 1, 1, False)
    assert run.recipients == ["delivery-list@example.com"] and run.sent_at and run.workbook
    with run.workbook.open("rb") as stored:
        assert stored.read() == content  # the file kept on the run is the one e-mailed

    output = command()
    assert "Not sent" in output and "already sent" in output and "--force" in output
    assert len(mailoutbox) == 1
    assert DailySheetRun.objects.count() == 1

    output = command("--force")
    assert "Sent the sheet" in output and "forced" in output
    assert len(mailoutbox) == 2
    assert "sent again" in mailoutbox[1].subject
    assert DailySheetRun.objects.filter(forced=True, status="sent").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_command_takes_a_date_and_refuses_a_bad_one(one_open_line, mailoutbox):
    command("--date", "2031-02-03")
    run = DailySheetRun.objects.get()
    assert run.day == date(2031, 2, 3) and run.status == "sent"
    assert "2031-02-03" in mailoutbox[0].subject
    # The day is the rule's "today": from 2031 the line is long overdue.
    assert "At risk: 1" in mailoutbox[0].body
    for bad in ("2031-02-30", "03/02/2031", "tomorrow"):
        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            command("--date", bad)
    assert DailySheetRun.objects.count() == 1


@pytest.mark.django_db
def test_the_morning_job_fired_twice_sends_once(one_open_line, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_daily_sheet.delay().get() is True
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_daily_sheet.delay().get() is False
    assert len(mailoutbox) == 1
    run = DailySheetRun.objects.get()
    assert run.day == timezone.localdate() and run.status == "sent"
    # A worker restart delivering the sending job again sends nothing either.
    tasks.send_sheet_run.delay(run.pk)
    assert len(mailoutbox) == 1
    run.refresh_from_db()
    assert run.attempts == 1


@pytest.mark.django_db
def test_the_beat_schedule_runs_the_job_at_the_configured_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["delivery-progress-sheet"]
    assert entry["task"] == tasks.send_daily_sheet.name
    hour, minute = (int(part) for part in settings.DELIVERY_SHEET_TIME.split(":"))
    assert entry["schedule"].hour == {hour} and entry["schedule"].minute == {minute}


@pytest.mark.django_db
def test_a_run_stuck_before_its_first_attempt_is_queued_again(
    one_open_line, mailoutbox, django_capture_on_commit_callbacks
):
    stuck = DailySheetRun.objects.create(day=TODAY)
    DailySheetRun.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        trigger = sheet_trigger(day=TODAY)
    assert trigger.queued and trigger.run.pk == stuck.pk
    stuck.refresh_from_db()
    assert stuck.status == "sent" and len(mailoutbox) == 1


# --- Failures: recorded, retried, never lost silently -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_smtp_failure_is_retried_recorded_and_ends_failed(one_open_line, mailoutbox, monkeypatch):
    calls = []

    def refuse(self, fail_silently=False):
        calls.append(self.subject)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    with pytest.raises(CommandError, match="failed after 6 attempts"):
        command()

    run = DailySheetRun.objects.get()
    assert run.status == "failed"
    assert run.attempts == len(calls) == tasks.SEND_RETRIES + 1
    assert "SMTPServerDisconnected" in run.error and "attempt 6" in run.error
    assert mailoutbox == []
    # The day is not sent twice by the schedule, but it can be sent again by hand.
    assert "failed" in command()
    monkeypatch.undo()
    command("--force")
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_succeeds_sends_once_on_the_same_run(one_open_line, mailoutbox, monkeypatch):
    real_send = EmailMessage.send
    failures = iter([smtplib.SMTPConnectError(421, "busy"), ConnectionRefusedError("refused")])

    def flaky(self, fail_silently=False):
        error = next(failures, None)
        if error:
            raise error
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", flaky)
    command()
    run = DailySheetRun.objects.get()
    assert (run.status, run.attempts, run.error) == ("sent", 3, "")
    assert len(mailoutbox) == 1


def test_the_backoff_grows_and_is_capped():
    assert [tasks.retry_countdown(n) for n in range(6)] == [60, 120, 240, 480, 960, 1800]


@pytest.mark.django_db(transaction=True)
def test_the_run_fails_visibly_when_nobody_is_on_the_list(one_open_line, settings, mailoutbox):
    settings.DELIVERY_SHEET_RECIPIENTS = []
    with pytest.raises(CommandError, match="no recipients"):
        command()
    run = DailySheetRun.objects.get()
    assert (run.status, run.attempts) == ("failed", 1)
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_recipients_default_to_the_active_users_of_the_departments(settings, users, make_user):
    settings.DELIVERY_SHEET_RECIPIENTS = []
    for name in ("cs", "pmc", "qa", "warehouse", "customs", "marketing", "tech", "rep", "admin"):
        users[name].email = f"{name}@example.com"
        users[name].save(update_fields=["email"])
    make_user("left", "pmc", email="left@example.com", is_active=False)
    make_user("twice", "pmc", "quality", email="Twice@example.com")
    expected = [f"{n}@example.com" for n in ("cs", "customs", "marketing", "pmc", "qa")] + ["Twice@example.com"]
    assert sheet_recipients() == sorted(expected, key=str.lower) + ["warehouse@example.com"]

    settings.DELIVERY_SHEET_RECIPIENTS = ["a@example.com", "A@example.com ", "b@example.com"]
    assert sheet_recipients() == ["a@example.com", "b@example.com"]


# --- The page, the download, "send again now" -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_the_sheet_to_every_department(client_for, make_order, make_line):
    order = make_order()
    risky = make_line(order, requested=TODAY - timedelta(days=1))
    fine = make_line(order, requested=TODAY + timedelta(days=20))

    response = client_for("warehouse").get(reverse("delivery:sheet"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="sheet-row-{risky.pk}" class="table-danger"' in html
    assert f'data-testid="sheet-row-{fine.pk}"' in html
    assert 'data-testid="summary-at-risk">1<' in html
    assert 'data-testid="sheet-send"' not in html  # Warehouse cannot send it again

    only_risk = client_for("warehouse").get(reverse("delivery:sheet"), {"risk": "1"}).content.decode()
    assert f"sheet-row-{risky.pk}" in only_risk and f"sheet-row-{fine.pk}" not in only_risk
    searched = client_for("warehouse").get(reverse("delivery:sheet"), {"q": "nothing-like-this"}).content.decode()
    assert "sheet-row-" not in searched


@pytest.mark.django_db
def test_the_download_is_the_sheet(client_for, one_open_line):
    response = client_for("qa").get(reverse("delivery:sheet_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert f"delivery-progress-{timezone.localdate().isoformat()}.xlsx" in response["Content-Disposition"]
    rows, _sheet = sheet_rows(response.content)
    assert [r[0] for r in rows] == [one_open_line.order.number]


@pytest.mark.django_db
def test_a_sent_sheet_can_be_downloaded_as_it_was_sent(
    client_for, one_open_line, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        command()
    run = DailySheetRun.objects.get()
    response = client_for("pmc").get(reverse("delivery:sheet_download"), {"run": run.pk})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == mailoutbox[0].attachments[0][1]  # read to the end: closed
    page = client_for("pmc").get(reverse("delivery:sheet")).content.decode()
    assert f'data-testid="sheet-run-{run.pk}"' in page and f"?run={run.pk}" in page
    assert client_for("pmc").get(reverse("delivery:sheet_download"), {"run": "999999"}).status_code == 404
    assert client_for("pmc").get(reverse("delivery:sheet_download"), {"run": "x"}).status_code == 404


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login(client):
    for name in ("sheet", "sheet_download"):
        response = client.get(reverse(f"delivery:{name}"))
        assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(reverse("delivery:sheet_send"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["cs", "admin"])
def test_customer_service_and_administrators_send_it_again_now(
    who, client_for, one_open_line, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(who)
    assert 'data-testid="sheet-send"' in client.get(reverse("delivery:sheet")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        command()  # the morning's sheet
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("delivery:sheet_send"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("delivery:sheet")
    assert "sent again" in response.content.decode()
    assert len(mailoutbox) == 2
    assert DailySheetRun.objects.filter(forced=True, status="sent").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["pmc", "marketing", "warehouse", "qa"])
def test_other_departments_cannot_send_it(who, client_for, mailoutbox):
    assert client_for(who).post(reverse("delivery:sheet_send")).status_code == 403
    assert client_for(who).get(reverse("delivery:sheet_send")).status_code == 405
    assert mailoutbox == [] and not DailySheetRun.objects.exists()


@pytest.mark.django_db
def test_with_a_worker_a_failure_is_recorded_and_retried_later_with_backoff(one_open_line, monkeypatch):
    """The worker path (not inline): the error is on the run, which stays "sending", and the job asks Celery
    to retry after the backoff; the next attempt reuses the same run."""
    from celery.exceptions import Retry

    run = DailySheetRun.objects.create(day=TODAY)
    asked = {}

    def retry(exc=None, countdown=None, **kwargs):
        asked.update(exc=exc, countdown=countdown)
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(EmailMessage, "send", lambda self, fail_silently=False: (_ for _ in ()).throw(OSError("down")))
    monkeypatch.setattr(tasks.send_sheet_run, "retry", retry)
    with pytest.raises(Retry):
        tasks.send_sheet_run.run(run.pk)  # as a worker calls it: not eager, first try
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("sending", 1)
    assert "OSError: down" in run.error
    assert asked["countdown"] == 60 and isinstance(asked["exc"], OSError)
