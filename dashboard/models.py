"""The dashboard keeps no data of its own. This model exists only to carry the Django permission
``dashboard.view_dashboard``: an administrator grants it (to a user, or to a group such as "dashboard") in the
admin, and its holders see the dashboard besides the departments of the capability ``dashboard.view``
(accounts/roles.py). That is how a department head (the app has no head role per department) is given the page.
No table: ``managed = False``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DashboardAccess(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_dashboard", _("Can see the managers' dashboard"))]
        verbose_name = _("dashboard access")

    def __str__(self):
        return str(self._meta.verbose_name)
