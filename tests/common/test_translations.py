"""Every user-facing string is translated into Simplified Chinese, and the catalogue is up to date."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SKIP = shutil.ignore_patterns(".venv", ".git", "var", "staticfiles", "node_modules", "__pycache__", "bench", "tests")


def test_it_has_a_translation_for_every_entry():
    catalogue = polib.pofile(str(PO))
    missing = [e.msgid for e in catalogue if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == [], f"{len(missing)} untranslated strings, first: {missing[:10]}"


def test_it_keeps_python_format_placeholders_in_translations():
    catalogue = polib.pofile(str(PO))
    broken = []
    for entry in catalogue.translated_entries():
        # Chinese has one plural form: msgstr[0] carries the placeholders of the plural msgid.
        text = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
        source = entry.msgid_plural or entry.msgid
        for token in ("%(", "{"):
            if source.count(token) != text.count(token):
                broken.append(entry.msgid)
    assert broken == []


def test_the_catalogue_holds_every_string_in_the_code(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--add-location", "file"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))}
    committed = {e.msgid for e in polib.pofile(str(PO)) if not e.obsolete}
    new = sorted(fresh - committed)
    assert new == [], f"run `make makemessages` and translate: {new[:10]}"
