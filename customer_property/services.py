"""State changes of the customer property register (客供品, §5.10.3): register an item, add the customer's
documents, check it, record damage or loss (the customer is told and the departments get a memo), return it.

Each change that two people may make at once reads the item with its row locked (``select_for_update``): an item
returned by one person cannot be checked or returned by another in the same moment, and a damage found by two
checks at once is told to the customer once. Checks, incidents and documents are written once and never edited;
the item's own versions are kept by simple_history with who made them.

Numbers: KG-YYYY-NNNN (客供) per year of receipt without gaps, from a locked counter row (as complaints).
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import Dept, can, require
from common.errors import DomainError
from common.numbering import next_in_year
from common.uploads import clean_scan_upload
from customer_property.models import (
    COUNTED_KINDS,
    INCIDENT_CONDITIONS,
    TOOL_KINDS,
    Condition,
    Kind,
    PropertyCheck,
    PropertyCounter,
    PropertyDocument,
    PropertyIncident,
    PropertyItem,
)
from customers.models import CommunicationLog, Customer, Product
from customers.services import communication_add

MAX_DOCUMENTS = 10
# The departments told of a damage or loss unless the reporter chooses others: the customer's people (Marketing,
# Customer Service), who keeps it (Warehouse), Quality, production planning; Technical too for tools.
INCIDENT_DEPARTMENTS = (Dept.MARKETING, Dept.CS, Dept.WAREHOUSE, Dept.QA, Dept.PMC)


def default_departments(kind: str) -> list[str]:
    departments = list(INCIDENT_DEPARTMENTS)
    if kind in TOOL_KINDS:
        departments.append(Dept.TECH)
    return sorted(departments)


def next_item_number(received_on: date) -> str:
    return f"KG-{received_on.year}-{next_in_year(PropertyCounter, received_on.year):04d}"


# --- Who may do what (the pages show the forms by the same rules) -------------------------------------------


def may_edit(user) -> bool:
    """Register, add documents, report damage or loss, return: Warehouse, Technical, Quality."""
    return can(user, "custprop.edit")


def may_check(user) -> bool:
    """The periodic check: Warehouse, Quality."""
    return can(user, "custprop.check")


# --- Checks shared by the steps -----------------------------------------------------------------------------


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, code=field)
    if "\x00" in value:
        raise DomainError(_("The text contains a character that cannot be stored."), code=field)
    return value


def _not_in_future(day: date | None, field: str, what: str) -> date:
    if day is None:
        raise DomainError(_("Give the date: %(what)s.") % {"what": what}, code=field)
    if day > timezone.localdate():
        raise DomainError(_("The date is in the future: %(what)s.") % {"what": what}, code=field)
    return day


def _check_upload(upload) -> None:
    from django.conf import settings

    try:
        clean_scan_upload(upload, max_mb=settings.ORDER_ORIGINAL_MAX_MB)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="documents") from None


def _locked(item: PropertyItem) -> PropertyItem:
    return PropertyItem.objects.select_for_update(of=("self",)).select_related("customer").get(pk=item.pk)


def _not_returned(item: PropertyItem) -> None:
    if item.returned_on is not None:
        raise DomainError(
            _("%(number)s was returned to the customer on %(date)s: nothing more can be recorded on it.")
            % {"number": item.number, "date": item.returned_on.isoformat()},
            code="returned",
        )


def _save(item: PropertyItem, user, fields: list[str]) -> PropertyItem:
    item._history_user = user  # the history says who, also outside a request (demo data, commands)
    item.save(update_fields=fields)
    return item


def _store_document(item: PropertyItem, upload, user, name: str = "") -> PropertyDocument:
    document = PropertyDocument(
        item=item,
        name=(name.strip() or getattr(upload, "original_name", "") or upload.name or "file")[:200],
        uploaded_by=user,
    )
    document.file.save(upload.name, upload, save=False)
    document.save()
    return document


def _flag_mould_products(item: PropertyItem, products: list[Product], user) -> None:
    """A mould registered for a product marks the product "customer-owned mould" (客户私模) with its owner: the
    register is the evidence. The flag is never cleared here: a product whose mould went back is still made with
    the customer's mould, and its review then warns that the mould is not in the register."""
    for product in Product.objects.select_for_update().filter(pk__in=[p.pk for p in products]):
        if product.customer_owned_mould and product.mould_owner_id == item.customer_id:
            continue
        product.customer_owned_mould = True
        if product.mould_owner_id is None:
            product.mould_owner = item.customer
        product._history_user = user
        product.save(update_fields=["customer_owned_mould", "mould_owner"])


