"""Customer Service previews the acknowledgement, chooses whom it goes to and who gets a copy, then sends it."""

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from common.errors import DomainError
from customers.models import Contact
from orders import services
from orders.models import Acknowledgement, ReviewStep
from tests.orders.conftest import REVIEWERS, TODAY, sign

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.3")]


@pytest.fixture
def signed_off(submitted, users):
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    submitted.refresh_from_db()
    return submitted


@pytest.fixture
def buyer(customer):
    return Contact.objects.create(customer=customer, name="李娜", email="li@hongda.example")


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def test_the_page_shows_the_preview_and_ticks_the_primary_contact(client_for, signed_off, buyer):
    response = client_for("cs").get(reverse("orders:confirm", args=[signed_off.number]))
    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("orders:ack_preview", args=[signed_off.number]) in page
    primary = re.search(r'<input[^>]*value="zhang@hongda.example"[^>]*>', page).group(0)
    other = re.search(r'<input[^>]*value="li@hongda.example"[^>]*>', page).group(0)
    assert "checked" in primary and "checked" not in other
    assert not Acknowledgement.objects.exists()


def test_the_preview_is_the_pdf_that_will_be_sent_and_nothing_is_recorded(client_for, signed_off):
    response = client_for("cs").get(reverse("orders:ack_preview", args=[signed_off.number]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    text = pdf_text(response.content)
    assert signed_off.number in text and "PO-778" in text
    assert not Acknowledgement.objects.exists()


def test_there_is_no_preview_before_the_sign_off_and_none_for_other_departments(client_for, submitted, signed_off):
    assert client_for("qa").get(reverse("orders:ack_preview", args=[signed_off.number])).status_code == 403
    assert client_for("qa").get(reverse("orders:confirm", args=[signed_off.number])).status_code == 403


def test_the_acknowledgement_goes_to_the_chosen_contacts_with_copies(
    client_for, signed_off, buyer, mailoutbox, django_capture_on_commit_callbacks
):
    data = {
        "revision": 1,
        "to": ["zhang@hongda.example", "li@hongda.example"],
        "cc": "sales@factory.example; boss@factory.example\nsales@factory.example",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("cs").post(reverse("orders:confirm", args=[signed_off.number]), data)
    assert response.status_code == 302 and response["Location"].endswith("#confirmation")
    ack = Acknowledgement.objects.get()
    assert ack.recipients == ["zhang@hongda.example", "li@hongda.example"]
    assert ack.cc == ["sales@factory.example", "boss@factory.example"] and ack.status == "sent"
    [message] = [m for m in mailoutbox if "zhang@hongda.example" in m.to]
    assert message.to == ["zhang@hongda.example", "li@hongda.example"]
    assert message.cc == ["sales@factory.example", "boss@factory.example"]
    page = client_for("cs").get(signed_off.get_absolute_url()).content.decode()
    assert "li@hongda.example" in page and "boss@factory.example" in page


def test_without_a_chosen_contact_nothing_is_sent_and_the_copies_stay_typed(client_for, signed_off):
    data = {"revision": 1, "cc": "boss@factory.example"}
    response = client_for("cs").post(reverse("orders:confirm", args=[signed_off.number]), data)
    page = response.content.decode()
    assert response.status_code == 422 and not Acknowledgement.objects.exists()
    assert "This field is required." in page and "boss@factory.example</textarea>" in page


def test_a_copy_address_that_is_not_one_is_refused_beside_the_field(client_for, signed_off):
    data = {"revision": 1, "to": ["zhang@hongda.example"], "cc": "boss@factory.example, not-an-address"}
    response = client_for("cs").post(reverse("orders:confirm", args=[signed_off.number]), data)
    assert response.status_code == 422 and not Acknowledgement.objects.exists()
    assert "Not an e-mail address: not-an-address" in response.content.decode()


def test_the_acknowledgement_goes_only_to_the_customers_own_contacts(users, signed_off):
    with pytest.raises(DomainError, match="customer's own contacts") as caught:
        services.order_confirm(
            user=users["cs"], order=signed_off, revision_seen=1, to=["stranger@elsewhere.example"], cc=[]
        )
    assert caught.value.code == "to" and not Acknowledgement.objects.exists()


def test_the_primary_contact_is_the_default_recipient_of_the_service(users, signed_off, buyer):
    ack = services.order_confirm(user=users["cs"], order=signed_off, revision_seen=1)
    assert ack.recipients == ["zhang@hongda.example"] and ack.cc == []


def test_the_acknowledgement_shows_pmcs_confirmed_date_of_each_line(users, submitted, client_for):
    """The confirmed-date column of the acknowledgement is PMC's date per line (§5.2.3), not the requested one."""
    confirmed = {1: TODAY + timedelta(days=33), 2: TODAY + timedelta(days=47)}
    for reviewer in REVIEWERS:
        if reviewer == "pmc":
            sign(users, submitted, "pmc", confirmed_dates=confirmed)
        else:
            sign(users, submitted, reviewer)
    assert ReviewStep.objects.filter(order=submitted, status="signed").count() == len(REVIEWERS)
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    text = pdf_text(client_for("cs").get(reverse("orders:ack_preview", args=[submitted.number])).content)
    for position, requested in ((1, TODAY + timedelta(days=30)), (2, TODAY + timedelta(days=40))):
        # On each line's row: the requested date, then PMC's confirmed date in the next column.
        assert re.search(rf"{requested.isoformat()}\s*{confirmed[position].isoformat()}", text), (position, text)
