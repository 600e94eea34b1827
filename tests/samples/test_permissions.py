"""Who may do each step with samples, as the permission matrix says (accounts.roles), for every department and
every page and action; and the admin, where samples are read-only records (issue 12, "Rules and proof")."""

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from accounts.roles import MATRIX
from samples.models import SampleNote, SampleReceipt, SampleRequest, SampleVerdict
from tests.conftest import ROLE_USERS
from tests.samples.conftest import ask, deliver, judge, receive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("4.0.2")]


@pytest.fixture
def state(users, sample, customer, products):
    """A delivered request with an unsigned note (every step still open), and a signed and approved one."""
    note = deliver(users, sample)
    done = ask(users, customer, products["lamp"], kind="changed")
    receipt = receive(users, deliver(users, done))
    verdict = judge(users, done)
    return {"sample": sample, "note": note, "receipt": receipt, "verdict": verdict}


def test_every_page_and_action_by_every_department(client, users, state, settings):
    # The same checks as in production behind nginx, and no file left open per request (response.close() would
    # send request_finished, which closes the PostgreSQL test connection).
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"
    sample, note = state["sample"], state["note"]
    pages = [
        ("get", reverse("samples:list"), "sample.view"),
        ("get", reverse("samples:list") + "?format=xlsx", "sample.view"),
        ("get", reverse("samples:detail", args=[sample.pk]), "sample.view"),
        ("get", reverse("samples:note", args=[note.number]), "sample.view"),
        ("get", reverse("samples:note_pdf", args=[note.number, "a4"]), "sample.view"),
        ("get", state["receipt"].scan.url, "sample.view"),
        ("get", state["verdict"].document.url, "sample.view"),
        ("get", reverse("samples:create"), "sample.request"),
        ("post", reverse("samples:create"), "sample.request"),
        ("post", reverse("samples:cancel", args=[sample.pk]), "sample.request"),
        ("get", reverse("samples:note_create", args=[sample.pk]), "sample.deliver"),
        ("post", reverse("samples:note_create", args=[sample.pk]), "sample.deliver"),
        ("get", reverse("samples:note_receipt", args=[note.number]), "sample.deliver"),
        ("post", reverse("samples:note_receipt", args=[note.number]), "sample.deliver"),
        ("post", reverse("samples:note_cancel", args=[note.number]), "sample.deliver"),
        ("get", reverse("samples:verdict", args=[sample.pk]), "sample.verdict"),
        ("post", reverse("samples:verdict", args=[sample.pk]), "sample.verdict"),
    ]
    for method, url, capability in pages:
        for role, dept in ROLE_USERS.items():
            client.force_login(users[role])
            response = getattr(client, method)(url, {})
            status = response.status_code
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)  # the export: read to the end
            allowed = dept in MATRIX[capability]
            assert status < 500 and (status != 403) == allowed, (method, url, role, status)
            if allowed:  # a page or file is shown; an empty form comes back with its errors
                assert status == (422 if method == "post" else 200), (method, url, role, status)
    # Nothing was changed by all those posts.
    sample.refresh_from_db()
    note.refresh_from_db()
    assert sample.status == "delivered" and note.status == "issued" and not hasattr(note, "receipt")


def test_the_matrix_gives_each_step_to_its_department():
    assert MATRIX["sample.request"] == MATRIX["sample.verdict"] == {"marketing", "technical"}
    assert MATRIX["sample.deliver"] == {"customer_service"}


def test_a_signed_in_stranger_to_samples_gets_no_file_outside_the_samples_folder(client, users, state):
    client.force_login(users["warehouse"])
    assert client.get("/media/samples/../orders/x.pdf").status_code == 404


# --- The admin: records, read-only ---------------------------------------------------------------------------------


@pytest.fixture
def root(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw-Secret-123"))
    return client


@pytest.mark.parametrize("model", [SampleRequest, SampleNote, SampleReceipt, SampleVerdict], ids=str)
def test_the_admin_shows_samples_read_only_even_to_a_superuser(model, rf, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw-Secret-123")
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = superuser
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert isinstance(model_admin, SimpleHistoryAdmin) and model_admin.revert_disabled(request)
    post = rf.post("/", {})
    post.user = superuser
    with pytest.raises(PermissionDenied):
        model_admin.history_form_view(post, "1", "1")


def test_the_admin_refuses_to_change_delete_or_revert_an_issued_note(root, state):
    note = state["note"]
    change = reverse("admin:samples_samplenote_change", args=[note.pk])
    page = root.get(change)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert root.post(change, {"remarks": "changed", "status": "cancelled"}).status_code == 403
    assert root.post(reverse("admin:samples_samplenote_delete", args=[note.pk]), {"post": "yes"}).status_code == 403
    version = note.history.get()
    revert = reverse("admin:samples_samplenote_simple_history", args=[note.pk, version.history_id])
    assert root.get(revert).status_code == 200
    assert root.post(revert, {"remarks": "reverted"}).status_code == 403
    verdict = state["verdict"]
    assert (
        root.post(reverse("admin:samples_sampleverdict_change", args=[verdict.pk]), {"outcome": "rejected"}).status_code
        == 403
    )
    note.refresh_from_db()
    verdict.refresh_from_db()
    assert (note.status, note.remarks, verdict.outcome) == ("issued", "", "approved")
