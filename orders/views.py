from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.roles import Dept, can, departments_of, require
from common.errors import DomainError
from common.listing import DATETIME, NUMBER, Column, Listing
from orders import documents, selectors, services, views_drafts
from orders.checklists import item_text
from orders.forms import (
    ChangeForm,
    ConfirmationForm,
    DecideChangeForm,
    ErpForm,
    LineFormSet,
    ObjectForm,
    SettleForm,
    SignForm,
    SignOffForm,
    VerbalForm,
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

ORDERS = Listing(
    name="orders",
    sheet_title=gettext_lazy("Orders"),
    columns=[
        Column("number", gettext_lazy("Order no."), "number", sort="number"),
        Column("revision", gettext_lazy("revision"), "revision", NUMBER, sort="revision"),
        Column("customer", gettext_lazy("Customer code"), "customer.code", sort="customer__code"),
        Column("customer_name", gettext_lazy("Customer"), "customer.display_name", sort=("customer__name_zh",)),
        Column("po", gettext_lazy("Customer PO"), "customer_po", sort="customer_po"),
        Column("erp", gettext_lazy("SAP order no."), "erp_number", sort="erp_number"),
        Column("status", gettext_lazy("Status"), "get_status_display", sort="status"),
        Column("open_steps", gettext_lazy("Reviews open"), "open_steps", NUMBER, sort="open_steps"),
        Column("entered", gettext_lazy("Entered"), "created_at", DATETIME, sort="created_at"),
    ],
    default_sort="-entered",
    date_field="created_at",
    date_label=gettext_lazy("Entered"),
)


@login_required
def order_list(request):
    require(request.user, "order.view")
    status = request.GET.get("status", "")
    if status not in Order.Status.values:
        status = ""
    q = request.GET.get("q", "").replace("\x00", "")
    listed = ORDERS.bind(request)
    orders = listed.apply(selectors.order_list(status=status, q=q, customer=request.GET.get("customer", "")))
    if listed.export:
        return listed.xlsx_response(orders)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/order_list.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "statuses": Order.Status.choices,
            "query": listed.page_query,
            "listed": listed,
            "can_enter": can(request.user, "order.enter"),
        },
    )


def _order_or_404(number: str) -> Order:
    try:
        return selectors.order_for_page(number)
    except Order.DoesNotExist:
        raise Http404 from None


@login_required
def order_detail(request, number):
    require(request.user, "order.view")
    services.acknowledgements_fail_stale()  # one whose worker stopped shows failed (or to be checked)
    return _detail_page(request, _order_or_404(number))


