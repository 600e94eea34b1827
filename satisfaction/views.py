"""Staff pages of the satisfaction surveys (§5.11, §5.12.4): rounds, their list of customers, sending and
chasing, keyed-in forms, the form's questions, the customers' own scorecards and the e-mails that failed.

Every view checks access first (accounts.roles). An action goes through ``_attempt``: a valid form calls the
service and redirects with a message; an invalid form or a refusal of the procedure (DomainError) re-renders the
page it came from with the bound form, the reason beside it, status 422 (CONVENTIONS.md, "Views and templates").
The records (PDF, xlsx) are served by views_records.py; the public survey page by public.py.
"""

from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.errors import DomainError
from common.models import OutboxMessage
from common.outbox import message_resend
from common.views import form_action
from customers.models import Contact
from satisfaction import eligibility, scoring, selectors, services
from satisfaction.forms import (
    ActionForm,
    AdHocRoundForm,
    DeadlineForm,
    FormHeaderForm,
    HalfYearForm,
    LineIncludeForm,
    QuestionFormSet,
    ResponseEntryForm,
    ScorecardForm,
)
from satisfaction.listings import ROUNDS, SCORECARDS
from satisfaction.models import (
    Invitation,
    Response,
    ResponseVersion,
    RoundCustomer,
    Scorecard,
    SurveyForm,
    SurveyRound,
)

ROUND_PAGE_SIZE = 50  # customers per page of the round page's tables
PAGE_SIZE = 50
LINES_PAGE_SIZE = 100
SURVEY_MAIL = (services.INVITATION, services.REMINDER)
# The progress fragment asks again this often (seconds): quickly while e-mails are going out, slowly after.
POLL_SENDING = 3
POLL_OPEN = 20


def _round(pk: int) -> SurveyRound:
    return get_object_or_404(SurveyRound.objects.select_related("form", "sent_by", "closed_by", "created_by"), pk=pk)


# --- Rounds ------------------------------------------------------------------------------------------------------


def _round_list_page(request, half_year_form=None) -> HttpResponse:
    listed = ROUNDS.bind(request)
    rounds = listed.filter_dates(SurveyRound.objects.select_related("form").order_by("-period_end", "-pk"))
    status = request.GET.get("status", "")
    if status in SurveyRound.Status.values:
        rounds = rounds.filter(status=status)
    else:
        status = ""
    rounds = list(rounds)
    summaries = selectors.rounds_results(rounds)
    for survey_round in rounds:
        survey_round.results = summaries[survey_round.pk]
    rounds = listed.order(rounds)
    if listed.export:
        return listed.xlsx_response(rounds)
    page = Paginator(rounds, PAGE_SIZE).get_page(request.GET.get("page"))
    user = request.user
    failed = 0
    if can(user, "outbox.resend"):
        failed = OutboxMessage.objects.filter(kind__in=SURVEY_MAIL, status=OutboxMessage.Status.FAILED).count()
    return render(
        request,
        "satisfaction/round_list.html",
        {
            "page": page,
            "listed": listed,
            "query": listed.page_query,
            "status": status,
            "statuses": SurveyRound.Status.choices,
            "half_year_form": half_year_form or HalfYearForm(),
            "can_run": can(user, "survey.run"),
            "can_form": can(user, "survey.form"),
            "can_resend": can(user, "outbox.resend"),
            "failed": failed,
        },
    )


@login_required
def round_list(request):
    require(request.user, "survey.view")
    return _round_list_page(request)


@login_required
@require_POST
def round_open_half_year(request):
    require(request.user, "survey.run")

    def action(data):
        survey_round, created = services.round_open_half_year(year=data["year"], half=data["half"], user=request.user)
        if created:
            message = _("%(name)s opened as a draft: check its list of customers, then send it.")
        else:
            message = _("%(name)s already exists; here it is.")
        return message % {"name": survey_round.name}, survey_round.get_absolute_url()

    return form_action(request, HalfYearForm(request.POST), action, lambda form: _round_list_page(request, form))


