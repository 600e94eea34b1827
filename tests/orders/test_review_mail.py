"""The e-mails of the review (§5.2, §5.3, §5.4): who is told what, and only them."""

from datetime import timedelta
from decimal import Decimal

import pytest

from delivery.services import delay_report
from orders import services
from orders.models import ReviewStep
from tests.orders.conftest import REVIEWERS, TODAY, sign

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.4")]


@pytest.fixture
def mailed(users):
    """Every department user has an e-mail address (users without one are never mailed)."""
    for name, user in users.items():
        user.email = f"{name}@example.com"
        user.language = "en"
        user.save(update_fields=["email", "language"])
    return users


def sent(mailoutbox) -> dict[str, list[str]]:
    by_subject: dict[str, list[str]] = {}
    for message in mailoutbox:
        by_subject.setdefault(message.subject, []).extend(message.to)
    return {subject: sorted(to) for subject, to in by_subject.items()}


def test_an_objection_goes_to_marketing_only(submitted, mailed, mailoutbox, django_capture_on_commit_callbacks):
    step = ReviewStep.objects.get(order=submitted, department="quality", status="open")
    with django_capture_on_commit_callbacks(execute=True):
        services.step_object(user=mailed["qa"], step=step, revision_seen=1, reason="检验标准不明确")
    assert sent(mailoutbox) == {
        f"Objection on order {submitted.number}: settle it with the customer": ["marketing@example.com"]
    }
    assert submitted.get_absolute_url() in mailoutbox[0].body


def test_settling_an_objection_asks_the_department_to_review_again(
    submitted, mailed, mailoutbox, django_capture_on_commit_callbacks
):
    step = ReviewStep.objects.get(order=submitted, department="quality", status="open")
    objection = services.step_object(user=mailed["qa"], step=step, revision_seen=1, reason="检验标准不明确")
    with django_capture_on_commit_callbacks(execute=True):
        services.objection_settle(user=mailed["marketing"], objection=objection, outcome="客户确认按 AQL 0.65")
    assert sent(mailoutbox) == {f"Order {submitted.number} waits for your review": ["qa@example.com"]}


def test_the_head_is_told_when_the_order_is_ready_for_sign_off(
    submitted, mailed, mailoutbox, django_capture_on_commit_callbacks
):
    for reviewer in REVIEWERS[:-1]:
        sign(mailed, submitted, reviewer)
    assert mailoutbox == []  # nothing while a department is still reviewing
    with django_capture_on_commit_callbacks(execute=True):
        sign(mailed, submitted, REVIEWERS[-1])
    assert sent(mailoutbox) == {f"Order {submitted.number} is ready for your sign-off": ["head@example.com"]}


@pytest.fixture
def signed_off(submitted, mailed):
    for reviewer in REVIEWERS:
        sign(mailed, submitted, reviewer)
    services.head_signoff(user=mailed["head"], order=submitted, revision_seen=1)
    submitted.refresh_from_db()
    return submitted


def _lines(order, quantity_of_line_1):
    return [
        services.LineInput(
            line.product,
            Decimal(quantity_of_line_1) if line.position == 1 else line.quantity,
            line.unit_price,
            line.requested_date,
            position=line.position,
        )
        for line in order.lines.select_related("product").order_by("position")
    ]


def test_a_customer_change_goes_to_the_head_and_nobody_else(
    signed_off, mailed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.change_request(
            user=mailed["cs"],
            order=signed_off,
            revision_seen=1,
            origin="customer",
            reason="客户加单",
            lines=_lines(signed_off, "1200"),
        )
    assert sent(mailoutbox) == {
        f"A change of order {signed_off.number} asked by the customer waits for your confirmation": ["head@example.com"]
    }


def test_an_applied_change_sends_the_memo_to_the_departments_concerned_and_reopens_their_steps(
    signed_off, mailed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.change_request(
            user=mailed["cs"],
            order=signed_off,
            revision_seen=1,
            origin="company",
            reason="产能调整",
            lines=_lines(signed_off, "1200"),
        )
    # A quantity concerns PMC and Marketing (§5.3): they review again and get the memo; nobody else is mailed.
    assert sent(mailoutbox) == {
        f"Order {signed_off.number} waits for your review": ["marketing@example.com", "pmc@example.com"],
        f"Internal memo on order {signed_off.number}": ["marketing@example.com", "pmc@example.com"],
    }


def test_a_cancellation_memo_goes_to_every_reviewing_department(
    signed_off, mailed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.change_request(
            user=mailed["cs"], order=signed_off, revision_seen=1, origin="company", reason="客户取消", kind="cancel"
        )
    assert sent(mailoutbox) == {
        f"Internal memo on order {signed_off.number}": sorted(f"{name}@example.com" for name in REVIEWERS)
    }


def test_a_delay_goes_to_customer_service_and_marketing(
    signed_off, mailed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        delay_report(
            user=mailed["pmc"],
            line=signed_off.lines.get(position=1),
            reason="模具维修",
            new_date=TODAY + timedelta(days=45),
        )
    assert sent(mailoutbox) == {
        f"Production of order {signed_off.number} is delayed: settle it with the customer": [
            "cs@example.com",
            "marketing@example.com",
        ]
    }


def test_the_mails_are_in_each_recipients_language(signed_off, mailed, mailoutbox, django_capture_on_commit_callbacks):
    mailed["pmc"].language = "zh-hans"
    mailed["pmc"].save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        delay_report(user=mailed["pmc"], line=signed_off.lines.get(position=1), reason="模具维修", new_date=TODAY)
        services.change_request(
            user=mailed["cs"],
            order=signed_off,
            revision_seen=1,
            origin="company",
            reason="产能调整",
            lines=_lines(signed_off, "1200"),
        )
    to_pmc = [m.subject for m in mailoutbox if m.to == ["pmc@example.com"]]
    assert f"Internal memo on order {signed_off.number}" not in to_pmc
    assert to_pmc and all(signed_off.number in subject for subject in to_pmc)
