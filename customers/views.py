from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import can, require
from common.errors import DomainError
from common.listing import DATE, DATETIME, Column, Listing
from customers import services
from customers.forms import (
    AddressInlineFormSet,
    CommunicationForm,
    ContactInlineFormSet,
    CustomerFilter,
    CustomerForm,
    DecisionForm,
    EnvironmentalRequirementForm,
    EvaluationForm,
    ProductForm,
    QualityFixForm,
    QualityProblemForm,
    QuotationEndForm,
    QuotationForm,
)
from customers.models import (
    CommunicationLog,
    Customer,
    CustomerEvaluation,
    EnvironmentalRequirement,
    Product,
    QualityProblem,
    Quotation,
)
from customers.selectors import customer_history, customer_list

PAGE_SIZE = 50


def _customer_for(user, code: str, capability: str = "customer.view") -> Customer:
    require(user, capability)
    return get_object_or_404(Customer, code=code)


def _evaluation_for(user, pk: int) -> CustomerEvaluation:
    require(user, "customer.view")
    return get_object_or_404(CustomerEvaluation.objects.select_related("customer"), pk=pk)


def _primary_contact(customer) -> str:
    return ", ".join(c.name for c in customer.primary_contacts)


CUSTOMERS = Listing(
    name="customers",
    sheet_title=gettext_lazy("Customers"),
    columns=[
        Column("code", gettext_lazy("Code"), "code", sort="code"),
        Column("name_zh", gettext_lazy("Chinese name"), "name_zh", sort="name_zh"),
        Column("name_en", gettext_lazy("English name"), "name_en", sort="name_en"),
        Column("kind", gettext_lazy("Kind"), "get_kind_display", sort="kind"),
        Column("status", gettext_lazy("Status"), "get_status_display", sort="status"),
        Column("trade", gettext_lazy("Trade"), "get_trade_display", sort="trade"),
        Column("contact", gettext_lazy("Primary contact"), _primary_contact),
        Column(
            "owner",
            gettext_lazy("Account manager"),
            lambda c: str(c.marketing_owner or ""),
            sort="marketing_owner__username",
        ),
        Column("important", gettext_lazy("important in development"), "important_in_development"),
        Column("since", gettext_lazy("customer since"), "cooperation_since", DATE, sort="cooperation_since"),
        Column("created", gettext_lazy("created"), "created_at", DATETIME, sort="created_at"),
    ],
    default_sort="code",
    date_field="created_at",
    date_label=gettext_lazy("Created"),
)


@login_required
def customer_list_view(request):
    require(request.user, "customer.view")
    filterset = CustomerFilter(request.GET, queryset=customer_list(), request=request)
    listed = CUSTOMERS.bind(request)
    customers = listed.apply(filterset.qs)
    if listed.export:
        return listed.xlsx_response(customers)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/customer_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": listed.page_query,
            "listed": listed,
            "can_edit": can(request.user, "customer.edit"),
        },
    )


@login_required
def customer_detail(request, code):
    customer = _customer_for(request.user, code)
    today = timezone.localdate()
    evaluations = list(customer.evaluations.select_related("created_by", "decided_by", "filed_by"))
    quotations = list(customer.quotations.select_related("product", "created_by"))
    for quotation in quotations:
        quotation.in_force = quotation.valid_from <= today and (
            quotation.valid_to is None or quotation.valid_to >= today
        )
    user = request.user
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "contacts": customer.contacts.all(),
            "addresses": customer.addresses.all(),
            "evaluations": evaluations,
            "current_evaluation": next((e for e in evaluations if e.status == e.Status.APPROVED), None),
            "open_evaluation": next((e for e in evaluations if e.status in e.OPEN_STATUSES), None),
            "quotations": quotations,
            "requirements": customer.environmental_requirements.select_related("recorded_by"),
            "log": customer.communications.select_related("user", "contact")[:100],
            "quality_problems": customer.quality_problems.select_related("product", "recorded_by", "fixed_by"),
            "quality_form": QualityProblemForm(initial={"reported_on": today}),
            "fix_form": QualityFixForm(initial={"fixed_on": today}),
            "history": customer_history(customer),
            "today": today,
            "can": {
                "edit": can(user, "customer.edit"),
                "quote": can(user, "quotation.edit"),
                "envreq": can(user, "envreq.edit"),
                "evaluate": can(user, "evaluation.edit"),
                "log": can(user, "commlog.add"),
                "quality": can(user, "quality_problem.edit"),
            },
            "quotation_form": QuotationForm(customer=customer),
            "log_form": CommunicationForm(customer=customer, initial={"date": today}),
        },
    )


