"""Batches, delivery notes, printing, sign-back, returns, delays and My work (§5.4 to §5.9)."""

import io
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from common.errors import DomainError
from delivery import services
from delivery.models import Carrier, CarrierAgreement, DeliveryNote, PrintJob, Return, Vehicle
from tests.delivery.conftest import TODAY, issue, plan, stock

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clause("5.4.1"),
    pytest.mark.clause("5.6.1"),
    pytest.mark.clause("5.8.1"),
    pytest.mark.clause("7.1"),
    pytest.mark.clause("4.0.2"),
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


# --- Batches ------------------------------------------------------------------------------------------


def test_a_line_is_split_into_batches_but_never_beyond_its_quantity(users, order):
    plan(users, order, quantity="600")
    plan(users, order, quantity="400", due=TODAY + timedelta(days=10))
    with pytest.raises(DomainError, match="more than ordered"):
        plan(users, order, quantity="1")


def test_no_batch_on_a_cancelled_order(users, entered):
    from orders import services as order_services

    draft = entered()
    order_services.order_submit(user=users["cs"], order=draft)
    order_services.change_request(
        user=users["cs"], order=draft, revision_seen=1, origin="company", reason="取消", kind="cancel"
    )
    draft.refresh_from_db()
    with pytest.raises(DomainError, match="cannot|Only a signed-off"):
        plan(users, draft)


# --- Delivery notes ------------------------------------------------------------------------------------


def test_notes_are_numbered_per_year_without_gaps_and_a_cancelled_one_keeps_its_number(users, order):
    batch = plan(users, order, quantity="1000")
    first = issue(users, (batch, "100"))
    second = issue(users, (batch, "100"))
    assert (first.number, second.number) == (f"DN-{TODAY.year}-00001", f"DN-{TODAY.year}-00002")
    services.note_cancel(user=users["cs"], note=first, reason="车辆故障,改天送")
    first.refresh_from_db()
    assert first.status == "cancelled" and first.number == f"DN-{TODAY.year}-00001" and first.cancel_reason
    third = issue(users, (batch, "800"))  # the cancelled 100 is free again: 1000 - 100 - 800 = 100 left
    assert third.number == f"DN-{TODAY.year}-00003"
    with pytest.raises(DomainError, match="already cancelled"):
        services.note_cancel(user=users["cs"], note=first, reason="x")


def test_delivering_more_than_ordered_is_refused(users, order):
    batch = plan(users, order, quantity="300")
    issue(users, (batch, "200"))
    with pytest.raises(DomainError, match="100 left to deliver"):
        issue(users, (batch, "150"))
    assert DeliveryNote.objects.count() == 1


def test_a_note_is_for_one_customer_and_one_address(users, order, deliverable, customer):
    from customers.models import Customer, DeliveryAddress

    other_customer = Customer.objects.create(code="C-0009", name_en="Other", status="active")
    DeliveryAddress.objects.create(customer=other_customer, label="x", address="y", is_default=True)
    from tests.orders.conftest import approve_evaluation

    approve_evaluation(users, other_customer)  # orders are entered only for evaluated customers (§5.2.2)
    other = deliverable(customer=other_customer, delivery_address=other_customer.addresses.get())
    with pytest.raises(DomainError, match="one customer and one delivery address"):
        issue(users, (plan(users, order), "10"), (plan(users, other), "10"))


def test_an_expired_carrier_cannot_be_chosen(users, order):
    carrier = Carrier.objects.create(name="顺达物流")
    CarrierAgreement.objects.create(
        carrier=carrier,
        reference="TA-1",
        protection_terms="防潮防压",
        valid_from=TODAY - timedelta(days=400),
        valid_to=TODAY - timedelta(days=1),
    )
    batch = plan(users, order)
    with pytest.raises(DomainError, match="no transport agreement valid"):
        issue(users, (batch, "10"), carrier=carrier)
    CarrierAgreement.objects.create(
        carrier=carrier, reference="TA-2", protection_terms="防潮", valid_from=TODAY, valid_to=TODAY + timedelta(365)
    )
    vehicle = Vehicle.objects.create(carrier=carrier, plate="粤S·12345")
    note = issue(users, (batch, "10"), carrier=carrier, vehicle=vehicle)
    assert note.carrier == carrier


