from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from common.errors import DomainError
from delivery import ontime


class Command(BaseCommand):
    help = (
        "Print the on-time delivery rate of one month (§5.5.2) with its counts: due, on time, delivered late, "
        "not delivered. The current month is provisional (batches due up to today)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, metavar="YYYY-MM", help="the month, e.g. 2025-03")
        parser.add_argument("--customer", metavar="CODE", help="only this customer's batches")

    def handle(self, *args, **options):
        try:
            month = ontime.parse_month(options["month"])
            customer = ontime.find_customer(options["customer"]) if options["customer"] else None
        except DomainError as error:
            raise CommandError(str(error)) from None
        rate = ontime.month_rate(month, customer=customer)
        who = f"{customer.code} {customer.display_name}" if customer else _("all customers")
        heading = f"{rate.key} ({who})"
        if rate.provisional:
            heading += " — " + _("provisional")
        self.stdout.write(heading)
        if rate.rate is None:
            self.stdout.write(_("No batches due in %(month)s: there is no rate.") % {"month": rate.key})
            return
        self.stdout.write(
            _(
                "On-time rate: %(rate)s%% (due %(due)d, on time %(on_time)d, delivered late %(late)d, "
                "not delivered %(not_delivered)d)"
            )
            % {
                "rate": rate.rate,
                "due": rate.due,
                "on_time": rate.on_time,
                "late": rate.delivered_late,
                "not_delivered": rate.not_delivered,
            }
        )
