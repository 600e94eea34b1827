"""Uploaded and generated files (scans, signed agreements, acknowledgements, sheets, imports) are served only to
signed-in users whose department may see what the file belongs to, in production too: never straight from the
web server's file system. With MEDIA_ACCEL_PREFIX set (nginx ``internal`` location, see README), the app checks and
nginx sends the bytes (X-Accel-Redirect); otherwise the app streams the file."""

import mimetypes
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

from accounts.roles import require

# The first folder of a file's stored name (its field's upload_to) → who may see it.
CAPABILITY_BY_FOLDER = {
    "imports": "customer.import",
    "orders": "order.view",
    "delivery": "delivery.view",
    "satisfaction": "survey.view",
    "complaints": "complaint.view",
    "records": "records.export",  # archives of the records register
    "samples": "sample.view",
    "customer_property": "custprop.view",
}


def capability_for(name: str) -> str | None:
    parts = PurePosixPath(name).parts
    if not parts or any(part in ("..", ".") for part in parts) or name.startswith("/"):
        return None
    return CAPABILITY_BY_FOLDER.get(parts[0])


@require_GET
@login_required
def protected_media(request, path: str):
    capability = capability_for(path)
    if capability is None:
        raise Http404
    require(request.user, capability)
    try:
        exists = default_storage.exists(path)
    except SuspiciousFileOperation:
        raise Http404 from None
    if not exists:
        raise Http404
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    prefix = getattr(settings, "MEDIA_ACCEL_PREFIX", "")
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + path
    else:
        response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{PurePosixPath(path).name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