def test_export_deliveries_carry_the_customs_checklist(users, order, customer):
    customer.trade = "export"
    customer.customs_code = "4419"
    customer.save()
    batch = plan(users, order)
    # What is not ticked at issue is Customs' work (tests/delivery/test_customs.py), not a refusal.
    checklist = {item["key"]: True for item in services.CUSTOMS_CHECKLIST}
    note = issue(users, (batch, "10"), customs_checklist=checklist)
    assert note.customs_checklist == checklist and note.customs_work.completed_at is not None


def test_issuing_tells_the_warehouse_quality_and_the_customer(
    users, order, mailoutbox, django_capture_on_commit_callbacks
):
    from datetime import datetime

    from django.utils import timezone

    for name in ("warehouse", "qa"):
        users[name].email = f"{name}@factory.example"
        users[name].save()
    arrival = timezone.make_aware(datetime.combine(TODAY, datetime.min.time()).replace(hour=15, minute=30))
    with django_capture_on_commit_callbacks(execute=True):
        note = issue(users, (plan(users, order), "100"), expected_arrival=arrival)
    to = {m.to[0]: m for m in mailoutbox}
    assert {"warehouse@factory.example", "qa@factory.example", "zhang@hongda.example"} <= set(to)
    customer_mail = to["zhang@hongda.example"].body
    assert note.number in customer_mail and "15:30" in customer_mail and TODAY.isoformat() in customer_mail


