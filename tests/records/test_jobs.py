"""The archive as a background job (§7): asked for on the register by the management representative or an
administrator, made with visible progress, served through the protected media view only to them; a job whose
worker stopped is failed by the stale sweep and can be tried again."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from common.models import PendingJob
from records import services
from records.models import ArchiveJob
from tests.records.conftest import END, START, open_archive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7"), pytest.mark.clause("5.12.8")]

FORM = {"kind": "quotation", "date_from": START.isoformat(), "date_to": END.isoformat()}


def ask(client, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("records:archive_create"), {**FORM, **overrides})


@pytest.mark.parametrize("name", ["rep", "admin"])
def test_the_archive_is_made_in_a_job_shown_with_progress_and_downloaded(
    client_for, quotations, django_capture_on_commit_callbacks, name
):
    client = client_for(name)
    response = ask(client, django_capture_on_commit_callbacks)
    job = ArchiveJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("records:archive_job", args=[job.pk])
    assert (job.status, job.total, job.done, job.problems) == ("done", 2, 2, [])
    page = client.get(reverse("records:archive_job", args=[job.pk])).content.decode()
    assert "2 of 2 records" in page and job.file.url in page
    download = client.get(job.file.url)
    assert download.status_code == 200
    archive, _header, rows = open_archive(b"".join(download.streaming_content))
    assert [r[1] for r in rows] == ["=HYPERLINK(1)", "Q-2"]


def test_a_job_in_progress_shows_how_far_it_is_and_polls(client_for, users):
    job = ArchiveJob.objects.create(
        kind="memo", date_from=START, date_to=END, requested_by=users["rep"], status="running", total=40, done=12
    )
    page = client_for("rep").get(reverse("records:archive_job", args=[job.pk])).content.decode()
    assert "12 of 40 records" in page and 'hx-trigger="every 1s"' in page


@pytest.mark.parametrize("name", ["cs", "qa", "head", "marketing"])
def test_others_may_neither_ask_for_an_archive_nor_download_one(
    client_for, users, quotations, django_capture_on_commit_callbacks, name
):
    assert ask(client_for(name), django_capture_on_commit_callbacks).status_code == 403
    assert not ArchiveJob.objects.exists()
    ask(client_for("rep"), django_capture_on_commit_callbacks)
    job = ArchiveJob.objects.get()
    client = client_for(name)
    assert client.get(job.file.url).status_code == 403
    assert client.get(reverse("records:archive_job", args=[job.pk])).status_code == 403


def test_one_persons_job_page_is_not_anothers(client_for, quotations, django_capture_on_commit_callbacks):
    ask(client_for("rep"), django_capture_on_commit_callbacks)
    job = ArchiveJob.objects.get()
    assert client_for("admin").get(reverse("records:archive_job", args=[job.pk])).status_code == 404


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"date_from": END.isoformat(), "date_to": START.isoformat()}, "The period ends before it starts."),
        ({"date_from": "2025-13-01"}, "Enter a valid date."),
        ({"kind": "nothing"}, "Select a valid choice."),
    ],
)
def test_a_bad_request_comes_back_with_the_reason_and_no_job(
    client_for, django_capture_on_commit_callbacks, overrides, message
):
    response = ask(client_for("rep"), django_capture_on_commit_callbacks, **overrides)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ArchiveJob.objects.exists()


def test_a_failed_job_says_why(client_for, users, monkeypatch, quotations, django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "build_archive", broken)
    ask(client_for("rep"), django_capture_on_commit_callbacks)
    job = ArchiveJob.objects.get()
    assert job.status == "failed" and "disk full" in job.error
    assert "disk full" in client_for("rep").get(reverse("records:archive_job", args=[job.pk])).content.decode()


def test_a_job_whose_worker_stopped_is_failed_by_the_sweep_and_tried_again(
    client_for, users, settings, quotations, django_capture_on_commit_callbacks
):
    job = ArchiveJob.objects.create(
        kind="quotation", date_from=START, date_to=END, requested_by=users["rep"], status="running"
    )
    ArchiveJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=31))
    fresh = ArchiveJob.objects.create(
        kind="quotation", date_from=START, date_to=END, requested_by=users["rep"], status="running"
    )
    from records.tasks import sweep_stale_archives

    assert sweep_stale_archives() == 1
    job.refresh_from_db()
    assert job.status == "failed" and "stopped" in job.error
    assert ArchiveJob.objects.get(pk=fresh.pk).status == "running"
    assert "records.tasks.sweep_stale_archives" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("rep").post(reverse("records:archive_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.total) == ("done", 2)


def test_with_a_queue_the_job_is_recorded_for_the_queue(client_for, settings, quotations):
    """With a broker the job is a PendingJob row first (common.jobs): it waits when the queue is down."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    client_for("rep").post(reverse("records:archive_create"), FORM)
    job = ArchiveJob.objects.get()
    pending = PendingJob.objects.get()
    assert (pending.task, pending.args, job.status) == ("records.tasks.make_archive", [job.pk], "queued")