@login_required
def customer_edit(request, code=None):
    require(request.user, "customer.edit")
    customer = get_object_or_404(Customer, code=code) if code else Customer()
    data = request.POST if request.method == "POST" else None
    form = CustomerForm(data, instance=customer)
    contacts = ContactInlineFormSet(data, instance=customer, prefix="contacts")
    addresses = AddressInlineFormSet(data, instance=customer, prefix="addresses")
    if request.method == "POST" and form.is_valid() and contacts.is_valid() and addresses.is_valid():
        try:
            saved = services.customer_save(
                customer=form.save(commit=False),
                user=request.user,
                seen_updated_at=form.cleaned_data.get("seen_updated_at") if code else None,
                formsets=(contacts, addresses),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Customer %(code)s saved.") % {"code": saved.code})
            return redirect("customers:detail", saved.code)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "contacts": contacts, "addresses": addresses, "customer": customer if code else None},
    )


# --- Products and quotations ----------------------------------------------------------------------


PRODUCTS = Listing(
    name="products",
    sheet_title=gettext_lazy("Products"),
    columns=[
        Column("code", gettext_lazy("Code"), "code", sort="code"),
        Column("name", gettext_lazy("Name"), "name", sort="name"),
        Column("spec", gettext_lazy("Specification"), "spec", sort="spec"),
        Column("unit", gettext_lazy("Unit"), "unit", sort="unit"),
        Column("new", gettext_lazy("new product"), "is_new", sort="is_new"),
        Column("mould", gettext_lazy("customer-owned mould"), "customer_owned_mould", sort="customer_owned_mould"),
        Column("owner", gettext_lazy("mould owner"), "mould_owner.code", sort="mould_owner__code"),
        Column("active", gettext_lazy("in use"), "active", sort="active"),
    ],
    default_sort="code",
)


@login_required
def product_list(request):
    require(request.user, "customer.view")
    products = Product.objects.select_related("mould_owner")
    q = request.GET.get("q", "").replace("\x00", "").strip()
    if q:
        products = products.filter(Q(code__icontains=q) | Q(name__icontains=q))
    active = request.GET.get("active", "")
    if active in ("1", "0"):
        products = products.filter(active=active == "1")
    else:
        active = ""
    listed = PRODUCTS.bind(request)
    products = listed.apply(products)
    if listed.export:
        return listed.xlsx_response(products)
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/product_list.html",
        {
            "page": page,
            "q": q,
            "active": active,
            "query": listed.page_query,
            "listed": listed,
            "can_edit": can(request.user, "product.edit"),
        },
    )


@login_required
def product_detail(request, pk):
    """A product's page: its facts, and what the apps above customers show of it (customers/hooks.py: e.g. the
    customer property it is made with)."""
    from customers.hooks import panels_for_product

    require(request.user, "customer.view")
    product = get_object_or_404(Product.objects.select_related("mould_owner"), pk=pk)
    return render(
        request,
        "customers/product_detail.html",
        {"product": product, "panels": panels_for_product(product), "can_edit": can(request.user, "product.edit")},
    )


@login_required
def product_edit(request, pk=None):
    require(request.user, "product.edit")
    product = get_object_or_404(Product, pk=pk) if pk else Product()
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Product %(code)s saved.") % {"code": form.instance.code})
        return redirect("customers:product_list")
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "title": _("Edit product") if pk else _("New product")},
    )


