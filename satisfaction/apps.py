from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SatisfactionConfig(AppConfig):
    name = "satisfaction"
    verbose_name = _("Customer satisfaction")

    def ready(self):
        from common import outbox
        from satisfaction import mail, services

        outbox.register(services.INVITATION, mail.compose_invitation)
        outbox.register(services.REMINDER, mail.compose_reminder)
