from django.utils import translation


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the cookie and the browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


def client_ip(request) -> str | None:
    """The client's address for login throttling. Directly served: REMOTE_ADDR. Behind our TLS proxy
    (BEHIND_TLS_PROXY): the last address in X-Forwarded-For, the one the proxy itself appended; earlier entries
    are whatever the client sent and cannot be trusted."""
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR")
    if not settings.BEHIND_TLS_PROXY:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-1] if forwarded else remote