# --- Printing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout,width_mm", [("a4", 210), ("form241", 241)])
def test_the_printed_note_has_the_chinese_customer_and_items_in_both_layouts(
    client_for, users, order, layout, width_mm, caplog
):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    note = issue(users, (plan(users, order), "100"))
    response = client_for("warehouse").get(reverse("delivery:note_pdf", args=[note.number, layout]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "东莞宏达电子有限公司" in text and "灯罩" in text and note.number in text and "送货单" in text
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    assert abs(float(page.mediabox.width) - width_mm / 25.4 * 72) < 1
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


def test_many_notes_print_as_one_pdf_in_a_job_with_progress(
    client_for, users, order, django_capture_on_commit_callbacks
):
    batch = plan(users, order, quantity="1000")
    notes = [issue(users, (batch, "10")) for _ in range(7)]
    client = client_for("cs")
    with django_capture_on_commit_callbacks(execute=True):  # the job runs after commit (inline in tests)
        response = client.post(reverse("delivery:print"), {"note": [n.pk for n in notes], "layout": "a4"})
    job = PrintJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("delivery:print_job", args=[job.pk])
    assert job.status == "done" and job.done == 7  # inline jobs in tests
    page = client.get(reverse("delivery:print_job", args=[job.pk])).content.decode()
    assert "7 of 7 notes" in page
    pdf = client.get(reverse("delivery:print_job_pdf", args=[job.pk]))
    assert len(PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages) == 7
    few = client.post(reverse("delivery:print"), {"note": [notes[0].pk, notes[1].pk], "layout": "form241"})
    assert few["Content-Type"] == "application/pdf"  # a few notes print at once


# --- Sign-back, incidents, returns ------------------------------------------------------------------------


def test_the_sign_back_is_recorded_once_and_never_in_the_future(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    url = reverse("delivery:note_signback", args=[note.number])
    client = client_for("cs")
    future = {"signed_by_name": "李收货", "signed_on": (TODAY + timedelta(days=1)).isoformat()}
    page = client.post(url, {**future, "scan": SimpleUploadedFile("s.pdf", PDF)}, follow=True).content.decode()
    assert "in the future" in page
    page = client.post(
        url,
        {"signed_by_name": "李收货", "signed_on": TODAY.isoformat(), "scan": SimpleUploadedFile("s.csv", b"a,b")},
        follow=True,
    ).content.decode()
    assert "Attach a PDF or an image" in page
    assert not hasattr(DeliveryNote.objects.get(), "sign_back")
    client.post(
        url, {"signed_by_name": "李收货", "signed_on": TODAY.isoformat(), "scan": SimpleUploadedFile("s.pdf", PDF)}
    )
    note.refresh_from_db()
    assert note.sign_back.signed_by_name == "李收货"
    with pytest.raises(DomainError, match="already recorded"):
        services.signback_record(
            user=users["cs"], note=note, scan=SimpleUploadedFile("t.pdf", PDF), signed_by_name="x", signed_on=TODAY
        )
    with pytest.raises(DomainError, match="signed this note"):
        services.note_cancel(user=users["cs"], note=note, reason="x")


def test_returns_are_linked_to_the_note_line_and_quality_writes_the_memo(users, order):
    note = issue(users, (plan(users, order), "100"))
    line = note.lines.get()
    with pytest.raises(DomainError, match="At most 100"):
        services.return_record(user=users["cs"], note_line=line, quantity=Decimal("101"), reason="刮花")
    ret = services.return_record(
        user=users["cs"], note_line=line, quantity=Decimal("30"), reason="外观刮花", pickup_date=TODAY
    )
    with pytest.raises(DomainError, match="At most 70"):
        services.return_record(user=users["cs"], note_line=line, quantity=Decimal("71"), reason="x")
    with pytest.raises(PermissionDenied):
        services.return_memo(user=users["cs"], ret=ret, memo="x")
    memo = services.return_memo(user=users["qa"], ret=ret, memo="来料检验加严,包装加隔板")
    replaced = services.return_replace(user=users["cs"], ret=ret, due_date=TODAY + timedelta(days=3))
    assert replaced.replacement.quantity == 30 and replaced.replacement.line == line.batch.line
    # The write-up is a numbered memo (tests/delivery/test_returns.py), not the old text field.
    ret = Return.objects.get()
    assert list(ret.memos.all()) == [memo] and "来料检验" in memo.body and ret.quality_memo == ""


def test_an_incident_in_transit_is_recorded_against_the_note(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    client_for("cs").post(
        reverse("delivery:note_incident", args=[note.number]),
        {"happened_on": TODAY.isoformat(), "description": "途中遇雨,2 箱外箱受潮"},
    )
    page = client_for("qa").get(note.get_absolute_url()).content.decode()
    assert "2 箱外箱受潮" in page


# --- Progress, delays, My work ------------------------------------------------------------------------------


def test_pmc_reports_progress_and_a_delay_which_customer_service_settles_with_a_memo(users, order):
    from orders.models import Memo

    line = order.lines.get(position=1)
    services.progress_update(user=users["pmc"], line=line, planned_completion=TODAY, produced=Decimal("600"))
    with pytest.raises(PermissionDenied):
        services.progress_update(user=users["cs"], line=line, produced=Decimal("1"))
    report = services.delay_report(user=users["pmc"], line=line, reason="模具维修", new_date=TODAY + timedelta(9))
    line.progress.refresh_from_db()
    assert line.progress.planned_completion == TODAY + timedelta(9)
    services.delay_settle(user=users["cs"], report=report, outcome="客户同意延后 9 天")
    memo = Memo.objects.get()
    assert "模具维修" in memo.body and "客户同意延后" in memo.body and "warehouse" in memo.departments


def test_my_work_lists_batches_due_tomorrow_not_ready_and_notes_to_chase(client_for, users, order, settings):
    settings.SIGNBACK_CHASE_DAYS = 3
    plan(users, order, quantity="100", due=TODAY + timedelta(days=1))
    work = client_for("cs").get(reverse("accounts:my_work")).content.decode()
    assert "Due tomorrow and not ready" in work and order.number in work and "100 due tomorrow" in work
    old = plan(users, order, position=2, quantity="50", due=TODAY)
    note = issue(users, (old, "50"), delivery_date=TODAY - timedelta(days=4))
    work = client_for("cs").get(reverse("accounts:my_work")).content.decode()
    assert note.number in work and "sign-back" in work


def test_the_order_delivery_page_plans_batches_and_shows_progress(client_for, users, order):
    client = client_for("cs")
    url = reverse("delivery:order", args=[order.number])
    line = order.lines.get(position=1)
    client.post(reverse("delivery:batch_add", args=[line.pk]), {"quantity": "400", "due_date": TODAY.isoformat()})
    response = client.post(
        reverse("delivery:batch_add", args=[line.pk]), {"quantity": "700", "due_date": TODAY.isoformat()}, follow=True
    )
    assert "more than ordered" in response.content.decode()
    page = client.get(url).content.decode()
    assert "400" in page and line.product.code in page


def test_customer_service_issues_a_note_through_the_form(client_for, users, order):
    batch = plan(users, order, quantity="300")
    stock(users, batch.line, "300")
    client = client_for("cs")
    form = client.get(reverse("delivery:note_create"), {"customer": order.customer.code}).content.decode()
    assert f'name="qty_{batch.pk}"' in form
    response = client.post(
        reverse("delivery:note_create") + f"?customer={order.customer.code}",
        {"customer": order.customer.code, f"qty_{batch.pk}": "abc", "delivery_date": TODAY.isoformat()},
    )
    assert "is not a number" in response.content.decode() and not DeliveryNote.objects.exists()
    response = client.post(
        reverse("delivery:note_create") + f"?customer={order.customer.code}",
        {"customer": order.customer.code, f"qty_{batch.pk}": "300", "delivery_date": TODAY.isoformat()},
    )
    note = DeliveryNote.objects.get()
    assert response.status_code == 302 and response["Location"] == note.get_absolute_url()


@pytest.mark.parametrize(
    "name,capability",
    [("note_create", "delivery.edit"), ("notes", "delivery.view"), ("carriers", "delivery.view")],
)
def test_delivery_pages_by_role(client, users, order, name, capability):
    from accounts.roles import MATRIX
    from tests.conftest import ROLE_USERS

    for role, dept in ROLE_USERS.items():
        client.force_login(users[role])
        status = client.get(reverse(f"delivery:{name}")).status_code
        assert (status != 403) == (dept in MATRIX[capability]), (role, status)


def test_delivery_actions_by_role(client, users, order):
    from accounts.roles import MATRIX
    from tests.conftest import ROLE_USERS

    note = issue(users, (plan(users, order), "100"))
    line = order.lines.get(position=1)
    actions = [
        (reverse("delivery:note_cancel", args=[note.number]), "delivery.edit"),
        (reverse("delivery:note_signback", args=[note.number]), "delivery.edit"),
        (reverse("delivery:batch_add", args=[line.pk]), "delivery.edit"),
        (reverse("delivery:progress", args=[line.pk]), "progress.edit"),
        (reverse("delivery:delay_add", args=[line.pk]), "progress.edit"),
        (reverse("delivery:carrier_add", args=["carrier"]), "carrier.edit"),
    ]
    for url, capability in actions:
        for role, dept in ROLE_USERS.items():
            client.force_login(users[role])
            status = client.post(url, {}).status_code
            assert status < 500 and (status != 403) == (dept in MATRIX[capability]), (url, role, status)


def test_batches_due_tomorrow_and_not_ready_are_announced(users, order, mailoutbox):
    from delivery.notify import announce_not_ready

    for name in ("cs", "pmc", "qa"):
        users[name].email = f"{name}@factory.example"
        users[name].save()
    assert announce_not_ready() == 0  # nothing due tomorrow: no mail
    plan(users, order, quantity="100", due=TODAY + timedelta(days=1))
    assert announce_not_ready() == 2
    recipients = {m.to[0] for m in mailoutbox}
    assert recipients == {"cs@factory.example", "pmc@factory.example"}
    assert order.number in mailoutbox[0].body and "not ready" in mailoutbox[0].subject
    services.progress_update(user=users["pmc"], line=order.lines.get(position=1), warehoused=Decimal("100"))
    mailoutbox.clear()
    assert announce_not_ready() == 0  # warehoused: ready


def test_lines_at_risk_are_in_my_work_for_customer_service_and_marketing(client_for, users, order):
    line = order.lines.get(position=1)
    services.progress_update(user=users["pmc"], line=line, planned_completion=line.requested_date)
    for name in ("cs", "marketing"):
        work = client_for(name).get(reverse("accounts:my_work")).content.decode()
        assert "Order lines at risk" in work and order.number in work, name
    assert "Order lines at risk" not in client_for("qa").get(reverse("accounts:my_work")).content.decode()
