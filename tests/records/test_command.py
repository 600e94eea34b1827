"""`manage.py export_records`: the same archive as the register's job, written to a folder; a bad form, bad
dates or a folder it cannot write to exit non-zero with a clear message and write nothing."""

import io
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from records.kinds import available_kinds
from tests.records.conftest import open_archive

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7"), pytest.mark.clause("5.12.8")]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_records", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_writes_the_archive_of_the_period(tmp_path, quotations):
    out, _err = run("--kind", "quotation", "--from", "2025-03-01", "--to", "2025-03-31", str(tmp_path))
    target = tmp_path / "records-quotation-20250301-20250331.zip"
    assert f"{target}: 2 record(s)" in out
    _archive, _header, rows = open_archive(target.read_bytes())
    assert [r[1] for r in rows] == ["=HYPERLINK(1)", "Q-2"]
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no partial file left


def test_an_unknown_form_lists_the_forms(tmp_path):
    with pytest.raises(CommandError) as error:
        run("--kind", "invoices", "--from", "2025-03-01", "--to", "2025-03-31", str(tmp_path))
    message = str(error.value)
    assert "Unknown record form invoices" in message
    assert all(kind.key in message for kind in available_kinds())
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("2025-03-31", "2025-03-01", "The period starts (2025-03-31) after it ends (2025-03-01)."),
        ("2025/03/01", "2025-03-31", "2025/03/01 is not a date YYYY-MM-DD."),
        ("2025-03-01", "2025-02-30", "2025-02-30 is not a date YYYY-MM-DD."),
    ],
)
def test_bad_dates_are_refused(tmp_path, start, end, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("--kind", "memo", "--from", start, "--to", end, str(tmp_path))
    assert not list(tmp_path.iterdir())


def test_a_folder_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        run("--kind", "memo", "--from", "2025-03-01", "--to", "2025-03-31", str(tmp_path / "missing"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_it_cannot_write_to_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(CommandError, match="is not writable"):
            run("--kind", "memo", "--from", "2025-03-01", "--to", "2025-03-31", str(tmp_path))
    finally:
        tmp_path.chmod(0o700)


def test_a_folder_it_cannot_write_to_is_refused_even_as_root(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(CommandError, match="is not writable"):
        run("--kind", "memo", "--from", "2025-03-01", "--to", "2025-03-31", str(tmp_path))


def test_documents_that_cannot_be_made_fail_the_command_after_writing_the_archive(tmp_path, complaints):
    from django.core.files.storage import default_storage

    default_storage.delete(complaints[0].attachments.get().file.name)
    with pytest.raises(CommandError, match="1 document"):
        run("--kind", "complaint", "--from", "2025-03-01", "--to", "2025-03-31", str(tmp_path))
    _archive, _header, rows = open_archive((tmp_path / "records-complaint-20250301-20250331.zip").read_bytes())
    assert rows[0][8] and not rows[1][8]


def test_the_command_exits_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "export_records",
            "--kind",
            "nope",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-31",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    # The shell speaks the default language (Chinese): the kind and the valid kinds are named in any language.
    assert result.returncode != 0 and "nope" in result.stderr and "delivery_note" in result.stderr
