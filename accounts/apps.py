from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_departments(sender, **kwargs):
    from accounts.services import departments_sync

    departments_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and departments")

    def ready(self):
        # No sender: the handler runs after each app's post_migrate, so the permissions of
        # apps listed after this one exist by the last call. It is idempotent and cheap.
        post_migrate.connect(_sync_departments, dispatch_uid="accounts.sync_departments")
