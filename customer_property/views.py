"""Pages of the customer property register (§5.10.3): the list with its filters and export, the new-item form,
the item's page with its checks, incidents, documents and history, and the actions on it (check, damage or loss,
document, return).

Every view checks access first (accounts.roles). An action goes through ``common.views.form_action``: a valid form
calls the service and redirects; an invalid form or a refusal (DomainError) re-renders the page it came from with
the bound form, the reason beside its field, status 422.
"""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import require
from common.listing import DATE, NUMBER, Column, Listing
from common.uploads import SCAN_SIGNATURES
from common.views import form_action
from customer_property import selectors, services
from customer_property.forms import CheckForm, DocumentForm, IncidentForm, ItemForm, ProductsForm, ReturnForm
from customer_property.models import Condition, Kind, PropertyDocument, PropertyItem

PAGE_SIZE = 50


def _item(number: str) -> PropertyItem:
    try:
        return selectors.item_for_page(number)
    except PropertyItem.DoesNotExist:
        raise Http404 from None


# --- The list and its export ------------------------------------------------------------------------------------


def _filters(get) -> dict:
    clean = {k: get.get(k, "").replace("\x00", "").strip() for k in ("customer", "kind", "condition", "state")}
    return {
        "customer": clean["customer"],
        "kind": clean["kind"] if clean["kind"] in Kind.values else "",
        "condition": clean["condition"] if clean["condition"] in Condition.values else "",
        "state": clean["state"] if clean["state"] in selectors.STATES else "kept",
        "due": get.get("due") == "1",
    }


def _by_number(*fields: str) -> tuple[str, ...]:
    return (*fields, "number")  # equal values keep the register's order


ITEMS = Listing(
    name="customer-property",
    sheet_title=gettext_lazy("Customer property"),
    columns=[
        Column("number", gettext_lazy("No."), "number", sort="number"),
        Column(
            "customer",
            gettext_lazy("Customer"),
            lambda i: f"{i.customer.code} {i.customer.display_name}",
            sort=_by_number("customer__code"),
        ),
        Column("kind", gettext_lazy("Kind"), "get_kind_display", sort=_by_number("kind")),
        Column("name", gettext_lazy("name"), "name"),
        Column("customer_ref", gettext_lazy("the customer's no."), "customer_ref"),
        Column("mould_no", gettext_lazy("mould / fixture no."), "mould_no"),
        Column("cavities", gettext_lazy("cavities"), "cavities", NUMBER),
        Column("quantity", gettext_lazy("Quantity"), "quantity", NUMBER),
        Column("unit", gettext_lazy("unit"), "unit"),
        Column("location", gettext_lazy("Kept at"), "location", sort=_by_number("location")),
        Column("condition", gettext_lazy("Condition"), "get_condition_display", sort=_by_number("condition")),
        Column("received", gettext_lazy("Received on"), "received_on", DATE, sort=_by_number("received_on")),
        Column("received_by", pgettext_lazy("customer property", "received by"), lambda i: str(i.received_by)),
        Column("checked", gettext_lazy("Last checked"), "last_checked_on", DATE, sort=_by_number("last_checked_on")),
        Column("due", gettext_lazy("Next check"), selectors.due_on, DATE),
        Column("returned_on", gettext_lazy("returned on"), "returned_on", DATE),
        Column("returned_to", gettext_lazy("returned to"), "returned_to"),
        Column("products", gettext_lazy("used for products"), lambda i: ", ".join(p.code for p in i.products.all())),
    ],
    default_sort="-received",
    date_field="received_on",
    date_label=gettext_lazy("Received on"),
)


@login_required
def item_list(request):
    require(request.user, "custprop.view")
    filters = _filters(request.GET)
    listed = ITEMS.bind(request)
    items = listed.apply(selectors.item_list(**filters))
    if listed.export:
        return listed.xlsx_response(items)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        item.due = selectors.due_on(item)
    return render(
        request,
        "customer_property/item_list.html",
        {
            "page": page,
            **filters,
            "kinds": Kind.choices,
            "conditions": Condition.choices,
            "states": [("kept", _("Kept")), ("returned", _("Returned")), ("all", _("All"))],
            "query": listed.page_query,
            "listed": listed,
            "flagged": list(selectors.flagged_without_mould()[:50]),
            "can_edit": services.may_edit(request.user),
        },
    )


# --- A new item ---------------------------------------------------------------------------------------------------


@login_required
def item_new(request):
    require(request.user, "custprop.edit")

    def page(form):
        return render(request, "customer_property/item_form.html", {"form": form})

    if request.method != "POST":
        initial = {}
        if request.GET.get("customer"):
            initial["customer"] = request.GET["customer"].replace("\x00", "")
        return page(ItemForm(initial=initial))

    def action(data):
        item = services.item_register(
            user=request.user,
            customer=data["customer"],
            kind=data["kind"],
            name=data["name"],
            customer_ref=data["customer_ref"],
            mould_no=data["mould_no"],
            cavities=data["cavities"],
            quantity=data["quantity"],
            unit=data["unit"],
            location=data["location"],
            received_on=data["received_on"],
            received_by=data["received_by"],
            products=data["products"],
            notes=data["notes"],
            documents=data["documents"],
        )
        return _("%(number)s registered.") % {"number": item.number}, item.get_absolute_url()

    return form_action(request, ItemForm(request.POST, request.FILES), action, page)


