from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Dept, can, departments_of, require
from common.errors import DomainError
from orders import selectors, services
from orders.checklists import item_text
from orders.forms import (
    ChangeForm,
    ConfirmationForm,
    DecideChangeForm,
    ErpForm,
    LineFormSet,
    ObjectForm,
    OrderForm,
    SettleForm,
    SignForm,
    SignOffForm,
)
from orders.models import (
    Acknowledgement,
    ChangeRequest,
    Memo,
    Objection,
    Order,
    OrderRevision,
    ReviewStep,
    VerbalRequirement,
)
from orders.services import LineInput

PAGE_SIZE = 50


@login_required
def order_list(request):
    require(request.user, "order.view")
    status = request.GET.get("status", "")
    if status not in Order.Status.values:
        status = ""
    q = request.GET.get("q", "")
    orders = selectors.order_list(status=status, q=q, customer=request.GET.get("customer", ""))
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "orders/order_list.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "statuses": Order.Status.choices,
            "query": query.urlencode(),
            "can_enter": can(request.user, "order.enter"),
        },
    )


@login_required
def order_create(request):
    require(request.user, "order.enter")
    form = OrderForm(request.POST or None, request.FILES or None)
    lines = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_create(
                user=request.user,
                customer=data["customer"],
                customer_po=data["customer_po"],
                source=data["source"],
                delivery_address=data["delivery_address"],
                original=data.get("original") or None,
                verbal_requirements=form.verbal_requirements(),
                packaging=data["packaging"],
                labelling=data["labelling"],
                inspection=data["inspection"],
                other_requirements=data["other_requirements"],
                lines=[
                    LineInput(
                        f.cleaned_data["product"],
                        f.cleaned_data["quantity"],
                        f.cleaned_data["unit_price"],
                        f.cleaned_data["requested_date"],
                    )
                    for f in lines.forms
                    if f.cleaned_data.get("product")
                ],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Order %(number)s entered. Check it, then submit it for review.") % {"number": order.number}
            )
            return redirect("orders:detail", order.number)
    return render(request, "orders/order_form.html", {"form": form, "lines": lines})


def _order_or_404(number: str) -> Order:
    try:
        return selectors.order_for_page(number)
    except Order.DoesNotExist:
        raise Http404 from None


@login_required
def order_detail(request, number):
    require(request.user, "order.view")
    order = _order_or_404(number)
    user = request.user
    language = translation.get_language()
    mine = departments_of(user)
    steps = list(order.steps.all())
    live_statuses = (ReviewStep.Status.OPEN, ReviewStep.Status.SIGNED)
    current = [s for s in steps if s.status in live_statuses]
    for step in steps:
        step.label = Dept(step.department).label
        step.overdue = selectors.is_overdue(step)
        answers = {a["key"]: a["yes"] for a in step.answers}
        step.items = [(item_text(i, language), answers.get(i["key"])) for i in step.checklist.items]
        if step.status == ReviewStep.Status.OPEN and step.department in mine:
            step.sign_form = SignForm(step=step, order=order, language=language, initial={"revision": order.revision})
            step.object_form = ObjectForm(initial={"revision": order.revision})
    objections = [s.objection for s in steps if hasattr(s, "objection")]
    lines = list(order.lines.all())
    prices = selectors.line_price_checks(order)
    for line in lines:
        line.price_check = prices[line.position]
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "prechecks": selectors.prechecks(order),
            "steps": current,
            "earlier_steps": [s for s in steps if s.status not in live_statuses],
            "objections": objections,
            "verbal": list(order.verbal_requirements.all()),
            "signoffs": list(order.signoffs.all()),
            "acknowledgements": list(order.acknowledgements.all()),
            "revisions_shown": [
                {"revision": r, "changes": selectors.change_rows(r, language)} for r in reversed(order.revisions.all())
            ],
            "pending_change": next(
                (c for c in order.change_requests.all() if c.status == ChangeRequest.Status.PENDING), None
            ),
            "change_requests": list(order.change_requests.all()),
            "memos": list(order.memos.all()),
            "decide_form": DecideChangeForm(),
            "revisions": list(order.revisions.all()),
            "timeline": selectors.timeline(order),
            "can": {
                "enter": can(user, "order.enter"),
                "settle": can(user, "order.settle"),
                "signoff": can(user, "order.signoff") and order.status == Order.Status.AWAITING_SIGNOFF,
                "confirm": can(user, "order.confirm") and order.status == Order.Status.SIGNED_OFF,
                "resend": can(user, "order.confirm"),
                "change": can(user, "order.change") and order.status in services.CHANGEABLE_STATUSES,
                "decide": can(user, "order.signoff"),
            },
            "settle_form": SettleForm(),
            "signoff_form": SignOffForm(initial={"revision": order.revision}),
            "confirmation_form": ConfirmationForm(),
            "erp_form": ErpForm(),
        },
    )


