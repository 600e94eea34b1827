"""Rules that hold across changes and cancellations (§5.2, §5.3): each test fails without the line that enforces it."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from common.errors import DomainError
from customers.models import Customer, CustomerEvaluation, DeliveryAddress, EnvironmentalRequirement
from delivery.models import DeliveryBatch
from delivery.services import delay_report
from orders import selectors, services
from orders.documents import acknowledgement_pdf
from orders.forms import SignForm
from orders.models import Acknowledgement, ChangeRequest, Memo, Objection, Order, ReviewStep, VerbalRequirement
from orders.services import LineInput
from tests.delivery.conftest import deliverable, issue, plan  # noqa: F401
from tests.orders.conftest import REVIEWERS, TODAY, approve_evaluation, sign

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clause("5.2.2"),
    pytest.mark.clause("5.2.4.2"),
    pytest.mark.clause("5.3.1"),
]

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def order(deliverable):  # noqa: F811
    """A signed-off order (1000 P-1, 500 P-2), ready to deliver."""
    return deliverable()


def lines_of(order, **changes):
    """The order's lines as a change gives them, each keeping its position; ``changes``: {"p1": {...}}."""
    lines = []
    for line in order.lines.select_related("product").order_by("position"):
        values = dict(
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
            requested_date=line.requested_date,
            position=line.position,
        )
        values.update(changes.get(f"p{line.position}", {}))
        lines.append(LineInput(**values))
    return lines


def change(users, order, *, lines=None, origin="company", header=None, **kwargs):
    order.refresh_from_db()
    return services.change_request(
        user=users["cs"],
        order=order,
        revision_seen=order.revision,
        origin=origin,
        reason="客户调整 customer adjusts",
        header=header or {},
        lines=lines_of(order) if lines is None else lines,
        **kwargs,
    )


def cancel(users, order, origin="company"):
    order.refresh_from_db()
    return services.change_request(
        user=users["cs"], order=order, revision_seen=order.revision, origin=origin, reason="客户取消", kind="cancel"
    )


def step_of(order, department):
    return ReviewStep.objects.get(order=order, department=department, status="open")


def all_yes(step):
    return {item["key"]: True for item in step.checklist.items}


# --- A cancelled order stays cancelled ----------------------------------------------------------------------


def test_a_late_signature_after_the_cancellation_is_refused_and_the_order_stays_cancelled(submitted, users):
    step = step_of(submitted, "quality")
    cancel(users, submitted)
    with pytest.raises(DomainError):
        services.step_sign(user=users["qa"], step=step, revision_seen=1, answers=all_yes(step))
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.CANCELLED
    assert not ReviewStep.objects.filter(order=submitted, status="open").exists()


def test_settling_an_objection_raised_before_the_cancellation_cannot_reopen_the_review(submitted, users):
    step = step_of(submitted, "quality")
    objection = services.step_object(user=users["qa"], step=step, revision_seen=1, reason="包装要求不明确")
    cancel(users, submitted)
    objection.refresh_from_db()
    # Cancelling closed the objection and the memo says so.
    assert objection.settled_at is not None and "cancelled" in objection.outcome
    memo = Memo.objects.get(order=submitted)
    assert "包装要求不明确" in memo.body and "closed" in memo.body
    with pytest.raises(DomainError, match="already settled"):
        services.objection_settle(user=users["marketing"], objection=objection, outcome="客户同意")
    # Even an objection left open (raised from a page opened before the cancellation) cannot reopen the review.
    Objection.objects.filter(pk=objection.pk).update(settled_at=None, outcome="")
    with pytest.raises(DomainError, match="cancelled"):
        services.objection_settle(user=users["marketing"], objection=objection, outcome="客户同意")
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.CANCELLED
    assert not ReviewStep.objects.filter(order=submitted, status="open").exists()


