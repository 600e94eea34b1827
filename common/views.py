from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.jobs import queue_state


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
