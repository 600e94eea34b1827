"""A signed-off order ready to deliver, and helpers to plan batches and issue notes."""

from datetime import timedelta
from decimal import Decimal

import pytest

from delivery import services
from orders import services as order_services
from tests.orders.conftest import REVIEWERS, TODAY, customer, entered, products, sign  # noqa: F401


@pytest.fixture
def deliverable(entered, users):  # noqa: F811
    """A signed-off order (two lines: 1000 P-1, 500 P-2) the head has signed."""

    def make(**overrides):
        order = entered(**overrides)
        order_services.order_submit(user=users["cs"], order=order)
        for reviewer in REVIEWERS:
            sign(users, order, reviewer)
        order_services.head_signoff(user=users["head"], order=order, revision_seen=1)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def order(deliverable):
    return deliverable()


def plan(users, order, position=1, quantity="400", due=None):
    line = order.lines.get(position=position)
    return services.batch_plan(
        user=users["cs"], line=line, quantity=Decimal(quantity), due_date=due or TODAY + timedelta(days=1)
    )


def stock(users, line, quantity) -> None:
    """Warehouse ``quantity`` more of ``line`` (PMC's figure): goods go on a note only from the warehouse."""
    from delivery.models import ProductionProgress

    progress = ProductionProgress.objects.filter(line=line).first()
    warehoused = (progress.warehoused if progress else Decimal(0)) + Decimal(quantity)
    services.progress_update(user=users["pmc"], line=line, warehoused=warehoused)


def issue(users, *pairs, warehouse=True, **kwargs):
    """issue(users, (batch, "100"), (batch2, "50"), delivery_date=...). The goods are put in the warehouse first
    (``warehouse=False``: not); a date before today gets a reason unless one is given."""
    kwargs.setdefault("delivery_date", TODAY)
    if kwargs["delivery_date"] < TODAY:
        kwargs.setdefault("backdate_reason", "司机晚交单 the driver handed the note in late")
    if warehouse:
        for batch, qty in pairs:
            stock(users, batch.line, qty)
    items = [services.NoteItem(batch, Decimal(qty)) for batch, qty in pairs]
    return services.note_issue(user=users["cs"], items=items, **kwargs)
