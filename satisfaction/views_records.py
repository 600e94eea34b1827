"""The survey records as files (§7): the blank and answered survey forms, the statistics and summary tables.

Everyone may read survey results (``survey.view``). A PDF that cannot be made because the font lacks some
characters is refused with a message on the page it was asked from, not printed with empty boxes.
"""

import io
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import require
from common.pdf import MissingGlyphs
from satisfaction import records
from satisfaction.models import Response, RoundCustomer, SurveyForm, SurveyRound

PDF_CONTENT_TYPE = "application/pdf"


def _round(pk: int) -> SurveyRound:
    return get_object_or_404(SurveyRound.objects.select_related("form"), pk=pk)


def _file(data: bytes, name: str, content_type: str, *, attachment: bool) -> FileResponse:
    return FileResponse(io.BytesIO(data), content_type=content_type, filename=name, as_attachment=attachment)


def _missing_glyphs(request, exc: MissingGlyphs, back: str):
    characters = re.findall(r'"(.+?)"', str(exc))
    messages.error(
        request,
        _(
            "The PDF could not be made: the font has no glyph for %(chars)s. Ask the administrator to install a "
            "font with more Chinese characters (PDF_CJK_FONT, e.g. Noto CJK)."
        )
        % {"chars": " ".join(dict.fromkeys(characters)) or _("some characters")},
    )
    return redirect(back)


def _pdf(request, make, name: str, back: str):
    """``make()`` as an inline PDF; back to the page at ``back`` with a message when it cannot be made."""
    try:
        data = make()
    except MissingGlyphs as exc:
        return _missing_glyphs(request, exc, back)
    return _file(data, name, PDF_CONTENT_TYPE, attachment=False)


@login_required
def blank_form_pdf(request, version):
    require(request.user, "survey.view")
    form = get_object_or_404(SurveyForm, version=version)
    return _pdf(
        request,
        lambda: records.blank_form_pdf(form),
        records.filename(None, "form", "pdf", extra=f"v{form.version}"),
        reverse("satisfaction:form"),
    )


@login_required
def blank_form_pdf_for(request, pk, line_pk):
    require(request.user, "survey.view")
    survey_round = _round(pk)
    line = get_object_or_404(RoundCustomer.objects.select_related("customer"), pk=line_pk, round=survey_round)
    return _pdf(
        request,
        lambda: records.blank_form_pdf(survey_round.form, survey_round=survey_round, line=line),
        records.filename(survey_round, "form", "pdf", extra=line.customer.code),
        survey_round.get_absolute_url(),
    )


@login_required
def response_pdf(request, pk):
    require(request.user, "survey.view")
    response = get_object_or_404(Response.objects.select_related("round", "line__customer"), pk=pk)
    return _pdf(
        request,
        lambda: records.response_pdf(response),
        records.filename(response.round, "response", "pdf", extra=f"{response.line.customer.code}-{response.pk}"),
        response.round.get_absolute_url(),
    )


@login_required
def responses_pdf(request, pk):
    require(request.user, "survey.view")
    survey_round = _round(pk)
    try:
        data = records.responses_pdf(survey_round)
    except MissingGlyphs as exc:
        return _missing_glyphs(request, exc, survey_round.get_absolute_url())
    if data is None:
        messages.info(request, _("No forms have been answered in this round yet."))
        return redirect(survey_round)
    return _file(data, records.filename(survey_round, "responses", "pdf"), PDF_CONTENT_TYPE, attachment=False)


@login_required
def statistics_xlsx(request, pk):
    require(request.user, "survey.view")
    survey_round = _round(pk)
    data = records.build_statistics_xlsx(survey_round)
    return _file(data, records.filename(survey_round, "statistics", "xlsx"), records.XLSX_CONTENT_TYPE, attachment=True)


@login_required
def statistics_pdf(request, pk):
    require(request.user, "survey.view")
    survey_round = _round(pk)
    return _pdf(
        request,
        lambda: records.statistics_pdf(survey_round),
        records.filename(survey_round, "statistics", "pdf"),
        survey_round.get_absolute_url(),
    )


@login_required
def summary_xlsx(request, pk):
    require(request.user, "survey.view")
    survey_round = _round(pk)
    data = records.build_summary_xlsx(survey_round)
    return _file(data, records.filename(survey_round, "summary", "xlsx"), records.XLSX_CONTENT_TYPE, attachment=True)


@login_required
def summary_pdf(request, pk):
    require(request.user, "survey.view")
    survey_round = _round(pk)
    return _pdf(
        request,
        lambda: records.summary_pdf(survey_round),
        records.filename(survey_round, "summary", "pdf"),
        survey_round.get_absolute_url(),
    )
