from django.conf import settings

from accounts.navigation import nav_for
from accounts.roles import Dept, departments_of
from common.jobs import queue_state_cached


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"SITE_NAME": settings.SITE_NAME}
    depts = departments_of(user)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "nav_items": nav_for(user, request.path),
        "user_departments": [label for value, label in Dept.choices if value in depts],
        "show_admin_link": user.is_staff,
        "queue_down": queue_state_cached() == "down",
    }
