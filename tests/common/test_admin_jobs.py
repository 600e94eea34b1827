"""The admin of the outboxes (issue 10): pending background jobs and outgoing e-mails are read-only records there,
except one action each for the failed ones ("send again" / "hand to the queue again"), offered only to those the
app lets send again (``outbox.resend``). The customer import still says when its job waits for the queue."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from common import jobs
from common.models import OutboxMessage, PendingJob
from orders import tasks as order_tasks
from tests.common.test_queue_down import queue_down  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7")]

NOTIFY = order_tasks.notify_departments.name


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-Secret-123")


@pytest.fixture
def root(client, superuser):
    client.force_login(superuser)
    return client


def staff(make_user, name, dept, *codenames):
    user = make_user(name, dept, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def failed_message(**fields):
    values = dict(kind="prepared", object_id=0, to="a@example.com", subject="S", body="B", status="failed")
    values.update(attempts=5, error="SMTPRecipientsRefused: 451")
    values.update(fields)
    return OutboxMessage.objects.create(**values)


def run_action(client, model: str, action: str, pks):
    return client.post(
        reverse(f"admin:common_{model}_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0"},
        follow=True,
    )


@pytest.mark.parametrize("model", ["outboxmessage", "pendingjob"])
def test_the_rows_are_read_only_even_to_a_superuser(root, model):
    row = failed_message() if model == "outboxmessage" else PendingJob.objects.create(task=NOTIFY, args=[1])
    change = reverse(f"admin:common_{model}_change", args=[row.pk])
    assert root.get(change).status_code == 200  # readable
    assert root.post(change, {"status": "sent"}).status_code == 403
    assert root.get(reverse(f"admin:common_{model}_add")).status_code == 403
    assert root.post(reverse(f"admin:common_{model}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    page = root.get(reverse(f"admin:common_{model}_changelist")).content.decode()
    assert "delete_selected" not in page and "send_again" in page


def test_a_failed_email_is_sent_again_once_and_the_others_are_left_alone(
    root, mailoutbox, django_capture_on_commit_callbacks
):
    failed = failed_message()
    sent = failed_message(to="b@example.com", status="sent", error="")
    with django_capture_on_commit_callbacks(execute=True):
        page = run_action(root, "outboxmessage", "send_again", [failed.pk, sent.pk]).content.decode()
    assert "1 e-mail is queued to be sent again" in page and "1 e-mail was not failed" in page
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == "sent" and failed.attempts == 1  # sent again (inline here), from the same row
    assert sent.status == "sent" and sent.attempts == 5
    assert [m.to for m in mailoutbox] == [["a@example.com"]]


def test_only_those_who_may_send_again_get_the_action(client, make_user):
    failed = failed_message()
    qa = staff(make_user, "qa2", "quality", "view_outboxmessage", "view_pendingjob")
    client.force_login(qa)
    page = client.get(reverse("admin:common_outboxmessage_changelist")).content.decode()
    assert "send_again" not in page
    response = client.post(
        reverse("admin:common_outboxmessage_changelist"),
        {"action": "send_again", "_selected_action": [str(failed.pk)], "index": "0"},
    )
    assert response.status_code in (200, 302, 403)
    failed.refresh_from_db()
    assert failed.status == "failed"  # nothing sent by someone the app would not let


def test_a_waiting_job_is_handed_to_the_queue_again_and_a_handed_one_is_left_alone(
    root,
    queue_down,  # noqa: F811
    monkeypatch,
):
    published = []
    monkeypatch.setattr(jobs, "_publish", lambda task, args, kwargs, task_id=None: published.append(task_id))
    waiting = PendingJob.objects.create(task=NOTIFY, args=[1, ["quality"], "step"], error="OperationalError: down")
    handed = PendingJob.objects.create(task=NOTIFY, args=[2, ["quality"], "step"], status="queued")
    page = run_action(root, "pendingjob", "send_again", [waiting.pk, handed.pk]).content.decode()
    assert "1 job was handed to the queue" in page and "1 job was not waiting" in page
    assert published == [f"pendingjob-{waiting.pk}"]
    waiting.refresh_from_db()
    assert waiting.status == "queued" and waiting.error == ""


def test_a_job_the_queue_still_refuses_keeps_waiting_with_a_clear_message(
    root,
    queue_down,  # noqa: F811
):
    waiting = PendingJob.objects.create(task=NOTIFY, args=[1, ["quality"], "step"])
    page = run_action(root, "pendingjob", "send_again", [waiting.pk]).content.decode()
    assert "still cannot be reached" in page
    waiting.refresh_from_db()
    assert waiting.status == "waiting" and waiting.attempts == 1 and waiting.error


def test_the_admin_import_has_no_queue_down_branch_left_and_says_when_its_job_waits(
    client_for,
    queue_down,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """enqueue never raises now (the outbox): the upload is recorded and the page says the import waits."""
    import inspect

    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers import admin as customers_admin
    from customers.models import ImportJob
    from tests.customers.workbooks import row, xlsx

    assert "QueueDown" not in inspect.getsource(customers_admin)
    admin = client_for("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("admin:customers_customer_import"),
            {"file": SimpleUploadedFile("c.xlsx", xlsx([row("C-0001")]))},
            follow=True,
        )
    page = response.content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED
    assert "the import waits" in page and "are waiting and will be sent as soon as the queue is back" in page
    progress = admin.get(reverse("admin:customers_customer_import_progress", args=[job.pk])).content.decode()
    assert "the import waits" in progress