# --- The item's page and its actions -----------------------------------------------------------------------------


def _page(request, item: PropertyItem, **failed) -> HttpResponse:
    user = request.user
    kept = item.returned_on is None
    allowed = {
        "check": services.may_check(user) and kept,
        "incident": services.may_edit(user) and kept and item.condition != Condition.LOST,
        "document": services.may_edit(user) and kept,
        "return": services.may_edit(user) and kept and item.condition != Condition.LOST,
        "products": services.may_edit(user) and kept,
    }
    forms = {
        "check_form": CheckForm(),
        "incident_form": IncidentForm(),
        "document_form": DocumentForm(),
        "return_form": ReturnForm(),
        "products_form": ProductsForm(initial={"products": " ".join(p.code for p in item.products.all())}),
    }
    forms.update(failed)
    return render(
        request,
        "customer_property/item_detail.html",
        {
            "item": item,
            "due": selectors.due_on(item),
            "overdue": selectors.is_overdue(item),
            "products": list(item.products.all()),
            "checks": list(item.checks.all()),
            "incidents": list(item.incidents.all()),
            "documents": list(item.documents.all()),
            "timeline": selectors.timeline(item),
            "can": allowed,
            "failed": next(iter(failed.values()), None),
            **forms,
        },
    )


@login_required
def item_detail(request, number):
    require(request.user, "custprop.view")
    return _page(request, _item(number))


def _step(request, number, form, form_name: str, action: Callable):
    item = _item(number)
    return form_action(
        request,
        form,
        lambda data: (action(item, data), item.get_absolute_url()),
        lambda bound: _page(request, _item(number), **{form_name: bound}),
    )


@login_required
@require_POST
def item_check(request, number):
    require(request.user, "custprop.check")

    def act(item, data):
        check = services.item_check(
            user=request.user,
            item=item,
            checked_on=data["checked_on"],
            condition=data["condition"],
            notes=data["notes"],
            location=data["location"],
            told_by=data["told_by"],
            departments=data["departments"],
        )
        if hasattr(check, "incident"):
            return _("Check recorded. The customer's log and an internal memo (%(memo)s) record the incident.") % {
                "memo": check.incident.memo.number
            }
        return _("Check recorded.")

    return _step(request, number, CheckForm(request.POST), "check_form", act)


@login_required
@require_POST
def item_incident(request, number):
    require(request.user, "custprop.edit")

    def act(item, data):
        incident = services.incident_report(
            user=request.user,
            item=item,
            kind=data["kind"],
            found_on=data["found_on"],
            description=data["description"],
            told_by=data["told_by"],
            departments=data["departments"],
        )
        return _("%(what)s recorded. The customer's log and an internal memo (%(memo)s) record it.") % {
            "what": incident.get_kind_display(),
            "memo": incident.memo.number,
        }

    return _step(request, number, IncidentForm(request.POST), "incident_form", act)


@login_required
@require_POST
def item_document(request, number):
    require(request.user, "custprop.edit")

    def act(item, data):
        document = services.document_add(user=request.user, item=item, upload=data["file"], name=data["name"])
        return _("%(name)s attached.") % {"name": document.name}

    return _step(request, number, DocumentForm(request.POST, request.FILES), "document_form", act)


@login_required
@require_POST
def item_return(request, number):
    require(request.user, "custprop.edit")

    def act(item, data):
        services.item_return(
            user=request.user,
            item=item,
            returned_on=data["returned_on"],
            returned_to=data["returned_to"],
            note=data["note"],
        )
        return _("Return recorded: the item is no longer in our keeping.")

    return _step(request, number, ReturnForm(request.POST), "return_form", act)


@login_required
@require_POST
def item_products(request, number):
    require(request.user, "custprop.edit")

    def act(item, data):
        services.item_set_products(user=request.user, item=item, products=data["products"])
        return _("The products it is used for are saved.")

    return _step(request, number, ProductsForm(request.POST), "products_form", act)


@login_required
def item_file(request, number, pk):
    require(request.user, "custprop.view")
    document = get_object_or_404(PropertyDocument.objects.select_related("item"), pk=pk)
    if document.item.number != number:
        raise Http404
    handle = document.file.open("rb")
    head = handle.read(16)
    handle.seek(0)
    kind = next((k for signature, k in SCAN_SIGNATURES.items() if head.startswith(signature)), None)
    content_type = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "tif": "image/tiff"}.get(
        kind, "application/octet-stream"
    )
    # Only checked PDFs and images are stored; anything else is offered as a download, never shown inline.
    response = FileResponse(
        handle, content_type=content_type, as_attachment=kind is None, filename=document.file.name.split("/")[-1]
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
