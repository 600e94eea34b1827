from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.roles import Dept

# Administrators work in the Django admin (imports, users, departments, checklists).
ADMIN_APPS = ("accounts", "auth", "customers", "orders", "delivery", "satisfaction")


def departments_sync() -> None:
    """Create one group per department and give Administrators the admin permissions. Idempotent."""
    for code in Dept.values:
        Group.objects.get_or_create(name=code)
    admin_group = Group.objects.get(name=Dept.ADMIN)
    perms = Permission.objects.filter(
        Q(content_type__app_label__in=ADMIN_APPS)
        # The work calendar (public holidays, make-up working days) lives in common/ beside the outbox.
        | Q(content_type__app_label="common", content_type__model="workcalendarday")
    )
    admin_group.permissions.add(*perms)
