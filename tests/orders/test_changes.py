"""Changes and cancellations (§5.3): a new revision, exactly the right steps re-opened, the memo."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from pypdf import PdfReader

from common.errors import DomainError
from orders import services
from orders.models import ChangeRequest, Memo, Order, OrderRevision, ReviewStep
from orders.services import LineInput
from tests.orders.conftest import REVIEWERS, TODAY, sign

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.3.1")]


@pytest.fixture
def confirmed(submitted, users, django_capture_on_commit_callbacks):
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm(user=users["cs"], order=submitted, revision_seen=1)
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.CONFIRMED
    return submitted


def current_lines(order, changes_by_position=None):
    lines = []
    for line in order.lines.select_related("product").order_by("position"):
        values = dict(
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
            requested_date=line.requested_date,
        )
        values.update((changes_by_position or {}).get(line.position, {}))
        lines.append(LineInput(**values))
    return lines


def company_change(users, order, header=None, line_changes=None):
    return services.change_request(
        user=users["cs"],
        order=order,
        revision_seen=order.revision,
        origin="company",
        reason="生产安排调整",
        header=header or {},
        lines=current_lines(order, line_changes),
    )


def reopened(order):
    return sorted(
        ReviewStep.objects.filter(order=order, revision=order.revision, status="open").values_list(
            "department", flat=True
        )
    )


@pytest.mark.parametrize(
    "header,line_changes,departments",
    [
        ({}, {1: {"quantity": Decimal("1200")}}, ["marketing", "pmc"]),
        ({}, {2: {"requested_date": TODAY + timedelta(days=50)}}, ["marketing", "pmc"]),
        ({}, {1: {"unit_price": Decimal("1.45")}}, ["marketing", "product_group"]),
        ({"packaging": "木箱"}, {}, ["quality"]),
        ({"labelling": "加贴客户条码"}, {}, ["quality"]),
        ({"inspection": "全检"}, {}, ["quality"]),
        ({"payment_terms": "月结 60 天"}, {}, ["customer_service", "marketing"]),
    ],
)
def test_a_change_reopens_exactly_the_steps_it_concerns(confirmed, users, header, line_changes, departments):
    company_change(users, confirmed, header, line_changes)
    confirmed.refresh_from_db()
    assert confirmed.revision == 2 and confirmed.status == Order.Status.IN_REVIEW
    assert reopened(confirmed) == departments
    # The steps it does not concern stay signed; the superseded ones stay on record.
    still_signed = ReviewStep.objects.filter(order=confirmed, status="signed", revision=1)
    assert len(still_signed) == 6 - len(departments)
    assert ReviewStep.objects.filter(order=confirmed, status="superseded").count() == len(departments)
    memo = Memo.objects.get(order=confirmed)
    assert sorted(memo.departments) == departments
    assert sorted(memo.receipts.values_list("department", flat=True)) == departments


def test_a_new_product_goes_to_technical_and_quality(confirmed, users, products):
    from customers.models import Product

    other = Product.objects.create(code="P-3", name="新灯罩")
    company_change(users, confirmed, line_changes={1: {"product": other}})
    confirmed.refresh_from_db()
    assert reopened(confirmed) == ["quality", "technical"]


def test_a_new_address_goes_to_customer_service_and_marketing(confirmed, users, customer):
    from customers.models import DeliveryAddress

    address = DeliveryAddress.objects.create(customer=customer, label="二仓", address="东莞市虎门镇2号")
    company_change(users, confirmed, {"delivery_address": address})
    confirmed.refresh_from_db()
    assert reopened(confirmed) == ["customer_service", "marketing"]


def test_the_revision_shows_what_changed_and_the_old_one_stays(confirmed, users):
    company_change(users, confirmed, {"packaging": "木箱"}, line_changes={1: {"quantity": Decimal("1200")}})
    second = OrderRevision.objects.get(order=confirmed, number=2)
    fields = {(c["field"], c["line"]) for c in second.changes}
    assert fields == {("packaging", None), ("quantity", 1)}
    quantity = [c for c in second.changes if c["field"] == "quantity"][0]
    assert Decimal(quantity["old"]) == 1000 and Decimal(quantity["new"]) == 1200
    first = OrderRevision.objects.get(order=confirmed, number=1)
    assert Decimal(first.snapshot["lines"][0]["quantity"]) == 1000
    assert ReviewStep.objects.filter(order=confirmed, revision=1, department="pmc", status="superseded").exists()


def test_after_the_change_the_head_signs_off_again_and_a_new_acknowledgement_goes_out(
    confirmed, users, django_capture_on_commit_callbacks, mailoutbox
):
    company_change(users, confirmed, line_changes={1: {"quantity": Decimal("1200")}})
    confirmed.refresh_from_db()
    sign(users, confirmed, "pmc")
    sign(users, confirmed, "marketing")
    confirmed.refresh_from_db()
    assert confirmed.status == Order.Status.AWAITING_SIGNOFF
    services.head_signoff(user=users["head"], order=confirmed, revision_seen=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm(user=users["cs"], order=confirmed, revision_seen=2)
    assert confirmed.acknowledgements.count() == 2
    confirmed.refresh_from_db()
    assert confirmed.status == Order.Status.CONFIRMED


def test_a_customer_change_waits_for_the_sales_head(confirmed, users):
    request = services.change_request(
        user=users["cs"],
        order=confirmed,
        revision_seen=1,
        origin="customer",
        reason="客户邮件要求加量",
        lines=current_lines(confirmed, {1: {"quantity": Decimal("1500")}}),
    )
    confirmed.refresh_from_db()
    assert request.status == "pending" and confirmed.revision == 1 and not Memo.objects.exists()
    with pytest.raises(PermissionDenied):
        services.change_decide(user=users["cs"], request=request, approve=True)
    services.change_decide(user=users["head"], request=request, approve=True)
    confirmed.refresh_from_db()
    request.refresh_from_db()
    assert request.status == "applied" and request.revision == 2 and confirmed.revision == 2
    assert confirmed.lines.get(position=1).quantity == 1500


def test_a_rejected_customer_change_changes_nothing(confirmed, users):
    request = services.change_request(
        user=users["cs"],
        order=confirmed,
        revision_seen=1,
        origin="customer",
        reason="x",
        lines=current_lines(confirmed, {1: {"quantity": Decimal("1500")}}),
    )
    with pytest.raises(DomainError, match="Say why"):
        services.change_decide(user=users["head"], request=request, approve=False)
    services.change_decide(user=users["head"], request=request, approve=False, comment="产能不足")
    confirmed.refresh_from_db()
    assert confirmed.revision == 1 and confirmed.lines.get(position=1).quantity == 1000


def test_a_cancellation_tells_every_department_and_ends_the_order(submitted, users):
    services.change_request(
        user=users["cs"], order=submitted, revision_seen=1, origin="company", reason="客户倒闭", kind="cancel"
    )
    submitted.refresh_from_db()
    assert submitted.status == Order.Status.CANCELLED and submitted.revision == 2
    assert not ReviewStep.objects.filter(order=submitted, status="open").exists()
    memo = Memo.objects.get()
    assert len(memo.departments) == 6 and "取消" in memo.subject
    with pytest.raises(DomainError, match="Only an order in review"):
        company_change(users, submitted, {"packaging": "x"})


def test_a_change_that_changes_nothing_is_refused(confirmed, users):
    with pytest.raises(DomainError, match="Nothing was changed"):
        company_change(users, confirmed)


def test_a_change_from_an_older_revision_is_refused(confirmed, users):
    company_change(users, confirmed, {"packaging": "木箱"})
    with pytest.raises(DomainError, match="has changed since you opened it"):
        services.change_request(
            user=users["cs"],
            order=confirmed,
            revision_seen=1,
            origin="company",
            reason="x",
            header={"packaging": "y"},
            lines=current_lines(confirmed),
        )


def test_departments_acknowledge_the_memo_and_who_has_not_is_visible(confirmed, users):
    company_change(users, confirmed, line_changes={1: {"quantity": Decimal("1200")}})
    memo = Memo.objects.get()
    services.memo_acknowledge(user=users["pmc"], memo=memo, department="pmc")
    with pytest.raises(DomainError, match="already acknowledged"):
        services.memo_acknowledge(user=users["pmc"], memo=memo, department="pmc")
    with pytest.raises(PermissionDenied):
        services.memo_acknowledge(user=users["qa"], memo=memo, department="quality")  # not sent to Quality
    with pytest.raises(PermissionDenied):
        services.memo_acknowledge(user=users["qa"], memo=memo, department="marketing")  # not their department
    waiting = memo.receipts.filter(acknowledged_at__isnull=True).values_list("department", flat=True)
    assert list(waiting) == ["marketing"]


# --- Through the client ------------------------------------------------------------------------------


def change_post(order, **overrides):
    data = {
        "revision": order.revision,
        "kind": "change",
        "origin": "company",
        "reason": "生产安排调整",
        "customer_po": order.customer_po,
        "delivery_address": order.delivery_address_id,
        "payment_terms": order.payment_terms,
        "currency": order.currency,
        "incoterm": order.incoterm,
        "packaging": order.packaging,
        "labelling": order.labelling,
        "inspection": order.inspection,
        "other_requirements": order.other_requirements,
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
    }
    for index, line in enumerate(order.lines.order_by("position")):
        data |= {
            f"lines-{index}-product": line.product_id,
            f"lines-{index}-quantity": str(line.quantity),
            f"lines-{index}-unit_price": str(line.unit_price),
            f"lines-{index}-requested_date": line.requested_date.isoformat(),
        }
    data.update(overrides)
    return data


def test_the_change_form_makes_a_revision_shown_field_by_field(client_for, confirmed):
    cs = client_for("cs")
    form = cs.get(reverse("orders:change", args=[confirmed.number])).content.decode()
    assert 'name="lines-0-quantity" value="1000' in form
    response = cs.post(
        reverse("orders:change", args=[confirmed.number]),
        change_post(confirmed, **{"lines-0-quantity": "1200", "inspection": "全检"}),
    )
    assert response.status_code == 302
    confirmed.refresh_from_db()
    assert confirmed.revision == 2
    page = client_for("qa").get(confirmed.get_absolute_url()).content.decode()
    revisions = page[page.index('data-testid="revisions"') :]
    assert "inspection" in revisions and "全检" in revisions and "1200" in revisions
    assert "Earlier signatures" in page
    memo = Memo.objects.get()
    assert memo.number in page


def test_a_cancellation_through_the_client(client_for, confirmed):
    response = client_for("cs").post(
        reverse("orders:change", args=[confirmed.number]),
        {"revision": 1, "kind": "cancel", "origin": "customer", "reason": "客户取消订单", "confirm_cancel": "1"},
    )
    assert response.status_code == 302
    request = ChangeRequest.objects.get()
    assert request.status == "pending"
    page = client_for("head").get(confirmed.get_absolute_url()).content.decode()
    assert "waits for the sales head" in page
    client_for("head").post(reverse("orders:change_decide", args=[request.pk]), {"approve": "yes"})
    confirmed.refresh_from_db()
    assert confirmed.status == "cancelled"


def test_bad_change_input_is_refused_and_kept(client_for, confirmed):
    response = client_for("cs").post(
        reverse("orders:change", args=[confirmed.number]),
        change_post(confirmed, **{"lines-0-quantity": "-3", "reason": "数量错"}),
    )
    page = response.content.decode()
    assert response.status_code == 422 and "more than zero" in page and "数量错" in page
    confirmed.refresh_from_db()
    assert confirmed.revision == 1


def test_memo_pages_acknowledgement_and_print(client_for, confirmed, users, caplog):
    company_change(users, confirmed, line_changes={1: {"quantity": Decimal("1200")}})
    memo = Memo.objects.get()
    work = client_for("pmc").get(reverse("accounts:my_work")).content.decode()
    assert "Internal memos to acknowledge" in work and memo.subject[:20] in work
    assert memo.subject[:20] not in client_for("qa").get(reverse("accounts:my_work")).content.decode()

    client_for("pmc").post(reverse("orders:memo_acknowledge", args=[memo.pk]), {"department": "pmc"})
    page = client_for("warehouse").get(reverse("orders:memo", args=[memo.pk])).content.decode()
    assert "not yet" in page  # Marketing has not acknowledged
    assert page.count("✔") == 1
    response = client_for("qa").post(reverse("orders:memo_acknowledge", args=[memo.pk]), {"department": "pmc"})
    assert response.status_code == 403

    pdf = client_for("warehouse").get(reverse("orders:memo_pdf", args=[memo.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "内部联络函" in text and "东莞宏达电子有限公司" in text and memo.number in text
    listing = client_for("marketing").get(reverse("orders:memos")).content.decode()
    assert memo.number in listing and "table-warning" in listing


def test_change_actions_by_role(client, users, confirmed):
    from accounts.roles import MATRIX
    from tests.conftest import ROLE_USERS

    request = services.change_request(
        user=users["cs"],
        order=confirmed,
        revision_seen=1,
        origin="customer",
        reason="x",
        lines=current_lines(confirmed, {1: {"quantity": Decimal("1500")}}),
    )
    checks = [
        ("get", reverse("orders:change", args=[confirmed.number]), "order.change"),
        ("post", reverse("orders:change_decide", args=[request.pk]), "order.signoff"),
        ("get", reverse("orders:memos"), "order.view"),
    ]
    for method, url, capability in checks:
        for role, dept in ROLE_USERS.items():
            client.force_login(users[role])
            status = getattr(client, method)(url, {}).status_code
            assert status < 500
            assert (status != 403) == (dept in MATRIX[capability]), (url, role, status)
            client.logout()


def test_an_earlier_revision_stays_readable_with_its_signatures(client_for, confirmed, users):
    company_change(users, confirmed, line_changes={1: {"quantity": Decimal("1200")}})
    page = client_for("warehouse").get(reverse("orders:revision", args=[confirmed.number, 1])).content.decode()
    lines = page[page.index('data-testid="revision-lines"') :]
    assert ">1000<" in lines and "1200" not in lines  # the quantities as they were
    signatures = page[page.index('data-testid="revision-steps"') :]
    assert "PMC" in signatures
    assert "Re-opened by a change" in signatures
    assert "Marketing head's sign-off" in signatures
    assert "earlier revision" in page
    current = client_for("warehouse").get(reverse("orders:revision", args=[confirmed.number, 2])).content.decode()
    assert "1200" in current and "earlier revision" not in current
