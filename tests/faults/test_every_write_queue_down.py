"""Redis unreachable for the web process: EVERY write action of the app answers without a server error, quickly,
and the jobs and e-mails it causes go out once the queue is back (issue 10). Extends tests/common/
test_queue_down.py (its ``queue_down`` fixture, its timing and its sweep) from the order workflow to the whole
list of write actions, one row each:

orders: enter, submit, sign, object, settle, sign-off, confirm, change, cancel; delivery: plan batches, issue a
note, cancel a note, sign-back, returns; complaints; sending a satisfaction survey; improvement actions.

Each row runs its action (and what it stands on) with the queue down, checks that what it caused waits in the
database (common.models.PendingJob, OutboxMessage), brings the queue back, runs the sweep, and checks that
everything went out, exactly once.
"""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from common.models import OutboxMessage, PendingJob
from complaints import services as complaint_services
from delivery import services as delivery_services
from delivery.models import DeliveryNote
from improvement import actions as improvement_actions
from improvement.models import Action
from orders import services as order_services
from orders.models import Acknowledgement, Objection, Order, ReviewStep
from orders.services import LineInput
from satisfaction import services as survey_services
from tests.common.test_queue_down import Timed, deliver, queue_down  # noqa: F401 - the fixture, extended here
from tests.delivery.conftest import deliverable, issue, plan  # noqa: F401 - fixtures
from tests.orders.conftest import REVIEWERS, TODAY, customer, entered, products, sign  # noqa: F401 - fixtures
from tests.satisfaction.conftest import make_customer, survey_form  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.faults, pytest.mark.clause("5.2"), pytest.mark.clause("5.6")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class World:
    """What a row needs, made through the services as the users would (with the queue down as well)."""

    def __init__(self, users, entered, deliverable, make_customer, survey_form):  # noqa: F811
        self.users, self.entered, self.deliverable = users, entered, deliverable
        self.make_customer, self.survey_form = make_customer, survey_form

    def submitted(self):
        order = self.entered()
        return order_services.order_submit(user=self.users["cs"], order=order)

    def signed_off(self):
        return self.deliverable()

    def confirmed(self):
        order = self.signed_off()
        order_services.order_confirm(user=self.users["cs"], order=order, revision_seen=order.revision)
        order.refresh_from_db()
        return order

    def open_step(self, order, department="quality"):
        return ReviewStep.objects.get(order=order, status="open", department=department)

    def objected(self):
        order = self.submitted()
        step = self.open_step(order)
        return order_services.step_object(user=self.users["qa"], step=step, revision_seen=1, reason="包装要求不明确")

    def batch(self):
        order = self.signed_off()
        return plan(self.users, order, quantity="300", due=TODAY + timedelta(days=3))

    def note(self):
        return issue(self.users, (self.batch(), "100"))


def _change_prepare(w: World):
    return w.confirmed()


def _change(w: World, order):
    lines = [
        LineInput(
            line.product, line.quantity + (100 if line.position == 1 else 0), line.unit_price, line.requested_date
        )
        for line in order.lines.order_by("position")
    ]
    order_services.change_request(
        user=w.users["cs"],
        order=order,
        revision_seen=order.revision,
        origin="company",
        reason="生产安排调整",
        header={},
        lines=lines,
    )


def _sign_prepare(w: World):
    order = w.submitted()
    for reviewer in REVIEWERS[:-1]:
        sign(w.users, order, reviewer)
    return order


def _signback(w: World, note):
    delivery_services.signback_record(
        user=w.users["cs"],
        note=note,
        scan=SimpleUploadedFile("s.pdf", PDF, content_type="application/pdf"),
        signed_by_name="张伟",
        signed_on=TODAY,
    )


def _complaint(w: World, order):
    complaint_services.complaint_record(
        user=w.users["cs"],
        customer=order.customer,
        channel="phone",
        received_on=TODAY,
        description="灯罩表面有划痕 Scratches on the lamp shades",
        category="quality",
        orders=[order],
    )


def _survey_prepare(w: World):
    return survey_services.round_create_ad_hoc(
        user=w.users["cs"],
        name="Queue down",
        reason="serious incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=10),
        customers=[w.make_customer("A-01", contacts=2), w.make_customer("B-01", language="en")],
    )


def _improvement(w: World, _nothing):
    improvement_actions.action_create(
        user=w.users["cs"],
        kind=Action.Kind.CORRECTIVE,
        source=Action.Source.OTHER,
        title="Packaging damaged",
        problem="Two customers found crushed cartons.",
        plan="Stronger cartons.",
        owner=w.users["qa"],
        owner_department="quality",
        due_date=TODAY + timedelta(days=14),
    )


def nothing(w: World):
    return None


