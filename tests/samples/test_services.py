"""Sample requests, sample notes, receipts and verdicts through the services: the status flow and each guard
(§4.0.2 sample deliveries, §5.8.1 their signed receipts, §5.2.4.3 the customer's written approval)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from common.errors import DomainError
from samples import services
from samples.models import SampleNote, SampleRequest, SampleVerdict
from tests.samples.conftest import TODAY, ask, deliver, judge, receive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("4.0.2")]


# --- Requests ----------------------------------------------------------------------------------------------------


def test_marketing_or_technical_ask_for_samples_in_their_own_department(users, customer, products):
    sample = ask(users, customer, products["base"], who="marketing")
    assert (
        sample.status == "requested" and sample.department == "marketing" and sample.requested_by == users["marketing"]
    )
    with pytest.raises(DomainError, match="your own department"):
        ask(users, customer, products["base"], who="marketing", department="technical")
    with pytest.raises(PermissionDenied):
        ask(users, customer, products["base"], who="cs", department="marketing")


@pytest.mark.parametrize(
    "change,message",
    [
        ({"description": "  "}, "what is asked"),
        ({"quantity": Decimal("0")}, "more than zero"),
        ({"kind": "other"}, "new or changed"),
        ({"requested_date": date(1900, 1, 1)}, "plausible"),
        ({"department": "quality"}, "Marketing or Technical"),
    ],
)
def test_a_request_without_what_it_needs_is_refused(users, customer, products, change, message):
    with pytest.raises(DomainError, match=message):
        ask(users, customer, products["base"], **change)
    assert not SampleRequest.objects.exists()


def test_the_unit_defaults_to_the_products(users, customer, products):
    assert ask(users, customer, products["base"], unit="").unit == products["base"].unit


def test_a_waiting_request_can_be_cancelled_with_a_reason_and_then_gets_no_note(users, sample):
    with pytest.raises(DomainError, match="why"):
        services.request_cancel(user=users["tech"], request=sample, reason=" ")
    services.request_cancel(user=users["tech"], request=sample, reason="客户取消项目")
    sample.refresh_from_db()
    assert sample.status == "cancelled" and sample.cancel_reason == "客户取消项目" and sample.cancelled_by
    with pytest.raises(DomainError, match="cancelled"):
        deliver(users, sample)


def test_a_delivered_request_cannot_be_cancelled(users, sample):
    deliver(users, sample)
    with pytest.raises(DomainError, match="cannot be cancelled"):
        services.request_cancel(user=users["tech"], request=sample, reason="x")


# --- Sample notes ------------------------------------------------------------------------------------------------


def test_sample_notes_are_numbered_per_year_without_gaps_in_their_own_series(users, sample, customer, products):
    first = deliver(users, sample, quantity=Decimal("2"))
    second = deliver(users, sample, quantity=Decimal("3"))
    assert (first.number, second.number) == (f"SN-{TODAY.year}-00001", f"SN-{TODAY.year}-00002")
    services.note_cancel(user=users["cs"], note=second, reason="地址写错")
    second.refresh_from_db()
    assert second.status == "cancelled" and second.number == f"SN-{TODAY.year}-00002"
    # A refused note uses no number: the next one follows on.
    with pytest.raises(DomainError):
        deliver(users, sample, delivery_date=TODAY + timedelta(days=1))
    other = ask(users, customer, products["lamp"], kind="changed")
    assert deliver(users, other).number == f"SN-{TODAY.year}-00003"


def test_each_year_starts_its_own_sample_note_series_and_leaves_delivery_notes_alone(users, sample):
    from delivery.models import NoteCounter

    deliver(users, sample)
    with transaction.atomic():
        assert services.next_note_number(date(TODAY.year + 1, 1, 2)) == f"SN-{TODAY.year + 1}-00001"
        assert services.next_note_number(date(TODAY.year + 1, 1, 3)) == f"SN-{TODAY.year + 1}-00002"
        assert services.next_note_number(TODAY) == f"SN-{TODAY.year}-00002"
    assert not NoteCounter.objects.exists()  # delivery notes keep their own series


def test_a_sample_note_copies_what_it_says_and_moves_the_request_to_delivered(users, sample, products):
    note = deliver(users, sample, remarks="易碎")
    sample.refresh_from_db()
    assert sample.status == "delivered"
    assert (note.product_code, note.product_name, note.unit) == ("P-2", "底座", "PCS")
    assert note.address_text == "东莞市长安镇1号" and note.customer_id == sample.customer_id
    products["base"].name = "底座 v2"
    products["base"].save()
    note.refresh_from_db()
    assert note.product_name == "底座"  # the issued note keeps what it said


def test_a_sample_note_is_never_dated_in_the_future_nor_to_another_customers_address(users, sample):
    from customers.models import Customer, DeliveryAddress

    with pytest.raises(DomainError, match="future"):
        deliver(users, sample, delivery_date=TODAY + timedelta(days=1))
    stranger = Customer.objects.create(code="C-0099", name_en="Stranger", status="active")
    address = DeliveryAddress.objects.create(customer=stranger, label="x", address="y", is_default=True)
    with pytest.raises(DomainError, match="customer's delivery addresses"):
        deliver(users, sample, address=address)
    with pytest.raises(DomainError, match="before they were asked"):
        deliver(users, sample, delivery_date=TODAY - timedelta(days=3))
    with pytest.raises(PermissionDenied):
        deliver(users, sample, user=users["tech"])
    assert not SampleNote.objects.exists()


def test_a_cancelled_last_note_puts_the_request_back_to_waiting(users, sample):
    note = deliver(users, sample)
    with pytest.raises(DomainError, match="why"):
        services.note_cancel(user=users["cs"], note=note, reason="")
    services.note_cancel(user=users["cs"], note=note, reason="样品破损, 重新安排")
    sample.refresh_from_db()
    assert sample.status == "requested"
    with pytest.raises(DomainError, match="already cancelled"):
        services.note_cancel(user=users["cs"], note=note, reason="again")


def test_a_signed_note_or_one_with_a_verdict_cannot_be_cancelled(users, sample):
    signed = deliver(users, sample)
    receive(users, signed)
    with pytest.raises(DomainError, match="signed for"):
        services.note_cancel(user=users["cs"], note=signed, reason="x")
    unsigned = deliver(users, sample)
    judge(users, sample)
    with pytest.raises(DomainError, match="verdict"):
        services.note_cancel(user=users["cs"], note=unsigned, reason="x")


# --- Receipts ----------------------------------------------------------------------------------------------------


def test_the_signed_receipt_is_recorded_once_with_scan_signer_and_date(users, sample):
    note = deliver(users, sample)
    receipt = receive(users, note)
    assert receipt.signed_by_name == "李收货" and receipt.scan.name.startswith("samples/receipts/")
    with pytest.raises(DomainError, match="already recorded"):
        receive(users, note)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"signed_on": TODAY + timedelta(days=1)}, "future"),
        ({"signed_on": TODAY - timedelta(days=1)}, "before the delivery date"),
        ({"signed_by_name": "  "}, "name of the customer's signer"),
        ({"scan": None}, "scan"),
    ],
)
def test_a_receipt_that_cannot_be_true_is_refused(users, sample, change, message):
    note = deliver(users, sample)
    with pytest.raises(DomainError, match=message):
        receive(users, note, **change)
    assert not hasattr(SampleNote.objects.get(pk=note.pk), "receipt")


def test_a_cancelled_note_is_not_signed_for(users, sample):
    note = deliver(users, sample)
    services.note_cancel(user=users["cs"], note=note, reason="重开")
    with pytest.raises(DomainError, match="cancelled"):
        receive(users, note)


# --- Verdicts ----------------------------------------------------------------------------------------------------


@pytest.mark.clause("5.2.4.3")
def test_the_customers_written_verdict_decides_the_request(users, sample):
    with pytest.raises(DomainError, match="delivered samples"):
        judge(users, sample)  # nothing delivered yet
    deliver(users, sample)
    verdict = judge(users, sample, outcome="approved_cond", conditions="颜色按色板 C-3", who="marketing")
    sample.refresh_from_db()
    assert sample.status == "approved_cond" and sample.approved
    assert verdict.document.name.startswith("samples/verdicts/") and verdict.recorded_by == users["marketing"]
    with pytest.raises(DomainError, match="delivered samples"):
        judge(users, sample)  # a verdict is a record: no second one on the same samples


@pytest.mark.clause("5.2.4.3")
@pytest.mark.parametrize(
    "change,message",
    [
        ({"outcome": "approved_cond", "conditions": " "}, "conditions"),
        ({"outcome": "approved", "conditions": "some"}, "Conditions go with"),
        ({"outcome": "maybe"}, "Choose the customer's verdict"),
        ({"document": None}, "Attach the customer's written verdict"),
        ({"document_date": TODAY + timedelta(days=1)}, "future"),
        ({"document_date": TODAY - timedelta(days=1)}, "before the samples were delivered"),
    ],
)
def test_a_verdict_without_the_customers_document_or_conditions_is_refused(users, sample, change, message):
    deliver(users, sample)
    with pytest.raises(DomainError, match=message):
        judge(users, sample, **change)
    sample.refresh_from_db()
    assert sample.status == "delivered" and not SampleVerdict.objects.exists()


def test_the_database_refuses_an_approval_with_conditions_that_names_none(users, sample):
    deliver(users, sample)
    with pytest.raises(IntegrityError), transaction.atomic():
        SampleVerdict.objects.create(
            request=sample,
            outcome="approved_cond",
            conditions="",
            document="x.pdf",
            document_date=TODAY,
            recorded_by=users["tech"],
        )


def test_customer_service_cannot_record_a_verdict(users, sample):
    deliver(users, sample)
    with pytest.raises(PermissionDenied):
        judge(users, sample, who="cs")


def test_a_rejected_sample_is_delivered_again_and_gets_a_new_verdict(users, sample):
    deliver(users, sample)
    judge(users, sample, outcome="rejected")
    sample.refresh_from_db()
    assert sample.status == "rejected" and not sample.approved
    again = deliver(users, sample)
    sample.refresh_from_db()
    assert sample.status == "delivered"
    services.note_cancel(user=users["cs"], note=again, reason="发错样")
    sample.refresh_from_db()
    assert sample.status == "rejected"  # back to the earlier round's verdict
    deliver(users, sample)
    judge(users, sample, outcome="approved")
    sample.refresh_from_db()
    assert sample.status == "approved" and [v.outcome for v in sample.verdicts.all()] == ["rejected", "approved"]
    with pytest.raises(DomainError, match="approved"):
        deliver(users, sample)


# --- History and the on-time rate ----------------------------------------------------------------------------------


def test_every_step_is_kept_in_the_history_with_who_did_it(users, sample):
    note = deliver(users, sample)
    receive(users, note)
    judge(users, sample)
    statuses = [(h.status, h.history_user) for h in sample.history.order_by("history_date", "history_id")]
    assert statuses == [("requested", users["tech"]), ("delivered", users["cs"]), ("approved", users["tech"])]
    assert note.history.get().history_user == users["cs"]
    assert note.receipt.history.get().history_user == users["cs"]
    assert sample.verdicts.get().history.get().history_user == users["tech"]
