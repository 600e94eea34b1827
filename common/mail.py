"""Mail to staff: the active members of departments, each in their own language."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import translation


def department_users(departments):
    """Active users with an e-mail address in any of ``departments`` (group names)."""
    return (
        get_user_model().objects.filter(groups__name__in=list(departments), is_active=True).exclude(email="").distinct()
    )


def mail_each(users, compose: Callable[[], tuple[str, str]]) -> int:
    """Send ``compose()`` (subject, body), built in each user's language, to each user. Returns how many."""
    sent = 0
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject, body = compose()
        sent += send_mail(subject, body, None, [user.email])
    return sent
