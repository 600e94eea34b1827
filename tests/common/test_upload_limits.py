"""Request body limits per address and upload type, enforced before the body is received (issue 10, "Hostile and
odd input"): the login form 4 KB, the customer import its 10 MB file, a form with scans 20 MB, any other form
DATA_UPLOAD_MAX_MEMORY_SIZE. Beyond the limit: 413 with a clear page in Chinese and English, and nothing kept. A
body sent without a Content-Length (chunked) is cut off at the limit as well."""

import io
import socket
import time
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.test.client import ClientHandler
from django.urls import reverse

from customers.models import ImportJob
from delivery.models import SignBack
from tests.delivery.conftest import deliverable, issue, plan  # noqa: F401 - fixtures
from tests.orders.conftest import customer, entered, products  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7")]

MB = 1024 * 1024
PDF_HEAD = b"%PDF-1.4\n"


ZH = "请求超出此表单允许的大小(最多 %(limit)s)。"


@pytest.fixture(autouse=True)
def chinese(zh_catalogue):
    """The page answers in Chinese, then English (before the user's language is known)."""
    from django.utils import translation

    from common.middleware import TOO_LARGE_MESSAGE

    with translation.override("en"):
        msgid = str(TOO_LARGE_MESSAGE)
    zh_catalogue({msgid: ZH})


def refused(response, limit_text: str) -> bool:
    page = response.content.decode()
    return (
        response.status_code == 413
        and "larger than this form accepts (at most " + limit_text in page  # English
        and ZH % {"limit": limit_text} in page  # and Chinese, first
        and page.index("请求") < page.index("larger")
    )


def test_the_limits_are_as_documented(settings):
    assert settings.REQUEST_BODY_LIMITS["login"] == settings.LOGIN_MAX_BODY_BYTES == 4 * 1024
    assert 10 * MB < settings.REQUEST_BODY_LIMITS["admin:customers_customer_import"] < 11 * MB
    assert 20 * MB < settings.UPLOAD_MAX_BODY_BYTES < 21 * MB


def test_the_login_form_takes_a_few_kilobytes(client, users):
    response = client.post(reverse("login"), {"username": "x" * 5000, "password": "p"})
    assert refused(response, "4 KB")
    response = client.post(reverse("login"), {"username": "cs", "password": "pw-Secret-123"})
    assert response.status_code == 302  # an ordinary login is well within it


@pytest.fixture
def note(users, deliverable):  # noqa: F811
    order = deliverable()
    return issue(users, (plan(users, order, quantity="100"), "10"))


def signback(client, note, size: int):
    scan = SimpleUploadedFile("scan.pdf", PDF_HEAD + b"0" * (size - len(PDF_HEAD)), content_type="application/pdf")
    return client.post(
        reverse("delivery:note_signback", args=[note.number]),
        {"scan": scan, "signed_by_name": "张伟", "signed_on": note.delivery_date.isoformat()},
    )


def test_a_form_with_a_scan_takes_twenty_megabytes(client_for, note):
    client = client_for("cs")
    assert refused(signback(client, note, 21 * MB), "20 MB")
    assert not SignBack.objects.exists()
    response = signback(client, note, 200 * 1024)  # an ordinary scan reaches the form
    assert response.status_code == 302 and SignBack.objects.filter(note=note).exists()


def test_the_customer_import_takes_ten_megabytes_and_keeps_nothing_larger(client_for, settings):
    client = client_for("admin")
    big = SimpleUploadedFile("customers.xlsx", b"PK" + b"0" * (11 * MB))
    response = client.post(reverse("admin:customers_customer_import"), {"file": big})
    assert refused(response, "10 MB")
    assert not ImportJob.objects.exists()
    assert not (settings.MEDIA_ROOT / "imports").exists()


def test_any_other_form_takes_the_default(client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    client = client_for("cs")
    body = "q=" + "x" * (65 * 1024)
    response = client.post(reverse("orders:list"), body, content_type="application/x-www-form-urlencoded")
    assert refused(response, "64 KB")


# --- Raw requests ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_too_large_declared_length_is_refused_before_the_body_is_sent(live_server):
    """Only the headers are sent, announcing 50 MB: the answer (413) comes at once, no body received."""
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(
            b"POST /delivery/notes/DN-1/sign-back/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 52428800\r\n\r\n"
        )
        started = time.monotonic()
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5


def wsgi_post(path: str, body: bytes, content_type: str = "application/x-www-form-urlencoded"):
    """A POST as gunicorn hands on a chunked request: Transfer-Encoding chunked, no Content-Length, the body
    de-chunked in wsgi.input. Returns (status code, response, content)."""
    environ = RequestFactory().post(path).environ
    environ.pop("CONTENT_LENGTH", None)
    environ["CONTENT_TYPE"] = content_type
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input"] = io.BytesIO(body)
    # The full handler with every middleware (CSRF checks off, as with the test client).
    response = ClientHandler(enforce_csrf_checks=False)(environ)
    return response.status_code, response, response.content


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(users):
    status, _response, content = wsgi_post(reverse("login"), b"username=" + b"x" * (8 * 1024) + b"&password=p")
    assert status == 413 and b"4 KB" in content


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_within_the_limit_reaches_the_view(users):
    """What was read to check the size is the body the view sees: the login goes through."""
    status, response, _content = wsgi_post(reverse("login"), b"username=cs&password=pw-Secret-123")
    assert status == 302, status
    assert response["Location"] == reverse("accounts:my_work")
