"""The forms on a delivery note's page (sign-back, incident, return, cancellation): one with an error, or one the
service refuses, comes back as it was sent, the error beside it, at the form (422); nothing is recorded."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from delivery.models import DeliveryNote, Return, TransitIncident
from tests.delivery.conftest import issue, plan
from tests.delivery.test_notes import PDF, TODAY

pytestmark = [pytest.mark.clause("5.8.1")]


def test_a_refused_sign_back_keeps_what_was_typed_and_says_to_choose_the_scan_again(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    response = client_for("cs").post(
        reverse("delivery:note_signback", args=[note.number]),
        {
            "signed_by_name": "李收货",
            "signed_on": (TODAY + timedelta(days=1)).isoformat(),
            "scan": SimpleUploadedFile("回单-0001.pdf", PDF),
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    form = page[page.index('data-testid="signback-form"') :]
    form = form[: form.index("</form>")]
    assert "#signback" in page[page.rindex("<form", 0, page.index('data-testid="signback-form"')) :][:300]
    assert "in the future" in form  # beside the form, not only at the top
    assert 'value="李收货"' in form
    assert "回单-0001.pdf" in form and "choose it again" in form, form
    assert not hasattr(DeliveryNote.objects.get(), "sign_back")


def test_an_incident_without_a_description_comes_back_open_with_its_date(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    day = (TODAY - timedelta(days=1)).isoformat()
    response = client_for("cs").post(
        reverse("delivery:note_incident", args=[note.number]), {"happened_on": day, "description": ""}
    )
    assert response.status_code == 422
    page = response.content.decode()
    block = page[page.index('id="incident"') - 40 :]
    assert '<details id="incident" open>' in page
    assert f'value="{day}"' in block[: block.index("</form>")]
    assert not TransitIncident.objects.exists()


def test_a_return_above_what_was_delivered_is_refused_beside_its_line_with_the_reason_kept(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    line = note.lines.get()
    response = client_for("cs").post(
        reverse("delivery:return_add", args=[line.pk]), {"quantity": "101", "reason": "外观刮花,客户拒收"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    block = page[page.index(f'id="return-{line.pk}"') - 20 :]
    block = block[: block.index("</form>")]
    assert " open" in block and "At most 100" in block and "外观刮花,客户拒收" in block and 'value="101"' in block
    assert not Return.objects.exists()


def test_a_cancellation_without_a_reason_comes_back_at_the_form(client_for, users, order):
    note = issue(users, (plan(users, order), "100"))
    response = client_for("cs").post(reverse("delivery:note_cancel", args=[note.number]), {"reason": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="cancel"' in page and "<details open>" in page
    assert DeliveryNote.objects.get().status == DeliveryNote.Status.ISSUED


def test_the_new_note_form_shows_what_is_in_stock_now_not_what_was_ever_warehoused(client_for, users, order):
    from tests.delivery.conftest import stock

    batch = plan(users, order, quantity="400")
    issue(users, (batch, "100"))  # warehouses 100, delivers it: nothing left in stock
    stock(users, batch.line, "60")  # 160 warehoused in all, 60 of it still here
    page = client_for("cs").get(reverse("delivery:note_create"), {"customer": order.customer.code}).content.decode()
    cell = page[page.index(f'data-testid="stock-{batch.pk}"') :]
    assert cell[cell.index(">") + 1 : cell.index("</td>")].strip() == "60"
