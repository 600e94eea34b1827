"""The records of one form for one period as one .zip: each record's documents as issued, in a folder named
after the form, and ``index.xlsx`` listing every record (number, date, customer, file, who and when).

One builder serves the background job of the register page and ``manage.py export_records``. A document that
cannot be made (a file missing from storage, a PDF the font cannot draw) does not stop the others: its record is
listed in the index with the reason in the "problem" column, the result carries the problems, and the job page
and the command say so. An archive never silently lacks a record.
"""

import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import BinaryIO

from django.utils import timezone
from openpyxl import Workbook

from common.xlsx import text_cell
from records.kinds import Entry, RecordKind

logger = logging.getLogger(__name__)

INDEX_NAME = "index.xlsx"
INDEX_HEADERS = (
    "序号 No.",
    "编号 Number",
    "日期 Date",
    "客户 Customer",
    "内容 Summary",
    "文件 File",
    "经办 By",
    "时间 When",
    "问题 Problem",
)


@dataclass
class ArchiveResult:
    records: int = 0
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "number: file: reason"


def safe_name(name: str) -> str:
    """A file name that is the same on every system: letters (Chinese too), digits, dot, dash, underscore."""
    cleaned = re.sub(r"[^\w.\-]+", "_", name, flags=re.UNICODE).strip("._") or "file"
    return cleaned[:120]


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    n = 2
    while True:
        candidate = f"{stem}-{n}.{extension}" if extension else f"{stem}-{n}"
        if candidate not in taken:
            return candidate
        n += 1


def _when(value):
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def _index(rows: list[tuple[int, Entry, str, str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("index")
    sheet.append(INDEX_HEADERS)
    for n, entry, file_name, problem in rows:
        sheet.append(
            [
                n,
                text_cell(sheet, entry.number),
                entry.day,
                text_cell(sheet, entry.customer),
                text_cell(sheet, entry.summary),
                text_cell(sheet, file_name),
                text_cell(sheet, entry.who),
                _when(entry.when),
                text_cell(sheet, problem),
            ]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def build_archive(
    *,
    kind: RecordKind,
    date_from: date,
    date_to: date,
    out: BinaryIO,
    progress: Callable[[int, int], None] | None = None,
) -> ArchiveResult:
    """Write the archive of ``kind`` for the period (both days included) to ``out``."""
    records = kind.records(date_from, date_to)
    total = records.count()
    if progress:
        progress(0, total)
    result = ArchiveResult(records=total)
    taken: set[str] = set()
    rows: list[tuple[int, Entry, str, str]] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, record in enumerate(records.iterator(chunk_size=200), 1):
            entry = kind.entry(record)
            documents = kind.documents(record)
            if not documents:
                rows.append((n, entry, "", ""))
            for document in documents:
                name = _unique(f"{kind.key}/{safe_name(document.name)}", taken)
                try:
                    content = document.make()
                except Exception as exc:  # one bad document is listed, the others are still archived
                    logger.warning("records archive: %s %s not made: %r", kind.key, entry.number, exc)
                    reason = f"{exc.__class__.__name__}: {exc}" if not str(exc) else str(exc)
                    rows.append((n, entry, name, reason))
                    result.problems.append(f"{entry.number}: {name}: {reason}")
                    continue
                taken.add(name)
                archive.writestr(name, content)
                result.files.append(name)
                rows.append((n, entry, name, ""))
            if progress:
                progress(n, total)
        archive.writestr(INDEX_NAME, _index(rows))
    return result
