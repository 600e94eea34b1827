from django.core.management.base import BaseCommand

from common.outbox import deliver_pending


class Command(BaseCommand):
    help = "Send every e-mail waiting in the outbox (what the beat sweep does every minute), and print the counts."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="at most this many messages")

    def handle(self, *args, **options):
        counts = deliver_pending(limit=options["limit"])
        self.stdout.write(
            "sent {sent}, waiting to retry {queued}, failed {failed}".format(
                sent=counts["sent"], queued=counts["queued"], failed=counts["failed"]
            )
        )
