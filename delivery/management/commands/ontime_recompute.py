from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from delivery import ontime
from delivery.models import DeliveryBatch
from orders.models import OrderLine

CHUNK = 2000


def _state(delivered, on) -> str:
    return _("delivered %(qty)s, in full on %(day)s") % {
        "qty": f"{delivered.normalize():f}",
        "day": on.isoformat() if on else "—",
    }


def _line_state(planned, delivered, next_due) -> str:
    return _("%(planned)s, delivered %(delivered)s, next due %(day)s") % {
        "planned": f"{planned.normalize():f}",
        "delivered": f"{delivered.normalize():f}",
        "day": next_due.isoformat() if next_due else "—",
    }


class Command(BaseCommand):
    help = (
        "Check every delivery batch's stored delivery state (delivered quantity, the day delivered in full: what "
        "the on-time rate reads, §5.5.2) against its delivery notes, and every order line's stored sums over its "
        "batches (planned, delivered, next due: what the progress sheet reads); print each that differs and "
        "repair it (closed months it changes get a restatement). --check only reports, and exits 1 if anything "
        "differs."
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
        lines = self._check_lines()
        if not wrong and not lines:
            self.stdout.write(_("%(n)d batches checked: every stored delivery state is right.") % {"n": checked})
            return
        if options["check"]:
            raise CommandError(
                _("%(n)d batches checked, %(wrong)d differ from their notes (not repaired: run without --check).")
                % {"n": checked, "wrong": len(wrong)}
                + " "
                + _("%(lines)d order lines differ from their batches.") % {"lines": len(lines)}
            )
        with transaction.atomic():
            repaired = ontime.batch_state_recompute(wrong)
            ontime.line_state_recompute(lines)
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
            + " "
            + _("%(lines)d order lines differed from their batches and were repaired.") % {"lines": len(lines)}
        )

    def _check_lines(self) -> list[int]:
        """The order lines whose stored sums over their batches (planned, delivered, next due: what the sheet and
        the unplanned parts of the rate read) differ from the batches; each printed. Read after the batches'
        check, so a line is compared with its batches as they are (a batch repaired here repairs its line too)."""
        wrong = []
        last = 0
        while True:
            stored = list(
                OrderLine.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "planned_quantity", "delivered_quantity", "next_batch_due")[:CHUNK]
            )
            if not stored:
                break
            last = stored[-1][0]
            actual = ontime.line_states([row[0] for row in stored])
            for pk, *state in stored:
                if tuple(state) != actual[pk]:
                    wrong.append(pk)
                    self.stdout.write(
                        _("Order line %(pk)d: stored planned %(stored)s; from its batches %(actual)s.")
                        % {"pk": pk, "stored": _line_state(*state), "actual": _line_state(*actual[pk])}
                    )
        return wrong
