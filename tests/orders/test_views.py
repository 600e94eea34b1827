"""Orders through the client: intake, the review path, who may do what, and bounded query counts."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import MATRIX
from orders.models import Objection, Order, ReviewStep
from tests.conftest import ROLE_USERS
from tests.orders.conftest import REVIEWERS, TODAY

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clause("5.2.1"),
    pytest.mark.clause("5.2.4.1"),
    pytest.mark.clause("4.0.1"),
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def order_post(customer, products, **overrides):
    data = {
        "customer": customer.pk,
        "customer_po": "PO-2026-118",
        "source": "email",
        "delivery_address": customer.addresses.get().pk,
        "packaging": "纸箱,每箱 50 个",
        "labelling": "",
        "inspection": "AQL 1.0",
        "other_requirements": "",
        "verbal": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": products["lamp"].pk,
        "lines-0-quantity": "1000",
        "lines-0-unit_price": "1.50",
        "lines-0-requested_date": (TODAY + timedelta(days=30)).isoformat(),
        "lines-1-product": products["base"].pk,
        "lines-1-quantity": "200",
        "lines-1-unit_price": "2.20",
        "lines-1-requested_date": (TODAY + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_customer_service_enters_an_order_with_its_scan(client_for, customer, products):
    data = order_post(customer, products, original=SimpleUploadedFile("po.pdf", PDF, content_type="application/pdf"))
    response = client_for("cs").post(reverse("orders:create"), data)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.lines.count() == 2 and order.original.name.endswith(".pdf")
    assert "RoHS" in order.packaging and order.packaging.startswith("纸箱")


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"lines-0-product": ""}, "Choose the product of this line."),
        ({"lines-0-quantity": "-5"}, "The quantity must be more than zero."),
        ({"lines-0-requested_date": (TODAY - timedelta(days=2)).isoformat()}, "The requested date is in the past."),
        (
            {
                "lines-0-product": "",
                "lines-0-quantity": "",
                "lines-0-unit_price": "",
                "lines-0-requested_date": "",
                "lines-1-product": "",
                "lines-1-quantity": "",
                "lines-1-unit_price": "",
                "lines-1-requested_date": "",
            },
            "An order needs at least one line.",
        ),
    ],
)
def test_bad_lines_are_refused_and_what_was_typed_stays(client_for, customer, products, overrides, message):
    response = client_for("cs").post(reverse("orders:create"), order_post(customer, products, **overrides))
    page = response.content.decode()
    assert response.status_code == 422 and message in page
    assert "PO-2026-118" in page and "AQL 1.0" in page  # nothing typed is lost
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "name,content",
    [("po.pdf", b"name,qty\nA,1\n"), ("po.png", b"GIF89a fake"), ("po.exe", b"MZ\x90\x00")],
)
def test_an_original_that_is_not_pdf_or_image_is_refused(client_for, customer, products, name, content):
    data = order_post(customer, products, original=SimpleUploadedFile(name, content))
    response = client_for("cs").post(reverse("orders:create"), data)
    assert "Attach a PDF or an image" in response.content.decode() and not Order.objects.exists()


def test_an_address_of_another_customer_is_refused(client_for, customer, products):
    from customers.models import Customer, DeliveryAddress

    other = Customer.objects.create(code="C-0900", name_en="Other")
    address = DeliveryAddress.objects.create(customer=other, label="x", address="elsewhere")
    response = client_for("cs").post(
        reverse("orders:create"), order_post(customer, products, delivery_address=address.pk)
    )
    assert "belongs to another customer" in response.content.decode() and not Order.objects.exists()


def _answers(step):
    return {f"item_{i['key']}": "yes" for i in step.checklist.items}


def test_the_whole_review_path_through_the_client(client_for, customer, products, users):
    cs = client_for("cs")
    cs.post(reverse("orders:create"), order_post(customer, products, verbal="客户电话要求每箱贴批号"))
    order = Order.objects.get()
    page = cs.get(order.get_absolute_url()).content.decode()
    assert "no valid quotation" in page  # P-2 has no quotation: flagged beside the price
    assert "matches the quotation" in page
    assert "waiting for the customer&#x27;s written confirmation" in page or "written confirmation" in page
    cs.post(reverse("orders:submit", args=[order.number]))
    order.refresh_from_db()
    assert order.status == "in_review"

    for reviewer in ["product", "marketing", "cs", "tech"]:
        client = client_for(reviewer)
        step = ReviewStep.objects.get(order=order, status="open", department=ROLE_USERS[reviewer])
        page = client.get(order.get_absolute_url()).content.decode()
        assert f'action="{reverse("orders:step_sign", args=[step.pk])}#step-{step.pk}"' in page
        response = client.post(
            reverse("orders:step_sign", args=[step.pk]), {"revision": 1, "comment": "", **_answers(step)}
        )
        assert response.status_code == 302
    # Quality objects instead of signing.
    qa_step = ReviewStep.objects.get(order=order, department="quality")
    client_for("qa").post(reverse("orders:step_object", args=[qa_step.pk]), {"revision": 1, "reason": "包装方式不明确"})
    order.refresh_from_db()
    assert order.status == "on_hold"
    objection = Objection.objects.get()
    client_for("marketing").post(
        reverse("orders:objection_settle", args=[objection.pk]), {"outcome": "客户确认用标准纸箱"}
    )
    order.refresh_from_db()
    assert order.status == "in_review"

    pmc_step = ReviewStep.objects.get(order=order, department="pmc", status="open")
    pmc = {"revision": 1, "comment": "", **_answers(pmc_step)}
    pmc |= {
        f"date_{line.position}": (line.requested_date + timedelta(days=3)).isoformat() for line in order.lines.all()
    }
    client_for("pmc").post(reverse("orders:step_sign", args=[pmc_step.pk]), pmc)
    qa_step = ReviewStep.objects.get(order=order, department="quality", status="open")
    client_for("qa").post(reverse("orders:step_sign", args=[qa_step.pk]), {"revision": 1, **_answers(qa_step)})
    order.refresh_from_db()
    assert order.status == "awaiting_signoff"

    head = client_for("head")
    response = head.post(reverse("orders:signoff", args=[order.number]), {"revision": 1}, follow=True)
    assert "written confirmation" in response.content.decode()  # the verbal requirement blocks it
    requirement = order.verbal_requirements.get()
    client_for("cs").post(
        reverse("orders:verbal_confirm", args=[requirement.pk]),
        {"confirmation": SimpleUploadedFile("回执.pdf", PDF)},
    )
    client_for("head").post(reverse("orders:signoff", args=[order.number]), {"revision": 1, "comment": "同意"})
    order.refresh_from_db()
    assert order.status == "signed_off"
    assert [line.confirmed_date for line in order.lines.all()] == [TODAY + timedelta(days=33)] * 2
    timeline = client_for("warehouse").get(order.get_absolute_url()).content.decode()
    for expected in ("Quality objected", "Settled", "PMC signed", "Signed off by the marketing head"):
        assert expected in timeline, expected


def test_a_double_clicked_sign_button_records_one_signature(client_for, submitted):
    step = ReviewStep.objects.get(order=submitted, department="quality")
    client = client_for("qa")
    first = client.post(reverse("orders:step_sign", args=[step.pk]), {"revision": 1, **_answers(step)})
    second = client.post(reverse("orders:step_sign", args=[step.pk]), {"revision": 1, **_answers(step)}, follow=True)
    assert first.status_code == 302 and "already signed" in second.content.decode()
    assert ReviewStep.objects.filter(order=submitted, department="quality", status="signed").count() == 1


# --- Who may do what -------------------------------------------------------------------------------


def _dept_step(order, dept):
    return ReviewStep.objects.get(order=order, department=dept, status="open")


@pytest.mark.parametrize("dept", ["product_group", "marketing", "customer_service", "technical", "pmc", "quality"])
def test_each_step_is_signed_and_objected_only_by_its_department(client, users, submitted, dept):
    step = _dept_step(submitted, dept)
    for role, role_dept in ROLE_USERS.items():
        client.force_login(users[role])
        sign = client.post(reverse("orders:step_sign", args=[step.pk]), {"revision": 1})
        objection = client.post(reverse("orders:step_object", args=[step.pk]), {"revision": 1, "reason": ""})
        expected_forbidden = role_dept != dept
        assert (sign.status_code == 403) == expected_forbidden, (role, dept, sign.status_code)
        assert (objection.status_code == 403) == expected_forbidden, (role, dept, objection.status_code)
        client.logout()
    step.refresh_from_db()
    assert step.status == "open"  # empty forms sign nothing


ACTIONS = [
    ("list", "get", lambda o: reverse("orders:list"), "order.view"),
    ("detail", "get", lambda o: o.get_absolute_url(), "order.view"),
    ("new", "get", lambda o: reverse("orders:create"), "order.enter"),
    ("submit", "post", lambda o: reverse("orders:submit", args=[o.number]), "order.enter"),
    ("signoff", "post", lambda o: reverse("orders:signoff", args=[o.number]), "order.signoff"),
    ("erp", "post", lambda o: reverse("orders:erp", args=[o.number]), "order.enter"),
    ("settle", "post", lambda o: reverse("orders:objection_settle", args=[o._objection.pk]), "order.settle"),
    ("verbal", "post", lambda o: reverse("orders:verbal_confirm", args=[o._verbal.pk]), "order.enter"),
    ("confirm", "post", lambda o: reverse("orders:confirm", args=[o.number]), "order.confirm"),
]


@pytest.mark.parametrize("name,method,url,capability", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_order_pages_and_actions_by_role(client, users, entered, name, method, url, capability):
    from orders import services

    order = entered(verbal_requirements=["口头要求"])
    services.order_submit(user=users["cs"], order=order)
    step = _dept_step(order, "quality")
    order._objection = services.step_object(user=users["qa"], step=step, revision_seen=1, reason="r")
    order._verbal = order.verbal_requirements.get()
    wrong = []
    for role, dept in ROLE_USERS.items():
        client.force_login(users[role])
        response = getattr(client, method)(url(order), {})
        assert response.status_code < 500, (role, response.status_code)
        if (response.status_code != 403) != (dept in MATRIX[capability]):
            wrong.append((role, response.status_code))
        client.logout()
    assert wrong == []


# --- Query counts ----------------------------------------------------------------------------------


def _bulk_orders(customer, products, users, n, start):
    from orders.models import OrderLine

    orders = Order.objects.bulk_create(
        Order(
            number=f"SO-BULK-{i:05d}",
            customer=customer,
            customer_po=f"PO{i}",
            created_by=users["cs"],
            status="in_review",
            revision=1,
        )
        for i in range(start, start + n)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=o, position=1, product=products["lamp"], quantity=1, unit_price=1, requested_date=TODAY)
        for o in orders
    )
    from orders.services import current_checklist

    checklists = {d: current_checklist(d) for d in ("quality", "pmc")}
    ReviewStep.objects.bulk_create(
        ReviewStep(order=o, revision=1, department=d, checklist=checklists[d]) for o in orders for d in checklists
    )


def test_the_order_list_and_my_work_cost_the_same_with_500_orders(client_for, customer, products, users):
    def count(client, url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    _bulk_orders(customer, products, users, 10, 0)
    qa = client_for("qa")
    qa.get(reverse("accounts:my_work"))  # the work calendar is read once, then cached (common.workdays)
    few_list, few_work = count(qa, reverse("orders:list")), count(qa, reverse("accounts:my_work"))
    _bulk_orders(customer, products, users, 490, 10)
    assert count(qa, reverse("orders:list")) == few_list
    assert count(qa, reverse("accounts:my_work")) == few_work
    assert few_list <= 10


def test_the_order_page_queries_do_not_grow_with_lines_and_steps(client_for, submitted, users):
    client = client_for("qa")
    with CaptureQueriesContext(connection) as before:
        client.get(submitted.get_absolute_url())
    for reviewer in REVIEWERS[:4]:
        from tests.orders.conftest import sign

        sign(users, submitted, reviewer)
    with CaptureQueriesContext(connection) as after:
        client.get(submitted.get_absolute_url())
    assert len(after) <= len(before) + 2


def test_quality_sees_the_customers_open_quality_problems_beside_the_checklist(client_for, submitted, users):
    from customers import services as customer_services
    from customers.models import QualityProblem

    page = client_for("qa").get(submitted.get_absolute_url()).content.decode()
    assert "earlier quality problem(s)" not in page  # none recorded: nothing to say
    problem = customer_services.quality_problem_add(
        user=users["qa"],
        problem=QualityProblem(customer=submitted.customer, reported_on=TODAY, description="上批灯罩有缩水"),
    )
    page = client_for("qa").get(submitted.get_absolute_url()).content.decode()
    checks = page[page.index('data-testid="prechecks"') :]
    assert "1 earlier quality problem(s) still open" in checks and "上批灯罩有缩水" in checks
    customer_services.quality_problem_fix(user=users["qa"], problem=problem, corrective_action="改模", fixed_on=TODAY)
    page = client_for("qa").get(submitted.get_absolute_url()).content.decode()
    assert "all 1 earlier quality problem(s) are fixed" in page


def test_the_environmental_note_counts_as_noted_in_either_language(client_for, customer, products, users):
    """The note is written in the language of whoever entered the order; the check must find it either way."""
    from customers import services as customer_services
    from customers.models import EnvironmentalRequirement

    customer_services.envreq_save(
        user=users["qa"], requirement=EnvironmentalRequirement(customer=customer, standard="halogen_free")
    )
    users["cs"].language = "zh-hans"  # Customer Service works in Chinese: the note is written in Chinese
    users["cs"].save()
    client_for("cs").post(reverse("orders:create"), order_post(customer, products))
    order = Order.objects.get()
    assert "无卤" in order.packaging
    page = client_for("qa").get(order.get_absolute_url()).content.decode()
    assert "Environmental requirements noted in the packaging requirements." in page
