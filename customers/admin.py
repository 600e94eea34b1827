from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from accounts.roles import can
from common.admin import CapabilityAdmin, ReadOnlyRecordAdmin
from common.errors import DomainError
from common.models import PendingJob
from customers import importing
from customers.models import (
    CommunicationLog,
    Contact,
    Customer,
    CustomerEvaluation,
    DeliveryAddress,
    EnvironmentalRequirement,
    ImportJob,
    Product,
    Quotation,
)


class ContactInline(CapabilityAdmin, admin.TabularInline):
    model = Contact
    extra = 0
    edit_capability = "customer.edit"


class AddressInline(CapabilityAdmin, admin.TabularInline):
    model = DeliveryAddress
    extra = 0
    edit_capability = "customer.edit"


@admin.register(Product)
class ProductAdmin(CapabilityAdmin, SimpleHistoryAdmin):
    edit_capability = "product.edit"
    list_display = ("code", "name", "spec", "unit", "is_new", "customer_owned_mould", "active")
    list_filter = ("is_new", "customer_owned_mould", "active")
    search_fields = ("code", "name")


@admin.register(Quotation)
class QuotationAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    """A quotation is what prices were agreed on: orders read it. It is added and ended on the customer's page."""

    list_display = ("customer", "product", "unit_price", "currency", "valid_from", "valid_to")
    list_select_related = ("customer", "product")
    search_fields = ("customer__code", "product__code", "reference")
    autocomplete_fields = ("customer", "product")


@admin.register(EnvironmentalRequirement)
class EnvironmentalRequirementAdmin(CapabilityAdmin, SimpleHistoryAdmin):
    edit_capability = "envreq.edit"
    list_display = ("customer", "standard", "detail", "document_ref", "expires_on")
    list_select_related = ("customer",)
    list_filter = ("standard",)


@admin.register(CustomerEvaluation)
class CustomerEvaluationAdmin(ReadOnlyRecordAdmin, SimpleHistoryAdmin):
    """Read-only here: the form is signed in the app, and an approved form is a record."""

    list_display = ("customer", "version", "status", "decided_by", "decided_at", "filed_at")
    list_filter = ("status",)
    list_select_related = ("customer", "decided_by")


@admin.register(CommunicationLog)
class CommunicationLogAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("customer", "date", "user", "channel", "follow_up_due", "follow_up_done")
    list_select_related = ("customer", "user")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