def test_a_stale_sign_off_page_cannot_sign_off_a_cancelled_order(submitted, users):
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.AWAITING_SIGNOFF
    cancel(users, submitted)
    with pytest.raises(DomainError):
        services.head_signoff(user=users["head"], order=submitted, revision_seen=submitted.revision)
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.CANCELLED and not submitted.signoffs.exists()


def test_an_acknowledgement_queued_before_the_cancellation_is_not_sent(
    order,
    users,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        ack = services.order_confirm(user=users["cs"], order=order, revision_seen=1)
    cancel(users, order)
    services.acknowledgement_send(ack.pk)
    ack.refresh_from_db()
    order.refresh_from_db()
    assert mailoutbox == []
    assert ack.status == Acknowledgement.Status.FAILED and order.status == Order.Status.CANCELLED
    assert "Acknowledgement r1 not sent" in Memo.objects.get(order=order).body


def test_cancelling_withdraws_planned_batches_keeps_late_ones_and_lists_issued_notes(order, users):
    future = plan(users, order, 1, "400", due=TODAY + timedelta(days=5))
    shipped = plan(users, order, 1, "100", due=TODAY + timedelta(days=1))
    note = issue(users, (shipped, "100"))
    late = plan(users, order, 2, "50", due=TODAY + timedelta(days=1))
    late.refresh_from_db()
    late.due_date = TODAY - timedelta(days=3)
    late.save(update_fields=["due_date"])  # time passes (not the service: a past date)
    delay = delay_report(
        user=users["pmc"], line=order.lines.get(position=2), reason="原料短缺", new_date=TODAY + timedelta(days=9)
    )
    cancel(users, order)
    assert not DeliveryBatch.objects.filter(pk=future.pk).exists()  # withdrawn
    assert DeliveryBatch.objects.filter(pk=late.pk).exists()  # stays late in its month (§5.5)
    assert DeliveryBatch.objects.filter(pk=shipped.pk).exists()
    delay.refresh_from_db()
    assert delay.settled_at is not None
    body = Memo.objects.get(order=order).body
    assert "Delivery batch withdrawn: #1 P-1 × 400" in body
    assert "already late before the cancellation: #2 P-2 × 50" in body
    assert f"Issued delivery note {note.number}" in body and "Customer Service to deal with it" in body
    assert "delay report on line 2 closed" in body


# --- A change never breaks delivery ------------------------------------------------------------------------


def test_removing_a_line_with_batches_is_refused_with_a_clear_message(order, users):
    plan(users, order, 2, "100")
    with pytest.raises(DomainError, match="Line 2 .* has delivery batches") as refused:
        change(users, order, lines=lines_of(order)[:1])
    assert refused.value.code == "delivery"
    order.refresh_from_db()
    assert order.revision == 1 and order.lines.count() == 2


def test_a_customer_change_that_breaks_delivery_is_refused_when_recorded_not_left_for_the_head(order, users):
    plan(users, order, 1, "800")
    with pytest.raises(DomainError, match="800 are planned"):
        change(users, order, origin="customer", lines=lines_of(order, p1={"quantity": Decimal("500")}))
    assert not ChangeRequest.objects.filter(order=order).exists()


def test_removing_a_line_with_batches_through_the_change_form_is_not_a_server_error(order, users, client_for):
    from tests.orders.test_changes import change_post

    plan(users, order, 2, "100")
    response = client_for("cs").post(
        reverse("orders:change", args=[order.number]),
        change_post(order, **{"lines-1-product": "", "lines-1-quantity": "", "lines-1-unit_price": ""})
        | {"lines-1-requested_date": "", "lines-INITIAL_FORMS": "2"},
    )
    assert response.status_code in (200, 422)
    assert "has delivery batches" in response.content.decode()
    assert order.lines.count() == 2


def test_removing_the_first_line_keeps_the_second_line_and_its_batches(order, users, client_for):
    from tests.orders.test_changes import change_post

    batch = plan(users, order, 2, "100")
    data = change_post(order) | {"lines-INITIAL_FORMS": "2"}  # as the page sends it: two existing lines
    for field in ("product", "quantity", "unit_price", "requested_date"):
        data[f"lines-0-{field}"] = ""
    response = client_for("cs").post(reverse("orders:change", args=[order.number]), data)
    assert response.status_code == 302
    remaining = list(order.lines.all())
    assert [(line.position, line.product.code) for line in remaining] == [(2, "P-2")]
    batch.refresh_from_db()
    assert batch.line == remaining[0]


def test_reducing_below_what_is_planned_is_refused_unless_batches_are_withdrawn(order, users):
    first = plan(users, order, 1, "400")
    second = plan(users, order, 1, "300")
    smaller = lines_of(order, p1={"quantity": Decimal("500")})
    with pytest.raises(DomainError, match="700 are planned"):
        change(users, order, lines=smaller)
    assert dict(services.withdrawable_batches(order)).keys() == {first.pk, second.pk}
    change(users, order, lines=lines_of(order, p1={"quantity": Decimal("500")}), withdraw=[second.pk])
    assert not DeliveryBatch.objects.filter(pk=second.pk).exists()
    assert order.lines.get(position=1).quantity == 500
    assert "Delivery batch withdrawn: #1 P-1 × 300" in Memo.objects.get(order=order, revision=2).body


def test_a_batch_something_was_delivered_from_cannot_be_withdrawn(order, users):
    batch = plan(users, order, 1, "400")
    issue(users, (batch, "100"))
    with pytest.raises(DomainError, match="cannot be withdrawn"):
        change(users, order, lines=lines_of(order, p1={"quantity": Decimal("50")}), withdraw=[batch.pk])
    with pytest.raises(DomainError, match="400 are planned"):
        change(users, order, lines=lines_of(order, p1={"quantity": Decimal("50")}))
    assert order.lines.get(position=1).quantity == 1000


def test_the_product_of_a_line_with_batches_cannot_change(order, users, products):
    plan(users, order, 1, "400")
    with pytest.raises(DomainError, match="its product cannot change"):
        change(users, order, lines=lines_of(order, p1={"product": products["base"]}))


def test_a_customer_change_is_checked_again_when_the_head_approves_it(order, users):
    request = change(users, order, origin="customer", lines=lines_of(order, p1={"quantity": Decimal("500")}))
    assert request.status == ChangeRequest.Status.PENDING
    plan(users, order, 1, "800")  # delivery planned meanwhile
    with pytest.raises(DomainError, match="800 are planned"):
        services.change_decide(user=users["head"], request=request, approve=True)
    order.refresh_from_db()
    assert order.lines.get(position=1).quantity == 1000 and order.revision == 1


# --- What an order back in review may ship -----------------------------------------------------------------


def test_a_packaging_only_change_does_not_stop_a_confirmed_delivery(order, users):
    batch = plan(users, order, 1, "400")
    change(users, order, header={"packaging": order.packaging + "\n每箱附装箱单"})
    order.refresh_from_db()
    assert order.status == Order.Status.IN_REVIEW
    assert selectors.shipping_refusal(order, order.lines.get(position=1)) == ""
    note = issue(users, (batch, "400"))
    assert note.lines.get().quantity == 400


def test_a_quantity_change_stops_only_the_line_it_changes_until_signed_off(order, users):
    one, two = plan(users, order, 1, "400"), plan(users, order, 2, "100")
    change(users, order, lines=lines_of(order, p2={"quantity": Decimal("600")}))
    order.refresh_from_db()
    with pytest.raises(DomainError, match="Line 2 .* changed in revision 2"):
        issue(users, (two, "100"))
    with pytest.raises(DomainError, match="Line 2"):
        plan(users, order, 2, "50")
    assert issue(users, (one, "400")).lines.count() == 1


def test_the_order_page_says_which_lines_may_ship_meanwhile(order, users, client_for):  # noqa: F811
    change(users, order, lines=lines_of(order, p2={"quantity": Decimal("600")}))
    page = client_for("cs").get(order.get_absolute_url()).content.decode()
    rows = page[page.index('data-testid="lines"') :].split("<tr>")[2:4]
    assert 'data-testid="ships-now"' in rows[0] and 'data-testid="ships-later"' in rows[1]


def test_a_change_of_delivery_address_stops_every_delivery_until_signed_off(order, users, customer):
    batch = plan(users, order, 1, "400")
    other = DeliveryAddress.objects.create(customer=customer, label="二厂", address="东莞市长安镇2号")
    change(users, order, header={"delivery_address": other})
    order.refresh_from_db()
    with pytest.raises(DomainError, match="delivery address"):
        issue(users, (batch, "400"))


def test_an_order_back_in_review_stays_on_the_progress_sheet_with_its_state(order, users):  # noqa: F811
    from delivery.progress_sheet import open_lines

    change(users, order, header={"labelling": "外箱贴客户条码"})
    rows = [row for row in open_lines(TODAY) if row.order_number == order.number]
    assert [row.position for row in rows] == [1, 2]
    assert all("In review" in row.status for row in rows)


def test_an_order_never_signed_off_cannot_ship(submitted):
    assert "Only a signed-off or confirmed order" in selectors.shipping_refusal(submitted)


# --- A "no" is an objection; "not applicable" where it applies ---------------------------------------------


def test_a_no_cannot_sign_a_step_even_with_a_comment(submitted, users):
    step = step_of(submitted, "quality")
    answers = all_yes(step) | {"labelling": False}
    with pytest.raises(DomainError, match="is an objection") as refused:
        services.step_sign(user=users["qa"], step=step, revision_seen=1, answers=answers, comment="稍后提供")
    assert refused.value.code == "objection"
    step.refresh_from_db()
    assert step.status == "open"


def test_not_applicable_only_where_the_item_offers_it(submitted, users, client_for):
    step = step_of(submitted, "customer_service")
    with pytest.raises(DomainError, match="not applicable"):
        services.step_sign(
            user=users["cs"], step=step, revision_seen=1, answers=all_yes(step) | {"delivery_place": None}
        )
    signed = services.step_sign(user=users["cs"], step=step, revision_seen=1, answers=all_yes(step) | {"customs": None})
    assert {"key": "customs", "yes": False, "na": True} in signed.answers
    page = client_for("qa").get(submitted.get_absolute_url()).content.decode()
    card = page[page.index('data-testid="step-customer_service"') :]
    assert "(not applicable)" in card[: card.index("checklist version")]


def test_an_export_customers_customs_item_is_never_not_applicable(submitted, users, customer):
    Customer.objects.filter(pk=customer.pk).update(trade="export", customs_code="4403960001")
    submitted.refresh_from_db()
    step = step_of(submitted, "customer_service")
    assert ("na", "Not applicable") not in SignForm(step=step, order=submitted, language="en").fields[
        "item_customs"
    ].choices
    with pytest.raises(DomainError, match="not applicable"):
        services.step_sign(user=users["cs"], step=step, revision_seen=1, answers=all_yes(step) | {"customs": None})


def test_the_sign_form_offers_not_applicable_for_the_customs_item_only(submitted):
    step = step_of(submitted, "customer_service")
    form = SignForm(step=step, order=submitted, language="en")
    assert ("na", "Not applicable") in form.fields["item_customs"].choices
    assert ("na", "Not applicable") not in form.fields["item_delivery_place"].choices
    bound = SignForm(
        {"revision": 1, **{f"item_{i['key']}": "yes" for i in step.checklist.items}, "item_customs": "na"},
        step=step,
        order=submitted,
        language="en",
    )
    assert bound.is_valid(), bound.errors
    assert bound.answers()["customs"] is None and bound.answers()["delivery_place"] is True


def test_an_installed_checklist_gets_the_not_applicable_flag_by_migration():
    from importlib import import_module

    from django.apps import apps

    from orders.models import Checklist

    Checklist.objects.create(
        department="customer_service", version=1, items=[{"key": "customs", "zh": "关封", "en": "Customs"}]
    )
    import_module("orders.migrations.0006_checklist_customs_not_applicable").forwards(apps, None)
    assert services.current_checklist("customer_service").items[0]["na"] == "domestic"


# --- Verbal requirements hold the head's sign-off -----------------------------------------------------------


def test_the_head_cannot_sign_off_until_every_verbal_requirement_is_confirmed_and_the_button_says_why(
    submitted, users, client_for
):
    services.verbal_requirement_add(user=users["marketing"], order=submitted, text="客户电话要求每箱附检验报告")
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    page = client_for("head").get(submitted.get_absolute_url()).content.decode()
    assert 'disabled aria-describedby="signoff-blocked"' in page
    assert "1 verbal requirement not yet confirmed in writing" in page
    with pytest.raises(DomainError, match="verbal requirement"):
        services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    requirement = VerbalRequirement.objects.get(order=submitted)
    services.verbal_requirement_confirm(
        user=users["cs"], requirement=requirement, confirmation=SimpleUploadedFile("ok.pdf", PDF)
    )
    page = client_for("head").get(submitted.get_absolute_url()).content.decode()
    assert "signoff-blocked" not in page
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1)


