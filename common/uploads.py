"""What an uploaded file is, decided by its content, never by its name or the browser (issue 10).

Scans (signed notes, order originals, confirmations, complaint evidence, survey forms) must be a PDF or an
image: the first bytes decide, and the file is stored under a name of the app's own with the extension of
what it really is (a name typed by a stranger never reaches the disk: no ``..``, no ``.html`` served back,
no right-to-left tricks). The name the person chose stays readable as ``upload.original_name``.

Imports must be a real .xlsx: a zip holding a workbook, whose members unpack to a bounded size and whose cell
texts are of a bounded length, checked on the zip's directory and the XML before any spreadsheet reader
loads it (openpyxl and calamine load a whole sheet into memory: a 500 KB file can unpack to 500 MB). A refused
upload is never stored: these checks run before a job row or a file is written.
"""

import io
import re
import uuid
import zipfile

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# The first bytes of what a scan may be, and the extension it is stored with.
SCAN_SIGNATURES = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
    b"II*\x00": "tif",
    b"MM\x00*": "tif",
}
XLSX_REQUIRED_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")
# The text of a cell in a workbook's XML: <t>…</t> (shared and inline strings), <v>…</v> (values), with or
# without a namespace prefix. Only runs longer than the limit match, so an ordinary file costs one pass.
_CELL_TEXT = r"<(?:\w+:)?[tv](?:\s[^>]*)?>[^<]{%d,}"


class UploadRefused(ValueError):
    """The file is not what it must be; the message (translated) says why."""


def scan_kind(upload) -> str | None:
    """The extension of what ``upload`` really is (pdf, png, jpg, tif), or None."""
    head = upload.read(16)
    upload.seek(0)
    for signature, extension in SCAN_SIGNATURES.items():
        if head.startswith(signature):
            return extension
    return None


def app_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}.{extension}"


def clean_scan_upload(upload, *, max_mb: int):
    """A PDF or an image under the size limit, renamed to the app's own name; anything else raises a form
    ValidationError with the reason. Only a new upload is checked (a file already kept was checked then)."""
    if not isinstance(upload, UploadedFile):
        return upload
    limit = max_mb
    if upload.size > limit * 1024 * 1024:
        raise forms.ValidationError(
            _("The file is %(size).1f MB; the limit is %(limit)d MB.")
            % {"size": upload.size / 1024 / 1024, "limit": limit}
        )
    extension = scan_kind(upload)
    if extension is None:
        raise forms.ValidationError(_("Attach a PDF or an image (PNG, JPEG, TIFF)."))
    if not getattr(upload, "original_name", None):
        upload.original_name = upload.name
        upload.name = app_name(extension)
    return upload


def check_xlsx(data: bytes) -> None:
    """Raise UploadRefused unless ``data`` is a zip holding a workbook whose members unpack to at most
    ``IMPORT_MAX_UNPACKED_MB`` and whose cell texts are at most ``IMPORT_MAX_CELL_CHARS`` long."""
    not_xlsx = _("This is not an Excel workbook (.xlsx). Save the file from Excel as .xlsx.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRefused(_("The file could not be read as an Excel workbook (.xlsx).")) from exc
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if not all(name in names for name in XLSX_REQUIRED_MEMBERS):
            raise UploadRefused(not_xlsx)
        # The sizes in the zip's directory bound what reading may produce (zipfile stops at the declared size).
        unpacked = sum(member.file_size for member in members)
        limit_mb = settings.IMPORT_MAX_UNPACKED_MB
        if unpacked > limit_mb * 1024 * 1024:
            raise UploadRefused(
                _("The workbook unpacks to %(size)d MB; the limit is %(limit)d MB. Remove what is not needed.")
                % {"size": unpacked // (1024 * 1024), "limit": limit_mb}
            )
        too_long = re.compile(_CELL_TEXT % (settings.IMPORT_MAX_CELL_CHARS + 1))
        for member in members:
            if member.filename == "xl/sharedStrings.xml" or member.filename.startswith("xl/worksheets/"):
                try:
                    xml = archive.read(member).decode("utf-8", "replace")
                except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
                    raise UploadRefused(_("The file could not be read as an Excel workbook (.xlsx).")) from exc
                if too_long.search(xml):
                    raise UploadRefused(
                        _("A cell of the workbook holds more than %(limit)d characters: no field takes that much.")
                        % {"limit": settings.IMPORT_MAX_CELL_CHARS}
                    )
