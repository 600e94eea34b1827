"""Records stay records in the admin too (issue 10): read, never added, changed, deleted or reverted, by a
superuser neither; master data follows the app's permission matrix."""

from datetime import date

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from common.models import OutboxMessage
from complaints.models import Complaint, ComplaintAttachment
from customers import services as customer_services
from customers.models import CommunicationLog, Customer, CustomerEvaluation, ImportJob, Quotation
from delivery.models import (
    BatchDueChange,
    CustomsWork,
    DelayReport,
    DeliveryNote,
    DispatchRequest,
    OnTimeRestatement,
    Return,
    SignBack,
    TransitIncident,
)
from improvement.models import Action, AnalysisReport, ManagementReview, Meeting, Verification
from orders.models import (
    Acknowledgement,
    ChangeRequest,
    Memo,
    MemoReceipt,
    Objection,
    Order,
    OrderRevision,
    ReviewStep,
    SignOff,
)
from satisfaction.models import Response, ResponseVersion, Scorecard
from tests.delivery.conftest import customer, deliverable, entered, issue, order, plan, products  # noqa: F401

pytestmark = [pytest.mark.clause("5.12.8")]

RECORDS = [
    CustomerEvaluation,
    CommunicationLog,
    Quotation,
    ImportJob,
    Order,
    OrderRevision,
    ReviewStep,
    SignOff,
    Objection,
    Acknowledgement,
    ChangeRequest,
    Memo,
    MemoReceipt,
    DeliveryNote,
    SignBack,
    Return,
    TransitIncident,
    DispatchRequest,
    CustomsWork,
    BatchDueChange,
    DelayReport,
    OnTimeRestatement,
    Response,
    ResponseVersion,
    Scorecard,
    Complaint,
    ComplaintAttachment,
    AnalysisReport,
    Meeting,
    Action,
    Verification,
    ManagementReview,
    OutboxMessage,
]


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-Secret-123")


@pytest.fixture
def root(client, superuser):
    client.force_login(superuser)
    return client


def _url(obj, view, *args):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk, *args])


@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m._meta.label)
def test_it_shows_every_record_read_only_even_to_a_superuser(model, superuser, rf):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = superuser
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)
    for inline in model_admin.get_inline_instances(request):
        assert not inline.has_add_permission(request, None)
        assert not inline.has_change_permission(request)
        assert not inline.has_delete_permission(request)
    if isinstance(model_admin, SimpleHistoryAdmin):
        assert model_admin.revert_disabled(request)
        post = rf.post("/", {})
        post.user = superuser
        with pytest.raises(PermissionDenied):
            model_admin.history_form_view(post, "1", "1")


def test_it_refuses_to_change_or_delete_an_issued_note(root, users, order):  # noqa: F811
    note = issue(users, (plan(users, order, quantity="100"), "100"))
    page = root.get(_url(note, "change"))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert root.post(_url(note, "change"), {"remarks": "changed", "status": "cancelled"}).status_code == 403
    assert root.post(_url(note, "delete"), {"post": "yes"}).status_code == 403
    root.post(
        reverse("admin:delivery_deliverynote_changelist"),
        {"action": "delete_selected", "_selected_action": [note.pk], "post": "yes"},
    )
    note.refresh_from_db()
    assert (note.status, note.remarks) == (DeliveryNote.Status.ISSUED, "")
    assert note.lines.count() == 1


def test_it_refuses_to_change_a_signed_review_step(root, order):  # noqa: F811
    step = ReviewStep.objects.filter(order=order).exclude(signed_at=None).first()
    assert root.post(_url(step, "change"), {"status": "open", "comment": "x"}).status_code == 403
    assert root.post(_url(step, "delete"), {"post": "yes"}).status_code == 403
    assert ReviewStep.objects.get(pk=step.pk).signed_at == step.signed_at