@login_required
@require_POST
def quotation_add(request, code):
    customer = _customer_for(request.user, code, "quotation.edit")
    form = QuotationForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            services.quotation_create(user=request.user, customer=customer, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Quotation added."))
            return redirect(customer_url(customer, "quotations"))
    return render(
        request, "customers/simple_form.html", {"form": form, "customer": customer, "title": _("New quotation")}
    )


@login_required
def quotation_end(request, pk):
    require(request.user, "quotation.edit")
    quotation = get_object_or_404(Quotation.objects.select_related("customer", "product"), pk=pk)
    form = QuotationEndForm(request.POST or None, initial={"valid_to": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.quotation_end(user=request.user, quotation=quotation, valid_to=form.cleaned_data["valid_to"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Quotation ended."))
            return redirect(customer_url(quotation.customer, "quotations"))
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": quotation.customer, "title": _("End quotation %(q)s") % {"q": quotation}},
    )


def customer_url(customer: Customer, anchor: str) -> str:
    from django.urls import reverse

    return reverse("customers:detail", args=[customer.code]) + f"#{anchor}"


# --- Environmental requirements (Quality) ----------------------------------------------------------


@login_required
def envreq_edit(request, code, pk=None):
    customer = _customer_for(request.user, code, "envreq.edit")
    requirement = (
        get_object_or_404(EnvironmentalRequirement, pk=pk, customer=customer)
        if pk
        else EnvironmentalRequirement(customer=customer)
    )
    form = EnvironmentalRequirementForm(request.POST or None, instance=requirement)
    if request.method == "POST" and form.is_valid():
        services.envreq_save(user=request.user, requirement=form.save(commit=False))
        messages.success(request, _("Environmental requirement saved."))
        return redirect(customer_url(customer, "environment"))
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": customer, "title": _("Environmental requirement")},
    )


# --- Communication log ----------------------------------------------------------------------------


@login_required
@require_POST
def communication_add(request, code):
    customer = _customer_for(request.user, code, "commlog.add")
    form = CommunicationForm(request.POST, customer=customer)
    if form.is_valid():
        entry = form.save(commit=False)
        entry.customer = customer
        services.communication_add(user=request.user, entry=entry)
        messages.success(request, _("Communication recorded."))
        return redirect(customer_url(customer, "log"))
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": customer, "title": _("Record a communication")},
    )


@login_required
@require_POST
def communication_done(request, pk):
    require(request.user, "commlog.add")
    entry = get_object_or_404(CommunicationLog.objects.select_related("customer"), pk=pk)
    try:
        services.communication_follow_up_done(user=request.user, entry=entry)
    except DomainError as error:
        messages.info(request, error.message)
    return redirect(customer_url(entry.customer, "log"))


# --- Evaluation form ------------------------------------------------------------------------------


@login_required
def evaluation_detail(request, pk):
    evaluation = _evaluation_for(request.user, pk)
    user = request.user
    status = evaluation.status
    S = CustomerEvaluation.Status
    return render(
        request,
        "customers/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "evaluation_fields": [
                {
                    "label": CustomerEvaluation._meta.get_field(name).verbose_name,
                    "value": _field_display(evaluation, name),
                }
                for name in CustomerEvaluation.CONTENT_FIELDS
            ],
            "customer": evaluation.customer,
            "decision_form": DecisionForm(),
            "versions": evaluation.customer.evaluations.all(),
            "may": {
                "edit": can(user, "evaluation.edit") and status in (S.DRAFT, S.RETURNED),
                "submit": can(user, "evaluation.edit") and status in (S.DRAFT, S.RETURNED),
                "decide": can(user, "evaluation.decide") and status == S.SUBMITTED,
                "file": can(user, "evaluation.file") and status == S.APPROVED and not evaluation.filed_at,
                "revise": can(user, "evaluation.edit")
                and status == S.APPROVED
                and not evaluation.customer.evaluations.filter(status__in=CustomerEvaluation.OPEN_STATUSES).exists(),
            },
        },
    )


@login_required
def evaluation_pdf(request, pk):
    """《客户资料评估表》 as a paper record (customers.documents); the records archive prints the same."""
    evaluation = _evaluation_for(request.user, pk)
    from customers.documents import evaluation_pdf as render_evaluation

    response = HttpResponse(render_evaluation(evaluation), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="evaluation-{evaluation.customer.code}-v{evaluation.version}.pdf"'
    )
    return response


