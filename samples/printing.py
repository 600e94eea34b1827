"""Printing sample notes (送样单) like delivery notes: A4, or the 241 mm continuous form, bilingual, with the
Chinese glyphs of the font common.pdf names. The page sizes are delivery's (delivery.printing.LAYOUTS)."""

from django.conf import settings
from django.utils.translation import gettext as _

from common.errors import DomainError
from common.pdf import MissingGlyphs, render_pdf
from delivery.printing import LAYOUTS as DELIVERY_LAYOUTS
from samples.models import SampleNote

TEMPLATES = {"a4": "samples/pdf/note_a4.html", "form241": "samples/pdf/note_form.html"}
LAYOUTS = {name: (DELIVERY_LAYOUTS[name][0], template) for name, template in TEMPLATES.items()}


def note_pdf(note: SampleNote, layout: str = "a4") -> bytes:
    """The note as a PDF; a character the font cannot draw is a DomainError naming the note, never empty boxes."""
    if layout not in LAYOUTS:
        raise DomainError(_("Unknown layout."))
    page_size, template = LAYOUTS[layout]
    context = {
        "notes": [note],
        "page_size": page_size,
        "company_zh": settings.COMPANY_NAME_ZH,
        "company_en": settings.COMPANY_NAME_EN,
    }
    try:
        return render_pdf(template, context)
    except MissingGlyphs as exc:
        raise DomainError(
            _("The PDF could not be made: the font has no glyph for some characters of sample note %(number)s.")
            % {"number": note.number}
            + f" ({exc})"
        ) from exc
