"""The archive of a record form for a period (§7, §5.12.8): the documents as issued and index.xlsx, for several
forms on hand-built records (two in the period, one outside); one document that cannot be made is listed in the
index with its reason, the others are still archived."""

import io
from datetime import date

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from records.archive import build_archive
from records.kinds import get_kind
from tests.records.conftest import END, START, open_archive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7"), pytest.mark.clause("5.12.8")]


def archive_of(key, start=START, end=END):
    out = io.BytesIO()
    result = build_archive(kind=get_kind(key), date_from=start, date_to=end, out=out)
    return result, out.getvalue()


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_memos_of_the_period_are_their_pdfs_as_the_app_prints_them(memos):
    result, data = archive_of("memo")
    archive, header, rows = open_archive(data)
    inside = memos[:2]
    assert sorted(archive.namelist()) == sorted([f"memo/{m.number}.pdf" for m in inside] + ["index.xlsx"])
    assert result.records == 2 and result.problems == []
    assert header[:6] == ("序号 No.", "编号 Number", "日期 Date", "客户 Customer", "内容 Summary", "文件 File")
    assert [(r[0], r[1], r[2].date(), r[5], r[6]) for r in rows] == [
        (1, inside[0].number, date(2025, 3, 1), f"memo/{inside[0].number}.pdf", "cs"),
        (2, inside[1].number, date(2025, 3, 31), f"memo/{inside[1].number}.pdf", "cs"),
    ]
    text = pdf_text(archive.read(f"memo/{inside[0].number}.pdf"))
    assert "内部联络函" in text and inside[0].number in text and "包装箱加隔板" in text


def test_quotations_are_index_rows_and_user_text_stays_text(quotations):
    result, data = archive_of("quotation")
    archive, _header, rows = open_archive(data)
    assert archive.namelist() == ["index.xlsx"]
    assert [r[1] for r in rows] == ["=HYPERLINK(1)", "Q-2"]  # the third is outside the period
    assert "P-1 1.5" in rows[1][4]
    # Written as text, not as a live formula (common.xlsx.text_cell).
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(archive.read("index.xlsx")))
    cell = book.active["B2"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(1)"


def test_complaints_carry_their_stored_files_byte_for_byte(complaints):
    result, data = archive_of("complaint")
    archive, _header, rows = open_archive(data)
    names = sorted(n for n in archive.namelist() if n != "index.xlsx")
    assert names == ["complaint/CC-2025-0001-1.pdf", "complaint/CC-2025-0002-1.pdf"]
    stored = complaints[0].attachments.get().file
    with stored.open("rb") as handle:
        assert archive.read(names[0]) == handle.read()
    assert [r[1] for r in rows] == ["CC-2025-0001", "CC-2025-0002"]
    assert rows[0][3] == "C-0001 东莞宏达电子"


def test_signed_back_notes_are_their_scans_filed_under_the_note_number(sign_backs):
    result, data = archive_of("sign_back")
    archive, _header, rows = open_archive(data)
    assert archive.namelist() == ["sign_back/DN-0001-signed.pdf", "sign_back/DN-0002-signed.pdf", "index.xlsx"]
    with sign_backs[0].scan.open("rb") as handle:
        assert archive.read("sign_back/DN-0001-signed.pdf") == handle.read()
    assert [(r[1], r[2].date(), r[3], r[4], r[6]) for r in rows] == [
        ("DN-0001", date(2025, 3, 1), "C-0001 东莞宏达电子", "张伟", "cs"),
        ("DN-0002", date(2025, 3, 31), "C-0001 东莞宏达电子", "张伟", "cs"),
    ]
    assert result.problems == []


def test_a_memo_of_no_order_is_indexed_without_a_customer(memos):
    assert memos[0].order_id is None
    entry = get_kind("memo").entry(memos[0])
    assert (entry.number, entry.customer, entry.who) == (memos[0].number, "", "cs")


def test_a_document_that_cannot_be_made_is_listed_with_its_reason_and_the_others_are_kept(complaints):
    lost = complaints[1].attachments.get().file
    default_storage.delete(lost.name)
    result, data = archive_of("complaint")
    archive, _header, rows = open_archive(data)
    assert [n for n in archive.namelist() if n != "index.xlsx"] == ["complaint/CC-2025-0001-1.pdf"]
    assert len(result.problems) == 1 and "CC-2025-0002" in result.problems[0]
    by_number = {r[1]: r for r in rows}
    assert by_number["CC-2025-0001"][8] in (None, "")
    assert by_number["CC-2025-0002"][8]  # the reason, in the "problem" column
    assert by_number["CC-2025-0002"][5] == "complaint/CC-2025-0002-1.pdf"


def test_the_evaluation_form_in_the_archive_is_the_customers_paper_record(evaluation):
    result, data = archive_of("evaluation")
    archive, _header, rows = open_archive(data)
    assert archive.namelist() == ["evaluation/C-0001-v1.pdf", "index.xlsx"]
    assert rows[0][1] == "C-0001 v1" and rows[0][6] == "head"
    assert "客户资料评估表" in pdf_text(archive.read("evaluation/C-0001-v1.pdf"))


def test_an_empty_period_is_an_archive_with_an_empty_index(memos):
    result, data = archive_of("memo", date(2020, 1, 1), date(2020, 1, 31))
    archive, header, rows = open_archive(data)
    assert archive.namelist() == ["index.xlsx"] and rows == [] and result.records == 0
