"""PLACEHOLDER: being written; every view answers 404 until then."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def review_list(request, **kwargs):
    raise Http404


def review_new(request, **kwargs):
    raise Http404


def review_detail(request, **kwargs):
    raise Http404


def review_record(request, **kwargs):
    raise Http404


def review_pdf(request, **kwargs):
    raise Http404


def review_xlsx(request, **kwargs):
    raise Http404