def test_customer_service_or_marketing_record_a_verbal_requirement_during_review(submitted, users, client_for):
    response = client_for("marketing").post(
        reverse("orders:verbal_add", args=[submitted.number]), {"text": "客户口头要求:托盘不超过1.2米"}
    )
    assert response.status_code == 302
    assert VerbalRequirement.objects.filter(order=submitted, recorded_by=users["marketing"]).exists()
    services.verbal_requirement_add(user=users["cs"], order=submitted, text="标签用客户模板")
    with pytest.raises(PermissionDenied):
        services.verbal_requirement_add(user=users["qa"], order=submitted, text="x")
    assert submitted.verbal_requirements.count() == 2


def test_a_verbal_requirement_recorded_with_a_change_holds_the_new_sign_off(order, users):
    change(users, order, header={"inspection": "AQL 0.65"}, verbal_requirements=["客户电话:加贴防潮标"])
    order.refresh_from_db()
    assert order.verbal_requirements.get().text == "客户电话:加贴防潮标"
    for department in ("quality", "customer_service", "marketing"):
        step = step_of(order, department)
        services.step_sign(
            user=users[{"quality": "qa", "customer_service": "cs", "marketing": "marketing"}[department]],
            step=step,
            revision_seen=order.revision,
            answers=all_yes(step),
        )
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_SIGNOFF
    with pytest.raises(DomainError, match="verbal requirement"):
        services.head_signoff(user=users["head"], order=order, revision_seen=order.revision)


