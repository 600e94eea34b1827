"""The fallback CJK font of the PDFs (issue 10): the rarer characters of company names that WenQuanYi lacks
(𠀾 U+2003E, 鿏 U+9FCF) come from a second font named explicitly (PDF_CJK_FALLBACK_FONT, Debian's Noto CJK),
and a character missing from both fonts fails that one document with a clear message, never a stuck record.

The PDFs are rendered as on a server that has only the fonts named in the settings: fontconfig is pointed at a
configuration holding the main font's folder only, so a system font that happens to be installed (Noto is, here)
cannot hide a missing fallback.
"""

import io
from pathlib import Path

import pypdf
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from fontTools.ttLib import TTCollection

from common.pdf import MissingGlyphs
from customers.models import Customer
from delivery import printing
from delivery.models import DeliveryNote, PrintJob
from tests.delivery.conftest import deliverable, issue, plan  # noqa: F401 - fixtures
from tests.orders.conftest import customer, entered, products  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7.1"), pytest.mark.clause("5.6")]

RARE = "𠀾"  # U+2003E: in Noto CJK, not in WenQuanYi Micro Hei
RARE_TOO = "鿏"  # U+9FCF: likewise
IN_NEITHER = "𪚥"  # U+2A6A5: in neither font


def covers(path: str, char: str) -> bool:
    collection = TTCollection(path)
    try:
        return ord(char) in collection.fonts[0].getBestCmap()
    finally:
        collection.close()


@pytest.fixture(autouse=True)
def only_the_named_fonts(monkeypatch, tmp_path):
    """fontconfig knows the main font's folder and nothing else (WeasyPrint loads its configuration per render)."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{Path(django_settings.PDF_CJK_FONT).parent}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir>"
        "</fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))


def test_the_chosen_characters_are_what_this_test_says(settings):
    assert not covers(settings.PDF_CJK_FONT, RARE) and not covers(settings.PDF_CJK_FONT, RARE_TOO)
    assert covers(settings.PDF_CJK_FALLBACK_FONT, RARE) and covers(settings.PDF_CJK_FALLBACK_FONT, RARE_TOO)
    assert not covers(settings.PDF_CJK_FONT, IN_NEITHER) and not covers(settings.PDF_CJK_FALLBACK_FONT, IN_NEITHER)


def test_the_default_fallback_is_debians_noto_cjk(settings):
    assert settings.PDF_CJK_FALLBACK_FONT == "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    script = (Path(django_settings.BASE_DIR) / "scripts/system-packages.sh").read_text()
    assert "[/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]=fonts-noto-cjk" in script


@pytest.fixture
def note_for(users, customer, deliverable):  # noqa: F811
    def make(name_zh: str) -> DeliveryNote:
        Customer.objects.filter(pk=customer.pk).update(name_zh=name_zh)
        order = deliverable()
        return issue(users, (plan(users, order, quantity="100"), "10"))

    return make


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_a_delivery_note_for_a_name_with_rare_characters_prints_them_from_the_fallback(note_for):
    note = note_for(f"东莞{RARE}{RARE_TOO}电子有限公司")
    pdf = printing.notes_pdf([note], "a4")  # no MissingGlyphs
    text = pdf_text(pdf)
    assert RARE in text and RARE_TOO in text  # in the text layer: searchable, copyable


def test_without_the_fallback_those_characters_cannot_be_printed(note_for, settings):
    note = note_for(f"东莞{RARE}电子有限公司")
    settings.PDF_CJK_FALLBACK_FONT = ""  # empty: no fallback
    with pytest.raises(MissingGlyphs, match="U\\+2003E"):
        printing.notes_pdf([note], "a4")


def test_every_pdf_template_takes_its_fonts_from_the_base_with_the_fallback_last():
    root = Path(django_settings.BASE_DIR) / "templates"
    documents = [p for p in root.glob("*/pdf/*.html") if not p.name.startswith("_")]
    assert len(documents) >= 10
    for path in documents:
        source = path.read_text()
        assert '{% extends "pdf/base.html" %}' in source, path
        assert "font-family" not in source, f"{path} names its own font: give it the fallback too"
    base = (root / "pdf/base.html").read_text()
    families = [line for line in base.splitlines() if "font-family:" in line and "@font-face" not in line]
    assert families and all('"DocCJKFallback"' in line for line in families)


def test_a_missing_fallback_font_is_a_clear_configuration_error(note_for, settings):
    note = note_for("东莞宏达电子有限公司")
    settings.PDF_CJK_FALLBACK_FONT = "/nowhere/NotoSansCJK-Regular.ttc"
    with pytest.raises(ImproperlyConfigured, match="PDF_CJK_FALLBACK_FONT=/nowhere.*fonts-noto-cjk"):
        printing.notes_pdf([note], "a4")


def test_a_character_in_neither_font_fails_that_note_with_a_clear_message_and_leaves_it_as_it_was(note_for, client_for):
    note = note_for(f"东莞{IN_NEITHER}电子有限公司")
    client = client_for("cs")
    response = client.get(reverse("delivery:note_pdf", args=[note.number, "a4"]), follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and response.redirect_chain  # back to the note, not a server error
    assert "The PDF could not be made" in page and note.number in page and "U+2A6A5" in page
    note.refresh_from_db()
    assert note.status == DeliveryNote.Status.ISSUED  # the note itself is untouched


def test_a_character_in_neither_font_fails_its_print_job_never_leaving_it_running(note_for, users):
    good = note_for("东莞宏达电子有限公司")
    bad = issue(users, (plan(users, good.lines.get().batch.line.order, quantity="100"), "10"))
    # The address as kept on the note (a snapshot of what was issued) holds the character.
    DeliveryNote.objects.filter(pk=bad.pk).update(address_text=f"东莞市{IN_NEITHER}路1号")
    job = PrintJob.objects.create(notes=[good.pk, bad.pk], layout="a4", requested_by=users["cs"])
    printing.print_job_run(job.pk)
    job.refresh_from_db()
    assert job.status == PrintJob.Status.FAILED and not job.pdf
    assert "could not be made" in job.error and bad.number in job.error and good.number not in job.error
