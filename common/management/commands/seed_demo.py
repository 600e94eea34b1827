import logging
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import import_string

# Each part of the app adds its demo data here, in the order of the flow (a later part builds on the earlier
# ones: complaints on delivery notes, the improvement loop on the closed survey round and the complaints).
SEEDERS = [
    "accounts.demo.seed_users",
    "customers.demo.seed",
    "orders.demo.seed",
    "delivery.demo.seed",
    "satisfaction.demo.seed",
    "complaints.demo.seed",
    "improvement.demo.seed",
    "samples.demo.seed",
    "customer_property.demo.seed",
]

# What the summary counts, in the order of the flow: (label, model).
SUMMARY = [
    ("customers", "customers.Customer"),
    ("orders", "orders.Order"),
    ("delivery notes", "delivery.DeliveryNote"),
    ("returns", "delivery.Return"),
    ("survey rounds", "satisfaction.SurveyRound"),
    ("survey responses", "satisfaction.Response"),
    ("complaints", "complaints.Complaint"),
    ("analysis reports", "improvement.AnalysisReport"),
    ("improvement meetings", "improvement.Meeting"),
    ("corrective actions", "improvement.Action"),
    ("management review packs", "improvement.ManagementReview"),
    ("sample requests", "samples.SampleRequest"),
    ("customer property items", "customer_property.PropertyItem"),
    ("customer property checks", "customer_property.PropertyCheck"),
]

# While seeding, the inline job queue logs every task it runs (hundreds of "Task … succeeded" lines) and kombu
# warns that no broker host is configured, which is the laptop default: neither tells the person anything.
# Warnings of our own code (a missing glyph in a PDF, a failed e-mail) still show.
QUIET = {"": logging.WARNING, "celery": logging.WARNING, "kombu": logging.ERROR}


class Command(BaseCommand):
    help = "Load realistic demo data and one demo user per role (password 'demo'). Running it again changes nothing."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "Demo data is refused: DEMO_MODE is off (production settings). Demo passwords are 'demo'."
            )
        before = counts()
        # Demo data goes through the services, which notify people and mail customers: keep that mail in
        # memory instead of printing it (console backend) or sending it.
        with quiet_logs(), override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                for path in SEEDERS:
                    import_string(path)()
        after = counts()
        self.stdout.write(self.style.SUCCESS(summary_title(before, after)))
        self.stdout.write("  " + ", ".join(f"{label} {n}" for label, n in after.items()))
        self.stdout.write("  Users (password 'demo'): " + ", ".join(_usernames()))


def counts() -> dict[str, int]:
    return {label: apps.get_model(model).objects.count() for label, model in SUMMARY}


def summary_title(before: dict[str, int], after: dict[str, int]) -> str:
    if before == after:
        return "Demo data was already there: nothing changed."
    return "Demo data ready."


@contextmanager
def quiet_logs():
    saved = {}
    for name, level in QUIET.items():
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _usernames():
    from accounts.demo import DEMO_USERS

    return list(DEMO_USERS)
