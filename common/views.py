import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from common.jobs import queue_state

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """Liveness for load balancers and monitoring: 200 when the app can serve."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception:
        database = "down"
    body = {"database": database, "queue": queue_state()}
    body["status"] = "ok" if database == "ok" else "down"
    return JsonResponse(body, status=200 if database == "ok" else 503)


def form_action(request, form, action, page):
    """The shape of every staff action (CONVENTIONS.md): ``action(cleaned_data)`` returns (message, url) → a
    success message and a redirect; an invalid form or a DomainError → ``page(form)`` re-rendered with the
    reason beside the field its code names (else above the form), status 422, every input kept."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from common.errors import DomainError

    if form.is_valid():
        try:
            message, url = action(form.cleaned_data)
        except DomainError as error:
            form.add_error(error.code if error.code in form.fields else None, error.message)
        else:
            messages.success(request, message)
            return redirect(url)
    response = page(form)
    response.status_code = 422
    return response


@requires_csrf_token
def server_error(request, template_name="500.html"):
    """The app's own 500 page (config.urls.handler500), with the navigation when it can still be built.

    Whatever broke the request may break building the page too (the database is down, so the context
    processors fail): then the same page without the request's context, and as a last resort a fixed line."""
    try:
        return HttpResponseServerError(loader.render_to_string(template_name, request=request))
    except Exception:
        logger.exception("The 500 page could not be built with the request's context")
    try:
        return HttpResponseServerError(loader.render_to_string(template_name, {"SITE_NAME": settings.SITE_NAME}))
    except Exception:
        logger.exception("The 500 page could not be built")
    # Django's own last resort, in both languages; nothing here can fail.
    return HttpResponseServerError("<!doctype html><h1>服务器错误 Server error (500)</h1>")
