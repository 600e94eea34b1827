"""Entering an order and working on it while it is a draft: create, edit, delete (§5.2.1).

A form that fails is shown again with everything typed and chosen, the reason beside its field, status 422;
a file chosen in it cannot be put back by the browser, so the form says beside the field to choose it again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.forms.utils import ErrorDict, ErrorList
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.roles import require
from common.errors import DomainError
from orders import drafts, services
from orders.forms import OrderForm, chosen_again_note, line_formset
from orders.models import Order
from orders.services import LineInput

# A refusal of the services shown beside the field it is about (else above the form).
FIELD_OF_CODE = {"evaluation": "customer"}

# The header fields of the order form the services take as they are.
HEADER = ("packaging", "labelling", "inspection", "other_requirements")


def _line_inputs(lines) -> list[LineInput]:
    return [
        LineInput(
            f.cleaned_data["product"],
            f.cleaned_data["quantity"],
            f.cleaned_data["unit_price"],
            f.cleaned_data["requested_date"],
        )
        for f in lines.forms
        if f.cleaned_data.get("product")
    ]


def _without_errors(form, lines) -> None:
    """Shown again to go on typing after "Add a line": no validation has run, so no errors are shown yet."""
    form._errors = ErrorDict()
    lines._errors = [ErrorDict() for _form in lines.forms]
    lines._non_form_errors = ErrorList()
    for line in lines.forms:
        line._errors = ErrorDict()


def _page(request, form, lines, *, order=None, status=200):
    chosen_again_note(form, "original")
    response = render(request, "orders/order_form.html", {"form": form, "lines": lines, "order": order})
    response.status_code = status
    return response


def _submitted(request, form, lines, save, *, order=None):
    """The common shape of the two forms: "add a line", else validate → service → redirect, else 422."""
    if "add_line" in request.POST:
        _without_errors(form, lines)
        return _page(request, form, lines, order=order)
    if form.is_valid() & lines.is_valid():  # both validated, so every error shows at once
        try:
            saved = save(form.cleaned_data, _line_inputs(lines))
        except DomainError as error:
            field = FIELD_OF_CODE.get(error.code, error.code)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            return saved
    return _page(request, form, lines, order=order, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request):
    require(request.user, "order.enter")
    if request.method == "GET":
        return _page(request, OrderForm(), line_formset())
    form = OrderForm(request.POST, request.FILES)
    lines = line_formset(request.POST, add_line="add_line" in request.POST)

    def save(data, line_inputs):
        order = services.order_create(
            user=request.user,
            customer=data["customer"],
            customer_po=data["customer_po"],
            source=data["source"],
            delivery_address=data["delivery_address"],
            original=data.get("original") or None,
            verbal_requirements=form.verbal_requirements(),
            lines=line_inputs,
            **{name: data[name] for name in HEADER},
        )
        messages.success(
            request, _("Order %(number)s entered. Check it, then submit it for review.") % {"number": order.number}
        )
        return redirect("orders:detail", order.number)

    return _submitted(request, form, lines, save)


def _draft_or_404(request, number: str) -> Order:
    require(request.user, "order.enter")
    order = get_object_or_404(Order.objects.select_related("customer"), number=number)
    if order.status != Order.Status.DRAFT:
        messages.error(request, _("Only a draft can be edited or deleted; a submitted order is changed instead."))
        return None
    return order


@login_required
@require_http_methods(["GET", "POST"])
def draft_edit(request, number):
    order = _draft_or_404(request, number)
    if order is None:
        return redirect("orders:detail", number)
    initial = [
        {
            "product": line.product,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "requested_date": line.requested_date,
        }
        for line in order.lines.select_related("product").order_by("position")
    ]
    if request.method == "GET":
        return _page(request, OrderForm(instance=order), line_formset(initial=initial, extra=1), order=order)
    form = OrderForm(request.POST, request.FILES, instance=order)
    lines = line_formset(request.POST, initial=initial, extra=1, add_line="add_line" in request.POST)

    def save(data, line_inputs):
        original = data.get("original")
        drafts.order_update_draft(
            user=request.user,
            order=order,
            customer=data["customer"],
            customer_po=data["customer_po"],
            source=data["source"],
            delivery_address=data["delivery_address"],
            original=original if isinstance(original, UploadedFile) else None,
            clear_original=original is False,
            verbal_requirements=form.verbal_requirements(),
            lines=line_inputs,
            seen=data.get("seen"),
            **{name: data[name] for name in HEADER},
        )
        messages.success(request, _("Draft %(number)s saved.") % {"number": order.number})
        return redirect("orders:detail", order.number)

    # The ModelForm writes what it cleaned into ``order``; the service re-reads the locked row.
    return _submitted(request, form, lines, save, order=order)


@login_required
@require_http_methods(["GET", "POST"])
def draft_delete(request, number):
    order = _draft_or_404(request, number)
    if order is None:
        return redirect("orders:detail", number)
    if request.method == "POST":
        try:
            deleted = drafts.order_delete_draft(user=request.user, order=order)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("orders:detail", order.number)
        messages.success(request, _("Draft %(number)s deleted.") % {"number": deleted})
        return redirect("orders:list")
    return render(
        request,
        "orders/order_delete_confirm.html",
        {"order": order, "lines": list(order.lines.select_related("product").order_by("position"))},
    )


def cancel_confirm_page(request, order: Order, form):
    """Before a cancellation is recorded: what it will do (orders.cancellation), and a button that sends the same
    form again with ``confirm_cancel``; "Back" returns to the change form with everything kept."""
    from orders.cancellation import cancellation_preview

    data = form.cleaned_data
    preview = cancellation_preview(user=request.user, order=order, origin=data["origin"], reason=data["reason"])
    hidden = {name: request.POST.get(name, "") for name in ("revision", "kind", "origin", "reason")}
    return render(request, "orders/order_cancel_confirm.html", {"order": order, "preview": preview, "hidden": hidden})


def quiet(form, formset=None) -> None:
    """Show a bound form again without validating it (coming back to it is not a failed save)."""
    if formset is None:
        form._errors = ErrorDict()
        return
    _without_errors(form, formset)
