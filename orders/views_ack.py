"""Confirming an order to the customer (§5.2.3): Customer Service previews the acknowledgement PDF, chooses whom it
goes to (the primary contact to begin with) and who gets a copy, then sends it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from accounts.roles import require
from common.views import form_action
from orders import services
from orders.forms import AcknowledgementForm
from orders.models import Acknowledgement, Order, SignOff


def _order_to_confirm(number: str) -> Order:
    return get_object_or_404(Order.objects.select_related("customer", "delivery_address"), number=number)


def _page(request, order: Order, form):
    already = Acknowledgement.objects.filter(order=order, revision=order.revision).first()
    return render(
        request,
        "orders/ack_preview.html",
        {
            "order": order,
            "form": form,
            "already": already,
            "can_send": order.status == Order.Status.SIGNED_OFF and already is None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_confirm(request, number):
    require(request.user, "order.confirm")
    order = _order_to_confirm(number)
    contacts = services.acknowledgement_contacts(order.customer)
    if request.method == "GET":
        return _page(request, order, AcknowledgementForm(order=order, contacts=contacts))

    def send(data):
        ack = services.order_confirm(
            user=request.user, order=order, revision_seen=data["revision"], to=data["to"], cc=data["cc"]
        )
        message = _("The acknowledgement is being sent to %(email)s.") % {"email": ", ".join(ack.recipients)}
        if ack.cc:
            message += " " + _("Copy to %(emails)s.") % {"emails": ", ".join(ack.cc)}
        return message, f"{order.get_absolute_url()}#confirmation"

    form = AcknowledgementForm(request.POST, order=order, contacts=contacts)
    return form_action(request, form, send, lambda form: _page(request, order, form))


@login_required
@xframe_options_sameorigin  # shown in a frame of the preview page
def preview_pdf(request, number):
    """The acknowledgement of the current revision exactly as it will be sent, made now and not kept."""
    require(request.user, "order.confirm")
    order = _order_to_confirm(number)
    if not SignOff.objects.filter(order=order, revision=order.revision).exists():
        raise Http404
    from orders.documents import acknowledgement_pdf

    response = HttpResponse(acknowledgement_pdf(order, order.revision), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{order.number}-r{order.revision}-preview.pdf"'
    response["Cache-Control"] = "no-store"
    return response
