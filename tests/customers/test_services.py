"""The communication log's service (§5.10.1): who writes an entry, by hand or as part of another app's change."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from customers import services
from customers.models import CommunicationLog, Customer

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.1")]


@pytest.fixture
def customer():
    return Customer.objects.create(code="C-0001", name_en="Hongda", status="active")


def _entry(customer, **fields) -> CommunicationLog:
    return CommunicationLog(customer=customer, date=timezone.localdate(), channel="phone", summary="s", **fields)


def test_it_records_the_entry_as_written_by_the_user_who_adds_it(users, customer):
    entry = services.communication_add(user=users["cs"], entry=_entry(customer, user=users["marketing"]))
    assert CommunicationLog.objects.get() == entry and entry.user == users["cs"]


def test_by_hand_only_marketing_and_customer_service_add_entries(users, customer):
    with pytest.raises(PermissionDenied):
        services.communication_add(user=users["warehouse"], entry=_entry(customer))
    assert not CommunicationLog.objects.exists()


def test_it_takes_an_entry_of_another_apps_change_under_that_changes_capability(users, customer):
    entry = services.communication_add(user=users["warehouse"], entry=_entry(customer), capability="custprop.check")
    assert entry.pk and entry.user == users["warehouse"]
    # The capability is still checked: someone who may not do that change cannot write the entry either.
    with pytest.raises(PermissionDenied):
        services.communication_add(user=users["cs"], entry=_entry(customer), capability="custprop.check")
    assert CommunicationLog.objects.count() == 1