def _done(request, order: Order, message: str, anchor: str = ""):
    messages.success(request, message)
    return redirect(f"{order.get_absolute_url()}{anchor}")


def _refused(request, order: Order, error: DomainError):
    messages.error(request, error.message)
    return redirect(order.get_absolute_url())


@login_required
@require_POST
def order_submit(request, number):
    require(request.user, "order.enter")
    order = get_object_or_404(Order, number=number)
    try:
        services.order_submit(user=request.user, order=order)
    except DomainError as error:
        return _refused(request, order, error)
    return _done(request, order, _("Submitted: every department has been asked to review the order."))


def _step(request, pk) -> ReviewStep:
    step = get_object_or_404(ReviewStep.objects.select_related("order", "checklist"), pk=pk)
    if step.department not in departments_of(request.user):
        raise PermissionDenied
    return step


@login_required
@require_POST
def step_sign(request, pk):
    step = _step(request, pk)
    order = step.order
    form = SignForm(request.POST, step=step, order=order, language=translation.get_language())
    if not form.is_valid():
        messages.error(request, _("Answer every item of the checklist."))
        return redirect(order.get_absolute_url() + f"#step-{step.pk}")
    try:
        services.step_sign(
            user=request.user,
            step=step,
            revision_seen=form.cleaned_data["revision"],
            answers=form.answers(),
            comment=form.cleaned_data["comment"],
            confirmed_dates=form.confirmed_dates(),
        )
    except DomainError as error:
        return _refused(request, order, error)
    return _done(request, order, _("Signed."), f"#step-{step.pk}")