# --- The evaluation form, the SAP number --------------------------------------------------------------------


def test_orders_are_entered_only_for_a_customer_with_an_approved_evaluation(entered, users, customer):
    newcomer = Customer.objects.create(code="C-0009", name_zh="新客户", status="active", payment_terms="预付")
    address = DeliveryAddress.objects.create(customer=newcomer, label="厂", address="深圳")
    with pytest.raises(DomainError, match="approved customer evaluation form") as refused:
        entered(customer=newcomer, delivery_address=address)
    assert refused.value.code == "evaluation"
    approve_evaluation(users, newcomer)
    assert entered(customer=newcomer, delivery_address=address).customer == newcomer


def test_the_terms_are_checked_against_the_approved_evaluation(entered, users, customer):
    order = entered(payment_terms="预付 100%")
    texts = [check.text for check in selectors.prechecks(order) if not check.ok]
    assert any("differ from the approved evaluation form" in text for text in texts)
    good = entered()
    assert any(c.ok and "approved evaluation form" in c.text for c in selectors.prechecks(good))
    CustomerEvaluation.objects.filter(customer=customer).update(status="superseded")
    assert any("no approved evaluation form" in c.text for c in selectors.prechecks(good))


def test_the_sap_number_is_recorded_only_on_a_signed_off_order(submitted, users):
    with pytest.raises(DomainError, match="once the order is signed off"):
        services.erp_number_set(user=users["cs"], order=submitted, erp_number="4500012345")
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    recorded = services.erp_number_set(user=users["cs"], order=submitted, erp_number="4500012345")
    assert (recorded.erp_number, recorded.erp_number_by, recorded.erp_number_at is not None) == (
        "4500012345",
        users["cs"],
        True,
    )
    # Recorded once: a second number is refused, the first stays with who recorded it.
    with pytest.raises(DomainError, match="already recorded"):
        services.erp_number_set(user=users["cs"], order=submitted, erp_number="4500099999")
    submitted.refresh_from_db()
    assert (submitted.erp_number, submitted.erp_number_by) == ("4500012345", users["cs"])


