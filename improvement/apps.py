from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImprovementConfig(AppConfig):
    name = "improvement"
    verbose_name = _("Analysis, improvement and management review")

    def ready(self):
        from common import outbox
        from improvement import actions, mail

        outbox.register(actions.REMINDER, mail.compose_action_reminder)