@admin.register(Customer)
class CustomerAdmin(CapabilityAdmin, SimpleHistoryAdmin):
    """Customers, and their Excel import: upload -> preview of every row -> confirm (administrators)."""

    edit_capability = "customer.edit"
    list_display = ("code", "name_zh", "name_en", "kind", "status", "trade", "marketing_owner")
    list_filter = ("status", "kind", "trade", "important_in_development")
    search_fields = ("code", "name_zh", "name_en", "short_name")
    list_select_related = ("marketing_owner",)
    inlines = [ContactInline, AddressInline]
    change_list_template = "admin/customers/customer/change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_upload), name="customers_customer_import"),
            path("import/template/", wrap(self.import_template), name="customers_customer_import_template"),
            path("import/<int:job_id>/", wrap(self.import_job), name="customers_customer_import_job"),
            path(
                "import/<int:job_id>/progress/",
                wrap(self.import_progress),
                name="customers_customer_import_progress",
            ),
            path(
                "import/<int:job_id>/confirm/",
                wrap(require_POST(self.import_confirm)),
                name="customers_customer_import_confirm",
            ),
            path(
                "import/<int:job_id>/retry/",
                wrap(require_POST(self.import_retry)),
                name="customers_customer_import_retry",
            ),
            path(
                "import/<int:job_id>/resend/",
                wrap(require_POST(self.import_resend)),
                name="customers_customer_import_resend",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": can(request.user, "customer.import")}
        return super().changelist_view(request, extra_context)

    # --- the import views ---

    def _require_import(self, request):
        if not can(request.user, "customer.import"):
            raise PermissionDenied

    def _job(self, request, job_id) -> ImportJob:
        self._require_import(request)
        importing.import_jobs_fail_stale()  # a job whose worker stopped shows failed, with "try again"
        return get_object_or_404(ImportJob, pk=job_id)

    def _send(self, request, job) -> None:
        # Recorded first (common.jobs): a queue that cannot be reached delays the job, and JobsWaitingMiddleware
        # tells the administrator it waits; the job's page says so as long as it does (``_waiting``).
        importing.import_job_send(job)

    @staticmethod
    def _waiting(job) -> bool:
        """Whether the job's next step is recorded but not yet handed to the queue (the queue was down)."""
        if job.status != ImportJob.Status.QUEUED:
            return False
        return PendingJob.objects.filter(
            task="customers.tasks.customer_import_job",
            args__0=job.pk,
            status__in=(PendingJob.Status.WAITING, PendingJob.Status.HANDING),
        ).exists()

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def import_upload(self, request):
        self._require_import(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = importing.import_job_create(user=request.user, upload=form.cleaned_data["file"])
            except DomainError as error:
                form.add_error("file", error.message)
            else:
                self._send(request, job)
                return redirect("admin:customers_customer_import_job", job.pk)
        recent = ImportJob.objects.select_related("created_by")[:10]
        return TemplateResponse(
            request,
            "admin/customers/customer/import.html",
            self._context(request, form=form, recent=recent, title=_("Import customers from Excel")),
        )

    def import_template(self, request):
        self._require_import(request)
        response = HttpResponse(
            importing.template_workbook(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="customer-import-template.xlsx"'
        return response

    def import_job(self, request, job_id):
        job = self._job(request, job_id)
        report = importing.ImportReport.from_dict(job.report)
        return TemplateResponse(
            request,
            "admin/customers/customer/import_job.html",
            self._context(
                request,
                job=job,
                report=report,
                counts=report.counts(),
                running=job.status in ImportJob.RUNNING,
                can_retry=importing.import_job_can_retry(job),
                waiting=self._waiting(job),
                progress=importing.import_job_progress(job.pk),
                title=_("Customer import: %(name)s") % {"name": job.original_name},
            ),
        )

    def import_progress(self, request, job_id):
        job = self._job(request, job_id)
        if job.status not in ImportJob.RUNNING:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"  # the step is over: reload the page to show its result
            return response
        return TemplateResponse(
            request,
            "admin/customers/customer/_import_progress.html",
            {"job": job, "progress": importing.import_job_progress(job.pk), "waiting": self._waiting(job)},
        )

    def import_confirm(self, request, job_id):
        job = self._job(request, job_id)
        try:
            job = importing.import_job_confirm(user=request.user, job=job)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            self._send(request, job)
        return redirect("admin:customers_customer_import_job", job.pk)

    def import_retry(self, request, job_id):
        job = self._job(request, job_id)
        try:
            job = importing.import_job_retry(user=request.user, job=job)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            self._send(request, job)
        return redirect("admin:customers_customer_import_job", job.pk)

    def import_resend(self, request, job_id):
        """Hand a job that waits for the queue over now, instead of at the next sweep."""
        from common.jobs import hand_over, release_stale_claims

        job = self._job(request, job_id)
        if self._waiting(job):
            release_stale_claims()
            waiting = PendingJob.objects.filter(
                task="customers.tasks.customer_import_job", args__0=job.pk, status=PendingJob.Status.WAITING
            )
            for pk in waiting.values_list("pk", flat=True):
                if not hand_over(pk):
                    messages.error(request, _("The job queue still cannot be reached; the import keeps waiting."))
                    break
        return redirect(reverse("admin:customers_customer_import_job", args=[job.pk]))


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyRecordAdmin, admin.ModelAdmin):
    list_display = ("original_name", "status", "created_by", "created_at", "finished_at")
    list_select_related = ("created_by",)
