"""The public survey page: the customer's contact answers through the personal link of the e-mail (§5.11).

There is no login: the token in the URL is the only key. So whoever holds a wrong, replaced or expired link
gets one polite page, always the same words and status, without any name; the token is looked up only on its
unique column (never compared in Python); the page is never cached or indexed, sends no Referer to another
site (the token is in the URL) and is rate-limited per client address. It works without JavaScript and with a
screen reader: native radio groups in fieldsets with legends.
"""

import re
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from common.errors import DomainError
from satisfaction import services
from satisfaction.models import Invitation, Question, Response

# services.new_token() makes 43 urlsafe-base64 characters; anything else is refused before the database.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,100}")
COMMENT_MAX_LENGTH = 5000
# What the language links say, each in its own language.
LANGUAGE_LINK_NAMES = {"zh-hans": "中文", "en": "English"}


# --- Access ----------------------------------------------------------------------------------------------------


def _over_rate_limit(request: HttpRequest) -> bool:
    """At most SURVEY_PUBLIC_RATE_LIMIT requests a minute from one address: guessing tokens is pointless
    anyway (43 random characters), this keeps a scraper or a loop from loading the database."""
    minute = int(time.time() // 60)
    key = f"survey-public:{request.META.get('REMOTE_ADDR', '')}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > settings.SURVEY_PUBLIC_RATE_LIMIT


def _open_invitation(token: str) -> Invitation | None:
    """The invitation of a link that may be answered now, else None — whatever the reason (malformed, unknown,
    replaced by a resend, past the deadline, round closed), so that the caller cannot tell them apart."""
    if not TOKEN_RE.fullmatch(token):
        return None
    invitation = (
        Invitation.objects.select_related("round__form", "line__customer", "response").filter(token=token).first()
    )
    if invitation is None or not services.round_is_open(invitation.round):
        return None
    return invitation


def _response_of(invitation: Invitation) -> Response | None:
    try:
        return invitation.response
    except Response.DoesNotExist:
        return None


# --- Language --------------------------------------------------------------------------------------------------


def _language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _chosen_language(request: HttpRequest) -> str | None:
    """The language picked with a link on the page (?lang=en), if any."""
    lang = request.GET.get("lang", "")
    return lang if lang in _language_codes() else None


def _is_english(lang: str) -> bool:
    return lang.startswith("en")


def _language_links(current: str, query: str = "") -> list[dict]:
    return [
        {
            "code": code,
            "name": LANGUAGE_LINK_NAMES.get(code, name),
            "url": f"?{query}lang={code}",
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]


def _page(request, template: str, context: dict, *, lang: str, status: int = 200, query: str = "") -> HttpResponse:
    """Render in ``lang`` (rendered at once, inside the override) with the headers every public page needs."""
    with translation.override(lang):
        context = {
            "company": settings.COMPANY_NAME_EN if _is_english(lang) else settings.COMPANY_NAME_ZH,
            "language_links": _language_links(lang, query),
            **context,
        }
        response = render(request, template, context, status=status)
    response["Content-Language"] = lang
    return _public_headers(response)


def _public_headers(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token is in the URL: it must never reach another site. Not "no-referrer": with it browsers send
    # "Origin: null" on the form's POST and Django's CSRF check refuses the answers; "same-origin" sends no
    # Referer to any other site (and the page loads nothing from one).
    response["Referrer-Policy"] = "same-origin"
    return response


def _not_open(request: HttpRequest) -> HttpResponse:
    """One page for every link that cannot be answered: same words, same status, no name. It follows the
    browser's language (or the link picked), never the invitation's, which would tell a valid old link apart."""
    lang = _chosen_language(request) or translation.get_language() or settings.LANGUAGE_CODE
    return _page(request, "satisfaction/public/not_open.html", {}, lang=lang, status=404)


# --- The form --------------------------------------------------------------------------------------------------


def _end_label(question: Question, value: int) -> str:
    if value == question.scale_min:
        return _("very dissatisfied")
    if value == question.scale_max:
        return _("very satisfied")
    return ""


def _question_rows(questions: list[Question], selected: dict[str, str], errors: dict[str, str]) -> list[dict]:
    rows = []
    for question in questions:
        name = f"q{question.pk}"
        current = selected.get(str(question.pk), "")
        options = [
            {
                "id": f"{name}-{value}",
                "value": str(value),
                "number": value,
                "label": _end_label(question, value),
                "checked": current == str(value),
            }
            for value in question.choices
        ]
        if question.allow_na:
            options.append(
                {
                    "id": f"{name}-na",
                    "value": "na",
                    "number": None,
                    "label": _("Not applicable"),
                    "checked": current == "na",
                }
            )
        rows.append(
            {
                "question": question,
                "name": name,
                "options": options,
                "error": errors.get(str(question.pk), ""),
            }
        )
    return rows


def _selected_from(response: Response | None) -> dict[str, str]:
    if response is None:
        return {}
    return {key: "na" if value is None else str(value) for key, value in response.answers.items()}


def _check_answers(questions: list[Question], raw: dict[str, str]) -> dict[str, str]:
    """An error per question left unanswered or answered out of its scale (shown beside its fieldset)."""
    errors = {}
    for question in questions:
        value = raw.get(str(question.pk), "")
        if value == "":
            errors[str(question.pk)] = _("Please choose an answer to this question.")
        elif value == "na":
            if not question.allow_na:
                errors[str(question.pk)] = _("Please choose one of the answers.")
        elif value not in {str(n) for n in question.choices}:
            errors[str(question.pk)] = _("Please choose one of the answers.")
    return errors


def _answer_summary(questions: list[Question], response: Response) -> list[dict]:
    summary = []
    for question in questions:
        value = response.answers.get(str(question.pk))
        if value is None:
            answer = _("Not applicable")
        else:
            answer = _("%(value)s of %(max)s") % {"value": value, "max": question.scale_max}
            label = _end_label(question, value)
            if label:
                answer = f"{answer} ({label})"
        summary.append({"question": question.text, "answer": answer})
    return summary


# --- The view --------------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def survey_public(request: HttpRequest, token: str) -> HttpResponse:
    if _over_rate_limit(request):
        lang = _chosen_language(request) or translation.get_language() or settings.LANGUAGE_CODE
        response = _page(request, "satisfaction/public/rate_limited.html", {}, lang=lang, status=429)
        response["Retry-After"] = "60"
        return response
    invitation = _open_invitation(token)
    if invitation is None:
        return _not_open(request)

    chosen = _chosen_language(request)
    lang = chosen or (invitation.language if invitation.language in _language_codes() else settings.LANGUAGE_CODE)
    lang_query = f"lang={chosen}" if chosen else ""
    self_url = reverse("survey_public", args=[invitation.token])
    survey_round = invitation.round
    questions = list(survey_round.form.questions.all())
    existing = _response_of(invitation)

    selected = _selected_from(existing)
    comment = existing.comment if existing else ""
    errors: dict[str, str] = {}
    top_error = ""
    status = 200

    if request.method == "POST":
        raw = {str(q.pk): request.POST.get(f"q{q.pk}", "").strip() for q in questions}
        comment = request.POST.get("comment", "").strip()
        selected = raw
        with translation.override(lang):
            errors = _check_answers(questions, raw)
            comment_error = ""
            if len(comment) > COMMENT_MAX_LENGTH:
                comment_error = _("Please shorten your comment to at most %(n)s characters.") % {
                    "n": COMMENT_MAX_LENGTH
                }
            if not errors and not comment_error:
                try:
                    services.response_submit(invitation=invitation, raw_answers=raw, comment=comment)
                except DomainError as error:
                    if error.code == "closed":  # closed or past the deadline since the page was opened
                        return _not_open(request)
                    top_error = error.message
                else:
                    # POST/redirect/GET: reloading the thanks page never posts again.
                    query = "done=1" + (f"&{lang_query}" if lang_query else "")
                    response = redirect(f"{self_url}?{query}")
                    response.status_code = 303
                    return _public_headers(response)
            if errors:
                top_error = _("Please answer every question: %(n)s still without an answer.") % {"n": len(errors)}
            elif comment_error:
                top_error = comment_error
        status = 422
    elif request.GET.get("done") and existing is not None:
        with translation.override(lang):
            summary = _answer_summary(questions, existing)
        return _page(
            request,
            "satisfaction/public/thanks.html",
            {
                **_common_context(invitation, lang),
                "summary": summary,
                "response": existing,
                "correct_url": f"{self_url}?{lang_query}" if lang_query else self_url,
            },
            lang=lang,
            query="done=1&",
        )

    with translation.override(lang):
        rows = _question_rows(questions, selected, errors)
    return _page(
        request,
        "satisfaction/public/survey.html",
        {
            **_common_context(invitation, lang),
            "rows": rows,
            "comment": comment,
            "comment_max_length": COMMENT_MAX_LENGTH,
            "top_error": top_error,
            "field_errors": [row for row in rows if row["error"]],
            "response": existing,
            "form_action": f"{self_url}?{lang_query}" if lang_query else self_url,
        },
        lang=lang,
        status=status,
    )


def _common_context(invitation: Invitation, lang: str) -> dict:
    customer = invitation.line.customer
    if _is_english(lang):
        customer_name = customer.name_en or customer.name_zh
    else:
        customer_name = customer.name_zh or customer.name_en
    return {
        "invitation": invitation,
        "survey_round": invitation.round,
        "survey_form": invitation.round.form,
        "customer_name": customer_name,
    }