# --- Register -------------------------------------------------------------------------------------------------


def item_register(
    *,
    user,
    customer: Customer,
    kind: str,
    name: str,
    location: str,
    received_on: date,
    received_by=None,
    customer_ref: str = "",
    mould_no: str = "",
    cavities: int | None = None,
    quantity: Decimal | None = None,
    unit: str = "",
    products=(),
    notes: str = "",
    documents=(),
) -> PropertyItem:
    """Warehouse (or Technical, Quality) registers what the customer lent or supplied, on the day received."""
    require(user, "custprop.edit")
    if kind not in Kind.values:
        raise DomainError(_("Choose what kind of property it is."), code="kind")
    name = _text(name, "name", _("Name the item."))
    location = _text(location, "location", _("Say where it is kept."))
    _not_in_future(received_on, "received_on", _("received on"))
    mould_no = (mould_no or "").strip()
    unit = (unit or "").strip()
    if kind in TOOL_KINDS:
        if cavities is not None and cavities < 1:
            raise DomainError(_("The number of cavities is a whole number from 1."), code="cavities")
        if kind == Kind.MOULD and not mould_no:
            raise DomainError(_("Give the mould number."), code="mould_no")
    else:
        if cavities is not None:
            raise DomainError(_("Only moulds and fixtures have cavities."), code="cavities")
        if mould_no:
            raise DomainError(_("Only moulds and fixtures have a mould / fixture number."), code="mould_no")
    if kind in COUNTED_KINDS:
        if quantity is None or quantity <= 0:
            raise DomainError(_("Give the quantity received."), code="quantity")
        if not unit:
            raise DomainError(_("Give the unit of the quantity."), code="unit")
    elif quantity is not None or unit:
        raise DomainError(_("Only materials and packaging are counted in a quantity."), code="quantity")
    products = list(products)
    documents = list(documents)
    if len(documents) > MAX_DOCUMENTS:
        raise DomainError(_("Attach at most %(n)s files at once.") % {"n": MAX_DOCUMENTS}, code="documents")
    for upload in documents:
        _check_upload(upload)
    if kind == Kind.MOULD:
        others = sorted(p.code for p in products if p.mould_owner_id not in (None, customer.pk))
        if others:
            raise DomainError(
                _("The mould of these products belongs to another customer: %(list)s.") % {"list": ", ".join(others)},
                code="products",
            )
    try:
        with transaction.atomic():
            if mould_no and (
                PropertyItem.objects.select_for_update()
                .filter(customer=customer, mould_no=mould_no, returned_on__isnull=True)
                .exists()
            ):
                raise DomainError(
                    _("%(customer)s's %(no)s is already in the register.")
                    % {"customer": customer.code, "no": mould_no},
                    code="mould_no",
                )
            item = PropertyItem(
                number=next_item_number(received_on),
                customer=customer,
                kind=kind,
                name=name,
                customer_ref=(customer_ref or "").strip(),
                mould_no=mould_no,
                cavities=cavities if kind in TOOL_KINDS else None,
                quantity=quantity if kind in COUNTED_KINDS else None,
                unit=unit if kind in COUNTED_KINDS else "",
                location=location,
                notes=(notes or "").strip(),
                received_on=received_on,
                received_by=received_by or user,
                recorded_by=user,
            )
            item._history_user = user
            item.save()
            item.products.set(products)
            if kind == Kind.MOULD and products:
                _flag_mould_products(item, products, user)
            for upload in documents:
                _store_document(item, upload, user)
    except IntegrityError as error:  # two people registering the same mould number at once
        raise DomainError(
            _("%(customer)s's %(no)s is already in the register.") % {"customer": customer.code, "no": mould_no},
            code="mould_no",
        ) from error
    return item


