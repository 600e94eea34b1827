from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import import_string

# Each part of the app adds its demo data here, in the order of the flow.
SEEDERS = [
    "accounts.demo.seed_users",
    "customers.demo.seed",
    "orders.demo.seed",
    "delivery.demo.seed",
    "satisfaction.demo.seed",
]


class Command(BaseCommand):
    help = "Load realistic demo data and one demo user per role (password 'demo'). Running it again changes nothing."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "Demo data is refused: DEMO_MODE is off (production settings). Demo passwords are 'demo'."
            )
        # Demo data goes through the services, which notify people and mail customers: keep that mail in
        # memory instead of printing it (console backend) or sending it.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                for path in SEEDERS:
                    import_string(path)()
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Users: " + ", ".join(_usernames()) + " (password: demo)")
        )


def _usernames():
    from accounts.demo import DEMO_USERS

    return list(DEMO_USERS)
