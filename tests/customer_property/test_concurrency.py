"""People acting at once on the same item, on PostgreSQL (row locks; SQLite serialises writers and cannot show
this): an item is handed back once, a check and a return at once leave no check after the return, and a damage
found by two checks at once is told to the customer once."""

import pytest
from django.db import connection

from common.errors import DomainError
from customer_property import services
from customer_property.models import PropertyCheck, PropertyIncident, PropertyItem
from customers.models import CommunicationLog
from orders.models import Memo
from tests.customer_property.conftest import TODAY, check
from tests.orders.test_concurrency import at_once

pytestmark = [
    pytest.mark.clause("5.10.3"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there"),
]


def test_two_returns_at_once_hand_the_item_back_once(users, register, make_user):
    clerks = [users["warehouse"], make_user("wh2", "warehouse"), users["qa"]]
    for round_ in range(4):  # several rounds: one round may happen not to overlap
        item = register(mould_no=f"M-R{round_}")

        def returner(user, item=item):
            return lambda: services.item_return(user=user, item=item, returned_on=TODAY, returned_to=user.username)

        results = at_once(*(returner(user) for user in clerks))
        assert sum(isinstance(r, PropertyItem) for r in results) == 1, results
        assert sum(isinstance(r, DomainError) for r in results) == len(clerks) - 1, results
        assert item.history.exclude(returned_on=None).count() == 1


def test_a_check_and_a_return_at_once_leave_no_check_after_the_return(users, register):
    for round_ in range(4):
        item = register(mould_no=f"M-C{round_}")
        results = at_once(
            lambda item=item: check(users, item, who="qa"),
            lambda item=item: services.item_return(
                user=users["warehouse"], item=item, returned_on=TODAY, returned_to="陈先生"
            ),
        )
        item.refresh_from_db()
        assert item.returned_at is not None, results
        checked = PropertyCheck.objects.filter(item=item).first()
        if checked is None:
            assert isinstance(results[0], DomainError), results
        else:
            assert checked.recorded_at <= item.returned_at, results


def test_two_checks_finding_damage_at_once_tell_the_customer_once(users, register, make_user):
    second = make_user("qa2", "quality")
    item = register()
    results = at_once(
        lambda: check(users, item, "damaged", who="qa"),
        lambda: services.item_check(
            user=second, item=item, checked_on=TODAY, condition="damaged", notes="崩缺", told_by="phone"
        ),
    )
    assert all(isinstance(r, PropertyCheck) for r in results), results
    assert PropertyIncident.objects.count() == 1
    assert CommunicationLog.objects.count() == 1 and Memo.objects.count() == 1