def item_set_products(*, user, item: PropertyItem, products) -> PropertyItem:
    """The products the item is used for, as they are now (a mould used for a new product, a product retired).
    The item's history keeps each list with who set it; a mould flags its new products customer-owned."""
    require(user, "custprop.edit")
    products = list(products)
    with transaction.atomic():
        item = _locked(item)
        _not_returned(item)
        if item.kind == Kind.MOULD:
            others = sorted(p.code for p in products if p.mould_owner_id not in (None, item.customer_id))
            if others:
                raise DomainError(
                    _("The mould of these products belongs to another customer: %(list)s.")
                    % {"list": ", ".join(others)},
                    code="products",
                )
        before = set(item.products.values_list("pk", flat=True))
        if before == {p.pk for p in products}:
            raise DomainError(_("These are already the products it is used for."), code="products")
        item._history_user = user
        item.products.set(products)
        if item.kind == Kind.MOULD:
            _flag_mould_products(item, [p for p in products if p.pk not in before], user)
    return item


def document_add(*, user, item: PropertyItem, upload, name: str = "") -> PropertyDocument:
    """A document of the customer's about the item (drawing, list, handover form): a PDF or an image."""
    require(user, "custprop.edit")
    if upload is None:
        raise DomainError(_("Choose the file to attach."), code="file")
    _check_upload(upload)
    with transaction.atomic():
        item = _locked(item)
        _not_returned(item)
        return _store_document(item, upload, user, name)


# --- Checks, damage and loss ----------------------------------------------------------------------------------


def _incident(
    *,
    user,
    item: PropertyItem,
    kind: str,
    found_on: date,
    description: str,
    told_by: str,
    departments,
    capability: str,
    check=None,
) -> PropertyIncident:
    """Record damage or loss, tell the customer (a communication-log entry) and the departments (a memo), once.
    Inside the caller's transaction, with the item locked; ``capability`` is the one the caller required."""
    from orders.memos import both
    from orders.models import Memo
    from orders.services import memo_issue

    if told_by not in CommunicationLog.Channel.values:
        raise DomainError(_("Say how the customer was told."), code="told_by")
    departments = sorted(set(departments or default_departments(item.kind)))
    unknown = [d for d in departments if d not in Dept.values]
    if unknown:
        raise DomainError(_("Unknown department: %(codes)s.") % {"codes": ", ".join(unknown)}, code="departments")
    customer = item.customer
    params = {
        "number": item.number,
        "what": item.identification,
        "customer": f"{customer.code} {customer.display_name}",
    }
    if kind == Condition.LOST:
        headline = both(gettext_noop("Customer property lost: %(number)s %(what)s (%(customer)s)"), **params)
    else:
        headline = both(gettext_noop("Customer property damaged: %(number)s %(what)s (%(customer)s)"), **params)
    # The customer's own log (§5.10.1), written through its service by the person who told the customer, as part
    # of the incident. By hand only Marketing and Customer Service add entries (commlog.add); the people who find
    # damage are Warehouse, Quality and Technical, so the service checks the capability of this step instead.
    entry = communication_add(
        user=user,
        entry=CommunicationLog(
            customer=customer, date=timezone.localdate(), channel=told_by, summary=f"{headline}\n{description}"
        ),
        capability=capability,
    )
    body = "\n".join(
        [
            headline,
            f"{both(gettext_noop('Found on'))}: {found_on.isoformat()}",
            f"{both(gettext_noop('Kept at'))}: {item.location}",
            f"{both(gettext_noop('Customer told by'))}: {CommunicationLog.Channel(told_by).label}",
            "",
            description,
        ]
    )
    memo = memo_issue(user=user, topic=Memo.Topic.OTHER, subject=headline[:200], body=body, departments=departments)
    incident = PropertyIncident(
        item=item,
        kind=kind,
        found_on=found_on,
        description=description,
        check_record=check,
        told_by=told_by,
        communication=entry,
        memo=memo,
        reported_by=user,
    )
    incident._history_user = user
    incident.save()
    return incident


