"""What cancelling an order will do, shown to Customer Service before it is confirmed (§5.3).

The summary is not a second description of the rules that could drift from them: the cancellation is carried
out by the real service inside a transaction that is then rolled back, and the memo it would have issued (the
steps and objections closed, the batches withdrawn or kept late, the delivery notes Customer Service must deal
with — every app's part, through ``orders.hooks``) is what the page shows. Nothing is written; e-mails and jobs
queued with ``on_commit`` are dropped with the rollback.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.roles import Dept
from common.errors import DomainError
from orders import services
from orders.models import ChangeRequest, Memo, Objection, Order, OrderRevision, ReviewStep


@dataclass
class CancelPreview:
    order: Order
    waits_for_head: bool
    open_steps: list[str] = field(default_factory=list)
    open_objections: int = 0
    unconfirmed_verbal: int = 0
    memo_subject: str = ""
    memo_body: str = ""
    memo_departments: list[str] = field(default_factory=list)
    refused: str = ""  # why the cancellation would be refused, if it would


class _DryRun(Exception):
    pass


def cancellation_preview(*, user, order: Order, origin: str, reason: str) -> CancelPreview:
    """The effects of cancelling ``order`` now, computed by cancelling it in a transaction that is rolled back."""
    order = Order.objects.select_related("customer").get(pk=order.pk)
    preview = CancelPreview(order=order, waits_for_head=origin == OrderRevision.Origin.CUSTOMER)
    preview.open_steps = [
        str(Dept(step.department).label)
        for step in ReviewStep.objects.filter(order=order, status=ReviewStep.Status.OPEN).order_by("pk")
    ]
    preview.open_objections = Objection.objects.filter(step__order=order, settled_at__isnull=True).count()
    preview.unconfirmed_verbal = order.verbal_requirements.filter(confirmed_at__isnull=True).count()
    try:
        with transaction.atomic():
            # Applied at once whoever asked: from the customer it is what happens once the head confirms it.
            change = services.change_request(
                user=user,
                order=order,
                revision_seen=order.revision,
                origin=OrderRevision.Origin.COMPANY,
                reason=reason or _("Cancellation"),
                kind=ChangeRequest.Kind.CANCEL,
            )
            memo = Memo.objects.filter(order=order, revision=change.revision).order_by("-pk").first()
            if memo is not None:
                preview.memo_subject = memo.subject
                preview.memo_body = memo.body
                preview.memo_departments = [str(Dept(d).label) for d in memo.departments]
            raise _DryRun
    except _DryRun:
        pass
    except DomainError as error:
        preview.refused = error.message
    return preview