@login_required
def round_new_ad_hoc(request):
    require(request.user, "survey.run")
    form = AdHocRoundForm(request.POST or None)

    def page(form):
        return render(request, "satisfaction/round_form.html", {"form": form})

    if request.method != "POST":
        return page(form)

    def action(data):
        survey_round = services.round_create_ad_hoc(user=request.user, **data)
        return (
            _("Ad-hoc round %(name)s created as a draft: check it, then send it.") % {"name": survey_round.name},
            survey_round.get_absolute_url(),
        )

    return form_action(request, form, action, page)


def _progress_context(survey_round: SurveyRound, results=None) -> dict:
    if survey_round.is_draft:
        return {"round": survey_round}
    results = results or selectors.round_results(survey_round, details=False)
    progress = selectors.sending_progress(survey_round)
    busy = progress["invitation:queued"] + progress["invitation:sending"] + progress["reminder:queued"]
    busy += progress["reminder:sending"]
    poll = None
    if survey_round.status == SurveyRound.Status.SENT:
        poll = POLL_SENDING if busy else POLL_OPEN
    failed = progress["invitation:failed"] + progress["reminder:failed"]
    # {"invitation": {"sent": 12, …}, "reminder": {…}}: keys a template can read.
    mail: dict[str, dict[str, int]] = defaultdict(dict)
    for key, n in progress.items():
        kind, status = key.split(":")
        mail[kind][status] = n
    return {"round": survey_round, "results": results, "mail": dict(mail), "poll": poll, "failed": failed}


def _round_page(request, survey_round: SurveyRound, *, deadline_form=None, action_form=None) -> HttpResponse:
    user = request.user
    context = {
        "round": survey_round,
        "can_run": can(user, "survey.run"),
        "can_resend": can(user, "outbox.resend"),
        "deadline_form": deadline_form or DeadlineForm(initial={"deadline": survey_round.deadline}),
        "action_form": action_form,
        "rule_labels": eligibility.RULE_LABELS,
    }
    if survey_round.is_draft:
        lines = survey_round.customers
        context["counts"] = lines.aggregate(
            total=Count("pk"),
            included=Count("pk", filter=Q(included=True)),
            eligible=Count("pk", filter=Q(eligible=True)),
            changed=Count("pk", filter=Q(override_at__isnull=False)),
        )
        context["missing"] = services.lines_without_contacts(survey_round)
        context["contacts"] = (
            Contact.objects.filter(
                customer__survey_lines__round=survey_round,
                customer__survey_lines__included=True,
                receives_surveys=True,
            )
            .exclude(email="")
            .count()
        )
        return render(request, "satisfaction/round_detail.html", context)

    results = selectors.round_results(survey_round, details=False)
    # A round may survey thousands of customers: the figures count them all, the tables show a page each.
    customers_page = Paginator(results.customers, ROUND_PAGE_SIZE).get_page(request.GET.get("page"))
    not_answered = results.not_answered
    shown = list(customers_page) + not_answered[:ROUND_PAGE_SIZE]
    selectors.attach_customers(shown)
    line_ids = {c.line.pk for c in shown}
    invitations: dict[int, list[Invitation]] = defaultdict(list)
    for invitation in (
        survey_round.invitations.filter(line_id__in=line_ids).select_related("contact").order_by("contact__name", "pk")
    ):
        invitations[invitation.line_id].append(invitation)
    # The latest e-mail of each invitation says where it stands (queued, sent, failed with the reason).
    latest: dict[int, OutboxMessage] = {}
    shown_invitations = [i.pk for group in invitations.values() for i in group]
    for message in OutboxMessage.objects.filter(kind__in=SURVEY_MAIL, object_id__in=shown_invitations).order_by("pk"):
        latest[message.object_id] = message
    responses = {r.invitation_id: r for c in shown for r in c.responses}
    context["customers_page"] = customers_page
    context["not_answered_shown"] = not_answered[:ROUND_PAGE_SIZE]
    context["not_answered_more"] = max(0, len(not_answered) - ROUND_PAGE_SIZE)
    for customer in shown:
        customer.invitations = invitations.get(customer.line.pk, [])
        for invitation in customer.invitations:
            invitation.mail = latest.get(invitation.pk)
            invitation.answer = responses.get(invitation.pk)
    context.update(_progress_context(survey_round, results))
    context["is_open"] = services.round_is_open(survey_round)
    return render(request, "satisfaction/round_detail.html", context)


