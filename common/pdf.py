"""PDF documents with WeasyPrint: Chinese glyphs from an explicitly named font file (PITFALLS.md)."""

import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string


class MissingGlyphs(Exception):
    """WeasyPrint drew empty boxes: the font has no glyph for some characters."""


class _GlyphWatch(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.missing: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if ".notdef glyph" in message:
            self.missing.append(message)


def font_url() -> str:
    path = Path(settings.PDF_CJK_FONT)
    if not path.is_file():
        raise ImproperlyConfigured(
            f"PDF_CJK_FONT={path} does not exist: install fonts-wqy-microhei (make setup does) or point it to a "
            "font file with Chinese glyphs."
        )
    return path.as_uri()


def fallback_font_url() -> str:
    """The font for the rarer characters the main one lacks (company names: 𠀾, 鿏 …), named explicitly like the
    main one, so that what a PDF can show does not depend on the fonts the server happens to have. Empty when
    PDF_CJK_FALLBACK_FONT is empty (no fallback)."""
    if not settings.PDF_CJK_FALLBACK_FONT:
        return ""
    path = Path(settings.PDF_CJK_FALLBACK_FONT)
    if not path.is_file():
        raise ImproperlyConfigured(
            f"PDF_CJK_FALLBACK_FONT={path} does not exist: install fonts-noto-cjk (make setup does), point it to a "
            "font file with the rarer Chinese characters, or set it empty for no fallback."
        )
    return path.as_uri()


def render_document(template: str, context: dict):
    """Lay out ``template`` (a WeasyPrint Document): several can be joined into one PDF with write_documents."""
    from weasyprint import HTML

    fonts = {"cjk_font_url": font_url(), "cjk_fallback_font_url": fallback_font_url()}
    html = render_to_string(template, {**context, **fonts})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).render()


def write_documents(documents) -> bytes:
    """One PDF of the documents' pages. Refuses to produce a PDF with missing glyphs rather than print boxes."""
    watch = _GlyphWatch()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(watch)
    try:
        pages = [page for document in documents for page in document.pages]
        pdf = documents[0].copy(pages).write_pdf()
    finally:
        logger.removeHandler(watch)
    if watch.missing:
        raise MissingGlyphs("; ".join(watch.missing[:5]))
    return pdf


def render_pdf(template: str, context: dict) -> bytes:
    """Render ``template`` to PDF. Refuses to produce a PDF with missing glyphs rather than print boxes."""
    return write_documents([render_document(template, context)])
