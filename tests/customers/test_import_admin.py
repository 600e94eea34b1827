"""The import in the admin, through the client: upload, preview, confirm (jobs run inline here)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer, ImportJob
from tests.common.test_queue_down import queue_down  # noqa: F401 - fixture
from tests.customers.workbooks import row, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.1")]

UPLOAD = reverse("admin:customers_customer_import")


def upload(client, data, name="customers.xlsx"):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, follow=True)


@pytest.fixture
def admin_client_(client_for):
    return client_for("admin")


def test_the_changelist_offers_the_import_to_administrators(admin_client_):
    page = admin_client_.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert UPLOAD in page


def test_it_previews_every_row_then_imports_on_confirmation(admin_client_):
    response = upload(admin_client_, xlsx([row("C-0001"), row("C-0002")]))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PREVIEWED
    page = response.content.decode()
    assert "Confirm import" in page and page.count('class="row-new"') == 2
    assert Customer.objects.count() == 0  # nothing before confirmation

    response = admin_client_.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert "Imported: 2 new" in response.content.decode()
    assert Customer.objects.count() == 2


def test_confirming_twice_imports_once(admin_client_):
    upload(admin_client_, xlsx([row("C-0001")]))
    job = ImportJob.objects.get()
    confirm = reverse("admin:customers_customer_import_confirm", args=[job.pk])
    admin_client_.post(confirm)
    response = admin_client_.post(confirm, follow=True)
    assert "already confirmed" in response.content.decode()
    assert Customer.objects.count() == 1 and Customer.history.count() == 1


def test_a_file_with_a_bad_row_shows_the_reason_and_cannot_be_confirmed(admin_client_):
    response = upload(admin_client_, xlsx([row("C-0001"), row("C-0002", tax_rate="abc")]))
    page = response.content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "not a number" in page and "Nothing was imported" in page and "Confirm import" not in page
    admin_client_.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    assert Customer.objects.count() == 0


def test_a_file_that_is_not_excel_shows_why(admin_client_):
    page = upload(admin_client_, b"\x89PNG\r\n\x1a\n....", name="photo.xlsx").content.decode()
    assert "not an Excel workbook" in page
    assert Customer.objects.count() == 0


def test_the_template_is_downloadable(admin_client_):
    response = admin_client_.get(reverse("admin:customers_customer_import_template"))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('customer-import-template.xlsx"')
    assert response.content.startswith(b"PK")


def test_when_the_queue_is_down_the_file_waits_and_goes_out_when_it_is_back(
    admin_client_,
    queue_down,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """The job is recorded (common.jobs), never refused: the page says it waits; "Try now" hands it over once the
    queue is back (the sweep would as well)."""
    with django_capture_on_commit_callbacks(execute=True):
        page = upload(admin_client_, xlsx([row("C-0001")])).content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED and "the import waits" in page
    queue_down()  # back
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(reverse("admin:customers_customer_import_resend", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert (
        "the import waits"
        not in admin_client_.get(reverse("admin:customers_customer_import_job", args=[job.pk])).content.decode()
    )


def test_a_running_job_shows_progress_and_the_page_reloads_when_it_ends(admin_client_, users):
    job = ImportJob.objects.create(original_name="x.xlsx", file="imports/x.xlsx", created_by=users["admin"])
    progress = reverse("admin:customers_customer_import_progress", args=[job.pk])
    assert "Waiting for the job queue" in admin_client_.get(progress).content.decode()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PREVIEWED)
    response = admin_client_.get(progress)
    assert response.status_code == 204 and response["HX-Refresh"] == "true"


@pytest.mark.parametrize("name", ["marketing", "head", "cs", "qa", "warehouse", "rep"])
def test_only_administrators_may_import(client, users, name):
    user = users[name]
    user.is_staff = True  # even with admin-site access
    user.save()
    client.force_login(user)
    assert client.get(UPLOAD).status_code == 403
    assert client.post(UPLOAD, {"file": SimpleUploadedFile("c.xlsx", xlsx([row()]))}).status_code == 403
    assert Customer.objects.count() == 0