# --- The head sees what a customer's change changes --------------------------------------------------------


def test_the_head_sees_before_and_after_line_by_line_before_approving(order, users, client_for):
    change(
        users,
        order,
        origin="customer",
        lines=lines_of(order, p2={"quantity": Decimal("800"), "requested_date": TODAY + timedelta(days=50)}),
        header={"labelling": "外箱贴条码"},
    )
    page = client_for("head").get(order.get_absolute_url()).content.decode()
    table = page[page.index('data-testid="pending-change-rows"') :]
    table = table[: table.index("</table>")]
    assert "quantity" in table and "500" in table and "800" in table
    assert (TODAY + timedelta(days=40)).isoformat() in table and (TODAY + timedelta(days=50)).isoformat() in table
    assert "labelling" in table and "外箱贴条码" in table
    assert "unit price" not in table  # only what changes


# --- Only real changes --------------------------------------------------------------------------------------


def test_line_endings_and_trailing_spaces_are_not_a_change(order, users):
    Order.objects.filter(pk=order.pk).update(packaging="纸箱包装\n每箱 50 PCS")
    order.refresh_from_db()
    with pytest.raises(DomainError, match="Nothing was changed"):
        change(users, order, header={"packaging": "纸箱包装  \r\n每箱 50 PCS \r\n"})
    request = change(users, order, header={"packaging": "纸箱包装  \r\n每箱 50 PCS\r\n", "inspection": "全检"})
    order.refresh_from_db()
    assert [c["field"] for c in order.revisions.get(number=request.revision).changes] == ["inspection"]
    assert order.packaging == "纸箱包装\n每箱 50 PCS"


# --- Documents and environmental requirements ----------------------------------------------------------------


def test_the_acknowledgement_pdf_shows_the_revision_it_was_made_for(order, users):
    change(users, order, header={"packaging": "改为木箱包装"}, lines=lines_of(order, p1={"quantity": Decimal("1500")}))
    order.refresh_from_db()
    assert order.revision == 2
    data = acknowledgement_pdf(order, 1)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "revision 1" in text
    assert "木箱" not in text
    assert "1500 PCS" not in text and "1000 PCS" in text


def test_the_environmental_note_and_the_check_use_the_requirements_in_force_on_the_order_date(entered, users, customer):
    EnvironmentalRequirement.objects.create(
        customer=customer, standard="reach", detail="SVHC 235", effective_from=TODAY + timedelta(days=30)
    )
    EnvironmentalRequirement.objects.create(
        customer=customer, standard="pahs", detail="AfPS", expires_on=TODAY - timedelta(days=1)
    )
    order = entered()
    assert "RoHS" in order.packaging and "REACH" not in order.packaging and "PAH" not in order.packaging
    environment = [c for c in selectors.prechecks(order) if "nvironmental" in c.text]
    assert environment and environment[0].ok  # the check asks for the same requirements the note wrote