@login_required
@require_POST
def step_object(request, pk):
    step = _step(request, pk)
    form = ObjectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what the objection is."))
        return redirect(step.order.get_absolute_url())
    try:
        services.step_object(
            user=request.user,
            step=step,
            revision_seen=form.cleaned_data["revision"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        return _refused(request, step.order, error)
    return _done(request, step.order, _("Objection raised; Marketing has been asked to settle it."))


@login_required
@require_POST
def objection_settle(request, pk):
    require(request.user, "order.settle")
    objection = get_object_or_404(Objection.objects.select_related("step__order"), pk=pk)
    order = objection.step.order
    form = SettleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write how it was settled with the customer."))
        return redirect(order.get_absolute_url())
    try:
        services.objection_settle(user=request.user, objection=objection, outcome=form.cleaned_data["outcome"])
    except DomainError as error:
        return _refused(request, order, error)
    return _done(request, order, _("Settled; the department has been asked to review again."))


@login_required
@require_POST
def head_signoff(request, number):
    require(request.user, "order.signoff")
    order = get_object_or_404(Order, number=number)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete. Reload the page and try again."))
        return redirect(order.get_absolute_url())
    try:
        services.head_signoff(
            user=request.user,
            order=order,
            revision_seen=form.cleaned_data["revision"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as error:
        return _refused(request, order, error)
    return _done(request, order, _("Signed off."))


@login_required
@require_POST
def verbal_confirm(request, pk):
    require(request.user, "order.enter")
    requirement = get_object_or_404(VerbalRequirement.objects.select_related("order"), pk=pk)
    form = ConfirmationForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("confirmation", []):
            messages.error(request, error)
        return redirect(requirement.order.get_absolute_url())
    try:
        services.verbal_requirement_confirm(
            user=request.user, requirement=requirement, confirmation=form.cleaned_data["confirmation"]
        )
    except DomainError as error:
        return _refused(request, requirement.order, error)
    return _done(request, requirement.order, _("The customer's written confirmation is attached."))


@login_required
@require_POST
def erp_number(request, number):
    require(request.user, "order.enter")
    order = get_object_or_404(Order, number=number)
    form = ErpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the SAP order number."))
        return redirect(order.get_absolute_url())
    try:
        services.erp_number_set(user=request.user, order=order, erp_number=form.cleaned_data["erp_number"])
    except DomainError as error:
        return _refused(request, order, error)
    return _done(request, order, _("SAP order number recorded."))


@login_required
@require_POST
def order_confirm(request, number):
    require(request.user, "order.confirm")
    order = get_object_or_404(Order, number=number)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete. Reload the page and try again."))
        return redirect(order.get_absolute_url())
    try:
        ack = services.order_confirm(user=request.user, order=order, revision_seen=form.cleaned_data["revision"])
    except DomainError as error:
        return _refused(request, order, error)
    return _done(
        request, order, _("The acknowledgement is being sent to %(email)s.") % {"email": ack.recipient}, "#confirmation"
    )


@login_required
@require_POST
def acknowledgement_resend(request, pk):
    require(request.user, "order.confirm")
    ack = get_object_or_404(Acknowledgement.objects.select_related("order"), pk=pk)
    try:
        services.acknowledgement_resend(user=request.user, ack=ack)
    except DomainError as error:
        return _refused(request, ack.order, error)
    return _done(request, ack.order, _("The acknowledgement is being sent again."), "#confirmation")


@login_required
def acknowledgement_pdf(request, pk):
    require(request.user, "order.view")
    ack = get_object_or_404(Acknowledgement.objects.select_related("order"), pk=pk)
    if not ack.pdf:
        raise Http404
    return FileResponse(
        ack.pdf.open("rb"), content_type="application/pdf", filename=f"{ack.order.number}-r{ack.revision}.pdf"
    )


# --- Changes, cancellations and memos (§5.3) -----------------------------------------------------------


@login_required
def order_change(request, number):
    require(request.user, "order.change")
    order = get_object_or_404(Order.objects.select_related("customer"), number=number)
    current = list(order.lines.select_related("product").order_by("position"))
    initial = [
        {
            "product": line.product,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "requested_date": line.requested_date,
        }
        for line in current
    ]
    form = ChangeForm(request.POST or None, order=order)
    lines = LineFormSet(request.POST or None, prefix="lines", initial=initial)
    cancelling = request.method == "POST" and request.POST.get("kind") == ChangeRequest.Kind.CANCEL
    if request.method == "POST" and form.is_valid() and (cancelling or lines.is_valid()):
        data = form.cleaned_data
        try:
            change = services.change_request(
                user=request.user,
                order=order,
                revision_seen=data["revision"],
                origin=data["origin"],
                reason=data["reason"],
                kind=data["kind"],
                header=None if cancelling else form.header(),
                lines=None
                if cancelling
                else [
                    LineInput(
                        f.cleaned_data["product"],
                        f.cleaned_data["quantity"],
                        f.cleaned_data["unit_price"],
                        f.cleaned_data["requested_date"],
                    )
                    for f in lines.forms
                    if f.cleaned_data.get("product")
                ],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if change.status == ChangeRequest.Status.PENDING:
                message = _("Recorded; the change waits for the sales head's confirmation.")
            else:
                message = _("Applied as revision %(rev)s; the departments concerned have the memo.") % {
                    "rev": change.revision
                }
            return _done(request, order, message, "#revisions")
    return render(request, "orders/change_form.html", {"order": order, "form": form, "lines": lines})


@login_required
@require_POST
def change_decide(request, pk):
    require(request.user, "order.signoff")
    change = get_object_or_404(ChangeRequest.objects.select_related("order"), pk=pk)
    form = DecideChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete. Reload the page and try again."))
        return redirect(change.order.get_absolute_url())
    try:
        services.change_decide(
            user=request.user,
            request=change,
            approve=form.cleaned_data["approve"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as error:
        return _refused(request, change.order, error)
    return _done(request, change.order, _("Decision recorded."), "#revisions")


def _memo_or_404(pk: int) -> Memo:
    try:
        return selectors.memo_for_page(pk)
    except Memo.DoesNotExist:
        raise Http404 from None


@login_required
def memo_list(request):
    require(request.user, "order.view")
    mine = departments_of(request.user)
    topic = request.GET.get("topic", "")
    if topic not in Memo.Topic.values:
        topic = ""
    page = Paginator(selectors.memos_for(mine, topic=topic), PAGE_SIZE).get_page(request.GET.get("page"))
    for memo in page:
        memo.concerns = selectors.memo_concerns(memo)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "orders/memo_list.html",
        {"page": page, "mine": mine, "topic": topic, "topics": Memo.Topic.choices, "query": query.urlencode()},
    )


@login_required
def memo_detail(request, pk):
    require(request.user, "order.view")
    memo = _memo_or_404(pk)
    receipts = list(memo.receipts.select_related("acknowledged_by"))
    mine = departments_of(request.user)
    for receipt in receipts:
        receipt.label = Dept(receipt.department).label
        receipt.can_acknowledge = receipt.department in mine and receipt.acknowledged_at is None
    return render(
        request,
        "orders/memo_detail.html",
        {"memo": memo, "receipts": receipts, "concerns": selectors.memo_concerns(memo)},
    )


@login_required
@require_POST
def memo_acknowledge(request, pk):
    require(request.user, "order.view")
    memo = get_object_or_404(Memo, pk=pk)
    try:
        services.memo_acknowledge(user=request.user, memo=memo, department=request.POST.get("department", ""))
    except DomainError as error:
        messages.info(request, error.message)
    else:
        messages.success(request, _("Acknowledged."))
    return redirect("orders:memo", memo.pk)


@login_required
def memo_pdf(request, pk):
    require(request.user, "order.view")
    memo = _memo_or_404(pk)
    from orders.documents import memo_pdf as render_memo

    response = HttpResponse(render_memo(memo), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{memo.number}.pdf"'
    return response


@login_required
def order_revision(request, number, revision):
    """An earlier (or the current) revision as it was submitted, with the signatures given on it."""
    require(request.user, "order.view")
    order = get_object_or_404(Order.objects.select_related("customer"), number=number)
    shown = get_object_or_404(OrderRevision.objects.select_related("created_by"), order=order, number=revision)
    from customers.models import DeliveryAddress, Product

    content = shown.snapshot
    products = Product.objects.in_bulk([line["product_id"] for line in content.get("lines", [])])
    lines = [dict(line, product_obj=products.get(line["product_id"])) for line in content.get("lines", [])]
    address = DeliveryAddress.objects.filter(pk=content.get("delivery_address_id")).first()
    language = translation.get_language()
    steps = list(
        ReviewStep.objects.filter(order=order, revision=revision)
        .exclude(status=ReviewStep.Status.OPEN)
        .select_related("signed_by", "checklist")
    )
    for step in steps:
        step.label = Dept(step.department).label
        answers = {a["key"]: a["yes"] for a in step.answers}
        step.items = [(item_text(i, language), answers.get(i["key"])) for i in step.checklist.items]
    return render(
        request,
        "orders/order_revision.html",
        {
            "order": order,
            "shown": shown,
            "content": content,
            "lines": lines,
            "address": address,
            "steps": steps,
            "signoffs": list(order.signoffs.filter(revision=revision).select_related("signed_by")),
            "changes": selectors.change_rows(shown, language),
        },
    )
