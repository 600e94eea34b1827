"""Odd input refused at the edge of the domain (issue 10, "Hostile and odd input").

- Names that people read (customers, contacts, products, signers) must show something: a name made only of
  invisible characters (spaces, zero-width joiners, format characters) looks empty in every list, and a
  direction override (U+202A–U+202E, U+2066–U+2069) makes a name display as something else than what it is
  ("Trojan Source" spoofing), so both are refused. ``validate_name`` is the one check, used by the models'
  fields (so admin, imports and forms share it) and by services that take a name as plain text.
- Dates typed for notes, batches, incidents and transfers must lie in a sane range (``SANE_DATE_MIN`` up to
  ``SANE_DATE_MAX_YEARS_AHEAD`` years from today, settings): a year typed as 0202 or 2220 is a typo that would
  otherwise end up in the on-time rate. ``check_date_in_range`` raises the domain error the services show.
"""

import unicodedata
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError

# Embeddings, overrides and isolates: they reorder how the text around them is shown.
DIRECTION_CONTROLS = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Letters that render as nothing although Unicode files them as letters (Hangul fillers, braille blank).
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(char: str) -> bool:
    if char in BLANK_LETTERS:
        return False
    category = unicodedata.category(char)
    # Z*: separators (spaces); C*: controls, format characters (zero-width …), unassigned; M*: marks that only
    # decorate the character before them.
    return category[0] not in "ZCM"


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name, or None. Empty values are left to ``required``."""
    if not value:
        return None
    if any(char in DIRECTION_CONTROLS for char in value):
        return gettext_lazy("The name contains characters that change the direction of the text. Type it again.")
    if "\x00" in value:
        return gettext_lazy("The name contains a NUL character. Type it again.")
    if not any(_visible(char) for char in value):
        return gettext_lazy("The name shows no visible character. Type it again.")
    return None


def validate_name(value: str) -> None:
    """A Django validator for name fields (models and forms)."""
    problem = name_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="odd_name")


def check_name(value: str, *, code: str | None = None) -> None:
    """``validate_name`` for services: the same rule as a DomainError."""
    problem = name_problem(value)
    if problem is not None:
        raise DomainError(problem, code=code)


def sane_date_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    years = settings.SANE_DATE_MAX_YEARS_AHEAD
    try:
        latest = today.replace(year=today.year + years)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + years, day=28)
    return settings.SANE_DATE_MIN, latest


def check_date_in_range(value: date | None, *, code: str | None = None) -> None:
    """Refuse a date before ``SANE_DATE_MIN`` or more than ``SANE_DATE_MAX_YEARS_AHEAD`` years ahead."""
    if value is None:
        return
    if isinstance(value, datetime):  # an arrival time: its day
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    earliest, latest = sane_date_range()
    if not earliest <= value <= latest:
        raise DomainError(
            _("%(date)s is not a plausible date: give a date between %(earliest)s and %(latest)s.")
            % {"date": value.isoformat(), "earliest": earliest.isoformat(), "latest": latest.isoformat()},
            code=code,
        )
