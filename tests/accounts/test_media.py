"""Uploaded files are served through the app to signed-in users whose department may see them, never straight
from the disk (accounts.media)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.roles import MATRIX
from tests.conftest import ROLE_USERS

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.8")]

SCAN = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _close_file(response) -> None:
    # Not response.close(): that sends request_finished, which closes the test's database connection.
    if getattr(response, "file_to_stream", None) is not None:
        response.file_to_stream.close()


@pytest.fixture
def scan():
    return default_storage.save("delivery/signbacks/2026/11/note-0001.pdf", ContentFile(SCAN))


def test_a_stranger_is_sent_to_the_login_page_and_never_gets_the_file(client, scan):
    response = client.get("/media/" + scan)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_signed_in_user_gets_the_file_privately(client_for, scan):
    response = client_for("cs").get("/media/" + scan)
    assert response.status_code == 200 and b"".join(response.streaming_content) == SCAN
    _close_file(response)
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]


def test_an_import_workbook_only_for_the_departments_that_import(client, users, settings):
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"  # the same checks, and no file left open per request
    name = default_storage.save("imports/2026/11/customers.xlsx", ContentFile(b"PK\x03\x04 not really"))
    for role, dept in ROLE_USERS.items():
        client.force_login(users[role])
        status = client.get("/media/" + name).status_code
        assert (status == 200) == (dept in MATRIX["customer.import"]), (role, status)


@pytest.mark.parametrize(
    "path",
    ["../config/settings.py", "delivery/../../db.sqlite3", "unknown/file.pdf", "delivery/signbacks/none.pdf"],
)
def test_paths_outside_the_known_folders_or_missing_are_not_found(client_for, path):
    assert client_for("cs").get("/media/" + path).status_code == 404


def test_behind_nginx_the_app_checks_and_nginx_sends_the_bytes(client_for, scan, settings):
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"
    response = client_for("qa").get("/media/" + scan)
    assert response.status_code == 200 and response["X-Accel-Redirect"] == "/protected-media/" + scan
    assert response.content == b""
