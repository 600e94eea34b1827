"""`manage.py export_records --kind KIND --from YYYY-MM-DD --to YYYY-MM-DD OUTDIR`: the archive of one record form
for a period, written to OUTDIR as the register page makes it (records.archive.build_archive)."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from records.archive import build_archive
from records.services import parse_period


class Command(BaseCommand):
    help = "Write the records of one form for a period as a .zip (documents as issued, index.xlsx) to OUTDIR."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, help="The record form (an unknown one lists the forms).")
        parser.add_argument("--from", dest="date_from", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("outdir", help="An existing folder the archive is written to.")

    def handle(self, *args, kind, date_from, date_to, outdir, **options):
        try:
            record_kind, start, end = parse_period(kind, date_from, date_to)
        except DomainError as error:
            raise CommandError(error.message) from None
        folder = Path(outdir)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CommandError(f"{folder} is not writable.")
        target = folder / f"records-{record_kind.key}-{start:%Y%m%d}-{end:%Y%m%d}.zip"
        partial = target.with_suffix(".zip.part")
        try:
            with open(partial, "wb") as out:
                result = build_archive(kind=record_kind, date_from=start, date_to=end, out=out)
            partial.replace(target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"{target} could not be written: {exc}") from None
        self.stdout.write(f"{target}: {result.records} record(s), {len(result.files)} file(s).")
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(
                f"{len(result.problems)} document(s) could not be made; they are listed in index.xlsx with the reason."
            )
