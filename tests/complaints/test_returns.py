"""From a complaint Customer Service arranges a return of goods of one of its delivery notes, or a replacement
delivery of a return; both are delivery's own (§5.7) and shown on the complaint's page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from common.errors import DomainError
from complaints import services
from delivery.models import Return
from tests.complaints.conftest import TODAY, return_of, walk

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2"), pytest.mark.clause("5.7.1")]


def arrange(users, complaint, note, quantity="30", **kwargs):
    return services.complaint_arrange_return(
        user=users["cs"],
        complaint=complaint,
        note_line=note.lines.get(),
        quantity=Decimal(quantity),
        reason="外观刮花",
        **kwargs,
    )


def test_a_return_arranged_from_a_complaint_is_a_delivery_return_linked_to_it(users, acme, note, record):
    complaint = record(acme, notes=[note])
    ret = arrange(users, complaint, note, pickup_date=TODAY + timedelta(days=1))
    assert ret.status == Return.Status.OPEN and ret.note_line.note == note and ret.quantity == 30
    assert ret.recorded_by == users["cs"] and ret.pickup_date == TODAY + timedelta(days=1)
    assert list(complaint.returns.all()) == [ret] and list(ret.complaints.all()) == [complaint]


def test_a_return_needs_one_of_the_complaints_own_delivery_notes(users, acme, note, deliver, record):
    complaint = record(acme)  # no delivery note linked
    with pytest.raises(DomainError) as error:
        arrange(users, complaint, note)
    assert error.value.code == "note_line"
    other_note = deliver(acme, 100, TODAY - timedelta(days=2))
    linked = record(acme, notes=[other_note])
    with pytest.raises(DomainError):
        arrange(users, linked, note)
    assert not Return.objects.exists()


def test_delivery_s_own_rules_hold_for_a_return_from_a_complaint(users, acme, note, record):
    complaint = record(acme, notes=[note])
    with pytest.raises(DomainError):
        arrange(users, complaint, note, quantity="1001")  # more than was delivered
    assert not complaint.returns.exists()


def test_nothing_is_arranged_on_a_closed_complaint(users, acme, note, record):
    complaint = walk(users, record(acme, notes=[note]), "closed")
    with pytest.raises(DomainError) as error:
        arrange(users, complaint, note)
    assert error.value.code == "status" and not Return.objects.exists()


def test_a_replacement_delivery_of_a_return_of_the_complaint(users, acme, note, record):
    complaint = record(acme, notes=[note])
    ret = arrange(users, complaint, note)
    due = TODAY + timedelta(days=4)
    services.complaint_arrange_replacement(user=users["cs"], complaint=complaint, ret=ret, due_date=due)
    ret.refresh_from_db()
    batch = ret.replacement
    assert batch.quantity == 30 and batch.due_date == due and batch.line == note.lines.get().batch.line
    with pytest.raises(DomainError):  # one replacement per return (delivery's rule)
        services.complaint_arrange_replacement(user=users["cs"], complaint=complaint, ret=ret, due_date=due)
    unrelated = return_of(users, note)
    with pytest.raises(DomainError) as error:
        services.complaint_arrange_replacement(user=users["cs"], complaint=complaint, ret=unrelated, due_date=due)
    assert error.value.code == "ret"
    with pytest.raises(DomainError) as error:
        services.complaint_arrange_replacement(
            user=users["cs"], complaint=complaint, ret=ret, due_date=TODAY - timedelta(days=1)
        )
    assert error.value.code == "due_date"


def test_the_return_and_its_replacement_through_the_complaint_page(users, client_for, acme, note, record):
    complaint = record(acme, notes=[note])
    client = client_for("cs")
    page = reverse("complaints:detail", args=[complaint.number])
    response = client.post(
        reverse("complaints:return", args=[complaint.number]),
        {"note_line": note.lines.get().pk, "quantity": "25", "reason": "划痕", "pickup_date": ""},
    )
    assert response.status_code == 302 and response["Location"] == page
    ret = complaint.returns.get()
    due = (TODAY + timedelta(days=3)).isoformat()
    response = client.post(reverse("complaints:replacement", args=[complaint.number]), {"ret": ret.pk, "due_date": due})
    assert response.status_code == 302
    body = client.get(page).content.decode()
    table = body[body.index('data-testid="complaint-returns"') :]
    assert note.number in table and "25" in table and reverse("delivery:return", args=[ret.pk]) in table
    assert "Replacement planned" in body[body.index('data-testid="complaint-timeline"') :]
    # Too much back: the page comes again with the input and the reason.
    response = client.post(
        reverse("complaints:return", args=[complaint.number]),
        {"note_line": note.lines.get().pk, "quantity": "5000", "reason": "划痕"},
    )
    assert response.status_code == 422 and "At most" in response.content.decode()
    assert complaint.returns.count() == 1
