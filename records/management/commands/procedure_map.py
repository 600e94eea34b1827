"""`manage.py procedure_map`: the procedure's clauses with the pages, commands and tests that carry them;
`--check` exits non-zero when a clause has no feature or no test, a marker names an unknown clause, or a page or
command named in the map does not exist (CI runs it)."""

from django.core.management.base import BaseCommand, CommandError

from records import mapcheck


class Command(BaseCommand):
    help = "Print the procedure map (clause, summary, pages, commands, tests); --check fails on gaps."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit non-zero when the map has a gap.")

    def handle(self, *args, check=False, **options):
        if check:
            problems = mapcheck.check()
            if problems:
                for problem in problems:
                    self.stderr.write(f"- {problem}")
                raise CommandError(f"The procedure map has {len(problems)} problem(s).")
            self.stdout.write(
                f"The procedure map holds: {len(mapcheck.rows())} clauses, each with a feature and tests."
            )
            return
        table = mapcheck.rows()
        widths = (9, 60)
        self.stdout.write(f"{'clause':<{widths[0]}} {'summary':<{widths[1]}} tests  pages / commands")
        for row in table:
            indent = "  " * row.clause.depth
            summary = str(row.clause.en)
            if len(summary) > widths[1]:
                summary = summary[: widths[1] - 1] + "…"
            features = ", ".join(row.clause.pages + tuple(f"manage.py {c}" for c in row.clause.commands))
            self.stdout.write(
                f"{indent + row.clause.id:<{widths[0]}} {summary:<{widths[1]}} {len(row.tests):>5}  {features}"
            )
