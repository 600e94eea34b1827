"""The vehicle dispatch request (《车辆调度申请单》, §5.6.1) and what the customer and the staff are told (§5.6.1)."""

import io
import logging
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from delivery.models import Carrier, CarrierAgreement, DispatchRequest, Vehicle
from tests.delivery.conftest import TODAY, issue, plan

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.6.1"), pytest.mark.clause("7.1")]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


@pytest.fixture
def carrier(db):
    carrier = Carrier.objects.create(name="顺达物流", phone="0769-1234")
    CarrierAgreement.objects.create(
        carrier=carrier,
        reference="TA-1",
        protection_terms="防潮防压",
        valid_from=TODAY - timedelta(days=30),
        valid_to=TODAY + timedelta(days=300),
    )
    return carrier


def test_it_opens_a_numbered_dispatch_request_with_each_note(users, order, carrier):
    vehicle = Vehicle.objects.create(carrier=carrier, plate="粤S·12345", kind="4.2 m")
    batch = plan(users, order, quantity="500")
    arrival = timezone.make_aware(datetime.combine(TODAY, datetime.min.time()).replace(hour=16))
    first = issue(users, (batch, "100"), carrier=carrier, vehicle=vehicle, expected_arrival=arrival)
    second = issue(users, (batch, "100"))
    year = timezone.localdate().year
    assert first.dispatch.number == f"VD-{year}-00001" and second.dispatch.number == f"VD-{year}-00002"
    request = first.dispatch
    assert (request.carrier, request.vehicle, request.use_date) == (carrier, vehicle, first.delivery_date)
    assert request.destination == first.address.address and request.expected_arrival == arrival
    assert request.requested_by == users["cs"]
    # A note without a carrier still has its request: the vehicle is to arrange.
    assert second.dispatch.carrier is None


def test_a_refused_note_takes_no_dispatch_number(users, order):
    batch = plan(users, order, quantity="100")
    with pytest.raises(Exception):  # noqa: B017 - any refusal of the service
        issue(users, (batch, "999"))
    issue(users, (batch, "100"))
    assert list(DispatchRequest.objects.values_list("number", flat=True)) == [f"VD-{timezone.localdate().year}-00001"]


@pytest.mark.parametrize("layout,width_mm", [("a4", 210), ("form241", 241)])
def test_the_dispatch_request_prints_on_its_own_in_both_layouts(
    client_for, users, order, carrier, layout, width_mm, caplog
):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    vehicle = Vehicle.objects.create(carrier=carrier, plate="粤S·12345")
    note = issue(users, (plan(users, order), "100"), carrier=carrier, vehicle=vehicle)
    response = client_for("warehouse").get(reverse("delivery:dispatch_pdf", args=[note.dispatch.number, layout]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "车辆调度申请单" in text and note.dispatch.number in text and note.number in text
    assert "顺达物流" in text and "粤S·12345" in text and "东莞宏达电子有限公司" in text and "灯罩" in text
    # Its own document: the delivery note's title is not on it.
    assert "送货单 Delivery note No." not in text
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    assert abs(float(reader.pages[0].mediabox.width) - width_mm / 25.4 * 72) < 1
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


def test_the_note_page_and_the_a4_note_name_the_dispatch_request(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    page = client_for("warehouse").get(note.get_absolute_url()).content.decode()
    assert note.dispatch.number in page
    assert reverse("delivery:dispatch_pdf", args=[note.dispatch.number, "form241"]) in page
    response = client_for("warehouse").get(reverse("delivery:note_pdf", args=[note.number, "a4"]))
    assert f"No. {note.dispatch.number}" in pdf_text(response.content)


def test_an_unknown_layout_or_request_is_not_found(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    client = client_for("cs")
    assert client.get(reverse("delivery:dispatch_pdf", args=[note.dispatch.number, "letter"])).status_code == 404
    assert client.get(reverse("delivery:dispatch_pdf", args=["VD-1999-00001", "a4"])).status_code == 404


# --- What people are told ---------------------------------------------------------------------------------------


def test_the_shipping_notice_states_the_notes_shipping_date(
    users, order, mailoutbox, django_capture_on_commit_callbacks
):
    # The goods left yesterday and the note is entered today: the customer reads the day they left, not "today".
    yesterday = TODAY - timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        note = issue(users, (plan(users, order), "100"), delivery_date=yesterday)
    mail = next(m for m in mailoutbox if m.to == ["zhang@hongda.example"])
    assert yesterday.isoformat() in mail.subject
    assert f"我司安排于 {yesterday.isoformat()} 发货" in mail.body and f"on {yesterday.isoformat()}" in mail.body
    assert "今日" not in mail.body and note.number in mail.body


def test_staff_are_told_in_their_own_language(users, order, mailoutbox, django_capture_on_commit_callbacks):
    users["warehouse"].email, users["warehouse"].language = "wh@factory.example", "zh-hans"
    users["qa"].email, users["qa"].language = "qa@factory.example", "en"
    for name in ("warehouse", "qa"):
        users[name].save()
    with django_capture_on_commit_callbacks(execute=True):
        note = issue(users, (plan(users, order), "100"))
    to = {m.to[0]: m for m in mailoutbox}
    assert to["wh@factory.example"].subject.startswith(f"送货单 {note.number} 已开出")
    assert to["qa@factory.example"].subject.startswith(f"Delivery note {note.number} issued")
