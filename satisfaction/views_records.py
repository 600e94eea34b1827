"""PLACEHOLDER: being written (helper); every view answers 404 until then."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def blank_form_pdf(request, **kwargs):
    raise Http404


def blank_form_pdf_for(request, **kwargs):
    raise Http404


def response_pdf(request, **kwargs):
    raise Http404


def statistics_xlsx(request, **kwargs):
    raise Http404


def statistics_pdf(request, **kwargs):
    raise Http404


def summary_xlsx(request, **kwargs):
    raise Http404


def summary_pdf(request, **kwargs):
    raise Http404


def responses_pdf(request, **kwargs):
    raise Http404