def _field_display(obj, name):
    display = getattr(obj, f"get_{name}_display", None)
    return display() if display else getattr(obj, name)


@login_required
def evaluation_edit(request, code=None, pk=None):
    require(request.user, "evaluation.edit")
    if pk:
        evaluation = _evaluation_for(request.user, pk)
        customer = evaluation.customer
        if evaluation.is_locked or evaluation.status == CustomerEvaluation.Status.SUBMITTED:
            messages.error(request, _("This form is submitted or approved and can no longer be edited."))
            return redirect("customers:evaluation", evaluation.pk)
    else:
        customer = get_object_or_404(Customer, code=code)
        evaluation = CustomerEvaluation(customer=customer)
    form = EvaluationForm(request.POST or None, instance=evaluation)
    if request.method == "POST" and form.is_valid():
        content = {name: form.cleaned_data[name] for name in CustomerEvaluation.CONTENT_FIELDS}
        try:
            if pk:
                evaluation = services.evaluation_update(user=request.user, evaluation=evaluation, **content)
            else:
                evaluation = services.evaluation_create(user=request.user, customer=customer, **content)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Evaluation form saved."))
            return redirect("customers:evaluation", evaluation.pk)
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": customer, "title": _("Customer evaluation form")},
    )


# Who may take each action: checked before the form's state, so an outsider always gets 403.
EVALUATION_ACTIONS = {
    "submit": "evaluation.edit",
    "approve": "evaluation.decide",
    "return": "evaluation.decide",
    "file": "evaluation.file",
    "revise": "evaluation.edit",
}


def _evaluation_action(request, pk, action):
    require(request.user, EVALUATION_ACTIONS[action])
    evaluation = _evaluation_for(request.user, pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    comment = form.cleaned_data.get("comment", "")
    try:
        if action == "submit":
            result = services.evaluation_submit(user=request.user, evaluation=evaluation)
            messages.success(request, _("Submitted to the marketing head."))
        elif action == "approve":
            result = services.evaluation_approve(user=request.user, evaluation=evaluation, comment=comment)
            messages.success(request, _("Approved."))
        elif action == "return":
            result = services.evaluation_return(user=request.user, evaluation=evaluation, comment=comment)
            messages.success(request, _("Returned to Marketing."))
        elif action == "file":
            result = services.evaluation_file(user=request.user, evaluation=evaluation)
            messages.success(request, _("Filed."))
        elif action == "revise":
            result = services.evaluation_new_version(user=request.user, evaluation=evaluation)
            messages.success(request, _("New version started; the approved one stays in force until it is approved."))
            return redirect("customers:evaluation_edit", result.pk)
        else:  # pragma: no cover - urls only route the actions above
            raise ValueError(action)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("customers:evaluation", evaluation.pk)
    return redirect("customers:evaluation", result.pk)


@login_required
@require_POST
def evaluation_action(request, pk, action):
    return _evaluation_action(request, pk, action)


# --- Quality problems (Quality) --------------------------------------------------------------------


@login_required
@require_POST
def quality_problem_add(request, code):
    customer = _customer_for(request.user, code, "quality_problem.edit")
    form = QualityProblemForm(request.POST)
    if form.is_valid():
        problem = form.save(commit=False)
        problem.customer = customer
        services.quality_problem_add(user=request.user, problem=problem)
        messages.success(request, _("Quality problem recorded."))
        return redirect(customer_url(customer, "quality"))
    return render(
        request, "customers/simple_form.html", {"form": form, "customer": customer, "title": _("Quality problem")}
    )


@login_required
@require_POST
def quality_problem_fix(request, pk):
    require(request.user, "quality_problem.edit")
    problem = get_object_or_404(QualityProblem.objects.select_related("customer"), pk=pk)
    form = QualityFixForm(request.POST)
    if form.is_valid():
        try:
            services.quality_problem_fix(user=request.user, problem=problem, **form.cleaned_data)
        except DomainError as error:
            messages.info(request, error.message)
        else:
            messages.success(request, _("Marked fixed."))
        return redirect(customer_url(problem.customer, "quality"))
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": problem.customer, "title": _("Mark the problem fixed")},
    )