# (name, prepare(world) -> what the action acts on, action(world, it), what is true once the queue is back)
WRITE_ACTIONS = [
    ("order enter", nothing, lambda w, _: w.entered(), lambda: Order.objects.filter(status="draft").exists()),
    (
        "order submit",
        lambda w: w.entered(),
        lambda w, order: order_services.order_submit(user=w.users["cs"], order=order),
        lambda: Order.objects.filter(status=Order.Status.IN_REVIEW).exists(),
    ),
    (
        "order sign",
        _sign_prepare,
        lambda w, order: sign(w.users, order, REVIEWERS[-1]),  # the last signature tells the head
        lambda: Order.objects.filter(status=Order.Status.AWAITING_SIGNOFF).exists(),
    ),
    (
        "order object",
        lambda w: w.submitted(),
        lambda w, order: order_services.step_object(
            user=w.users["qa"], step=w.open_step(order), revision_seen=1, reason="包装要求不明确"
        ),
        lambda: Order.objects.filter(status=Order.Status.ON_HOLD).exists(),
    ),
    (
        "order settle",
        lambda w: w.objected(),
        lambda w, objection: order_services.objection_settle(
            user=w.users["marketing"], objection=objection, outcome="客户确认用标准纸箱"
        ),
        lambda: Objection.objects.exclude(settled_at=None).exists(),
    ),
    (
        "order sign-off",
        lambda w: (order := w.submitted(), [sign(w.users, order, r) for r in REVIEWERS])[0],
        lambda w, order: order_services.head_signoff(user=w.users["head"], order=order, revision_seen=1),
        lambda: Order.objects.filter(status=Order.Status.SIGNED_OFF).exists(),
    ),
    (
        "order confirm",
        lambda w: w.signed_off(),
        lambda w, order: order_services.order_confirm(user=w.users["cs"], order=order, revision_seen=order.revision),
        lambda: (
            Acknowledgement.objects.filter(status="sent").exists()
            and Order.objects.filter(status=Order.Status.CONFIRMED).exists()
        ),
    ),
    ("order change", _change_prepare, _change, lambda: Order.objects.exists()),
    (
        "order cancel",
        lambda w: w.submitted(),
        lambda w, order: order_services.change_request(
            user=w.users["cs"],
            order=order,
            revision_seen=order.revision,
            origin="company",
            reason="取消 cancelled",
            kind="cancel",
        ),
        lambda: Order.objects.filter(status=Order.Status.CANCELLED).exists(),
    ),
    (
        "delivery plan batches",
        lambda w: w.signed_off(),
        lambda w, order: plan(w.users, order, quantity="300", due=TODAY + timedelta(days=3)),
        lambda: True,
    ),
    (
        "delivery issue note",
        lambda w: w.batch(),
        lambda w, batch: issue(w.users, (batch, "100")),
        lambda: DeliveryNote.objects.filter(status="issued").exists(),
    ),
    (
        "delivery cancel note",
        lambda w: w.note(),
        lambda w, note: delivery_services.note_cancel(user=w.users["cs"], note=note, reason="客户改期 moved"),
        lambda: DeliveryNote.objects.filter(status="cancelled").exists(),
    ),
    (
        "delivery sign-back",
        lambda w: w.note(),
        _signback,
        lambda: DeliveryNote.objects.exclude(sign_back=None).exists(),
    ),
    (
        "delivery return",
        lambda w: w.note(),
        lambda w, note: delivery_services.return_record(
            user=w.users["cs"], note_line=note.lines.get(), quantity=Decimal("5"), reason="破损"
        ),
        lambda: True,
    ),
    ("complaint record", lambda w: w.signed_off(), _complaint, lambda: True),
    (
        "survey send",
        _survey_prepare,
        lambda w, survey_round: survey_services.round_send(survey_round=survey_round, user=w.users["cs"]),
        lambda: OutboxMessage.objects.filter(kind="survey.invitation", status="sent").count() == 3,
    ),
    ("improvement action", nothing, _improvement, lambda: Action.objects.exists()),
]


@pytest.fixture
def world(users, entered, deliverable, make_customer, survey_form):  # noqa: F811
    for user in users.values():
        user.email = f"{user.username}@factory.example"
        user.save(update_fields=["email"])
    return World(users, entered, deliverable, make_customer, survey_form)


@pytest.mark.parametrize("name, prepare, action, done", WRITE_ACTIONS, ids=[row[0] for row in WRITE_ACTIONS])
def test_every_write_action_works_with_the_queue_down_and_its_messages_go_out_once_it_is_back(
    name,
    prepare,
    action,
    done,
    queue_down,  # noqa: F811
    world,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        target = prepare(world)  # what the action stands on (made with the queue down as well)
    jobs_before = PendingJob.objects.count()
    mails_before = OutboxMessage.objects.count()
    with Timed(), django_capture_on_commit_callbacks(execute=True):
        action(world, target)  # no exception: no server error, and no long wait on the dead queue

    # Nothing went out, nothing is lost: what it caused waits in the database.
    assert mailoutbox == []
    assert set(PendingJob.objects.values_list("status", flat=True)) <= {PendingJob.Status.WAITING}
    caused = PendingJob.objects.count() - jobs_before + OutboxMessage.objects.count() - mails_before

    queue_down()  # the queue is back
    deliver(django_capture_on_commit_callbacks)
    assert set(PendingJob.objects.values_list("status", flat=True)) <= {PendingJob.Status.QUEUED}
    assert not OutboxMessage.objects.filter(status__in=["queued", "sending", "failed"]).exists()
    assert done(), name
    # Exactly once: one e-mail per outbox row (one per recipient) and per acknowledgement, none twice.
    sent = Counter((m.subject, tuple(m.to)) for m in mailoutbox)
    rows = OutboxMessage.objects.filter(status="sent").count() + Acknowledgement.objects.filter(status="sent").count()
    assert len(mailoutbox) == rows, sent
    if caused:
        assert mailoutbox, f"{name}: {caused} job(s) or e-mail(s) recorded, nothing sent once the queue was back"

    deliver(django_capture_on_commit_callbacks)  # the sweep again: nothing goes out twice
    assert Counter((m.subject, tuple(m.to)) for m in mailoutbox) == sent
