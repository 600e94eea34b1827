"""Customer pages through the client: who may open and do what, and what they see."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import MATRIX
from customers import services
from customers.models import (
    CommunicationLog,
    Contact,
    Customer,
    CustomerEvaluation,
    DeliveryAddress,
    EnvironmentalRequirement,
    Product,
    QualityProblem,
    Quotation,
)
from tests.conftest import ROLE_USERS

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clause("5.1.1"),
    pytest.mark.clause("5.2.2"),
    pytest.mark.clause("5.10.1"),
    pytest.mark.clause("4.0.1"),
]

TODAY = timezone.localdate()


@pytest.fixture
def world(users):
    """A customer with one of everything, and evaluation forms in each state an action needs."""
    customer = Customer.objects.create(code="C-0001", name_zh="东莞宏达电子", name_en="Hongda", status="active")
    Contact.objects.create(customer=customer, name="张伟", is_primary=True, receives_surveys=True)
    DeliveryAddress.objects.create(customer=customer, label="Main", address="东莞长安", is_default=True)
    product = Product.objects.create(code="P-1", name="灯罩")
    quotation = services.quotation_create(
        user=users["marketing"],
        customer=customer,
        product=product,
        unit_price=Decimal("1.50"),
        currency="CNY",
        valid_from=TODAY,
    )
    requirement = services.envreq_save(
        user=users["qa"], requirement=EnvironmentalRequirement(customer=customer, standard="rohs")
    )
    entry = services.communication_add(
        user=users["marketing"],
        entry=CommunicationLog(
            customer=customer, date=TODAY, channel="phone", summary="s", follow_up="send samples", follow_up_due=TODAY
        ),
    )
    # Forms in the states the actions need: submitted (approve/return), approved (file/revise), draft (submit).
    other = Customer.objects.create(code="C-0002", name_en="Other")
    third = Customer.objects.create(code="C-0003", name_en="Third")
    submitted = _evaluation(users, customer, "submitted")
    approved = _evaluation(users, other, "approved")
    draft = _evaluation(users, third, "draft")
    problem = services.quality_problem_add(
        user=users["qa"], problem=QualityProblem(customer=customer, reported_on=TODAY, description="批锋")
    )
    return {
        "problem": problem,
        "customer": customer,
        "product": product,
        "quotation": quotation,
        "requirement": requirement,
        "entry": entry,
        "submitted": submitted,
        "approved": approved,
        "draft": draft,
    }


def _evaluation(users, customer, state):
    form = services.evaluation_create(user=users["marketing"], customer=customer, recommendation="建议合作")
    if state == "draft":
        return form
    form = services.evaluation_submit(user=users["marketing"], evaluation=form)
    if state == "approved":
        form = services.evaluation_approve(user=users["head"], evaluation=form)
    return form


# (name, method, url builder, capability, POST data)
ENDPOINTS = [
    ("list", "get", lambda w: reverse("customers:list"), "customer.view", None),
    ("detail", "get", lambda w: reverse("customers:detail", args=["C-0001"]), "customer.view", None),
    ("products", "get", lambda w: reverse("customers:product_list"), "customer.view", None),
    ("evaluation", "get", lambda w: reverse("customers:evaluation", args=[w["submitted"].pk]), "customer.view", None),
    ("create form", "get", lambda w: reverse("customers:create"), "customer.edit", None),
    ("edit form", "get", lambda w: reverse("customers:edit", args=["C-0001"]), "customer.edit", None),
    ("product new", "get", lambda w: reverse("customers:product_create"), "product.edit", None),
    ("product edit", "get", lambda w: reverse("customers:product_edit", args=[w["product"].pk]), "product.edit", None),
    ("quotation add", "post", lambda w: reverse("customers:quotation_add", args=["C-0001"]), "quotation.edit", {}),
    (
        "quotation end",
        "get",
        lambda w: reverse("customers:quotation_end", args=[w["quotation"].pk]),
        "quotation.edit",
        None,
    ),
    ("envreq new", "get", lambda w: reverse("customers:envreq_create", args=["C-0001"]), "envreq.edit", None),
    (
        "envreq edit",
        "get",
        lambda w: reverse("customers:envreq_edit", args=["C-0001", w["requirement"].pk]),
        "envreq.edit",
        None,
    ),
    ("log add", "post", lambda w: reverse("customers:communication_add", args=["C-0001"]), "commlog.add", {}),
    (
        "log done",
        "post",
        lambda w: reverse("customers:communication_done", args=[w["entry"].pk]),
        "commlog.add",
        {},
    ),
    (
        "evaluation new",
        "get",
        lambda w: reverse("customers:evaluation_create", args=["C-0002"]),
        "evaluation.edit",
        None,
    ),
    (
        "evaluation edit",
        "get",
        lambda w: reverse("customers:evaluation_edit", args=[w["draft"].pk]),
        "evaluation.edit",
        None,
    ),
    (
        "submit",
        "post",
        lambda w: reverse("customers:evaluation_submit", args=[w["draft"].pk]),
        "evaluation.edit",
        {},
    ),
    (
        "approve",
        "post",
        lambda w: reverse("customers:evaluation_approve", args=[w["submitted"].pk]),
        "evaluation.decide",
        {},
    ),
    (
        "return",
        "post",
        lambda w: reverse("customers:evaluation_return", args=[w["submitted"].pk]),
        "evaluation.decide",
        {"comment": "补充资料"},
    ),
    ("file", "post", lambda w: reverse("customers:evaluation_file", args=[w["approved"].pk]), "evaluation.file", {}),
    (
        "revise",
        "post",
        lambda w: reverse("customers:evaluation_revise", args=[w["approved"].pk]),
        "evaluation.edit",
        {},
    ),
    ("import (admin)", "get", lambda w: reverse("admin:customers_customer_import"), "customer.import", None),
    (
        "quality problem add",
        "post",
        lambda w: reverse("customers:quality_add", args=["C-0001"]),
        "quality_problem.edit",
        {},
    ),
    (
        "quality problem fix",
        "post",
        lambda w: reverse("customers:quality_fix", args=[w["problem"].pk]),
        "quality_problem.edit",
        {},
    ),
]


@pytest.mark.parametrize("name,method,url,capability,data", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_every_page_and_action_is_open_to_its_departments_only(
    client, users, world, name, method, url, capability, data
):
    """Each role × endpoint: the departments in the matrix get through, everyone else gets 403."""
    wrong = []
    for role, dept in ROLE_USERS.items():
        client.force_login(users[role])
        response = getattr(client, method)(url(world), data) if data is not None else client.get(url(world))
        allowed = dept in MATRIX[capability]
        if name == "import (admin)":  # the Django admin sends non-staff users to its login page
            got = response.status_code == 200
        else:
            assert response.status_code < 500, (role, response.status_code)
            got = response.status_code != 403
        if got != allowed:
            wrong.append((role, response.status_code))
        client.logout()
    assert wrong == [], f"{name}: wrong answer for {wrong}"


def test_anonymous_users_are_sent_to_the_login_page(client, world):
    for _name, method, url, _cap, data in ENDPOINTS:
        response = getattr(client, method)(url(world), data or {})
        assert response.status_code == 302 and "login" in response["Location"], url(world)


def test_an_unknown_customer_is_a_404_not_a_crash(client_for):
    assert client_for("cs").get(reverse("customers:detail", args=["NOPE"])).status_code == 404


# --- The list ------------------------------------------------------------------------------------


def test_the_list_searches_filters_and_paginates(client_for, users):
    for i in range(60):
        Customer.objects.create(code=f"C-{i:04d}", name_en=f"Customer {i}", status="active" if i % 2 else "inactive")
    Customer.objects.create(code="X-1", name_zh="深圳华光照明", status="development", important_in_development=True)
    client = client_for("cs")
    page = client.get(reverse("customers:list"), {"q": "华光"}).content.decode()
    assert "X-1" in page and "C-0001" not in page
    page = client.get(reverse("customers:list"), {"important_in_development": "on"}).content.decode()
    assert "X-1" in page and "C-0003" not in page
    response = client.get(reverse("customers:list"), {"status": "active"})
    assert response.context["page"].paginator.count == 30
    first = client.get(reverse("customers:list"))
    assert first.context["page"].has_next()
    second = client.get(reverse("customers:list"), {"page": 2}).content.decode()
    assert second.count("<tr") == 61 - 50 + 1  # the header row and the 11 left


def test_the_list_costs_the_same_queries_for_20_or_220_customers(client_for, users):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("customers:list")).status_code == 200
        return len(captured)

    client = client_for("marketing")
    _many_customers(users, 20, start=0)
    few = queries()
    _many_customers(users, 200, start=20)
    assert queries() == few
    assert few <= 12


def _many_customers(users, n, start):
    customers = Customer.objects.bulk_create(
        Customer(code=f"V-{i:05d}", name_zh=f"客户{i}", marketing_owner=users["marketing"], status="active")
        for i in range(start, start + n)
    )
    Contact.objects.bulk_create(Contact(customer=c, name="王", is_primary=True) for c in customers)


def test_the_detail_page_shows_the_whole_customer(client_for, world):
    page = client_for("qa").get(reverse("customers:detail", args=["C-0001"])).content.decode()
    for expected in ("东莞宏达电子", "张伟", "东莞长安", "P-1", "RoHS", "send samples", "Submitted"):
        assert expected in page, expected


def test_the_detail_page_queries_do_not_grow_with_its_rows(client_for, world, users):
    client = client_for("marketing")
    url = reverse("customers:detail", args=["C-0001"])
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    customer = world["customer"]
    for i in range(10):
        Contact.objects.create(customer=customer, name=f"c{i}")
        DeliveryAddress.objects.create(customer=customer, label=f"a{i}", address="x")
        product = Product.objects.create(code=f"P-X{i}", name="x")
        services.quotation_create(
            user=users["marketing"], customer=customer, product=product, unit_price=1, currency="CNY", valid_from=TODAY
        )
        CommunicationLog.objects.create(customer=customer, date=TODAY, channel="phone", summary="s", user=users["cs"])
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)


# --- Editing and history ---------------------------------------------------------------------------


def customer_post(**overrides):
    data = {
        "code": "C-0100",
        "name_zh": "新客户",
        "name_en": "",
        "kind": "own",
        "status": "development",
        "trade": "domestic",
        "currency": "CNY",
        "tax_rate": "13",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-name": "李四",
        "contacts-0-email": "li@example.com",
        "contacts-0-is_primary": "on",
        "addresses-TOTAL_FORMS": "1",
        "addresses-INITIAL_FORMS": "0",
        "addresses-0-label": "Main",
        "addresses-0-address": "东莞",
        "addresses-0-is_default": "on",
    }
    data.update(overrides)
    return data


def test_customer_service_creates_a_customer_with_contact_and_address(client_for):
    response = client_for("cs").post(reverse("customers:create"), customer_post())
    assert response.status_code == 302
    customer = Customer.objects.get(code="C-0100")
    assert customer.contacts.get().name == "李四" and customer.addresses.get().is_default


def test_bad_input_keeps_what_was_typed_and_says_why(client_for):
    response = client_for("cs").post(reverse("customers:create"), customer_post(name_zh="", trade="export", code="c 1"))
    page = response.content.decode()
    assert response.status_code == 200 and not Customer.objects.exists()
    assert "Give the customer a Chinese or an English name." in page
    assert "customs registration code" in page and "capital letters" in page
    assert "李四" in page  # the contact typed in is still there


def test_a_save_over_someone_elses_later_change_is_refused(client_for, users):
    client = client_for("cs")
    client.post(reverse("customers:create"), customer_post())
    customer = Customer.objects.get(code="C-0100")
    opened = customer.updated_at
    customer.payment_terms = "月结 60 天"
    customer.save()  # someone else saved meanwhile
    data = customer_post(
        name_zh="改名",
        seen_updated_at=opened.isoformat(),
        **{
            "contacts-INITIAL_FORMS": "1",
            "contacts-0-id": str(customer.contacts.get().pk),
            "addresses-INITIAL_FORMS": "1",
            "addresses-0-id": str(customer.addresses.get().pk),
        },
    )
    response = client.post(reverse("customers:edit", args=["C-0100"]), data)
    assert "Someone else changed this customer" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name_zh == "新客户" and customer.payment_terms == "月结 60 天"


def test_every_change_is_in_the_history_with_who_and_what(client_for, users):
    client = client_for("cs")
    client.post(reverse("customers:create"), customer_post())
    customer = Customer.objects.get(code="C-0100")
    contact, address = customer.contacts.get(), customer.addresses.get()
    data = customer_post(
        payment_terms="月结 30 天",
        seen_updated_at=customer.updated_at.isoformat(),
        **{
            "contacts-INITIAL_FORMS": "1",
            "contacts-0-id": str(contact.pk),
            "contacts-0-phone": "0769-123",
            "addresses-INITIAL_FORMS": "1",
            "addresses-0-id": str(address.pk),
        },
    )
    assert client.post(reverse("customers:edit", args=["C-0100"]), data).status_code == 302
    record = customer.history.first()
    assert record.history_user == users["cs"]
    page = client_for("marketing").get(reverse("customers:detail", args=["C-0100"])).content.decode()
    history = page[page.index('id="history"') :]
    assert "月结 30 天" in history and "0769-123" in history and "cs" in history


# --- Quotations ----------------------------------------------------------------------------------


def test_two_quotations_for_one_product_cannot_overlap(client_for, world):
    url = reverse("customers:quotation_add", args=["C-0001"])
    data = {"product": world["product"].pk, "unit_price": "1.60", "currency": "CNY", "valid_from": TODAY + timedelta(1)}
    response = client_for("marketing").post(url, data)
    assert "Another quotation for this product is valid" in response.content.decode()
    assert Quotation.objects.count() == 1
    services.quotation_end(user=world["quotation"].created_by, quotation=world["quotation"], valid_to=TODAY)
    assert client_for("marketing").post(url, data).status_code == 302
    assert Quotation.objects.count() == 2


def test_a_negative_price_is_refused(client_for, world):
    url = reverse("customers:quotation_add", args=["C-0001"])
    data = {"product": world["product"].pk, "unit_price": "-1", "currency": "CNY", "valid_from": TODAY.isoformat()}
    response = client_for("marketing").post(url, data)
    assert "cannot be negative" in response.content.decode() and Quotation.objects.count() == 1


# --- Evaluation sign-off and versions ---------------------------------------------------------------


def test_the_evaluation_goes_from_marketing_to_the_head_and_is_filed(client_for, users):
    customer = Customer.objects.create(code="C-0200", name_en="New one")
    marketing = client_for("marketing")
    marketing.post(
        reverse("customers:evaluation_create", args=["C-0200"]),
        {"business_scope": "灯具", "credit_rating": "good", "recommendation": "建议合作"},
    )
    form = CustomerEvaluation.objects.get(customer=customer)
    assert form.version == 1 and form.status == "draft"
    marketing.post(reverse("customers:evaluation_submit", args=[form.pk]))

    head = client_for("head")
    head.post(reverse("customers:evaluation_return", args=[form.pk]), {"comment": ""})
    form.refresh_from_db()
    assert form.status == "submitted"  # returning needs a reason
    head.post(reverse("customers:evaluation_return", args=[form.pk]), {"comment": "补充信用资料"})
    form.refresh_from_db()
    assert form.status == "returned" and form.decided_by == users["head"]

    marketing = client_for("marketing")
    marketing.post(
        reverse("customers:evaluation_edit", args=[form.pk]),
        {"business_scope": "灯具", "credit_rating": "normal", "recommendation": "已补充"},
    )
    marketing.post(reverse("customers:evaluation_submit", args=[form.pk]))
    head = client_for("head")
    head.post(reverse("customers:evaluation_approve", args=[form.pk]), {"comment": "同意"})
    again = head.post(reverse("customers:evaluation_approve", args=[form.pk]), {"comment": "again"}, follow=True)
    assert "not waiting for a decision" in again.content.decode()
    form.refresh_from_db()
    assert form.status == "approved" and form.decision_comment == "同意" and form.credit_rating == "normal"

    client_for("cs").post(reverse("customers:evaluation_file", args=[form.pk]))
    form.refresh_from_db()
    assert form.filed_at is not None and form.filed_by == users["cs"]


def test_an_approved_form_is_read_only_and_a_new_version_supersedes_it(client_for, world):
    approved = world["approved"]
    marketing = client_for("marketing")
    response = marketing.post(
        reverse("customers:evaluation_edit", args=[approved.pk]), {"recommendation": "changed"}, follow=True
    )
    approved.refresh_from_db()
    assert approved.recommendation == "建议合作"
    assert "can no longer be edited" in response.content.decode()

    marketing.post(reverse("customers:evaluation_revise", args=[approved.pk]))
    second = CustomerEvaluation.objects.get(customer=approved.customer, version=2)
    assert second.supersedes == approved and second.status == "draft"
    approved.refresh_from_db()
    assert approved.status == "approved"  # still in force until v2 is approved

    marketing.post(reverse("customers:evaluation_submit", args=[second.pk]))
    client_for("head").post(reverse("customers:evaluation_approve", args=[second.pk]))
    approved.refresh_from_db()
    second.refresh_from_db()
    assert approved.status == "superseded" and second.status == "approved"
    old = client_for("qa").get(reverse("customers:evaluation", args=[approved.pk]))
    assert old.status_code == 200 and "建议合作" in old.content.decode()


def test_only_one_form_in_progress_per_customer(client_for, world):
    response = client_for("marketing").post(
        reverse("customers:evaluation_create", args=["C-0003"]), {"recommendation": "x"}, follow=True
    )
    assert "already has an evaluation form in progress" in response.content.decode()
    assert CustomerEvaluation.objects.filter(customer__code="C-0003").count() == 1


# --- My work -------------------------------------------------------------------------------------


def test_my_work_lists_what_waits_for_each_department(client_for, world):
    head = client_for("head").get(reverse("accounts:my_work")).content.decode()
    assert "waiting for your decision" in head and "C-0001" in head
    cs = client_for("cs").get(reverse("accounts:my_work")).content.decode()
    assert "to file" in cs and "C-0002" in cs
    marketing = client_for("marketing").get(reverse("accounts:my_work")).content.decode()
    assert "send samples" in marketing
    qa = client_for("qa").get(reverse("accounts:my_work")).content.decode()
    assert "waiting for your decision" not in qa and "send samples" not in qa


def test_the_navigation_offers_customers_and_products(client_for):
    page = client_for("warehouse").get(reverse("accounts:my_work")).content.decode()
    assert reverse("customers:list") in page and reverse("customers:product_list") in page


# --- Demo data -----------------------------------------------------------------------------------


def _snapshot():
    models = (Customer, Contact, DeliveryAddress, Product, Quotation, EnvironmentalRequirement, CommunicationLog)
    counts = {m.__name__: m.objects.count() for m in models}
    counts["evaluations"] = sorted(CustomerEvaluation.objects.values_list("customer__code", "version", "status"))
    counts["history"] = Customer.history.count()
    from orders.models import Acknowledgement, Memo, Order, ReviewStep

    counts["orders"] = sorted(Order.objects.values_list("customer_po", "status", "revision"))
    counts["steps"] = ReviewStep.objects.count()
    counts["memos"] = Memo.objects.count()
    counts["acknowledgements"] = Acknowledgement.objects.count()
    return counts


def test_seed_demo_gives_a_lived_in_app_and_running_it_again_changes_nothing(
    settings, django_capture_on_commit_callbacks
):
    settings.DEMO_MODE = True
    with django_capture_on_commit_callbacks(execute=True):  # the acknowledgements are sent after commit
        call_command("seed_demo", stdout=io.StringIO())
    first = _snapshot()
    assert first["Customer"] >= 30 and first["Quotation"] > 0 and first["EnvironmentalRequirement"] > 0
    statuses = {status for _code, _v, status in first["evaluations"]}
    assert statuses == {"draft", "submitted", "returned", "approved", "superseded"}
    assert Customer.objects.exclude(name_zh="").exists() and Customer.objects.filter(name_zh="").exists()
    # Orders at every stage of the review, so a new user sees a lived-in app.
    order_statuses = {status for _po, status, _rev in first["orders"]}
    assert order_statuses == {
        "draft",
        "in_review",
        "on_hold",
        "awaiting_signoff",
        "signed_off",
        "confirmed",
        "cancelled",
    }
    assert any(rev > 1 for _po, _status, rev in first["orders"]) and first["memos"] and first["acknowledgements"]
    call_command("seed_demo", stdout=io.StringIO())
    assert _snapshot() == first


def test_quality_records_a_problem_and_marks_it_fixed(client_for, world):
    qa = client_for("qa")
    qa.post(
        reverse("customers:quality_add", args=["C-0001"]),
        {"reported_on": TODAY.isoformat(), "description": "外观刮花,客户投诉", "product": world["product"].pk},
    )
    problem = QualityProblem.objects.get(description="外观刮花,客户投诉")
    assert problem.status == "open" and problem.recorded_by.username == "qa"
    response = qa.post(reverse("customers:quality_fix", args=[problem.pk]), {"corrective_action": "", "fixed_on": ""})
    assert response.status_code == 200  # the form again, with the reasons
    qa.post(
        reverse("customers:quality_fix", args=[problem.pk]),
        {"corrective_action": "增加包装隔板", "fixed_on": TODAY.isoformat()},
    )
    problem.refresh_from_db()
    assert problem.status == "fixed" and problem.corrective_action == "增加包装隔板"
    page = client_for("cs").get(reverse("customers:detail", args=["C-0001"])).content.decode()
    assert "外观刮花" in page and "增加包装隔板" in page
