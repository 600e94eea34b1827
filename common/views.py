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
