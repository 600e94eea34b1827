"""PLACEHOLDER: being written (helper); every view answers 404 until then."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def round_list(request, **kwargs):
    raise Http404


def round_new_ad_hoc(request, **kwargs):
    raise Http404


def round_open_half_year(request, **kwargs):
    raise Http404


def round_detail(request, **kwargs):
    raise Http404


def round_progress(request, **kwargs):
    raise Http404


def round_list_customers(request, **kwargs):
    raise Http404


def round_refresh(request, **kwargs):
    raise Http404


def line_include(request, **kwargs):
    raise Http404


def round_send(request, **kwargs):
    raise Http404


def round_close(request, **kwargs):
    raise Http404


def round_deadline(request, **kwargs):
    raise Http404


def round_remind(request, **kwargs):
    raise Http404


def invitation_resend(request, **kwargs):
    raise Http404


def response_enter(request, **kwargs):
    raise Http404


def response_detail(request, **kwargs):
    raise Http404


def form_edit(request, **kwargs):
    raise Http404


def scorecard_list(request, **kwargs):
    raise Http404


def scorecard_new(request, **kwargs):
    raise Http404


def failed_mail(request, **kwargs):
    raise Http404


def mail_resend(request, **kwargs):
    raise Http404
