"""PLACEHOLDER: being written (helper)."""

from django.http import Http404


def survey_public(request, token):
    raise Http404