def _detail_page(request, order: Order, bound: dict | None = None):
    """The order page. ``bound``: the form a failed POST came with, by (kind, id) — ("sign", step.pk),
    ("object", step.pk), ("settle", objection.pk), ("verbal", requirement.pk), ("signoff", None), ("erp", None) —
    shown instead of an empty one, with every answer kept and its errors beside the fields (status 422)."""
    bound = bound or {}
    shown = set()  # the forms this page shows, so a refused form that is no longer shown still says why
    user = request.user
    language = translation.get_language()
    mine = departments_of(user)
    steps = list(order.steps.all())
    live_statuses = (ReviewStep.Status.OPEN, ReviewStep.Status.SIGNED)
    current = [s for s in steps if s.status in live_statuses]
    for step in current:
        step.panels = selectors.review_panels(order, step.department)
    for step in steps:
        step.label = Dept(step.department).label
        step.overdue = selectors.is_overdue(step)
        answers = {a["key"]: "na" if a.get("na") else a["yes"] for a in step.answers}
        step.items = [(item_text(i, language), answers.get(i["key"])) for i in step.checklist.items]
        if step.status == ReviewStep.Status.OPEN and step.department in mine:
            step.sign_form = bound.get(("sign", step.pk)) or SignForm(
                step=step, order=order, language=language, initial={"revision": order.revision}
            )
            step.object_form = bound.get(("object", step.pk)) or ObjectForm(initial={"revision": order.revision})
            step.object_open = ("object", step.pk) in bound
            shown.update({("sign", step.pk), ("object", step.pk)})
    objections = [s.objection for s in steps if hasattr(s, "objection")]
    for objection in objections:
        objection.settle_form = bound.get(("settle", objection.pk)) or SettleForm()
        if objection.settled_at is None:
            shown.add(("settle", objection.pk))
    verbal = list(order.verbal_requirements.all())
    for requirement in verbal:
        requirement.confirm_form = bound.get(("verbal", requirement.pk)) or ConfirmationForm()
        if requirement.confirmed_at is None:
            shown.add(("verbal", requirement.pk))
    if order.status == Order.Status.AWAITING_SIGNOFF:
        shown.add(("signoff", None))
    if not order.erp_number:
        shown.add(("erp", None))
    for key, form in bound.items():
        if key not in shown:  # e.g. the step was signed meanwhile: its form is gone, so say why above the page
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
    lines = list(order.lines.all())
    prices = selectors.line_price_checks(order)
    for line in lines:
        line.price_check = prices[line.position]
    # Back in review after a change: say which lines may ship meanwhile (the change left them alone).
    shipping = {}
    if order.status in selectors.UNDER_REVIEW and order.signoffs.all():
        shipping = selectors.shipping_refusals(order, lines)
        for line in lines:
            line.shipping_refusal = shipping[None] or shipping[line.position]
    pending_change = next((c for c in order.change_requests.all() if c.status == ChangeRequest.Status.PENDING), None)
    response = render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "prechecks": selectors.prechecks(order),
            "steps": current,
            "earlier_steps": [s for s in steps if s.status not in live_statuses],
            "objections": objections,
            "verbal": verbal,
            "signoffs": list(order.signoffs.all()),
            "acknowledgements": list(order.acknowledgements.all()),
            "revisions_shown": [
                {"revision": r, "changes": selectors.change_rows(r, language)} for r in reversed(order.revisions.all())
            ],
            "pending_change": pending_change,
            # The head sees exactly what the customer's change would change, line by line, before deciding.
            "pending_rows": services.pending_change_rows(pending_change, language) if pending_change else [],
            "signoff_blocked": _signoff_blocked(order, verbal),
            "shipping_shown": bool(shipping),
            "verbal_form": bound.get(("verbal_add", None)) or VerbalForm(),
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
                "add_verbal": (can(user, "order.enter") or can(user, "order.settle"))
                and order.status in (Order.Status.IN_REVIEW, Order.Status.ON_HOLD, Order.Status.AWAITING_SIGNOFF),
            },
            "settle_form": SettleForm(),
            "signoff_form": bound.get(("signoff", None)) or SignOffForm(initial={"revision": order.revision}),
            "confirmation_form": ConfirmationForm(),
            "erp_form": bound.get(("erp", None)) or ErpForm(),
        },
    )
    if bound:
        response.status_code = 422
    return response


def _signoff_blocked(order: Order, verbal: list[VerbalRequirement]) -> str:
    """Why the head cannot sign off yet, shown on the disabled button ("" when nothing stops it)."""
    waiting = [v for v in verbal if v.confirmed_at is None]
    if waiting:
        return ngettext(
            "%(n)s verbal requirement not yet confirmed in writing by the customer (§5.2.3): attach the"
            " confirmation first.",
            "%(n)s verbal requirements not yet confirmed in writing by the customer (§5.2.3): attach the"
            " confirmation first.",
            len(waiting),
        ) % {"n": len(waiting)}
    return ""


