from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from satisfaction import eligibility


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(option)s: %(value)r is not a date; write it as YYYY-MM-DD, e.g. 2025-01-31.")
            % {"option": option, "value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Print who must be surveyed for a period (§5.11.1): every customer that is not inactive, with eligible "
        "yes/no, the quantity delivered, the number of deliveries and the rules met."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day")
        parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day (included)")

    def handle(self, *args, **options):
        start = parse_day(options["start"], "--from")
        end = parse_day(options["end"], "--to")
        if start > end:
            raise CommandError(
                _("--from %(start)s is after --to %(end)s: the period ends before it starts.")
                % {"start": start, "end": end}
            )
        verdicts = eligibility.eligibility(start, end)
        operator = _("and") if settings.SURVEY_VOLUME_RULE == "and" else _("or")
        self.stdout.write(
            _(
                "Period %(start)s to %(end)s. Volume rule: at least %(qty)s pcs %(op)s at least %(n)s deliveries "
                "(SURVEY_VOLUME_RULE=%(rule)s); or an order of a new or customer-mould product; or a key customer "
                "in development."
            )
            % {
                "start": start,
                "end": end,
                "qty": f"{settings.SURVEY_MIN_QUANTITY:,}",
                "op": operator,
                "n": settings.SURVEY_MIN_DELIVERIES,
                "rule": settings.SURVEY_VOLUME_RULE,
            }
        )
        headers = [_("code"), _("name"), _("eligible"), _("delivered (pcs)"), _("deliveries"), _("rules met")]
        rows = [
            [
                v.customer.code,
                v.customer.display_name,
                _("yes") if v.eligible else _("no"),
                f"{v.delivered_qty:,.0f}",
                str(v.deliveries),
                ", ".join(str(eligibility.RULE_LABELS[rule]) for rule in v.rules) or "—",
            ]
            for v in verdicts
        ]
        self._table(headers, rows)
        eligible = sum(1 for v in verdicts if v.eligible)
        self.stdout.write(
            _("%(eligible)s of %(total)s customers eligible.") % {"eligible": eligible, "total": len(verdicts)}
        )

    def _table(self, headers: list[str], rows: list[list[str]]) -> None:
        # Tab-separated: names mix Chinese and Latin letters, whose widths padding cannot line up anyway,
        # and a spreadsheet or `cut -f` reads it as it is.
        for row in [headers, *rows]:
            self.stdout.write("\t".join(row))