@login_required
def round_detail(request, pk):
    require(request.user, "survey.view")
    return _round_page(request, _round(pk))


@login_required
def round_progress(request, pk):
    """The live part of the round page (rate, scores, e-mails), polled by htmx; without JavaScript the round
    page itself shows the same, and reloading it is the refresh."""
    require(request.user, "survey.view")
    survey_round = _round(pk)
    if not request.htmx:
        return redirect(f"{survey_round.get_absolute_url()}#progress")
    return render(request, "satisfaction/_round_progress.html", _progress_context(survey_round))


def _round_action(request, pk, action: Callable[[SurveyRound], str], form=None) -> HttpResponse:
    """A button on the round page: the service, then back to the page, or the page again with the refusal."""
    survey_round = _round(pk)
    form = form or ActionForm(request.POST)

    def run(data):
        return action(survey_round, data), survey_round.get_absolute_url()

    def page(form):
        if isinstance(form, DeadlineForm):
            return _round_page(request, survey_round, deadline_form=form)
        return _round_page(request, survey_round, action_form=form)

    return form_action(request, form, run, page)


@login_required
@require_POST
def round_send(request, pk):
    require(request.user, "survey.run")

    def send(survey_round, data):
        n = services.round_send(survey_round=survey_round, user=request.user)
        return ngettext(
            "%(n)s invitation queued. The e-mails go out in the background; the progress is shown below.",
            "%(n)s invitations queued. The e-mails go out in the background; the progress is shown below.",
            n,
        ) % {"n": n}

    return _round_action(request, pk, send)


@login_required
@require_POST
def round_close(request, pk):
    require(request.user, "survey.run")

    def close(survey_round, data):
        services.round_close(survey_round=survey_round, user=request.user)
        return _("The round is closed: its links no longer accept answers.")

    return _round_action(request, pk, close)


@login_required
@require_POST
def round_deadline(request, pk):
    require(request.user, "survey.run")

    def move(survey_round, data):
        services.round_set_deadline(survey_round=survey_round, deadline=data["deadline"], user=request.user)
        return _("The deadline is now %(date)s.") % {"date": data["deadline"].isoformat()}

    return _round_action(request, pk, move, form=DeadlineForm(request.POST))


@login_required
@require_POST
def round_remind(request, pk):
    require(request.user, "survey.run")

    def remind(survey_round, data):
        if not services.round_is_open(survey_round):
            raise DomainError(_("The round is not open: nobody can be reminded."))
        n = len(services.send_reminders(survey_round=survey_round, user=request.user))
        if not n:
            return _(
                "Nobody is due a reminder now: the others have answered, were reminded less than %(days)s days "
                "ago, or have had %(max)s reminders already."
            ) % {"days": settings.SURVEY_REMINDER_GAP_DAYS, "max": settings.SURVEY_REMINDER_MAX}
        return ngettext("%(n)s reminder queued.", "%(n)s reminders queued.", n) % {"n": n}

    return _round_action(request, pk, remind)


@login_required
@require_POST
def invitation_resend(request, pk):
    require(request.user, "survey.run")
    invitation = get_object_or_404(Invitation.objects.select_related("contact"), pk=pk)

    def resend(survey_round, data):
        services.invitation_resend(invitation=invitation, user=request.user)
        return _("A new link is on its way to %(email)s; the old link no longer works.") % {
            "email": invitation.contact.email
        }

    return _round_action(request, invitation.round_id, resend)


