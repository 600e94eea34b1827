"""Pages of the satisfaction analysis report (§5.12.5): the report with its figures and charts, Customer
Service's text, submitting, the representative's confirmation or return, corrections, the PDF and the charts.

Every view checks access first (accounts.roles: improvement.view, report.write, report.decide). An action goes
through ``_attempt``: a valid form calls the service and redirects with a message; an invalid form or a
refusal of the procedure (DomainError) re-renders the page it came from with the bound form, the reason beside
its field, status 422 (CONVENTIONS.md, "Views and templates").
"""

import io
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import require
from common.pdf import MissingGlyphs
from common.views import form_action
from improvement import report as reports
from improvement.forms_report import ConfirmForm, CorrectForm, NewReportForm, ReportTextForm, ReturnForm
from improvement.models import AnalysisReport
from satisfaction.models import SurveyRound


def _report(pk: int) -> AnalysisReport:
    return get_object_or_404(
        AnalysisReport.objects.select_related("round__form", "previous", "created_by", "submitted_by", "decided_by"),
        pk=pk,
    )


def _report_page(request, report: AnalysisReport, **forms) -> HttpResponse:
    figures = reports.figures_of(report)
    shown = reports.present(figures)
    may = reports.allowed(request.user, report)
    if may["propose"]:
        reports.propose_links(report, shown)
    return render(
        request,
        "improvement/report_detail.html",
        {
            "report": report,
            "f": shown,
            "live": report.status in reports.EDITABLE,
            # Hand-written SVG whose every label is escaped (improvement.charts).
            "charts": {name: mark_safe(reports.chart_svg(figures, name)) for name in reports.CHARTS},
            "may": may,
            "versions": AnalysisReport.objects.filter(round_id=report.round_id).order_by("version"),
            "next_version": AnalysisReport.objects.filter(previous=report).first(),
            "confirm_form": forms.get("confirm_form") or ConfirmForm(),
            "return_form": forms.get("return_form") or ReturnForm(),
            "correct_form": forms.get("correct_form") or CorrectForm(),
        },
    )


def _edit_page(request, report: AnalysisReport, form=None) -> HttpResponse:
    form = form or ReportTextForm(initial={"causes": report.causes, "conclusions": report.conclusions})
    shown = reports.present(reports.figures_of(report))
    return render(request, "improvement/report_edit.html", {"report": report, "form": form, "f": shown})


# --- Starting a report from a closed round -------------------------------------------------------------------


@login_required
@require_POST
def report_new(request, round_pk):
    require(request.user, "report.write")
    survey_round = get_object_or_404(
        SurveyRound.objects.select_related("form", "sent_by", "closed_by", "created_by"), pk=round_pk
    )

    def action(data):
        report = reports.report_create(user=request.user, survey_round=survey_round)
        return (
            _("The analysis report of %(round)s is started: the figures are filled in, add the causes and conclusions.")
            % {"round": survey_round.name},
            report.get_absolute_url(),
        )

    def page(form):
        # The round page it came from, with the refusal (satisfaction shows ``action_form`` errors at the top).
        from satisfaction.views import _round_page

        return _round_page(request, survey_round, action_form=form)

    return form_action(request, NewReportForm(request.POST), action, page)


# --- The report ------------------------------------------------------------------------------------------------


@login_required
def report_detail(request, pk):
    require(request.user, "improvement.view")
    return _report_page(request, _report(pk))


@login_required
def report_edit(request, pk):
    require(request.user, "report.write")
    report = _report(pk)
    if request.method != "POST":
        if report.status not in reports.EDITABLE:
            messages.info(request, _("This report is no longer a draft: it cannot be edited."))
            return redirect(report.get_absolute_url())
        return _edit_page(request, report)

    def action(data):
        reports.report_update(user=request.user, report=report, **data)
        return _("The report is saved as a draft."), report.get_absolute_url()

    return form_action(request, ReportTextForm(request.POST), action, lambda form: _edit_page(request, report, form))


@login_required
@require_POST
def report_submit(request, pk):
    """Save the text and submit (the edit page's second button)."""
    require(request.user, "report.write")
    report = _report(pk)

    def action(data):
        # Only the text that was posted: a bare "submit" keeps what was saved.
        text = {name: value for name, value in data.items() if name in request.POST}
        reports.report_submit(user=request.user, report=report, **text)
        return _("The report is submitted to the management representative."), report.get_absolute_url()

    return form_action(request, ReportTextForm(request.POST), action, lambda form: _edit_page(request, report, form))


@login_required
@require_POST
def report_confirm(request, pk):
    require(request.user, "report.decide")
    report = _report(pk)

    def action(data):
        reports.report_confirm(user=request.user, report=report)
        return _("The report is confirmed. It is now a record."), report.get_absolute_url()

    return form_action(
        request, ConfirmForm(request.POST), action, lambda form: _report_page(request, report, confirm_form=form)
    )


@login_required
@require_POST
def report_return(request, pk):
    require(request.user, "report.decide")
    report = _report(pk)

    def action(data):
        reports.report_return(user=request.user, report=report, reason=data["reason"])
        return _("The report is returned to Customer Service with your reason."), report.get_absolute_url()

    return form_action(
        request, ReturnForm(request.POST), action, lambda form: _report_page(request, report, return_form=form)
    )


@login_required
@require_POST
def report_correct(request, pk):
    require(request.user, "report.write")
    report = _report(pk)

    def action(data):
        new = reports.report_correct(user=request.user, report=report, reason=data["reason"])
        return (
            _("Version %(version)s is started as a draft; version %(old)s stays in force until it is confirmed.")
            % {"version": new.version, "old": report.version},
            new.get_absolute_url(),
        )

    return form_action(
        request, CorrectForm(request.POST), action, lambda form: _report_page(request, report, correct_form=form)
    )


# --- Files -----------------------------------------------------------------------------------------------------


@login_required
def report_pdf(request, pk):
    require(request.user, "improvement.view")
    report = _report(pk)
    try:
        data = reports.report_pdf(report)
    except MissingGlyphs as exc:
        characters = re.findall(r'"(.+?)"', str(exc))
        messages.error(
            request,
            _(
                "The PDF could not be made: the font has no glyph for %(chars)s. Ask the administrator to install a "
                "font with more Chinese characters (PDF_CJK_FONT, e.g. Noto CJK)."
            )
            % {"chars": " ".join(dict.fromkeys(characters)) or _("some characters")},
        )
        return redirect(report.get_absolute_url())
    return FileResponse(
        io.BytesIO(data), content_type="application/pdf", filename=reports.pdf_filename(report), as_attachment=False
    )


@login_required
def report_chart(request, pk, name):
    require(request.user, "improvement.view")
    if name not in reports.CHARTS:
        raise Http404
    report = _report(pk)
    svg = reports.chart_svg(reports.figures_of(report), name)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Frozen figures do not change; a draft's do, so it is never cached.
    response["Cache-Control"] = "private, no-cache"
    return response
