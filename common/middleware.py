"""The edge of every request (issue 10, "Hostile and odd input").

``HostileInputMiddleware`` answers 400 with a clear message, in Chinese and English, when a NUL byte is in the
address, the query string, a cookie or a form field (PostgreSQL refuses NUL in text: without this a search box
or a crafted link is a server error), and 413 when a request's body is larger than what its address accepts
(``body_limit``: the login form a few KB, the customer import its file, a form with scans their size, any other
form DATA_UPLOAD_MAX_MEMORY_SIZE). The declared Content-Length is checked before anything reads the body, so a
too large upload is refused without receiving it; a body sent without a length (chunked) is read only up to the
limit and refused beyond it.

``SecurityHeadersMiddleware`` sends the Content-Security-Policy on pages, and tells browsers and proxies not to
keep any response to a signed-in user (they all hold personal data: names, contacts, prices).
"""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

NUL = "\x00"

NUL_MESSAGE = _(
    "The request contains a NUL character, which no field of this application accepts. Remove it and try again."
)
TOO_LARGE_MESSAGE = _(
    "The request is larger than this form accepts (at most %(limit)s). Make the file smaller, or send fewer "
    "files at once, and try again."
)
_READ_PIECE = 64 * 1024


def bilingual(message, params: dict | None = None) -> str:
    """``message`` in Chinese, then English: the answer comes before the user's language is known."""
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            text = str(message) % params if params else str(message)
        if text not in texts:
            texts.append(text)
    return "\n".join(texts)


def _plain_page(message, status: int, params: dict | None = None) -> HttpResponse:
    text = bilingual(message, params)
    lines = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines())
    body = (
        f'<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>{status}</title></head>'
        f"<body>{lines}</body></html>"
    )
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def _has_nul(values) -> bool:
    return any(NUL in value for value in values if isinstance(value, str))


class HostileInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD", "OPTIONS") and not self._body_within_limit(request):
            limit = body_limit(request)
            return _plain_page(TOO_LARGE_MESSAGE, 413, {"limit": size_text(limit)})
        if self._nul_anywhere(request):
            return _plain_page(NUL_MESSAGE, 400)
        return self.get_response(request)

    @staticmethod
    def _body_within_limit(request) -> bool:
        """Whether the body fits its address's limit, judged by the declared length alone (nothing is read), or, for
        a body without a length (``Transfer-Encoding: chunked``, which the server hands on de-chunked), by reading
        at most the limit and one byte more: what was read becomes the body the view sees."""
        limit = body_limit(request)
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                return int(declared) <= limit
            except ValueError:
                return False
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return True  # no body at all
        stream = request.META.get("wsgi.input")
        if stream is None:
            return True
        pieces, received = [], 0
        while received <= limit:
            piece = stream.read(min(_READ_PIECE, limit + 1 - received))
            if not piece:
                break
            pieces.append(piece)
            received += len(piece)
        if received > limit:
            return False
        body = b"".join(pieces)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return True

    @staticmethod
    def _nul_anywhere(request) -> bool:
        if NUL in request.path or NUL in request.path_info:
            return True
        if _has_nul(request.GET.keys()) or _has_nul(v for key in request.GET for v in request.GET.getlist(key)):
            return True
        if _has_nul(request.COOKIES.keys()) or _has_nul(request.COOKIES.values()):
            return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            post = request.POST
            if _has_nul(post.keys()) or _has_nul(v for key in post for v in post.getlist(key)):
                return True
        return False


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", policy)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Whatever the view said: a signed-in page, file or export is never kept by a browser or proxy.
            if "Cache-Control" in response:
                del response["Cache-Control"]
            add_never_cache_headers(response)
        return response


def body_limit(request) -> int:
    """The largest body (bytes) the request's address accepts: settings.REQUEST_BODY_LIMITS by URL name (the login
    form, the customer import), else UPLOAD_MAX_BODY_BYTES for a form with files (scans), else
    DATA_UPLOAD_MAX_MEMORY_SIZE."""
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        name = ""
    limits = settings.REQUEST_BODY_LIMITS
    if name in limits:
        return limits[name]
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return settings.UPLOAD_MAX_BODY_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def size_text(size: int) -> str:
    """4 KB, 10 MB: the same in both languages."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(1, round(size / 1024))} KB"