# --- The list of customers of a round ----------------------------------------------------------------------------

SHOW = ("all", "included", "excluded", "unanswered")


def _customers_page(request, survey_round: SurveyRound, *, bound=None, refresh_form=None) -> HttpResponse:
    show = request.GET.get("show", "all")
    if show not in SHOW:
        show = "all"
    q = request.GET.get("q", "").strip()
    lines = survey_round.customers.select_related("customer", "override_by").order_by("customer__code")
    if show == "included":
        lines = lines.filter(included=True)
    elif show == "excluded":
        lines = lines.filter(included=False)
    elif show == "unanswered":
        # Surveyed and not answered by any contact nor by the customer's own scorecard of the period.
        answered = survey_round.responses.values("line_id")
        cards = services.scorecards_in_period(survey_round).values("customer_id")
        lines = lines.filter(included=True).exclude(pk__in=answered).exclude(customer_id__in=cards)
    if q:
        lines = lines.filter(
            Q(customer__code__icontains=q) | Q(customer__name_zh__icontains=q) | Q(customer__name_en__icontains=q)
        )
    page = Paginator(lines, LINES_PAGE_SIZE).get_page(request.GET.get("page"))
    missing = set()
    if survey_round.is_draft:
        missing = {line.pk for line in services.lines_without_contacts(survey_round)}
    for line in page:
        line.why = eligibility.explain(line.rules, line.delivered_qty, line.deliveries)
        line.rule_names = [eligibility.RULE_LABELS.get(rule, rule) for rule in line.rules]
        line.no_contacts = line.pk in missing
        line.form = bound if bound is not None and bound.line_pk == line.pk else None
    query = request.GET.copy()
    query.pop("page", None)
    counts = survey_round.customers.aggregate(
        total=Count("pk"), included=Count("pk", filter=Q(included=True)), eligible=Count("pk", filter=Q(eligible=True))
    )
    return render(
        request,
        "satisfaction/round_customers.html",
        {
            "round": survey_round,
            "page": page,
            "show": show,
            "q": q,
            "query": query.urlencode(),
            "full_query": request.GET.urlencode(),
            "counts": counts,
            "missing": len(missing),
            "bound": bound,
            "refresh_form": refresh_form,
            "can_change": can(request.user, "survey.run") and survey_round.is_draft,
        },
    )


def _customers_url(request, survey_round: SurveyRound, anchor: str = "") -> str:
    url = reverse("satisfaction:round_customers", args=[survey_round.pk])
    if request.GET:
        url += "?" + request.GET.urlencode()
    return url + (f"#{anchor}" if anchor else "")


@login_required
def round_list_customers(request, pk):
    require(request.user, "survey.view")
    return _customers_page(request, _round(pk))


@login_required
@require_POST
def round_refresh(request, pk):
    require(request.user, "survey.run")
    survey_round = _round(pk)

    def refresh(data):
        services.round_refresh(survey_round=survey_round, user=request.user)
        return (
            _("The figures are computed again from today's data; the changes made by hand are kept."),
            _customers_url(request, survey_round),
        )

    return form_action(
        request,
        ActionForm(request.POST),
        refresh,
        lambda form: _customers_page(request, survey_round, refresh_form=form),
    )


@login_required
@require_POST
def line_include(request, pk, line_pk):
    require(request.user, "survey.run")
    survey_round = _round(pk)
    line = get_object_or_404(RoundCustomer.objects.select_related("customer"), pk=line_pk, round=survey_round)
    form = LineIncludeForm(request.POST)
    form.line_pk = line.pk
    form.line = line

    def change(data):
        services.line_set_included(line=line, included=data["included"], reason=data["reason"], user=request.user)
        message = _("%(customer)s added to the list.") if data["included"] else _("%(customer)s removed from the list.")
        return message % {"customer": line.customer}, _customers_url(request, survey_round, f"line-{line.pk}")

    return form_action(request, form, change, lambda form: _customers_page(request, survey_round, bound=form))


