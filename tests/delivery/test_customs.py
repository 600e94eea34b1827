"""Customs' work (§5.6.2, §5.9.2): the export paperwork of direct exports and the transfers (结转) of
processing-trade customers reach Customs' My work; Customer Service assists and sees the state."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.work import sections_for
from common.errors import DomainError
from delivery import customs
from delivery.models import CustomsWork
from tests.delivery.conftest import TODAY, issue, plan

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.6.2"), pytest.mark.clause("5.9.2")]


def trade(customer, kind):
    customer.trade = kind
    customer.customs_code = "4419" if kind != "domestic" else ""
    customer.save()


def section(user, title):
    return next((s for s in sections_for(user) if s.title.startswith(title)), None)


def test_an_export_note_puts_its_paperwork_in_customs_my_work(users, order, customer):
    trade(customer, "export")
    note = issue(users, (plan(users, order), "10"), customs_checklist={"invoice_packing_list": True})
    work = note.customs_work
    assert work.kind == CustomsWork.Kind.EXPORT and work.completed_at is None
    # Customer Service ticked what it prepared: kept with who.
    assert set(work.done) == {"invoice_packing_list"} and work.done["invoice_packing_list"]["by"] == users["cs"].pk
    todo = section(users["customs"], "Export paperwork to do")
    assert todo.total == 1 and note.number in todo.items[0].label
    assert "Customs declaration" in todo.items[0].detail and "Invoice" not in todo.items[0].detail
    # Customer Service assists: it sees the same work, saying whose it is; others do not.
    assist = section(users["cs"], "Export paperwork to do")
    assert assist.total == 1 and "you assist" in assist.title
    assert section(users["warehouse"], "Export paperwork to do") is None


def test_customs_records_each_paper_with_who_and_when_and_the_last_completes_it(client_for, users, order, customer):
    trade(customer, "export")
    note = issue(users, (plan(users, order), "10"))
    client = client_for("customs")
    for key in customs.EXPORT_KEYS:
        response = client.post(reverse("delivery:export_item", args=[note.number, key]))
        assert response.status_code == 302
    work = CustomsWork.objects.get(note=note)
    assert all(work.done[key]["by"] == users["customs"].pk for key in customs.EXPORT_KEYS)
    assert work.completed_by == users["customs"] and work.completed_on == TODAY
    assert section(users["customs"], "Export paperwork to do").total == 0
    # The history keeps each step with its author.
    assert [h.history_user for h in work.history.order_by("history_date")][-1] == users["customs"]
    assert work.history.count() == 1 + len(customs.EXPORT_KEYS)
    page = client.get(note.get_absolute_url()).content.decode()
    assert "Released by customs" in page and str(users["customs"]) in page


def test_a_paper_is_recorded_once_and_only_by_customs_or_customer_service(users, order, customer):
    trade(customer, "export")
    note = issue(users, (plan(users, order), "10"))
    customs.export_item_done(user=users["cs"], note=note, key="customs_declaration")
    with pytest.raises(DomainError, match="already recorded"):
        customs.export_item_done(user=users["customs"], note=note, key="customs_declaration")
    with pytest.raises(DomainError, match="Unknown"):
        customs.export_item_done(user=users["customs"], note=note, key="handbook")
    with pytest.raises(PermissionDenied):
        customs.export_item_done(user=users["warehouse"], note=note, key="customs_release")


def test_the_export_checklist_is_for_direct_exports_only(client_for, users, order, customer):
    trade(customer, "transfer")
    batch = plan(users, order)
    form = client_for("cs").get(reverse("delivery:note_create"), {"customer": customer.code}).content.decode()
    assert "customs_declaration" not in form and "报关单" not in form
    # Even if a checklist is passed, a transfer customer's note carries none: its work is the transfer.
    note = issue(users, (batch, "10"), customs_checklist={key: True for key in customs.EXPORT_KEYS})
    assert note.customs_checklist == {} and note.customs_work.kind == CustomsWork.Kind.TRANSFER
    with pytest.raises(DomainError, match="Only direct exports"):
        customs.export_item_done(user=users["customs"], note=note, key="customs_declaration")
    todo = section(users["customs"], "Processing-trade transfers to complete")
    assert todo.total == 1 and note.number in todo.items[0].label
    trade(customer, "export")
    form = client_for("cs").get(reverse("delivery:note_create"), {"customer": customer.code}).content.decode()
    assert "customs_customs_declaration" in form


def test_a_domestic_delivery_has_no_customs_work(users, order):
    note = issue(users, (plan(users, order), "10"), customs_checklist={"customs_declaration": True})
    assert note.customs_checklist == {} and not CustomsWork.objects.filter(note=note).exists()
    assert section(users["customs"], "Export paperwork to do").total == 0


def test_a_cancelled_note_leaves_customs_work(users, order, customer):
    from delivery import services

    trade(customer, "export")
    note = issue(users, (plan(users, order), "10"))
    services.note_cancel(user=users["cs"], note=note, reason="客户改期 the customer moved the date")
    assert section(users["customs"], "Export paperwork to do").total == 0
    with pytest.raises(DomainError, match="cancelled"):
        customs.export_item_done(user=users["customs"], note=note, key="customs_declaration")


def test_customs_actions_by_role(client, users, order, customer):
    from accounts.roles import MATRIX
    from tests.conftest import ROLE_USERS

    trade(customer, "export")
    note = issue(users, (plan(users, order), "10"))
    url = reverse("delivery:export_item", args=[note.number, "customs_declaration"])
    for role, dept in ROLE_USERS.items():
        client.force_login(users[role])
        status = client.post(url).status_code
        assert status < 500 and (status != 403) == (dept in MATRIX["customs.edit"]), (role, status)
    assert MATRIX["customs.edit"] == {"customs", "customer_service"}


def test_customs_opens_its_my_work_page_and_reaches_the_note(client_for, users, order, customer):
    trade(customer, "transfer")
    note = issue(users, (plan(users, order), "10"))
    page = client_for("customs").get(reverse("accounts:my_work")).content.decode()
    assert "Processing-trade transfers to complete" in page
    assert reverse("delivery:note", args=[note.number]) + "#customs" in page
    note_page = client_for("customs").get(note.get_absolute_url()).content.decode()
    assert 'id="customs"' in note_page and 'data-testid="transfer-form"' in note_page
    # Customer Service sees the state; the warehouse reads the note without the form.
    assert 'data-testid="transfer-form"' not in client_for("warehouse").get(note.get_absolute_url()).content.decode()


def test_customs_is_told_of_an_export_note_and_not_of_a_domestic_one(
    users, order, customer, mailoutbox, django_capture_on_commit_callbacks
):
    users["customs"].email, users["customs"].language = "customs@factory.example", "zh-hans"
    users["customs"].save()
    with django_capture_on_commit_callbacks(execute=True):
        issue(users, (plan(users, order), "10"))
    assert not [m for m in mailoutbox if m.to == ["customs@factory.example"]]
    trade(customer, "export")
    with django_capture_on_commit_callbacks(execute=True):
        note = issue(users, (plan(users, order, position=2, quantity="10"), "10"))
    mail = next(m for m in mailoutbox if m.to == ["customs@factory.example"])
    assert note.number in mail.subject and "送货单" in mail.subject  # in the clerk's own language
