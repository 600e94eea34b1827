"""The daily e-mail to the owner of corrective actions, composed when the outbox sends it, in the owner's
language (the outbox activates it)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from improvement.models import Action
from improvement.selectors import overdue_q, waiting_q


def _company() -> str:
    return settings.COMPANY_NAME_EN if (get_language() or "").startswith("en") else settings.COMPANY_NAME_ZH


def _url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def compose_action_reminder(owner_id: int):
    """The owner's overdue actions and those waiting for verification, as they are when the mail goes out;
    nothing (the message is cancelled) when none is left."""
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        return None
    today = timezone.localdate()
    mine = Action.objects.filter(owner=owner)
    overdue = list(mine.filter(overdue_q(today)).order_by("due_date", "pk"))
    waiting = list(mine.filter(waiting_q(today)).order_by("verify_after", "pk"))
    if not overdue and not waiting:
        return None
    for action in overdue + waiting:
        action.url = _url(action.get_absolute_url())
    subject = _("%(company)s: corrective actions — %(overdue)s overdue, %(waiting)s waiting for verification") % {
        "company": _company(),
        "overdue": len(overdue),
        "waiting": len(waiting),
    }
    body = render_to_string(
        "improvement/mail/action_reminder.txt",
        {
            "owner_name": owner.get_full_name() or owner.get_username(),
            "overdue": overdue,
            "waiting": waiting,
            "my_work_url": _url(reverse("accounts:my_work")),
            "company": _company(),
        },
    )
    return subject, body