# --- Responses ---------------------------------------------------------------------------------------------------


@login_required
def response_enter(request, pk):
    """A paper, e-mailed or faxed form keyed in by Customer Service, with its scan (a correction of an existing
    response becomes its next version)."""
    require(request.user, "survey.run")
    invitation = get_object_or_404(Invitation.objects.select_related("round__form", "contact", "line__customer"), pk=pk)
    response = Response.objects.filter(invitation=invitation).first()
    form = ResponseEntryForm(
        request.POST or None, request.FILES or None, survey_form=invitation.round.form, response=response
    )

    def page(form):
        return render(
            request,
            "satisfaction/response_form.html",
            {"form": form, "invitation": invitation, "response": response, "round": invitation.round},
        )

    if request.method != "POST":
        return page(form)

    def submit(data):
        saved = services.response_submit(
            invitation=invitation,
            raw_answers=form.raw_answers(),
            comment=data["comment"],
            channel=data["channel"],
            user=request.user,
            scan=data.get("scan"),
        )
        return (
            _("The answers of %(contact)s are recorded (score %(score)s).")
            % {"contact": invitation.contact.name, "score": saved.score if saved.score is not None else "—"},
            reverse("satisfaction:response", args=[saved.pk]),
        )

    return form_action(request, form, submit, page)


@login_required
def response_detail(request, pk):
    require(request.user, "survey.view")
    response = get_object_or_404(
        Response.objects.select_related(
            "invitation__contact", "line__customer", "round", "form", "entered_by"
        ).prefetch_related(
            "form__questions",
            Prefetch("versions", queryset=ResponseVersion.objects.select_related("entered_by").order_by("-number")),
        ),
        pk=pk,
    )
    versions = list(response.versions.all())
    questions = list(response.form.questions.all())
    rows = []
    for question in questions:
        key = str(question.pk)
        rows.append(
            {
                "question": question,
                "answer": response.answers.get(key, ""),
                "versions": [v.answers.get(key, "") for v in versions],
            }
        )
    return render(
        request,
        "satisfaction/response_detail.html",
        {
            "response": response,
            "rows": rows,
            "versions": versions,
            "band": scoring.band_for(response.score),
            "can_enter": can(request.user, "survey.run") and response.round.status == SurveyRound.Status.SENT,
        },
    )


# --- The form ----------------------------------------------------------------------------------------------------


@login_required
def form_edit(request):
    require(request.user, "survey.form")
    current = services.form_current()
    questions = list(current.questions.all()) if current else []
    header = FormHeaderForm(
        request.POST or None,
        initial={
            "title_zh": current.title_zh if current else "客户满意度调查表",
            "title_en": current.title_en if current else "Customer satisfaction survey",
            "intro_zh": current.intro_zh if current else "",
            "intro_en": current.intro_en if current else "",
        },
    )
    formset = QuestionFormSet(
        request.POST or None,
        prefix="q",
        initial=[
            {
                "text_zh": q.text_zh,
                "text_en": q.text_en,
                "weight": q.weight,
                "scale_min": q.scale_min,
                "scale_max": q.scale_max,
                "allow_na": q.allow_na,
            }
            for q in questions
        ],
    )
    if request.method == "POST":
        if header.is_valid() and formset.is_valid():
            try:
                saved = services.form_save(
                    user=request.user,
                    questions=[
                        services.QuestionData(
                            text_zh=f.cleaned_data["text_zh"],
                            text_en=f.cleaned_data["text_en"],
                            weight=f.cleaned_data["weight"],
                            scale_min=f.cleaned_data["scale_min"],
                            scale_max=f.cleaned_data["scale_max"],
                            allow_na=f.cleaned_data["allow_na"],
                        )
                        for f in formset.kept_forms()
                    ],
                    **header.cleaned_data,
                )
            except DomainError as error:
                header.add_error(None, error.message)
            else:
                if current is not None and saved.pk != current.pk:
                    message = _(
                        "Version %(new)s of the form is saved. Rounds already sent keep version %(old)s; new rounds "
                        "use version %(new)s."
                    ) % {"new": saved.version, "old": current.version}
                else:
                    message = _("Version %(new)s of the form is saved.") % {"new": saved.version}
                messages.success(request, message)
                return redirect("satisfaction:form")
    versions = SurveyForm.objects.select_related("created_by").annotate(
        n_rounds=Count("rounds", distinct=True), n_questions=Count("questions", distinct=True)
    )
    return render(
        request,
        "satisfaction/form_edit.html",
        {"header": header, "formset": formset, "current": current, "versions": versions},
        status=422 if request.method == "POST" else 200,
    )


