"""One delivery-note PDF (A4 and the 241 mm form), and fifty notes as one PDF: WeasyPrint with the CJK font."""

import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.models import Customer, DeliveryAddress, Product
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
from delivery.printing import _notes, notes_pdf
from orders.models import Order, OrderLine

TITLE = "Delivery-note PDFs"
DEFAULT_ROWS = 50
HEADERS = ["document", "notes", "median s", "pages", "KiB", "notes"]
REPEAT = 7


def build(n: int):
    user = get_user_model().objects.create(username="bench_notes")
    today = timezone.localdate()
    customer = Customer.objects.create(code="BN-1", name_zh="东莞宏达电子有限公司", name_en="Hongda", status="active")
    address = DeliveryAddress.objects.create(customer=customer, label="总厂", address="广东省东莞市长安镇1号")
    products = [Product.objects.create(code=f"BN-P{i}", name=f"灯罩外壳 {i}", spec="Φ300 PC 白色") for i in range(8)]
    order = Order.objects.create(
        number="SO-BN-1",
        customer=customer,
        customer_po="PO-1",
        created_by=user,
        status="confirmed",
        delivery_address=address,
    )
    lines = [
        OrderLine.objects.create(
            order=order, position=i + 1, product=p, quantity=Decimal(10_000), unit_price=1, requested_date=today
        )
        for i, p in enumerate(products)
    ]
    ids = []
    for k in range(n):
        note = DeliveryNote.objects.create(
            number=f"DN-B-{k:05d}", customer=customer, address=address, delivery_date=today, issued_by=user
        )
        for line in lines:
            batch = DeliveryBatch.objects.create(line=line, quantity=10, due_date=today + timedelta(k), created_by=user)
            DeliveryNoteLine.objects.create(note=note, batch=batch, quantity=10)
        ids.append(note.pk)
    return ids


def timed(fn):
    times, result = [], None
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(rows: int, *, memory: bool):
    from io import BytesIO

    from pypdf import PdfReader

    ids = build(rows)
    one = _notes(ids[:1])
    table = []
    notes_pdf(one, "a4")  # warm-up: fonts loaded once per process
    for layout, label in (
        ("a4", "one note, A4 (with the vehicle dispatch request)"),
        ("form241", "one note, 241 mm form"),
    ):
        median, pdf = timed(lambda layout=layout: notes_pdf(one, layout))
        pages = len(PdfReader(BytesIO(pdf)).pages)
        table.append([label, 1, f"{median:.3f}", pages, f"{len(pdf) / 1024:.0f}", "8 lines"])
    many = _notes(ids)
    started = time.perf_counter()
    pdf = notes_pdf(many, "form241")
    elapsed = time.perf_counter() - started
    table.append(
        [
            f"{rows} notes as one PDF",
            rows,
            f"{elapsed:.3f}",
            len(PdfReader(BytesIO(pdf)).pages),
            f"{len(pdf) / 1024:.0f}",
            "one run",
        ]
    )
    from django.conf import settings

    footnote = f"Median of {REPEAT} renders after a warm-up; WeasyPrint with the font {settings.PDF_CJK_FONT}."
    return HEADERS, table, [footnote]
