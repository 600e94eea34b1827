"""Transfers (结转, §5.9.2), the reports of §5.9 with totals and export, and who-and-when with history for a
transfer's completion, Quality's return memo and a quality problem's fix."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from common.errors import DomainError
from customers import services as customer_services
from customers.models import QualityProblem
from delivery import customs, services
from delivery.models import CustomsWork, DeliveryNote
from tests.delivery.conftest import TODAY, issue, plan

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.9.1"), pytest.mark.clause("5.9.2")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_transfer_customer(customer):
    customer.trade = "transfer"
    customer.customs_code = "4419"
    customer.save()


@pytest.fixture
def transfer_note(users, order, customer):
    make_transfer_customer(customer)
    return issue(users, (plan(users, order), "100"), delivery_date=TODAY - timedelta(days=3))


def test_a_transfer_is_completed_once_with_who_and_when(users, transfer_note):
    work = customs.transfer_complete(user=users["customs"], note=transfer_note, on=TODAY - timedelta(days=1))
    assert (work.completed_on, work.completed_by) == (TODAY - timedelta(days=1), users["customs"])
    assert work.completed_at is not None
    transfer_note.refresh_from_db()
    assert transfer_note.transfer_completed_on == TODAY - timedelta(days=1)
    assert work.history.latest().history_user == users["customs"]
    with pytest.raises(DomainError, match="already recorded"):
        customs.transfer_complete(user=users["cs"], note=transfer_note, on=TODAY)


def test_a_transfer_is_completed_only_on_an_issued_note_of_a_processing_trade_customer(users, order, customer):
    domestic = issue(users, (plan(users, order), "10"))
    with pytest.raises(DomainError, match="processing-trade"):
        customs.transfer_complete(user=users["customs"], note=domestic, on=TODAY)
    customer.trade, customer.customs_code = "export", "4419"
    customer.save()
    export = issue(users, (plan(users, order, position=2, quantity="10"), "10"))
    with pytest.raises(DomainError, match="processing-trade"):
        customs.transfer_complete(user=users["customs"], note=export, on=TODAY)
    make_transfer_customer(customer)
    cancelled = issue(users, (plan(users, order, quantity="10"), "10"))
    services.note_cancel(user=users["cs"], note=cancelled, reason="开错 issued by mistake")
    with pytest.raises(DomainError, match="cancelled"):
        customs.transfer_complete(user=users["customs"], note=cancelled, on=TODAY)
    assert not CustomsWork.objects.filter(completed_at__isnull=False).exists()
    assert not DeliveryNote.objects.filter(transfer_completed_on__isnull=False).exists()


def test_a_transfer_date_is_neither_in_the_future_nor_before_the_delivery(users, transfer_note):
    with pytest.raises(DomainError, match="future"):
        customs.transfer_complete(user=users["customs"], note=transfer_note, on=TODAY + timedelta(days=1))
    with pytest.raises(DomainError, match="before the delivery"):
        customs.transfer_complete(user=users["customs"], note=transfer_note, on=TODAY - timedelta(days=4))
    with pytest.raises(PermissionDenied):
        customs.transfer_complete(user=users["warehouse"], note=transfer_note, on=TODAY)


def test_customs_records_the_transfer_on_the_note_page(client_for, users, transfer_note):
    client = client_for("customs")
    page = client.get(transfer_note.get_absolute_url()).content.decode()
    assert 'data-testid="transfer-form"' in page
    url = reverse("delivery:note_transfer", args=[transfer_note.number])
    response = client.post(url, {"completed_on": (TODAY + timedelta(days=2)).isoformat()})
    html = response.content.decode()
    assert response.status_code == 422 and 'id="error_1_id_completed_on"' in html and "future" in html
    response = client.post(url, {"completed_on": TODAY.isoformat()})
    assert response.status_code == 302
    page = client.get(transfer_note.get_absolute_url()).content.decode()
    assert 'data-testid="transfer-done"' in page and str(users["customs"]) in page


# --- Reports (§5.9) ---------------------------------------------------------------------------------------------


def sign_back(users, note, on):
    services.signback_record(
        user=users["cs"],
        note=note,
        scan=SimpleUploadedFile("s.pdf", PDF, content_type="application/pdf"),
        signed_by_name="张伟",
        signed_on=on,
    )


@pytest.fixture
def period(users, order, customer):
    """Two notes signed back (100 + 50), a third still unsigned; all three to a transfer customer, one transferred."""
    customer.name_zh = '=HYPERLINK("http://evil")'  # a name that a spreadsheet would run as a formula
    customer.save()
    make_transfer_customer(customer)
    batch = plan(users, order, quantity="300")
    day = TODAY - timedelta(days=2)
    notes = [issue(users, (batch, qty), delivery_date=day) for qty in ("100", "50", "30")]
    sign_back(users, notes[0], day)
    sign_back(users, notes[1], TODAY)
    customs.transfer_complete(user=users["customs"], note=notes[0], on=TODAY)
    return notes


def test_the_reports_have_totals(client_for, period):
    response = client_for("cs").get(
        reverse("delivery:reports"), {"from": (TODAY - timedelta(days=7)).isoformat(), "to": TODAY.isoformat()}
    )
    data = response.context["data"]
    assert [n.number for n in data.signed] == [period[0].number, period[1].number]
    assert data.signed_total == Decimal("150")
    assert [n.number for n in data.transfers] == [period[1].number, period[2].number]
    assert data.transfers_total == Decimal("80")
    assert [w.note.number for w in data.completed] == [period[0].number]
    html = response.content.decode()
    assert "Total: 2 notes" in html and "150" in html and "80" in html


def test_the_reports_export_to_excel_with_totals_and_safe_text(client_for, period):
    response = client_for("marketing").get(
        reverse("delivery:reports"),
        {"from": (TODAY - timedelta(days=7)).isoformat(), "to": TODAY.isoformat(), "export": "xlsx"},
    )
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    signed, open_, done = (list(ws.iter_rows(values_only=True)) for ws in book.worksheets)
    assert len(signed) == 1 + 2 + 1 and signed[-1][0] == "合计 Total: 2" and signed[-1][-1] == 150
    assert open_[-1][0] == "合计 Total: 2" and open_[-1][-1] == 80
    assert done[1][0] == period[0].number and done[-1][0] == "合计 Total: 1"
    # The customer's name is text, never a formula.
    cell = book.worksheets[0].cell(row=2, column=2)
    assert cell.data_type == "s" and cell.value.endswith('=HYPERLINK("http://evil")')


# --- Who and when, with history ---------------------------------------------------------------------------------


def test_a_quality_problems_fix_keeps_who_and_when_with_history(users, customer):
    problem = customer_services.quality_problem_add(
        user=users["qa"],
        problem=QualityProblem(customer=customer, reported_on=TODAY - timedelta(days=5), description="毛刺"),
    )
    fixed = customer_services.quality_problem_fix(
        user=users["qa"], problem=problem, corrective_action="模具修整", fixed_on=TODAY
    )
    assert fixed.fixed_by == users["qa"] and fixed.fixed_at is not None
    latest = fixed.history.latest()
    assert latest.status == "fixed" and latest.history_user == users["qa"] and latest.corrective_action == "模具修整"
    with pytest.raises(DomainError, match="already marked fixed"):
        customer_services.quality_problem_fix(user=users["qa"], problem=problem, corrective_action="x", fixed_on=TODAY)


def test_a_quality_fix_is_not_dated_in_the_future_nor_before_the_report(users, customer):
    problem = customer_services.quality_problem_add(
        user=users["qa"], problem=QualityProblem(customer=customer, reported_on=TODAY, description="色差")
    )
    with pytest.raises(DomainError, match="future"):
        customer_services.quality_problem_fix(
            user=users["qa"], problem=problem, corrective_action="x", fixed_on=TODAY + timedelta(days=1)
        )
    with pytest.raises(DomainError, match="before it was reported"):
        customer_services.quality_problem_fix(
            user=users["qa"], problem=problem, corrective_action="x", fixed_on=TODAY - timedelta(days=1)
        )


def test_a_returns_memo_and_steps_keep_who_and_when_with_history(users, order):
    note = issue(users, (plan(users, order), "100"), delivery_date=TODAY - timedelta(days=1))
    ret = services.return_record(user=users["cs"], note_line=note.lines.get(), quantity=Decimal("5"), reason="破损")
    memo = services.return_memo(user=users["qa"], ret=ret, memo="包装不足,已改进")
    assert (memo.issued_by, memo.issued_at is not None) == (users["qa"], True)
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    services.return_close(user=users["cs"], ret=ret)
    ret.refresh_from_db()
    history = list(ret.history.order_by("history_date", "history_id"))
    assert [h.status for h in history][-2:] == ["picked_up", "closed"]
    assert history[-1].history_user == users["cs"] and history[-1].closed_by_id == users["cs"].pk
