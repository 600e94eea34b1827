"""The e-mails of the surveys, composed when the outbox sends them, in the contact's language."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from satisfaction.models import Invitation


def _company() -> str:
    from django.utils.translation import get_language

    return settings.COMPANY_NAME_EN if (get_language() or "").startswith("en") else settings.COMPANY_NAME_ZH


def _context(invitation: Invitation) -> dict:
    return {
        "invitation": invitation,
        "contact": invitation.contact,
        "customer": invitation.line.customer,
        "round": invitation.round,
        "url": invitation.public_url(),
        "company": _company(),
    }


def _load(invitation_id: int) -> Invitation | None:
    return Invitation.objects.select_related("round", "contact", "line__customer").filter(pk=invitation_id).first()


def compose_invitation(invitation_id: int):
    from satisfaction.services import round_is_open

    invitation = _load(invitation_id)
    if invitation is None or not round_is_open(invitation.round):
        return None
    subject = _("%(company)s: customer satisfaction survey — %(round)s") % {
        "company": _company(),
        "round": invitation.round.name,
    }
    return subject, render_to_string("satisfaction/mail/invitation.txt", _context(invitation))


def compose_reminder(invitation_id: int):
    from satisfaction.services import customer_answered, round_is_open

    invitation = _load(invitation_id)
    # §5.11.1 chases those who have not answered: once the customer has, the reminder is not sent.
    if invitation is None or not round_is_open(invitation.round) or customer_answered(invitation.line):
        return None
    subject = _("Reminder: %(company)s customer satisfaction survey — %(round)s") % {
        "company": _company(),
        "round": invitation.round.name,
    }
    return subject, render_to_string("satisfaction/mail/reminder.txt", _context(invitation))