def item_check(
    *,
    user,
    item: PropertyItem,
    checked_on: date,
    condition: str,
    notes: str = "",
    location: str = "",
    told_by: str = "",
    departments=None,
) -> PropertyCheck:
    """Warehouse or Quality checks the item (§5.10.3: periodic checks). The condition found becomes the item's; a
    new damage or loss is an incident: the customer is told and the departments get a memo (once, even when two
    checks find it at once: the second sees the item already damaged)."""
    require(user, "custprop.check")
    if condition not in Condition.values:
        raise DomainError(_("Choose the condition found."), code="condition")
    _not_in_future(checked_on, "checked_on", _("checked on"))
    notes = (notes or "").strip()
    location = (location or "").strip()
    if condition in INCIDENT_CONDITIONS:
        notes = _text(notes, "notes", _("Describe the damage or loss found: it is sent to the customer's log."))
    with transaction.atomic():
        item = _locked(item)
        _not_returned(item)
        if checked_on < item.received_on:
            raise DomainError(
                _("The item cannot be checked before it was received (%(date)s).")
                % {"date": item.received_on.isoformat()},
                code="checked_on",
            )
        if item.last_checked_on and checked_on < item.last_checked_on:
            raise DomainError(
                _("A later check is already recorded (%(date)s): record this one as a new check of today.")
                % {"date": item.last_checked_on.isoformat()},
                code="checked_on",
            )
        new_incident = condition in INCIDENT_CONDITIONS and condition != item.condition
        check = PropertyCheck(
            item=item,
            checked_on=checked_on,
            checked_by=user,
            condition_found=condition,
            location=location,
            notes=notes,
        )
        check._history_user = user
        check.save()
        if new_incident:
            _incident(
                user=user,
                item=item,
                kind=condition,
                found_on=checked_on,
                description=notes,
                told_by=told_by,
                departments=departments,
                capability="custprop.check",
                check=check,
            )
        item.condition = condition
        item.last_checked_on = checked_on
        fields = ["condition", "last_checked_on"]
        if location and location != item.location:
            item.location = location
            fields.append("location")
        _save(item, user, fields)
    return check


def incident_report(
    *, user, item: PropertyItem, kind: str, found_on: date, description: str, told_by: str, departments=None
) -> PropertyIncident:
    """Damage or loss found outside a check (in production, in the warehouse): recorded, the customer told, the
    departments given a memo; the item's condition becomes what happened."""
    require(user, "custprop.edit")
    if kind not in INCIDENT_CONDITIONS:
        raise DomainError(_("Say whether the item was damaged or lost."), code="kind")
    _not_in_future(found_on, "found_on", _("found on"))
    description = _text(description, "description", _("Describe what happened: it is sent to the customer's log."))
    with transaction.atomic():
        item = _locked(item)
        _not_returned(item)
        if found_on < item.received_on:
            raise DomainError(
                _("It cannot have happened before the item was received (%(date)s).")
                % {"date": item.received_on.isoformat()},
                code="found_on",
            )
        if item.condition == Condition.LOST:
            raise DomainError(
                _("%(number)s is already recorded as lost. A check records it when it is found again.")
                % {"number": item.number},
                code="kind",
            )
        incident = _incident(
            user=user,
            item=item,
            kind=kind,
            found_on=found_on,
            description=description,
            told_by=told_by,
            departments=departments,
            capability="custprop.edit",
        )
        item.condition = kind
        _save(item, user, ["condition"])
    return incident


# --- Return ---------------------------------------------------------------------------------------------------


def item_return(*, user, item: PropertyItem, returned_on: date, returned_to: str, note: str = "") -> PropertyItem:
    """The item goes back to the customer: the end of its register entry. Once only, even when two people
    record it at once (the row lock)."""
    require(user, "custprop.edit")
    _not_in_future(returned_on, "returned_on", _("returned on"))
    returned_to = _text(returned_to, "returned_to", _("Say to whom it was handed back."))
    with transaction.atomic():
        item = _locked(item)
        _not_returned(item)
        if item.condition == Condition.LOST:
            raise DomainError(_("A lost item cannot be handed back."), code="returned_on")
        if returned_on < item.received_on:
            raise DomainError(
                _("It cannot be returned before it was received (%(date)s).") % {"date": item.received_on.isoformat()},
                code="returned_on",
            )
        item.returned_on = returned_on
        item.returned_to = returned_to
        item.return_note = (note or "").strip()
        item.returned_by = user
        item.returned_at = timezone.now()
        return _save(item, user, ["returned_on", "returned_to", "return_note", "returned_by", "returned_at"])
