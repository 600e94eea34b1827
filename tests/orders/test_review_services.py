"""The review path in the services: intake, parallel steps, objection, the head's sign-off."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from common.errors import DomainError
from orders import services
from orders.models import Order, ReviewStep, SignOff
from orders.services import LineInput
from tests.orders.conftest import REVIEWERS, TODAY, sign

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clause("5.2.1"),
    pytest.mark.clause("5.2.4"),
    pytest.mark.clause("5.2.4.4"),
    pytest.mark.clause("4.0.3"),
]


def test_an_entered_order_gets_a_number_terms_and_the_environmental_requirements(entered, customer):
    first, second = entered(), entered()
    assert first.number.startswith(f"SO-{TODAY.year}-") and first.number != second.number
    assert first.status == Order.Status.DRAFT and first.payment_terms == "月结 30 天"
    assert "RoHS" in first.packaging and "E-1" in first.packaging
    assert first.is_new_product and not first.has_customer_mould


@pytest.mark.parametrize(
    "change,message",
    [
        ({"quantity": Decimal("-1")}, "more than zero"),
        ({"quantity": Decimal("0")}, "more than zero"),
        ({"product": None}, "no product"),
        ({"requested_date": TODAY - timedelta(days=1)}, "in the past"),
        ({"unit_price": Decimal("-0.1")}, "cannot be negative"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_entered(entered, products, change, message):
    values = dict(product=products["lamp"], quantity=Decimal(1), unit_price=Decimal(1), requested_date=TODAY)
    values.update(change)
    with pytest.raises(DomainError, match=message):
        entered(lines=[LineInput(**values)])
    assert not Order.objects.exists()


def test_only_customer_service_enters_orders(entered, users):
    with pytest.raises(PermissionDenied):
        entered(user=users["marketing"])


def test_submitting_opens_one_step_per_department_and_tells_them(submitted, users):
    steps = ReviewStep.objects.filter(order=submitted)
    assert sorted(steps.values_list("department", flat=True)) == sorted(
        ["product_group", "marketing", "customer_service", "technical", "pmc", "quality"]
    )
    assert set(steps.values_list("status", flat=True)) == {"open"} and submitted.revision == 1
    assert submitted.revisions.get().snapshot["lines"][0]["product"] == "P-1"


def test_every_department_signs_then_the_head_signs_off(submitted, users):
    for reviewer in REVIEWERS:
        submitted.refresh_from_db()
        assert submitted.status == Order.Status.IN_REVIEW
        sign(users, submitted, reviewer)
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.AWAITING_SIGNOFF
    assert list(submitted.lines.values_list("confirmed_date", flat=True)) == [
        TODAY + timedelta(days=30),
        TODAY + timedelta(days=40),
    ]
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1, comment="同意")
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.SIGNED_OFF and SignOff.objects.get().signed_by == users["head"]


def test_a_step_is_signed_only_by_its_own_department(submitted, users):
    step = ReviewStep.objects.get(order=submitted, department="quality")
    with pytest.raises(PermissionDenied):
        services.step_sign(user=users["pmc"], step=step, revision_seen=1, answers={})


def test_every_item_must_be_answered_and_a_no_is_an_objection_not_a_signature(submitted, users):
    step = ReviewStep.objects.get(order=submitted, department="quality")
    with pytest.raises(DomainError, match="every item"):
        services.step_sign(user=users["qa"], step=step, revision_seen=1, answers={"packaging": True})
    answers = {item["key"]: True for item in step.checklist.items} | {"labelling": False}
    # Not even with a comment (§5.2.3): a "no" goes to Marketing as an objection (tests/orders/test_rules.py).
    with pytest.raises(DomainError, match="is an objection"):
        services.step_sign(user=users["qa"], step=step, revision_seen=1, answers=answers, comment="标签客户稍后提供")
    step.refresh_from_db()
    assert step.status == "open" and step.signed_by is None


def test_pmc_must_give_a_date_per_line(submitted, users):
    with pytest.raises(DomainError, match="every line"):
        sign(users, submitted, "pmc", confirmed_dates={1: TODAY + timedelta(days=31)})


def test_signing_twice_records_one_signature(submitted, users):
    sign(users, submitted, "qa")
    step = ReviewStep.objects.get(order=submitted, department="quality")
    with pytest.raises(DomainError, match="already signed"):
        services.step_sign(
            user=users["qa"], step=step, revision_seen=1, answers={i["key"]: True for i in step.checklist.items}
        )
    assert ReviewStep.objects.filter(order=submitted, department="quality", status="signed").count() == 1


def test_a_form_opened_on_an_older_revision_is_refused(submitted, users):
    step = ReviewStep.objects.get(order=submitted, department="quality")
    with pytest.raises(DomainError, match="has changed since you opened it"):
        services.step_sign(user=users["qa"], step=step, revision_seen=0, answers={})


def test_an_objection_holds_the_review_until_marketing_settles_it(submitted, users):
    for reviewer in ["product", "marketing", "cs", "tech", "pmc"]:
        sign(users, submitted, reviewer)
    step = ReviewStep.objects.get(order=submitted, department="quality")
    objection = services.step_object(user=users["qa"], step=step, revision_seen=1, reason="包装要求不明确")
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.ON_HOLD
    with pytest.raises(DomainError, match="Not every department"):
        services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    with pytest.raises(PermissionDenied):
        services.objection_settle(user=users["qa"], objection=objection, outcome="x")

    services.objection_settle(user=users["marketing"], objection=objection, outcome="客户确认用标准纸箱")
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.IN_REVIEW
    steps = ReviewStep.objects.filter(order=submitted, department="quality").order_by("pk")
    assert [s.status for s in steps] == ["objected", "open"]  # the objection stays on record
    sign(users, submitted, "qa")
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.AWAITING_SIGNOFF


def test_a_verbal_requirement_blocks_the_sign_off_until_confirmed_in_writing(entered, users):
    order = entered(verbal_requirements=["客户电话要求加印批号"])
    services.order_submit(user=users["cs"], order=order)
    for reviewer in REVIEWERS:
        sign(users, order, reviewer)
    order.refresh_from_db()
    with pytest.raises(DomainError, match="written confirmation"):
        services.head_signoff(user=users["head"], order=order, revision_seen=1)
    requirement = order.verbal_requirements.get()
    services.verbal_requirement_confirm(
        user=users["cs"], requirement=requirement, confirmation=SimpleUploadedFile("回执.pdf", b"%PDF-1.4 x")
    )
    services.head_signoff(user=users["head"], order=order, revision_seen=1)
    order.refresh_from_db()
    assert order.status == Order.Status.SIGNED_OFF


def test_the_head_signs_off_once(submitted, users):
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    with pytest.raises(DomainError, match="already signed off"):
        services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    assert SignOff.objects.count() == 1


def test_the_sap_number_is_recorded_once(entered, users):
    order = entered()
    services.order_submit(user=users["cs"], order=order)
    for reviewer in REVIEWERS:
        sign(users, order, reviewer)
    services.head_signoff(user=users["head"], order=order, revision_seen=1)
    services.erp_number_set(user=users["cs"], order=order, erp_number="4500012345")
    with pytest.raises(DomainError, match="already recorded"):
        services.erp_number_set(user=users["cs"], order=order, erp_number="4500099999")
    order.refresh_from_db()
    assert order.erp_number == "4500012345"


def test_departments_are_told_by_mail_in_their_language(entered, users, mailoutbox, django_capture_on_commit_callbacks):
    users["qa"].email = "qa@example.com"
    users["qa"].language = "zh-hans"
    users["qa"].save()
    users["pmc"].email = "pmc@example.com"
    users["pmc"].language = "en"
    users["pmc"].save()
    order = entered()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_submit(user=users["cs"], order=order)
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert len(mailoutbox) == 2  # the other reviewers have no e-mail address
    assert subjects["qa@example.com"] == f"订单 {order.number} 等待您审核"
    assert subjects["pmc@example.com"] == f"Order {order.number} waits for your review"


def test_an_edited_checklist_is_a_new_version_and_open_steps_keep_theirs(submitted, users):
    step = ReviewStep.objects.get(order=submitted, department="quality")
    items = step.checklist.items + [{"key": "rohs_report", "zh": "RoHS 报告有效", "en": "RoHS report valid"}]
    new = services.checklist_save(user=users["admin"], department="quality", items=items)
    assert new.version == step.checklist.version + 1
    step.refresh_from_db()
    assert len(step.checklist.items) == len(items) - 1
    assert services.current_checklist("quality") == new
    with pytest.raises(PermissionDenied):
        services.checklist_save(user=users["qa"], department="quality", items=items)


def test_steps_waiting_longer_than_the_working_days_are_overdue(submitted, settings, client_for):
    from datetime import date, datetime

    from django.utils import timezone

    from orders.selectors import is_overdue, working_days_between

    assert working_days_between(date(2026, 11, 20), date(2026, 11, 24)) == 2  # Fri -> Tue: Mon, Tue
    settings.REVIEW_OVERDUE_WORKING_DAYS = 2
    step = ReviewStep.objects.get(order=submitted, department="quality")
    opened_friday = timezone.make_aware(datetime(2026, 11, 20, 9, 0))
    ReviewStep.objects.filter(pk=step.pk).update(opened_at=opened_friday)
    step.refresh_from_db()
    assert not is_overdue(step, today=date(2026, 11, 24))  # two working days: not yet
    assert is_overdue(step, today=date(2026, 11, 25))
    ReviewStep.objects.filter(order=submitted).update(opened_at=opened_friday - timedelta(days=30))
    page = client_for("qa").get(f"/orders/{submitted.number}/").content.decode()
    assert "overdue" in page
    work = client_for("qa").get("/work/").content.decode()
    assert "overdue" in work.lower()
