"""Hand-built records of several forms, dated inside and outside a period (2025-03-01 – 2025-03-31)."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from complaints.models import Complaint, ComplaintAttachment
from customers.models import Customer, CustomerEvaluation, DeliveryAddress, Product, Quotation
from delivery.models import DeliveryNote, SignBack
from orders import services as order_services
from orders.models import Memo

START, END = date(2025, 3, 1), date(2025, 3, 31)
INSIDE = (date(2025, 3, 1), date(2025, 3, 31))  # both ends of the period count
OUTSIDE = date(2025, 4, 1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def at(day: date, hour=10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(timezone.get_current_timezone_name()))


@pytest.fixture
def customer(db):
    return Customer.objects.create(code="C-0001", name_zh="东莞宏达电子", name_en="Hongda", status="active")


@pytest.fixture
def memos(users):
    made = []
    for day in (*INSIDE, OUTSIDE):
        memo = order_services.memo_issue(
            user=users["cs"],
            topic=Memo.Topic.OTHER,
            subject=f"包装改善通知 {day}",
            body="会议决定:包装箱加隔板。",
            departments=["pmc", "quality"],
        )
        Memo.objects.filter(pk=memo.pk).update(issued_at=at(day))
        made.append(Memo.objects.get(pk=memo.pk))
    return made


@pytest.fixture
def quotations(users, customer):
    product = Product.objects.create(code="P-1", name="灯罩")
    return [
        Quotation.objects.create(
            customer=customer,
            product=product,
            reference=reference,
            unit_price=Decimal("1.50"),
            valid_from=day,
            valid_to=day,
            created_by=users["marketing"],
        )
        for reference, day in (("=HYPERLINK(1)", INSIDE[0]), ("Q-2", INSIDE[1]), ("Q-3", OUTSIDE))
    ]


@pytest.fixture
def complaints(users, customer):
    made = []
    for n, day in enumerate((*INSIDE, OUTSIDE), 1):
        complaint = Complaint.objects.create(
            number=f"CC-2025-{n:04d}",
            customer=customer,
            received_on=day,
            description="来料划伤 scratches",
            category=Complaint.Category.QUALITY,
            department="quality",
            recorded_by=users["cs"],
        )
        attachment = ComplaintAttachment(complaint=complaint, name="photo.pdf", uploaded_by=users["cs"])
        attachment.file.save("photo.pdf", ContentFile(PDF + complaint.number.encode()), save=True)
        made.append(complaint)
    return made


@pytest.fixture
def sign_backs(users, customer):
    address = DeliveryAddress.objects.create(customer=customer, label="仓库", address="东莞", is_default=True)
    made = []
    for n, day in enumerate((*INSIDE, OUTSIDE), 1):
        note = DeliveryNote.objects.create(
            number=f"DN-{n:04d}", customer=customer, address=address, delivery_date=day, issued_by=users["cs"]
        )
        sign_back = SignBack(note=note, signed_by_name="张伟", signed_on=day, recorded_by=users["cs"])
        sign_back.scan.save("scan.PDF", ContentFile(PDF + note.number.encode()), save=True)
        made.append(sign_back)
    return made


@pytest.fixture
def evaluation(users, customer):
    return CustomerEvaluation.objects.create(
        customer=customer,
        version=1,
        status=CustomerEvaluation.Status.APPROVED,
        business_scope="塑胶外壳 plastic housings",
        established_year=2003,
        registered_capital="500万元",
        employees=320,
        certifications="ISO 9001",
        expected_annual_volume="120万只",
        proposed_payment_terms="月结60天",
        credit_rating=CustomerEvaluation.Credit.GOOD,
        quality_requirements="AQL 0.65",
        environmental_requirements="RoHS 2.0",
        risks="单一客户依赖",
        recommendation="建议合作",
        created_by=users["marketing"],
        submitted_by=users["marketing"],
        submitted_at=at(INSIDE[0], 9),
        decided_by=users["head"],
        decided_at=at(INSIDE[0], 11),
        decision_comment="同意",
        filed_by=users["cs"],
        filed_at=at(INSIDE[0], 15),
    )


def open_archive(data: bytes):
    archive = zipfile.ZipFile(io.BytesIO(data))
    book = openpyxl.load_workbook(io.BytesIO(archive.read("index.xlsx")))
    rows = list(book.active.iter_rows(values_only=True))
    return archive, rows[0], rows[1:]
