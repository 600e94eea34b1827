"""Pages of the management review (§5.12.7): the list of packs, preparing a pack for a period, the pack with its
figures, the representative's record of the review meeting and its decisions, the PDF and the .xlsx.

Every view checks access first (accounts.roles: improvement.view, review.prepare, review.record). An action goes
through ``_attempt``: a valid form calls the service and redirects with a message; an invalid form or a refusal
of the procedure (DomainError) re-renders the page it came from with the bound form, the reason beside its
field, status 422 (CONVENTIONS.md, "Views and templates"). The pack page reads the frozen figures only: a
fixed number of queries whatever the size of the period.
"""

import io
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from accounts.roles import can, require
from common.pdf import MissingGlyphs
from common.views import form_action
from improvement import review as reviews
from improvement.forms_review import ReviewNewForm, ReviewRecordForm
from improvement.models import ManagementReview

PAGE_SIZE = 50


def _review(pk: int) -> ManagementReview:
    return get_object_or_404(ManagementReview.objects.select_related("prepared_by", "recorded_by"), pk=pk)


def _may(user, review: ManagementReview) -> dict[str, bool]:
    return {
        "prepare": can(user, "review.prepare"),
        "record": can(user, "review.record") and review.status == ManagementReview.Status.PREPARED,
    }


# --- The list and a new pack ---------------------------------------------------------------------------------------


@login_required
def review_list(request):
    require(request.user, "improvement.view")
    packs = ManagementReview.objects.select_related("prepared_by", "recorded_by").order_by("-period_end", "-pk")
    page = Paginator(packs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "improvement/review_list.html",
        {"page": page, "can_prepare": can(request.user, "review.prepare")},
    )


def _new_page(request, form) -> HttpResponse:
    start, end = reviews.default_period()
    return render(
        request,
        "improvement/review_new.html",
        {
            "form": form,
            "default_start": start,
            "default_end": end,
            "max_months": reviews.MAX_MONTHS,
            # Earlier packs, so a second pack for the same period is a choice, not an accident.
            "recent": list(ManagementReview.objects.order_by("-prepared_at", "-pk")[:5]),
        },
    )


def _date_param(request, name: str):
    """A date from the query string, or None when it is missing or not a date (a hand-edited link)."""
    try:
        return parse_date(request.GET.get(name) or "")
    except ValueError:  # well formed but impossible, e.g. 2025-02-30
        return None


@login_required
def review_new(request):
    require(request.user, "review.prepare")
    if request.method != "POST":
        start, end = reviews.default_period()
        # My work links here with the half-year that has no pack yet.
        start = _date_param(request, "period_start") or start
        end = _date_param(request, "period_end") or end
        return _new_page(request, ReviewNewForm(initial={"period_start": start, "period_end": end}))

    def action(data):
        review = reviews.review_prepare(
            user=request.user, period_start=data["period_start"], period_end=data["period_end"], title=data["title"]
        )
        return _("The pack is prepared: its figures are frozen as of today."), review.get_absolute_url()

    return form_action(request, ReviewNewForm(request.POST), action, lambda form: _new_page(request, form))


# --- The pack ------------------------------------------------------------------------------------------------------


@login_required
def review_detail(request, pk):
    require(request.user, "improvement.view")
    review = _review(pk)
    return render(
        request,
        "improvement/review_detail.html",
        {
            "review": review,
            "f": reviews.present(review.figures),
            "may": _may(request.user, review),
            "same_period": ManagementReview.objects.filter(
                period_start=review.period_start, period_end=review.period_end
            )
            .exclude(pk=review.pk)
            .order_by("-prepared_at", "-pk"),
        },
    )


def _record_page(request, review: ManagementReview, form) -> HttpResponse:
    return render(request, "improvement/review_record.html", {"review": review, "form": form})


@login_required
def review_record(request, pk):
    require(request.user, "review.record")
    review = _review(pk)
    if request.method != "POST":
        if review.status != ManagementReview.Status.PREPARED:
            messages.info(request, _("The management review of this pack is already recorded."))
            return redirect(review.get_absolute_url())
        return _record_page(request, review, ReviewRecordForm(initial={"reviewed_on": timezone.localdate()}))

    def action(data):
        reviews.review_record(
            user=request.user, review=review, reviewed_on=data["reviewed_on"], decisions=data["decisions"]
        )
        return _("The management review and its decisions are recorded."), review.get_absolute_url()

    return form_action(
        request, ReviewRecordForm(request.POST), action, lambda form: _record_page(request, review, form)
    )


# --- Files ---------------------------------------------------------------------------------------------------------


@login_required
def review_pdf(request, pk):
    require(request.user, "improvement.view")
    review = _review(pk)
    try:
        data = reviews.review_pdf(review)
    except MissingGlyphs as exc:
        characters = re.findall(r'"(.+?)"', str(exc))
        messages.error(
            request,
            _(
                "The PDF could not be made: the font has no glyph for %(chars)s. Ask the administrator to install a "
                "font with more Chinese characters (PDF_CJK_FONT, e.g. Noto CJK)."
            )
            % {"chars": " ".join(dict.fromkeys(characters)) or _("some characters")},
        )
        return redirect(review.get_absolute_url())
    return FileResponse(
        io.BytesIO(data),
        content_type="application/pdf",
        filename=reviews.filename(review, "pdf"),
        as_attachment=False,
    )


@login_required
def review_xlsx(request, pk):
    require(request.user, "improvement.view")
    review = _review(pk)
    return FileResponse(
        io.BytesIO(reviews.build_xlsx(review)),
        content_type=reviews.XLSX_CONTENT_TYPE,
        filename=reviews.filename(review, "xlsx"),
        as_attachment=True,
    )
