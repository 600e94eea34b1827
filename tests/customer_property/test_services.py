"""The register's rules (§5.10.3): what identifies each kind, dates not in the future, checks on kept items only,
damage and loss told to the customer and the departments exactly once, returns that end the entry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from common.errors import DomainError
from customer_property import services
from customer_property.models import PropertyIncident, PropertyItem
from customers.models import CommunicationLog
from orders.models import Memo, MemoReceipt
from tests.customer_property.conftest import TODAY, check, material, pdf

pytestmark = [pytest.mark.clause("5.10.3"), pytest.mark.django_db]


def test_it_registers_a_mould_numbered_per_year_with_its_documents(register, lamp, users):
    item = register(products=[lamp], documents=[pdf()])
    assert item.number == f"KG-{item.received_on.year}-0001"
    assert item.received_by == users["warehouse"] and item.recorded_by == users["warehouse"]
    assert list(item.products.all()) == [lamp]
    assert item.documents.get().name == "drawing.pdf"
    assert item.documents.get().file.name.startswith("customer_property/")
    assert register(mould_no="M-0002").number.endswith("-0002")


def test_cavities_only_for_moulds_and_fixtures_and_a_positive_whole_number(register):
    with pytest.raises(DomainError) as error:
        register(**material(cavities=2))
    assert error.value.code == "cavities"
    with pytest.raises(DomainError) as error:
        register(cavities=0)
    assert error.value.code == "cavities"
    assert register(kind="fixture", mould_no="F-1", cavities=2).cavities == 2
    assert PropertyItem.objects.count() == 1


def test_the_database_refuses_cavities_on_a_material_too(register):
    item = register(**material())
    with pytest.raises(IntegrityError), transaction.atomic():
        PropertyItem.objects.filter(pk=item.pk).update(cavities=2)


def test_a_mould_needs_its_number_and_materials_their_quantity(register):
    with pytest.raises(DomainError) as error:
        register(mould_no="")
    assert error.value.code == "mould_no"
    with pytest.raises(DomainError) as error:
        register(**material(quantity=None))
    assert error.value.code == "quantity"
    with pytest.raises(DomainError) as error:
        register(**material(unit=""))
    assert error.value.code == "unit"
    with pytest.raises(DomainError) as error:
        register(quantity=Decimal("1"), unit="PCS")
    assert error.value.code == "quantity"
    with pytest.raises(DomainError) as error:
        register(**material(mould_no="X-1"))
    assert error.value.code == "mould_no"


def test_the_same_mould_number_of_a_customer_is_kept_once(register, users):
    first = register()
    with pytest.raises(DomainError):
        register()
    services.item_return(user=users["warehouse"], item=first, returned_on=TODAY, returned_to="陈先生")
    assert register().number.endswith("-0002")  # handed back, then lent again


def test_dates_are_not_in_the_future(register, users):
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(DomainError) as error:
        register(received_on=tomorrow)
    assert error.value.code == "received_on"
    item = register()
    with pytest.raises(DomainError) as error:
        check(users, item, on=tomorrow)
    assert error.value.code == "checked_on"
    with pytest.raises(DomainError) as error:
        services.incident_report(
            user=users["qa"], item=item, kind="damaged", found_on=tomorrow, description="x", told_by="phone"
        )
    assert error.value.code == "found_on"
    with pytest.raises(DomainError) as error:
        services.item_return(user=users["warehouse"], item=item, returned_on=tomorrow, returned_to="陈先生")
    assert error.value.code == "returned_on"


def test_a_check_cannot_be_before_the_receipt_or_the_last_check(register, users):
    item = register()
    with pytest.raises(DomainError):
        check(users, item, on=item.received_on - timedelta(days=1))
    check(users, item, on=TODAY - timedelta(days=2))
    with pytest.raises(DomainError):
        check(users, item, on=TODAY - timedelta(days=3))


def test_a_check_records_the_condition_and_where_it_was_found(register, users):
    item = register()
    checked = check(users, item, "needs_repair", location="模具房 B-01", notes="顶针磨损")
    item.refresh_from_db()
    assert (item.condition, item.last_checked_on, item.location) == ("needs_repair", TODAY, "模具房 B-01")
    assert checked.checked_by == users["warehouse"] and checked.recorded_at is not None
    assert not PropertyIncident.objects.exists()  # needing repair is ours to deal with, not an incident


def test_a_returned_item_cannot_be_checked_reported_returned_or_given_documents(register, users):
    item = register()
    services.item_return(user=users["warehouse"], item=item, returned_on=TODAY, returned_to="陈先生", note="完好")
    item.refresh_from_db()
    assert item.returned_by == users["warehouse"] and item.returned_at is not None
    for attempt in (
        lambda: check(users, item),
        lambda: services.incident_report(
            user=users["qa"], item=item, kind="lost", found_on=TODAY, description="x", told_by="phone"
        ),
        lambda: services.item_return(user=users["warehouse"], item=item, returned_on=TODAY, returned_to="x"),
        lambda: services.document_add(user=users["warehouse"], item=item, upload=pdf()),
    ):
        with pytest.raises(DomainError) as error:
            attempt()
        assert error.value.code == "returned"
    assert not item.checks.exists() and not item.documents.exists()


def test_a_check_finding_damage_tells_the_customer_and_the_departments_once(register, users, acme):
    item = register()
    found = check(users, item, "damaged", who="qa", notes="型腔边缘崩缺 2 mm")
    incident = found.incident
    assert incident.kind == "damaged" and incident.found_on == TODAY and incident.reported_by == users["qa"]
    entry = CommunicationLog.objects.get()
    assert entry == incident.communication and entry.customer == acme and entry.channel == "email"
    assert item.number in entry.summary and "型腔边缘崩缺 2 mm" in entry.summary and entry.user == users["qa"]
    memo = Memo.objects.get()
    assert memo == incident.memo and memo.topic == Memo.Topic.OTHER and memo.order is None
    assert item.number in memo.subject and "M-0001" in memo.body
    assert sorted(memo.departments) == services.default_departments("mould")
    assert MemoReceipt.objects.filter(memo=memo).count() == len(memo.departments)
    # The same damage found again at the next check is not told twice.
    check(users, item, "damaged", who="qa", notes="仍然崩缺")
    assert (PropertyIncident.objects.count(), CommunicationLog.objects.count(), Memo.objects.count()) == (1, 1, 1)
    # A loss afterwards is a new incident.
    check(users, item, "lost", notes="模具房找不到")
    assert (PropertyIncident.objects.count(), CommunicationLog.objects.count(), Memo.objects.count()) == (2, 2, 2)


def test_damage_needs_a_description_and_how_the_customer_was_told(register, users):
    item = register()
    with pytest.raises(DomainError) as error:
        check(users, item, "damaged", notes="")
    assert error.value.code == "notes"
    with pytest.raises(DomainError) as error:
        services.item_check(
            user=users["qa"], item=item, checked_on=TODAY, condition="damaged", notes="崩缺", told_by="pigeon"
        )
    assert error.value.code == "told_by"
    # Refused as a whole: no check, no log entry, no memo was left behind.
    assert not item.checks.exists() and not CommunicationLog.objects.exists() and not Memo.objects.exists()


def test_a_damage_report_outside_a_check_goes_to_the_chosen_departments(register, users):
    item = register()
    incident = services.incident_report(
        user=users["tech"],
        item=item,
        kind="damaged",
        found_on=TODAY,
        description="生产中顶针断裂",
        told_by="phone",
        departments=["technical", "quality"],
    )
    assert incident.check_record is None and incident.memo.departments == ["quality", "technical"]
    # Technical may neither add log entries by hand nor check items: the entry is written under custprop.edit.
    assert incident.communication.user == users["tech"] and incident.communication.channel == "phone"
    item.refresh_from_db()
    assert item.condition == "damaged"
    lost = services.incident_report(
        user=users["qa"], item=item, kind="lost", found_on=TODAY, description="失窃", told_by="email"
    )
    assert lost.kind == "lost"
    with pytest.raises(DomainError):  # already lost: a check records it when it turns up
        services.incident_report(
            user=users["qa"], item=item, kind="lost", found_on=TODAY, description="again", told_by="email"
        )
    with pytest.raises(DomainError):
        services.item_return(user=users["warehouse"], item=item, returned_on=TODAY, returned_to="陈先生")
    assert PropertyIncident.objects.count() == 2


def test_who_may_do_what_in_the_services(register, users):
    item = register()
    for name in ("marketing", "cs", "pmc", "admin", "tech"):
        with pytest.raises(PermissionDenied):
            check(users, item, who=name)
    for name in ("marketing", "cs", "pmc", "admin"):
        with pytest.raises(PermissionDenied):
            register(user=users[name], mould_no=f"M-{name}")
        with pytest.raises(PermissionDenied):
            services.item_return(user=users[name], item=item, returned_on=TODAY, returned_to="x")
        with pytest.raises(PermissionDenied):
            services.incident_report(
                user=users[name], item=item, kind="lost", found_on=TODAY, description="x", told_by="email"
            )
    check(users, item, who="qa")
    register(user=users["tech"], mould_no="M-tech")


def test_a_mould_flags_its_products_customer_owned(register, lamp, users, other, acme):
    register(products=[lamp])
    lamp.refresh_from_db()
    assert lamp.customer_owned_mould and lamp.mould_owner == acme
    assert lamp.history.first().history_user == users["warehouse"]
    # Another customer's mould for the same product is refused: the mould owner is ACME.
    with pytest.raises(DomainError) as error:
        register(customer=other, mould_no="M-9", products=[lamp])
    assert error.value.code == "products"
    # Materials do not flag a product.
    from customers.models import Product

    base = Product.objects.create(code="P-BASE", name="底座")
    register(**material(products=[base]))
    base.refresh_from_db()
    assert not base.customer_owned_mould


def test_a_document_must_be_a_pdf_or_an_image(register, users):
    item = register()
    with pytest.raises(DomainError):
        services.document_add(user=users["qa"], item=item, upload=pdf("x.pdf", b"<html>not a pdf</html>"))
    document = services.document_add(user=users["qa"], item=item, upload=pdf(), name="交接单")
    assert document.name == "交接单" and document.uploaded_by == users["qa"]
