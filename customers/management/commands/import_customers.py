from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from customers.importing import customer_import, template_workbook


class Command(BaseCommand):
    help = (
        "Import customers (with their first contact and delivery address) from an Excel workbook. "
        "Exit 0 when the file is good (and imported unless --dry-run), 1 with a per-row report when not."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the .xlsx workbook to import")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
        parser.add_argument("--template", metavar="FILE", help="write the import template to FILE and stop")

    def handle(self, *args, **options):
        if options["template"]:
            Path(options["template"]).write_bytes(template_workbook())
            self.stdout.write(f"Template written to {options['template']}")
            return
        if not options["file"]:
            raise CommandError("Give the workbook to import, or --template FILE.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        report = customer_import(data=path.read_bytes(), dry_run=options["dry_run"])
        for message in report.file_errors:
            self.stderr.write(f"file: {message}")
        for row in report.rows:
            line = f"line {row.line}: {row.status:9} {row.code} {row.name}"
            if row.errors:
                self.stderr.write(f"{line} — " + "; ".join(row.errors))
            elif options["verbosity"] > 1:
                self.stdout.write(line)
        counts = report.counts()
        summary = ", ".join(f"{counts[k]} {k}" for k in ("new", "update", "unchanged", "error"))
        if not report.ok:
            self.stderr.write(f"Nothing imported: {summary}.")
            raise SystemExit(1)
        verb = "Checked (dry run, nothing written)" if options["dry_run"] else "Imported"
        self.stdout.write(self.style.SUCCESS(f"{verb}: {summary}."))