def _detail_action(request, order: Order, key: tuple, form, action, done: str, anchor: str = ""):
    """A form posted from the order page (common.views.form_action's shape): valid and accepted by the service →
    the message and back to the page at ``anchor``; otherwise the order page again with this form as it was
    sent, the reason beside its field (or above the form), status 422. The form's action URL carries the same
    anchor, so the browser comes back to the form it submitted."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except DomainError as error:
            form.add_error(error.code if error.code in form.fields else None, error.message)
        else:
            return _done(request, order, done, anchor)
    order = selectors.order_for_page(order.number)
    return _detail_page(request, order, {key: form})


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

    def sign(data):
        services.step_sign(
            user=request.user,
            step=step,
            revision_seen=data["revision"],
            answers=form.answers(),
            comment=data["comment"],
            confirmed_dates=form.confirmed_dates(),
        )

    return _detail_action(request, order, ("sign", step.pk), form, sign, _("Signed."), f"#step-{step.pk}")


@login_required
@require_POST
def step_object(request, pk):
    step = _step(request, pk)
    form = ObjectForm(request.POST)

    def object_(data):
        services.step_object(user=request.user, step=step, revision_seen=data["revision"], reason=data["reason"])

    return _detail_action(
        request,
        step.order,
        ("object", step.pk),
        form,
        object_,
        _("Objection raised; Marketing has been asked to settle it."),
        f"#step-{step.pk}",
    )


@login_required
@require_POST
def objection_settle(request, pk):
    require(request.user, "order.settle")
    objection = get_object_or_404(Objection.objects.select_related("step__order"), pk=pk)
    form = SettleForm(request.POST)

    def settle(data):
        services.objection_settle(user=request.user, objection=objection, outcome=data["outcome"])

    return _detail_action(
        request,
        objection.step.order,
        ("settle", objection.pk),
        form,
        settle,
        _("Settled; the department has been asked to review again."),
        f"#objection-{objection.pk}",
    )


@login_required
@require_POST
def head_signoff(request, number):
    require(request.user, "order.signoff")
    order = get_object_or_404(Order, number=number)
    form = SignOffForm(request.POST)

    def sign_off(data):
        services.head_signoff(user=request.user, order=order, revision_seen=data["revision"], comment=data["comment"])

    return _detail_action(request, order, ("signoff", None), form, sign_off, _("Signed off."), "#signoff")


@login_required
@require_POST
def verbal_confirm(request, pk):
    require(request.user, "order.enter")
    requirement = get_object_or_404(VerbalRequirement.objects.select_related("order"), pk=pk)
    form = ConfirmationForm(request.POST, request.FILES)

    def confirm(data):
        services.verbal_requirement_confirm(
            user=request.user, requirement=requirement, confirmation=data["confirmation"]
        )

    return _detail_action(
        request,
        requirement.order,
        ("verbal", requirement.pk),
        form,
        confirm,
        _("The customer's written confirmation is attached."),
        f"#verbal-{requirement.pk}",
    )


@login_required
@require_POST
def verbal_add(request, number):
    """Customer Service or Marketing records a requirement the customer gave by word of mouth (§5.2.3)."""
    order = get_object_or_404(Order, number=number)
    form = VerbalForm(request.POST)

    def record(data):
        services.verbal_requirement_add(user=request.user, order=order, text=data["text"])

    return _detail_action(
        request, order, ("verbal_add", None), form, record, _("Verbal requirement recorded."), "#verbal"
    )


@login_required
@require_POST
def erp_number(request, number):
    require(request.user, "order.enter")
    order = get_object_or_404(Order, number=number)
    form = ErpForm(request.POST)

    def record(data):
        services.erp_number_set(user=request.user, order=order, erp_number=data["erp_number"])

    return _detail_action(request, order, ("erp", None), form, record, _("SAP order number recorded."), "#erp")


@login_required
@require_POST
def acknowledgement_resend(request, pk):
    require(request.user, "order.confirm")
    ack = get_object_or_404(Acknowledgement.objects.select_related("order"), pk=pk)
    try:
        services.acknowledgement_resend(user=request.user, ack=ack, checked=request.POST.get("checked") == "1")
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
    if request.method == "POST" and "back" in request.POST:  # back from the cancellation's summary
        views_drafts.quiet(form, lines)
        return render(request, "orders/change_form.html", _change_context(request, order, form, lines))
    if request.method == "POST" and form.is_valid() and (cancelling or lines.is_valid()):
        data = form.cleaned_data
        if cancelling and "confirm_cancel" not in request.POST:
            return views_drafts.cancel_confirm_page(request, order, form)
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
                        # The rows of the existing lines come first, in their order: each keeps its position (and
                        # its batches); a row left empty removes its line.
                        position=current[index].position if index < len(current) else None,
                    )
                    for index, f in enumerate(lines.forms)
                    if f.cleaned_data.get("product")
                ],
                withdraw=[int(pk) for pk in request.POST.getlist("withdraw") if pk.isdigit()],
                verbal_requirements=request.POST.get("verbal", "").splitlines(),
            )
        except DomainError as error:
            form.add_error(error.code if error.code in form.fields else None, error.message)
        else:
            if change.status == ChangeRequest.Status.PENDING:
                message = _("Recorded; the change waits for the sales head's confirmation.")
            else:
                message = _("Applied as revision %(rev)s; the departments concerned have the memo.") % {
                    "rev": change.revision
                }
            return _done(request, order, message, "#revisions")
    response = render(request, "orders/change_form.html", _change_context(request, order, form, lines))
    if request.method == "POST":
        response.status_code = 422  # shown again with the reason beside its field and everything kept
    return response


def _change_context(request, order: Order, form, lines) -> dict:
    chosen = set(request.POST.getlist("withdraw")) if request.method == "POST" else set()
    return {
        "order": order,
        "form": form,
        "lines": lines,
        # Batches nothing was delivered from, which a change that removes or reduces a line may withdraw.
        "withdrawable": [(pk, text, str(pk) in chosen) for pk, text in services.withdrawable_batches(order)],
        "verbal": request.POST.get("verbal", "") if request.method == "POST" else "",
    }


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


def _memo_concerns_text(memo: Memo) -> str:
    return "; ".join(f"{c.kind}: {c.text}" for c in selectors.memo_concerns(memo))


MEMOS = Listing(
    name="memos",
    sheet_title=gettext_lazy("Internal memos"),
    columns=[
        Column("number", gettext_lazy("No."), "number", sort="number"),
        Column("topic", gettext_lazy("About"), "get_topic_display", sort="topic"),
        Column("subject", gettext_lazy("Subject"), "subject", sort="subject"),
        Column("concerns", gettext_lazy("Concerns"), _memo_concerns_text),
        Column("issued", gettext_lazy("Issued"), "issued_at", DATETIME, sort="issued_at"),
        Column("waiting", gettext_lazy("Not yet acknowledged"), "waiting", NUMBER, sort="waiting"),
    ],
    default_sort="-issued",
    date_field="issued_at",
    date_label=gettext_lazy("Issued"),
)


@login_required
def memo_list(request):
    require(request.user, "order.view")
    mine = departments_of(request.user)
    topic = request.GET.get("topic", "")
    if topic not in Memo.Topic.values:
        topic = ""
    listed = MEMOS.bind(request)
    memos = listed.apply(selectors.memos_for(mine, topic=topic))
    if listed.export:
        return listed.xlsx_response(memos)
    page = Paginator(memos, PAGE_SIZE).get_page(request.GET.get("page"))
    for memo in page:
        memo.concerns = selectors.memo_concerns(memo)
    return render(
        request,
        "orders/memo_list.html",
        {
            "page": page,
            "mine": mine,
            "topic": topic,
            "topics": Memo.Topic.choices,
            "query": listed.page_query,
            "listed": listed,
        },
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
    lines = [dict(line, product_obj=documents.kept_product(line, products)) for line in content.get("lines", [])]
    address = (
        documents.kept_address(content) or DeliveryAddress.objects.filter(pk=content.get("delivery_address_id")).first()
    )
    language = translation.get_language()
    steps = list(
        ReviewStep.objects.filter(order=order, revision=revision)
        .exclude(status=ReviewStep.Status.OPEN)
        .select_related("signed_by", "checklist")
    )
    for step in steps:
        step.label = Dept(step.department).label
        answers = {a["key"]: "na" if a.get("na") else a["yes"] for a in step.answers}
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
