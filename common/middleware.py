"""The edge of every request (issue 10, "Hostile and odd input").

``HostileInputMiddleware`` answers 400 with a clear message, in Chinese and English, when a NUL byte is in the
address, the query string, a cookie or a form field (PostgreSQL refuses NUL in text: without this a search box
or a crafted link is a server error), and 413 when the login form's body is larger than a login can be (the
form is public: nobody may make the server parse megabytes there).

``SecurityHeadersMiddleware`` sends the Content-Security-Policy on pages, and tells browsers and proxies not to
keep any response to a signed-in user (they all hold personal data: names, contacts, prices).
"""

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

NUL = "\x00"

NUL_MESSAGE = _(
    "The request contains a NUL character, which no field of this application accepts. Remove it and try again."
)
TOO_LARGE_MESSAGE = _("The request is larger than this form accepts.")


def bilingual(message) -> str:
    """``message`` in Chinese, then English: the answer comes before the user's language is known."""
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            text = str(message)
        if text not in texts:
            texts.append(text)
    return "\n".join(texts)


def _plain_page(message, status: int) -> HttpResponse:
    text = bilingual(message)
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
        if request.method == "POST" and request.path_info == reverse("login"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.LOGIN_MAX_BODY_BYTES:
                return _plain_page(TOO_LARGE_MESSAGE, 413)
        if self._nul_anywhere(request):
            return _plain_page(NUL_MESSAGE, 400)
        return self.get_response(request)

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
