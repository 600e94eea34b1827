"""PLACEHOLDER: being written; every view answers 404 until then."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def report_new(request, **kwargs):
    raise Http404


def report_detail(request, **kwargs):
    raise Http404


def report_edit(request, **kwargs):
    raise Http404


def report_submit(request, **kwargs):
    raise Http404


def report_confirm(request, **kwargs):
    raise Http404


def report_return(request, **kwargs):
    raise Http404


def report_correct(request, **kwargs):
    raise Http404


def report_pdf(request, **kwargs):
    raise Http404


def report_chart(request, **kwargs):
    raise Http404
