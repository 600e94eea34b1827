from django.core.management.base import BaseCommand

from common.jobs import dispatch_pending
from common.outbox import deliver_pending


class Command(BaseCommand):
    help = (
        "Hand the background jobs that waited for the queue to it, send every e-mail waiting in the outbox "
        "(what the beat sweep does every minute), and print the counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="at most this many messages and jobs")

    def handle(self, *args, **options):
        jobs = dispatch_pending(limit=options["limit"])
        counts = deliver_pending(limit=options["limit"])
        self.stdout.write(
            "sent {sent}, waiting to retry {queued}, failed {failed}".format(
                sent=counts["sent"], queued=counts["queued"], failed=counts["failed"]
            )
        )
        if jobs["queued"] or jobs["waiting"]:
            self.stdout.write(
                "jobs handed to the queue {queued}, still waiting for the queue {waiting}".format(
                    queued=jobs["queued"], waiting=jobs["waiting"]
                )
            )
