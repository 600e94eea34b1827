"""The records register (§7, §5.12.8), its archives, and the procedure map for auditors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.errors import DomainError
from common.views import form_action
from records import mapcheck, services
from records.forms import ArchiveForm, RetentionForm
from records.kinds import available_kinds
from records.models import ArchiveJob, RetentionPeriod
from records.procedure import BY_ID


def _page_url(name: str) -> str:
    """The page's address when it takes no arguments, else "" (the name is shown without a link)."""
    from django.urls import NoReverseMatch

    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _register_rows():
    periods = dict(RetentionPeriod.objects.values_list("kind", "years"))
    rows = []
    for kind in available_kinds():
        clause = BY_ID.get(kind.clause)
        rows.append(
            {
                "kind": kind,
                "clause": clause,
                "count": kind.queryset().count(),
                "years": services.retention_years(kind, periods),
                "is_default": kind.key not in periods,
                "url": _page_url(kind.page) if mapcheck.url_name_exists(kind.page) else "",
            }
        )
    return rows


def _register_page(request, archive_form=None, retention_error=None, status=200):
    user = request.user
    may_export = can(user, "records.export")
    jobs = ArchiveJob.objects.filter(requested_by=user)[:10] if may_export else []
    response = render(
        request,
        "records/register.html",
        {
            "rows": _register_rows(),
            "may_export": may_export,
            "may_retention": can(user, "records.retention"),
            "archive_form": archive_form or ArchiveForm(),
            "retention_error": retention_error,
            "jobs": jobs,
        },
    )
    response.status_code = status
    return response


@login_required
def register(request):
    require(request.user, "records.view")
    return _register_page(request)


@login_required
@require_POST
def retention_edit(request):
    require(request.user, "records.retention")
    form = RetentionForm(request.POST)
    if form.is_valid():
        try:
            services.retention_set(
                user=request.user, kind_key=form.cleaned_data["kind"], years=form.cleaned_data["years"]
            )
        except DomainError as error:
            return _register_page(request, retention_error=error.message, status=422)
        messages.success(request, _("The retention period is saved."))
        return redirect(reverse("records:register") + "#kind-" + form.cleaned_data["kind"])
    errors = "; ".join(str(e) for field_errors in form.errors.values() for e in field_errors)
    return _register_page(request, retention_error=errors, status=422)


@login_required
@require_POST
def archive_create(request):
    require(request.user, "records.export")

    def action(data):
        job = services.archive_request(
            user=request.user, kind_key=data["kind"], date_from=data["date_from"], date_to=data["date_to"]
        )
        return _("The archive is being made."), reverse("records:archive_job", args=[job.pk])

    return form_action(request, ArchiveForm(request.POST), action, lambda form: _register_page(request, form))


@login_required
def archive_job(request, pk):
    require(request.user, "records.export")
    services.archive_jobs_fail_stale()  # a job whose worker stopped shows failed, with "try again"
    job = get_object_or_404(ArchiveJob, pk=pk, requested_by=request.user)
    kind = next((k for k in available_kinds() if k.key == job.kind), None)
    template = "records/_archive_progress.html" if getattr(request, "htmx", False) else "records/archive_job.html"
    return render(request, template, {"job": job, "kind": kind})


@login_required
@require_POST
def archive_retry(request, pk):
    require(request.user, "records.export")
    job = get_object_or_404(ArchiveJob, pk=pk, requested_by=request.user)
    try:
        services.archive_job_retry(user=request.user, job=job)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("records:archive_job", job.pk)


@login_required
def procedure_map(request):
    require(request.user, "records.view")
    kinds_by_clause: dict[str, list] = {}
    for kind in available_kinds():
        kinds_by_clause.setdefault(kind.clause, []).append(kind)
    rows = []
    for row in mapcheck.rows():
        clause = row.clause
        rows.append(
            {
                "clause": clause,
                "pages": [
                    {"name": name, "url": _page_url(name) if mapcheck.url_name_exists(name) else ""}
                    for name in clause.pages
                ],
                "commands": clause.commands,
                "tests": len(row.tests),
                "own_tests": len(row.own_tests),
                "kinds": kinds_by_clause.get(clause.id, []),
            }
        )
    return render(request, "records/procedure_map.html", {"rows": rows})
