"""PLACEHOLDER: being written; every view answers 404 until then."""

from django.http import Http404


def home(request, **kwargs):
    raise Http404


def py(request, **kwargs):
    raise Http404


def meeting_list(request, **kwargs):
    raise Http404


def meeting_new(request, **kwargs):
    raise Http404


def meeting_detail(request, **kwargs):
    raise Http404


def action_list(request, **kwargs):
    raise Http404


def action_new(request, **kwargs):
    raise Http404


def action_detail(request, **kwargs):
    raise Http404


def action_done(request, **kwargs):
    raise Http404


def action_verify(request, **kwargs):
    raise Http404
