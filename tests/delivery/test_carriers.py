"""Carriers (§5.5.3): the note form offers only usable carriers and their vehicles; carriers, agreements and
vehicles are edited and retired, with history, on the page and in the admin."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import IntegrityError, transaction
from django.urls import reverse

from common.errors import DomainError
from delivery import carriers as carrier_services
from delivery import services
from delivery.forms import NoteForm
from delivery.models import Carrier, CarrierAgreement, DeliveryNote, Vehicle
from tests.delivery.conftest import TODAY, issue, plan, stock

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.5.3")]


def make_carrier(name, *, start=-30, end=300, active=True, agreement_active=True):
    carrier = Carrier.objects.create(name=name, active=active)
    CarrierAgreement.objects.create(
        carrier=carrier,
        reference=f"TA-{name}",
        protection_terms="防潮防压",
        valid_from=TODAY + timedelta(days=start),
        valid_to=TODAY + timedelta(days=end),
        active=agreement_active,
    )
    return carrier


@pytest.fixture
def fleet(db):
    good = make_carrier("顺达物流")
    expired = make_carrier("旧运输", start=-400, end=-2)
    retired = make_carrier("停用运输", active=False)
    withdrawn = make_carrier("撤销协议", agreement_active=False)
    return {
        "good": good,
        "expired": expired,
        "retired": retired,
        "withdrawn": withdrawn,
        "truck": Vehicle.objects.create(carrier=good, plate="粤S·11111"),
        "old_truck": Vehicle.objects.create(carrier=good, plate="粤S·22222", active=False),
        "other_truck": Vehicle.objects.create(carrier=expired, plate="粤S·33333"),
    }


def options(html, name):
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r"<option value=\"(\d+)\"([^>]*)>", select)


def test_the_note_form_offers_only_carriers_usable_on_the_date_and_their_vehicles(client_for, users, order, fleet):
    plan(users, order)
    html = client_for("cs").get(reverse("delivery:note_create"), {"customer": order.customer.code}).content.decode()
    assert [pk for pk, _ in options(html, "carrier")] == [str(fleet["good"].pk)]
    vehicles = options(html, "vehicle")
    assert [pk for pk, _ in vehicles] == [str(fleet["truck"].pk)]
    assert f'data-carrier="{fleet["good"].pk}"' in vehicles[0][1]


def test_the_carriers_offered_follow_the_delivery_date_of_the_form(fleet):
    # Three days ago the agreement that ended two days ago was still in force.
    form = NoteForm(data={"delivery_date": (TODAY - timedelta(days=3)).isoformat()})
    assert set(form.fields["carrier"].queryset) == {fleet["good"], fleet["expired"]}
    assert set(NoteForm().fields["carrier"].queryset) == {fleet["good"]}


def post_note(client, order, batch, **data):
    return client.post(
        reverse("delivery:note_create") + f"?customer={order.customer.code}",
        {"customer": order.customer.code, f"qty_{batch.pk}": "10", "delivery_date": TODAY.isoformat()} | data,
    )


def test_a_wrong_carrier_or_vehicle_is_refused_once_beside_its_field(client_for, users, order, fleet):
    batch = plan(users, order)
    stock(users, batch.line, "10")
    client = client_for("cs")
    response = post_note(client, order, batch, carrier=fleet["expired"].pk)
    html = response.content.decode()
    message = "This carrier has no transport agreement in force on the delivery date."
    assert html.count(message) == 1 and 'id="error_1_id_carrier"' in html
    response = post_note(client, order, batch, carrier=fleet["good"].pk, vehicle=fleet["other_truck"].pk)
    html = response.content.decode()
    assert html.count("retired or its carrier cannot be chosen") == 1 and 'id="error_1_id_vehicle"' in html
    response = post_note(client, order, batch, vehicle=fleet["truck"].pk)
    html = response.content.decode()
    assert html.count("Choose the carrier of vehicle") == 1 and 'id="error_1_id_carrier"' in html
    # An error of the whole form is shown once too (not by the page and again by the form's rendering).
    html = post_note(client, order, batch, **{f"qty_{batch.pk}": "abc"}).content.decode()
    assert html.count("is not a number") == 1
    assert not DeliveryNote.objects.exists()
    response = post_note(client, order, batch, carrier=fleet["good"].pk, vehicle=fleet["truck"].pk)
    note = DeliveryNote.objects.get()
    assert response.status_code == 302 and (note.carrier, note.vehicle) == (fleet["good"], fleet["truck"])


def test_the_service_refuses_what_the_form_would_not_offer(users, order, fleet):
    batch = plan(users, order)
    for carrier in (fleet["expired"], fleet["retired"], fleet["withdrawn"]):
        with pytest.raises(DomainError, match="no transport agreement valid") as refused:
            issue(users, (batch, "10"), carrier=carrier)
        assert refused.value.code == "carrier"
    with pytest.raises(DomainError, match="retired") as refused:
        issue(users, (batch, "10"), carrier=fleet["good"], vehicle=fleet["old_truck"])
    assert refused.value.code == "vehicle"
    with pytest.raises(DomainError, match="another carrier"):
        issue(users, (batch, "10"), carrier=fleet["good"], vehicle=fleet["other_truck"])


# --- Editing and retiring ---------------------------------------------------------------------------------------


def test_customer_service_edits_a_carrier_an_agreement_and_a_vehicle(client_for, users, fleet):
    client = client_for("cs")
    carrier, truck = fleet["good"], fleet["truck"]
    agreement = carrier.agreements.get()
    assert client.get(reverse("delivery:carrier_edit", args=["carrier", carrier.pk])).status_code == 200
    response = client.post(
        reverse("delivery:carrier_edit", args=["carrier", carrier.pk]),
        {"name": "顺达物流有限公司", "contact": "李", "phone": "0769-1"},
    )
    assert response.status_code == 302
    carrier.refresh_from_db()
    assert carrier.name == "顺达物流有限公司" and carrier.history.latest().history_user == users["cs"]
    response = client.post(
        reverse("delivery:carrier_edit", args=["agreement", agreement.pk]),
        {
            "carrier": carrier.pk,
            "reference": "TA-9",
            "protection_terms": "防潮、防压、防晒",
            "valid_from": agreement.valid_from.isoformat(),
            "valid_to": (TODAY + timedelta(days=700)).isoformat(),
        },
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.reference == "TA-9" and agreement.history.count() == 2
    response = client.post(
        reverse("delivery:carrier_edit", args=["vehicle", truck.pk]),
        {"carrier": carrier.pk, "plate": "粤S·99999", "kind": "9.6 m"},
    )
    truck.refresh_from_db()
    assert response.status_code == 302 and truck.plate == "粤S·99999"


def test_an_agreement_ending_before_it_starts_is_refused_beside_the_field_everywhere(client_for, fleet):
    agreement = fleet["good"].agreements.get()
    response = client_for("cs").post(
        reverse("delivery:carrier_edit", args=["agreement", agreement.pk]),
        {
            "carrier": fleet["good"].pk,
            "reference": "TA-X",
            "protection_terms": "防潮",
            "valid_from": TODAY.isoformat(),
            "valid_to": (TODAY - timedelta(days=1)).isoformat(),
        },
    )
    html = response.content.decode()
    assert response.status_code == 422 and 'id="error_1_id_valid_to"' in html and 'value="TA-X"' in html
    agreement.refresh_from_db()
    assert agreement.reference != "TA-X"
    # The database holds the rule too (the admin, an import, a shell).
    agreement.valid_to = TODAY - timedelta(days=400)
    with pytest.raises(IntegrityError), transaction.atomic():
        agreement.save()


def test_retiring_takes_a_carrier_and_its_vehicles_out_of_the_note_form(client_for, users, order, fleet):
    client = client_for("cs")
    carrier = fleet["good"]
    response = client.post(reverse("delivery:carrier_retire", args=["carrier", carrier.pk]), {"retire": "1"})
    assert response.status_code == 302
    carrier.refresh_from_db()
    fleet["truck"].refresh_from_db()
    assert not carrier.active and not fleet["truck"].active
    assert carrier.history.latest().history_user == users["cs"]
    assert not carrier_services.usable_carriers(TODAY).filter(pk=carrier.pk).exists()
    # A vehicle cannot come back while its carrier is retired; the carrier can.
    with pytest.raises(DomainError, match="put the carrier back"):
        carrier_services.carrier_record_retire(user=users["cs"], obj=fleet["truck"], retire=False)
    client.post(reverse("delivery:carrier_retire", args=["carrier", carrier.pk]), {"retire": "0"})
    carrier.refresh_from_db()
    assert carrier.active and services.carrier_usable(carrier, TODAY)
    page = client.get(reverse("delivery:carriers")).content.decode()
    assert "Put back in use" in page  # the retired vehicle


def test_a_retired_agreement_no_longer_makes_its_carrier_usable(users, fleet):
    agreement = fleet["good"].agreements.get()
    carrier_services.carrier_record_retire(user=users["cs"], obj=agreement)
    assert not services.carrier_usable(fleet["good"], TODAY)
    with pytest.raises(DomainError, match="already retired"):
        carrier_services.carrier_record_retire(user=users["cs"], obj=agreement)


def test_carrier_editing_by_role(client, users, fleet):
    from accounts.roles import MATRIX
    from tests.conftest import ROLE_USERS

    urls = [
        reverse("delivery:carrier_edit", args=["carrier", fleet["good"].pk]),
        reverse("delivery:carrier_retire", args=["vehicle", fleet["truck"].pk]),
        reverse("delivery:carrier_add", args=["vehicle"]),
    ]
    for url in urls:
        for role, dept in ROLE_USERS.items():
            client.force_login(users[role])
            status = client.post(url, {"retire": "0"}).status_code
            assert status < 500 and (status != 403) == (dept in MATRIX["carrier.edit"]), (url, role, status)


def test_the_admin_edits_and_retires_but_never_deletes(rf, users, fleet):
    for model in (Carrier, CarrierAgreement, Vehicle):
        model_admin = admin.site._registry[model]
        request = rf.get("/")
        request.user = users["admin"]
        assert not model_admin.has_delete_permission(request, None)
    # The admin saves through the service: a vehicle of a retired carrier cannot be put in use there either.
    from django.core.exceptions import ValidationError

    fleet["other_truck"].carrier = fleet["retired"]
    with pytest.raises(ValidationError):
        fleet["other_truck"].full_clean()
