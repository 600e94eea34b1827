"""Template helpers for pages shown in both languages at once (the error pages)."""

from django import template
from django.conf import settings
from django.utils import translation

register = template.Library()


@register.simple_tag
def languages_current_first() -> list[str]:
    """The codes of the app's languages, the one in use first: an error page says everything in each of them."""
    current = translation.get_language() or settings.LANGUAGE_CODE
    codes = [code for code, _name in settings.LANGUAGES]
    return sorted(codes, key=lambda code: code != current)
