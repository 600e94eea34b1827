from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from delivery import ontime
from delivery.models import DeliveryBatch

CHUNK = 2000


def _state(delivered, on) -> str:
    return _("delivered %(qty)s, in full on %(day)s") % {
        "qty": f"{delivered.normalize():f}",
        "day": on.isoformat() if on else "—",
    }


class Command(BaseCommand):
    help = (
        "Check every delivery batch's stored delivery state (delivered quantity, the day delivered in full: what "
        "the on-time rate reads, §5.5.2) against its delivery notes, print each batch that differs, and repair it "
        "(closed months it changes get a restatement). --check only reports, and exits 1 if anything differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report only; exit 1 when a batch differs")

    def handle(self, *args, **options):
        checked, wrong = 0, []
        last = 0
        while True:
            batches = list(
                DeliveryBatch.objects.filter(pk__gt=last)
                .order_by("pk")
                .only("pk", "quantity", "due_date", "delivered_quantity", "delivered_on")[:CHUNK]
            )
            if not batches:
                break
            last = batches[-1].pk
            checked += len(batches)
            states = ontime.delivery_states(batches)
            for batch in batches:
                if (batch.delivered_quantity, batch.delivered_on) != states[batch.pk]:
                    wrong.append(batch)
                    self.stdout.write(
                        _("Batch %(pk)d due %(due)s: stored %(stored)s; from its notes %(actual)s.")
                        % {
                            "pk": batch.pk,
                            "due": batch.due_date.isoformat(),
                            "stored": _state(batch.delivered_quantity, batch.delivered_on),
                            "actual": _state(*states[batch.pk]),
                        }
                    )
        if not wrong:
            self.stdout.write(_("%(n)d batches checked: every stored delivery state is right.") % {"n": checked})
            return
        if options["check"]:
            raise CommandError(
                _("%(n)d batches checked, %(wrong)d differ from their notes (not repaired: run without --check).")
                % {"n": checked, "wrong": len(wrong)}
            )
        with transaction.atomic():
            repaired = ontime.batch_state_recompute(wrong)
            # A repaired batch of a closed month changes its figures: say so on the record, never silently.
            ontime.restate(
                months={b.due_date for b in wrong},
                reason=ontime.both_languages(
                    gettext_lazy("Delivery state of %(n)s batches repaired by the ontime_recompute command."),
                    n=len(repaired),
                ),
            )
        self.stdout.write(
            _("%(n)d batches checked, %(wrong)d differed from their notes and were repaired.")
            % {"n": checked, "wrong": len(repaired)}
        )