def test_it_refuses_to_revert_an_approved_evaluation(root, customer):  # noqa: F811
    evaluation = CustomerEvaluation.objects.get(customer=customer)
    assert evaluation.status == CustomerEvaluation.Status.APPROVED
    first = evaluation.history.earliest()
    assert first.status != CustomerEvaluation.Status.APPROVED
    history_page = root.get(_url(evaluation, "simple_history", first.history_id))
    assert history_page.status_code == 200
    assert b"Revert" not in history_page.content
    data = {"status": first.status, "recommendation": "reverted", "customer": customer.pk, "version": 1}
    assert root.post(_url(evaluation, "simple_history", first.history_id), data).status_code == 403
    assert root.post(_url(evaluation, "delete"), {"post": "yes"}).status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.status == CustomerEvaluation.Status.APPROVED


def test_it_refuses_to_revert_or_change_a_quotation_in_use(root, order):  # noqa: F811
    quotation = Quotation.objects.filter(product=order.lines.first().product).first()
    price = quotation.unit_price
    first = quotation.history.earliest()
    data = {"customer": quotation.customer_id, "product": quotation.product_id, "unit_price": "0.01", "currency": "CNY"}
    data["valid_from"] = quotation.valid_from.isoformat()
    assert root.post(_url(quotation, "simple_history", first.history_id), data).status_code == 403
    assert root.post(_url(quotation, "change"), data).status_code == 403
    assert root.post(_url(quotation, "delete"), {"post": "yes"}).status_code == 403
    quotation.refresh_from_db()
    assert quotation.unit_price == price


def test_it_refuses_to_change_a_communication_log_entry(root, users, customer):  # noqa: F811
    entry = customer_services.communication_add(
        user=users["marketing"],
        entry=CommunicationLog(customer=customer, date=date(2026, 3, 2), channel="phone", summary="说好了"),
    )
    data = {"customer": customer.pk, "date": "2026-03-02", "channel": "phone", "summary": "rewritten"}
    assert root.post(_url(entry, "change"), data).status_code == 403
    assert root.post(_url(entry, "delete"), {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.summary == "说好了"


def _staff(make_user, name, dept, *codenames):
    user = make_user(name, dept, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_it_holds_the_app_permission_rules_for_master_data(client, make_user, customer):  # noqa: F811
    change = reverse("admin:customers_customer_change", args=[customer.pk])
    qa = _staff(make_user, "qa-staff", "quality", "view_customer", "change_customer", "delete_customer")
    client.force_login(qa)
    assert client.get(change).status_code == 200  # Django's permission lets them read it
    assert b'name="_save"' not in client.get(change).content
    assert client.post(change, {"name_zh": "改名"}).status_code == 403
    assert (
        client.post(reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"}).status_code == 403
    )
    customer.refresh_from_db()
    assert customer.name_zh == "东莞宏达电子有限公司"

    marketing = _staff(make_user, "mk-staff", "marketing", "view_customer", "change_customer")
    client.force_login(marketing)
    assert b'name="_save"' in client.get(change).content


def test_it_refuses_history_revert_of_master_data_without_the_app_permission(client, make_user, customer):  # noqa: F811
    qa = _staff(make_user, "qa-staff", "quality", "view_customer", "change_customer")
    client.force_login(qa)
    first = Customer.history.filter(id=customer.pk).earliest()
    url = reverse("admin:customers_customer_simple_history", args=[customer.pk, first.history_id])
    assert client.post(url, {"name_zh": "改名", "code": customer.code}).status_code == 403


def test_it_lets_only_the_administration_manage_users_in_the_admin(client, make_user, users):
    cs = _staff(make_user, "cs-staff", "customer_service", "view_user", "change_user")
    client.force_login(cs)
    target = users["qa"]
    change = reverse("admin:accounts_user_change", args=[target.pk])
    password = reverse("admin:auth_user_password_change", args=[target.pk])
    assert client.post(change, {"username": "qa", "is_superuser": "on"}).status_code == 403
    assert client.post(password, {"password1": "x-Secret-9876", "password2": "x-Secret-9876"}).status_code == 403
    target.refresh_from_db()
    assert not target.is_superuser and target.check_password("pw-Secret-123")