# --- The customers' own scorecards (§5.11.2.1) -------------------------------------------------------------------


@login_required
def scorecard_list(request):
    require(request.user, "survey.view")
    cards = Scorecard.objects.select_related("customer", "recorded_by").order_by("-rated_on", "-pk")
    q = request.GET.get("q", "").replace("\x00", "").strip()
    if q:
        cards = cards.filter(
            Q(customer__code__icontains=q) | Q(customer__name_zh__icontains=q) | Q(customer__name_en__icontains=q)
        )
    listed = SCORECARDS.bind(request)
    cards = listed.apply(cards)
    if listed.export:
        return listed.xlsx_response(cards)
    page = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
    for card in page:
        card.band = scoring.band_for(card.normalised)
    return render(
        request,
        "satisfaction/scorecard_list.html",
        {
            "page": page,
            "q": q,
            "query": listed.page_query,
            "listed": listed,
            "can_run": can(request.user, "survey.run"),
        },
    )


@login_required
def scorecard_new(request):
    require(request.user, "survey.run")
    form = ScorecardForm(request.POST or None, request.FILES or None, initial={"rated_on": timezone.localdate()})

    def page(form):
        return render(request, "satisfaction/scorecard_form.html", {"form": form})

    if request.method != "POST":
        return page(form)

    def record(data):
        card = services.scorecard_record(user=request.user, **data)
        return (
            _("Scorecard of %(customer)s recorded: %(score)s of 100.")
            % {"customer": card.customer, "score": card.normalised},
            reverse("satisfaction:scorecards"),
        )

    return form_action(request, form, record, page)


# --- Survey e-mails that failed ----------------------------------------------------------------------------------


def _failed_mail_page(request, form=None) -> HttpResponse:
    failed = OutboxMessage.objects.filter(kind__in=SURVEY_MAIL, status=OutboxMessage.Status.FAILED).order_by(
        "-created_at", "-pk"
    )
    page = Paginator(failed, PAGE_SIZE).get_page(request.GET.get("page"))
    invitations = Invitation.objects.select_related("round", "contact", "line__customer").in_bulk(
        [m.object_id for m in page]
    )
    for message in page:
        message.invitation = invitations.get(message.object_id)
        message.is_reminder = message.kind == services.REMINDER
        message.form = form if form is not None and form.message_pk == message.pk else None
    return render(request, "satisfaction/failed_mail.html", {"page": page, "form": form})


@login_required
def failed_mail(request):
    require(request.user, "outbox.resend")
    return _failed_mail_page(request)


@login_required
@require_POST
def mail_resend(request, pk):
    require(request.user, "outbox.resend")
    message = get_object_or_404(OutboxMessage, pk=pk, kind__in=SURVEY_MAIL)
    form = ActionForm(request.POST)
    form.message_pk = message.pk

    def resend(data):
        message_resend(message=message, user=request.user)
        return _("The e-mail to %(to)s is queued again.") % {"to": message.to}, reverse("satisfaction:failed_mail")

    return form_action(request, form, resend, lambda form: _failed_mail_page(request, form))
