from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import LanguageForm
from accounts.work import sections_for


@login_required
def my_work(request):
    """What waits for the user: each section's first items; ``?all=<section key>`` lists one section in full."""
    key = request.GET.get("all", "")
    if key:
        section = next((s for s in sections_for(request.user, show_all=True) if s.key == key), None)
        if section is not None:
            return render(request, "accounts/my_work_all.html", {"section": section})
        messages.info(request, _("That list has nothing waiting any more."))
    return render(request, "accounts/my_work.html", {"sections": sections_for(request.user)})


@require_POST
def set_language(request):
    """Switch the interface language; remembered on the user (and in a cookie for the login page)."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("unknown language")
    language = form.cleaned_data["language"]
    target = form.cleaned_data["next"] or request.headers.get("referer") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("accounts:my_work")
    if request.user.is_authenticated and request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    translation.activate(language)
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response
