"""The rules of issuing a delivery note (§5.6.1): its date, its number, goods in the warehouse, orders that may ship."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from common.errors import DomainError
from delivery import services
from delivery.models import DeliveryNote
from orders.models import Order
from tests.delivery.conftest import TODAY, issue, plan, stock

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.6.1")]


def test_a_note_cannot_be_dated_in_the_future(users, order):
    batch = plan(users, order, quantity="100")
    with pytest.raises(DomainError, match="cannot be in the future") as refused:
        issue(users, (batch, "100"), delivery_date=TODAY + timedelta(days=1))
    assert refused.value.code == "delivery_date" and not DeliveryNote.objects.exists()


def test_a_note_dated_before_today_needs_a_reason_and_keeps_it(users, order):
    batch = plan(users, order, quantity="100")
    with pytest.raises(DomainError, match="say why") as refused:
        issue(users, (batch, "50"), delivery_date=TODAY - timedelta(days=2), backdate_reason="  ")
    assert refused.value.code == "backdate_reason" and not DeliveryNote.objects.exists()
    note = issue(users, (batch, "50"), delivery_date=TODAY - timedelta(days=2), backdate_reason="司机周一出车,今天补单")
    assert note.backdate_reason == "司机周一出车,今天补单" and note.delivery_date == TODAY - timedelta(days=2)
    today = issue(users, (batch, "50"), backdate_reason="not needed today")
    assert today.backdate_reason == ""  # only a note dated earlier keeps a reason


def test_a_note_takes_its_number_from_the_year_it_is_issued_in(users, order, monkeypatch):
    batch = plan(users, order, quantity="100")
    stock(users, batch.line, "100")
    new_year = date(TODAY.year + 1, 1, 2)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: new_year)
    note = services.note_issue(
        user=users["cs"],
        items=[services.NoteItem(batch, Decimal("100"))],
        delivery_date=date(TODAY.year, 12, 31),
        backdate_reason="年底最后一车,元旦后补单",
    )
    assert note.number == f"DN-{TODAY.year + 1}-00001" and note.delivery_date.year == TODAY.year


def test_only_goods_in_the_warehouse_go_on_a_note(users, order):
    batch = plan(users, order, quantity="400")
    stock(users, batch.line, "300")
    with pytest.raises(DomainError, match="Only 300 of P-1") as refused:
        issue(users, (batch, "400"), warehouse=False)
    assert refused.value.code == "stock"
    issue(users, (batch, "300"), warehouse=False)
    # Warehoused 300, delivered 300: nothing is left in the warehouse for the last 100.
    with pytest.raises(DomainError, match="Only 0 of P-1"):
        issue(users, (batch, "100"), warehouse=False)
    assert DeliveryNote.objects.count() == 1


def test_the_stock_of_a_line_covers_all_its_batches_on_one_note(users, order):
    first = plan(users, order, quantity="200")
    second = plan(users, order, quantity="200", due=TODAY + timedelta(days=2))
    stock(users, first.line, "300")
    with pytest.raises(DomainError, match="Only 300 of P-1"):
        issue(users, (first, "200"), (second, "200"), warehouse=False)
    issue(users, (first, "200"), (second, "100"), warehouse=False)


def _in_review_again(order, users, **changes):
    """The order back in review after a change recorded as revision ``n + 1`` (``changes`` on line 1 or header)."""
    from orders.models import OrderRevision
    from orders.services import snapshot

    content = snapshot(order)
    for name, value in changes.items():
        if name in content["lines"][0]:
            content["lines"][0][name] = value
        else:
            content[name] = value
    OrderRevision.objects.create(
        order=order, number=order.revision + 1, kind=OrderRevision.Kind.CHANGE, snapshot=content, created_by=users["cs"]
    )
    Order.objects.filter(pk=order.pk).update(status=Order.Status.IN_REVIEW, revision=order.revision + 1)


def _ready_batch(users, order):
    batch = plan(users, order, quantity="100")
    stock(users, batch.line, "100")
    return batch


@pytest.mark.parametrize("status", [Order.Status.CANCELLED, Order.Status.DRAFT])
def test_only_signed_off_orders_ship(users, order, status):
    batch = _ready_batch(users, order)
    Order.objects.filter(pk=order.pk).update(status=status)
    with pytest.raises(DomainError, match="cannot be delivered"):
        issue(users, (batch, "100"), warehouse=False)
    assert not DeliveryNote.objects.exists()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CONFIRMED)
    issue(users, (batch, "100"), warehouse=False)


def test_an_order_in_review_that_was_never_signed_off_does_not_ship(users, order):
    from orders.models import SignOff

    batch = _ready_batch(users, order)
    SignOff.objects.filter(order=order).delete()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.IN_REVIEW)
    with pytest.raises(DomainError, match="signed-off or confirmed"):
        issue(users, (batch, "100"), warehouse=False)


def test_a_line_changed_in_a_change_under_review_does_not_ship_an_untouched_one_does(users, order):
    batch = _ready_batch(users, order)
    _in_review_again(order, users, quantity="900.000")
    with pytest.raises(DomainError, match="ships once the change is signed off"):
        issue(users, (batch, "100"), warehouse=False)
    order.refresh_from_db()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CONFIRMED, revision=order.revision - 1)
    order.refresh_from_db()
    from orders.models import OrderRevision

    OrderRevision.objects.filter(order=order, number__gt=order.revision).delete()
    _in_review_again(order, users, packaging="纸箱改为木箱\n每箱 50 只")
    assert issue(users, (batch, "100"), warehouse=False).status == DeliveryNote.Status.ISSUED


def test_the_form_shows_the_missing_reason_beside_its_field(client_for, users, order):
    batch = plan(users, order, quantity="100")
    stock(users, batch.line, "100")
    url = reverse("delivery:note_create") + f"?customer={order.customer.code}"
    data = {
        "customer": order.customer.code,
        f"qty_{batch.pk}": "100",
        "delivery_date": (TODAY - timedelta(days=1)).isoformat(),
    }
    response = client_for("cs").post(url, data)
    assert "backdate_reason" in response.context["form"].errors and not DeliveryNote.objects.exists()
    response = client_for("cs").post(url, {**data, "backdate_reason": "昨天已发车"})
    note = DeliveryNote.objects.get()
    assert response.status_code == 302 and note.backdate_reason == "昨天已发车"
