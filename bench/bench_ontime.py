"""The on-time delivery rate (§5.5.2) with N delivery batches: the page (24 months, chart and table) and the
late-batch list through Django's test client, beside one hand-written SQL query computing the same numbers.

The batches are spread over 26 months (the last one partly in the future) across 200 customers, with the
delivery patterns of a real plant: most delivered on time by one note, some late, some in two parts (both
before the due date, or the rest late), some only partly or not at all, a few notes cancelled and issued
again, and a few cancelled orders. The bench asserts that the page's numbers and the SQL's are identical.
"""

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.test import Client
from django.utils import timezone

from accounts.services import departments_sync
from customers.models import Customer, DeliveryAddress, Product
from delivery import ontime
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
from delivery.selectors import batches_with_delivery
from orders.models import Order, OrderLine

TITLE = "On-time delivery rate"
DEFAULT_ROWS = 300_000
HEADERS = ["what", "batches", "median ms", "p90 ms", "queries", "notes"]
REQUESTS = 25
SEED = 20250552
CUSTOMERS = 200
LINES_PER_ORDER = 2
BATCHES_PER_LINE = 2
DAYS_BACK = 790  # due dates from about 26 months ago …
DAYS_AHEAD = 30  # … to a month ahead
CHUNK = 2_000  # orders per bulk_create round


def _user():
    departments_sync()
    user = get_user_model().objects.create(username="bench_cs", email="cs@bench.example")
    user.groups.set([Group.objects.get(name="customer_service")])
    return user


def _deliveries(rng: random.Random, quantity: Decimal, due, today) -> list[tuple]:
    """The delivery-note lines of one batch as (date, quantity, cancelled): a realistic mix of outcomes."""
    if due > today:  # not due yet: some already delivered early
        return [(today - timedelta(days=rng.randint(0, 3)), quantity, False)] if rng.random() < 0.3 else []
    half = (quantity / 2).quantize(Decimal("1"))
    r = rng.random()
    if r < 0.78:  # on time, one note
        events = [(due - timedelta(days=rng.randint(0, 5)), quantity, False)]
    elif r < 0.86:  # late, one note
        events = [(due + timedelta(days=rng.randint(1, 20)), quantity, False)]
    elif r < 0.90:  # part on time, the rest late
        events = [
            (due - timedelta(days=1), half, False),
            (due + timedelta(days=rng.randint(1, 10)), quantity - half, False),
        ]
    elif r < 0.93:  # two parts, both on time
        events = [(due - timedelta(days=rng.randint(2, 6)), half, False), (due, quantity - half, False)]
    elif r < 0.96:  # only part delivered so far
        events = [(due - timedelta(days=rng.randint(0, 3)), half, False)]
    else:  # nothing delivered
        events = []
    if events and rng.random() < 0.01:  # a note issued, cancelled (wrong address), issued again the day after
        day, qty, _ = events[0]
        events[0] = (day + timedelta(days=1), qty, False)
        events.append((day, qty, True))
    return [(day, qty, cancelled) for day, qty, cancelled in events if day <= today]


def build(n: int, user) -> tuple[float, int, int]:
    started = time.perf_counter()
    rng = random.Random(SEED)
    today = timezone.localdate()
    customers = Customer.objects.bulk_create(
        Customer(code=f"BC-{i:04d}", name_zh=f"基准客户{i}", name_en=f"Bench customer {i}", status="active")
        for i in range(CUSTOMERS)
    )
    addresses = DeliveryAddress.objects.bulk_create(
        DeliveryAddress(customer=c, label="总厂", address="东莞", is_default=True) for c in customers
    )
    products = Product.objects.bulk_create(Product(code=f"BP-{i:03d}", name=f"产品{i}") for i in range(50))
    per_order = LINES_PER_ORDER * BATCHES_PER_LINE
    orders_wanted = -(-n // per_order)
    made = notes_made = note_lines_made = 0
    for start in range(0, orders_wanted, CHUNK):
        orders = Order.objects.bulk_create(
            Order(
                number=f"SO-B-{i:07d}",
                customer=customers[i % CUSTOMERS],
                customer_po=f"PO-{i}",
                delivery_address=addresses[i % CUSTOMERS],
                status="cancelled" if rng.random() < 0.02 else "confirmed",
                revision=1,
                created_by=user,
            )
            for i in range(start, min(orders_wanted, start + CHUNK))
        )
        lines, plans = [], []  # plans: per line, its batches as (quantity, due)
        for order in orders:
            first_due = today + timedelta(days=rng.randint(-DAYS_BACK, DAYS_AHEAD))
            for position in range(1, LINES_PER_ORDER + 1):
                batches = []
                for k in range(BATCHES_PER_LINE):
                    if made + len(batches) + len(plans) * BATCHES_PER_LINE >= n:
                        break
                    due = min(first_due + timedelta(days=14 * k + rng.randint(0, 3)), today + timedelta(DAYS_AHEAD))
                    batches.append((Decimal(rng.choice([200, 500, 1000, 3000])), due))
                if not batches:
                    break
                lines.append(
                    OrderLine(
                        order=order,
                        position=position,
                        product=products[rng.randrange(len(products))],
                        quantity=sum(q for q, _ in batches),
                        unit_price=Decimal("1.50"),
                        requested_date=first_due,
                    )
                )
                plans.append(batches)
        lines = OrderLine.objects.bulk_create(lines)
        batches = DeliveryBatch.objects.bulk_create(
            DeliveryBatch(line=line, quantity=qty, due_date=due, created_by=user)
            for line, plan in zip(lines, plans, strict=True)
            for qty, due in plan
        )
        made += len(batches)
        # One note per customer, day and status; its lines are the batches delivered that day.
        note_keys, note_lines = {}, []
        for batch in batches:
            order = batch.line.order
            for day, qty, cancelled in _deliveries(rng, batch.quantity, batch.due_date, today):
                key = (order.customer_id, day, cancelled)
                if key not in note_keys:
                    note_keys[key] = DeliveryNote(
                        number=f"DN-B-{notes_made + len(note_keys):08d}",
                        customer_id=order.customer_id,
                        address_id=order.delivery_address_id,
                        delivery_date=day,
                        status="cancelled" if cancelled else "issued",
                        cancel_reason="wrong address" if cancelled else "",
                        issued_by=user,
                    )
                note_lines.append((key, batch, qty))
        notes = DeliveryNote.objects.bulk_create(note_keys.values())
        notes_made += len(notes)
        DeliveryNoteLine.objects.bulk_create(
            DeliveryNoteLine(note=note_keys[key], batch=batch, quantity=qty) for key, batch, qty in note_lines
        )
        note_lines_made += len(note_lines)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started, notes_made, note_lines_made


# --- The hand-written SQL: the same numbers, one query -------------------------------------------------------


def raw_sql_counts(first, last) -> dict[str, tuple[int, int, int]]:
    """{"YYYY-MM": (due, on time, delivered late)}: delivered quantities per batch in a derived table joined
    once, counted per month. Runs on PostgreSQL and SQLite (dates as ISO text on both)."""
    batch, note, note_line = (m._meta.db_table for m in (DeliveryBatch, DeliveryNote, DeliveryNoteLine))
    line, order = OrderLine._meta.db_table, Order._meta.db_table
    sql = f"""
        SELECT SUBSTR(CAST(b.due_date AS TEXT), 1, 7) AS month,
               COUNT(*) AS due,
               SUM(CASE WHEN COALESCE(d.on_time, 0) >= b.quantity THEN 1 ELSE 0 END) AS on_time,
               SUM(CASE WHEN COALESCE(d.on_time, 0) < b.quantity AND COALESCE(d.delivered, 0) >= b.quantity
                        THEN 1 ELSE 0 END) AS delivered_late
        FROM {batch} b
        JOIN {line} l ON l.id = b.line_id
        JOIN {order} o ON o.id = l.order_id
        LEFT JOIN (
            SELECT nl.batch_id,
                   SUM(nl.quantity) AS delivered,
                   SUM(CASE WHEN n.delivery_date <= bb.due_date THEN nl.quantity ELSE 0 END) AS on_time
            FROM {note_line} nl
            JOIN {note} n ON n.id = nl.note_id
            JOIN {batch} bb ON bb.id = nl.batch_id
            WHERE n.status = 'issued' AND bb.due_date >= %s AND bb.due_date <= %s
            GROUP BY nl.batch_id
        ) d ON d.batch_id = b.id
        WHERE b.due_date >= %s AND b.due_date <= %s AND o.status <> 'cancelled'
        GROUP BY SUBSTR(CAST(b.due_date AS TEXT), 1, 7)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [first, last, first, last])
        return {month: (int(due), int(on_time), int(late)) for month, due, on_time, late in cursor.fetchall()}


def correlated_counts(first, last) -> dict[str, tuple[int, int, int]]:
    """The straightforward ORM version, for comparison: conditional aggregation straight over
    ``batches_with_delivery()`` (its correlated subqueries run per batch, once per condition)."""
    on_time = Q(delivered_on_time__gte=F("quantity"))
    rows = (
        ontime.due_batches(first, last, batches=batches_with_delivery())
        .annotate(month=TruncMonth("due_date"))
        .order_by()
        .values("month")
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=on_time),
            delivered_late=Count("pk", filter=~on_time & Q(delivered__gte=F("quantity"))),
        )
    )
    return {str(r["month"])[:7]: (r["due"], r["on_time"], r["delivered_late"]) for r in rows}


# --- Measuring -----------------------------------------------------------------------------------------------


def _timed(fn, repeat: int) -> tuple[float, float, object]:
    fn()
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.9) - 1, 0)], result


def measure_page(client: Client, url: str, cold: bool = False) -> tuple[float, float, int]:
    """cold: every request follows a data change, so the cached closed months are counted again."""
    counted = []

    def count(execute, sql, params, many, context):
        counted.append(1)
        return execute(sql, params, many, context)

    for _ in range(3):
        assert client.get(url, secure=True).status_code == 200, url
    times, queries = [], 0
    for _ in range(REQUESTS):
        counted.clear()
        if cold:
            ontime.data_changed()
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
        queries = len(counted)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], queries


def _as_dict(rates) -> dict[str, tuple[int, int, int]]:
    return {r.key: (r.due, r.on_time, r.delivered_late) for r in rates if r.due}


def run(rows: int, *, memory: bool):
    user = _user()
    built, notes, note_lines = build(rows, user)
    batches = DeliveryBatch.objects.count()
    today = timezone.localdate()
    current = ontime.month_start(today)
    first = ontime.add_months(current, -(ontime.MONTHS_SHOWN - 1))
    in_window = DeliveryBatch.objects.filter(due_date__gte=first, due_date__lte=today).count()
    last_month = ontime.add_months(current, -1)
    customer = Customer.objects.order_by("code")[7]

    client = Client()
    client.force_login(user)
    table = []
    pages = [
        ("page, all customers", "/delivery/on-time/", f"24 months; {in_window:,} batches due in them"),
        (
            "page, all customers, right after a change",
            "/delivery/on-time/",
            "cached closed months invalidated before each request",
        ),
        ("page, one customer", f"/delivery/on-time/?customer={customer.code}", "24 months of one customer"),
        (
            "page + late list of a month",
            f"/delivery/on-time/?month={ontime.month_key(last_month)}",
            "all customers; first 50 late batches",
        ),
    ]
    page_ms = None
    for label, url, note in pages:
        median, p90, queries = measure_page(client, url, cold="after a change" in label)
        page_ms = page_ms or median
        table.append([label, f"{batches:,}", f"{median:.1f}", f"{p90:.1f}", queries, note])

    def counted_again():
        ontime.data_changed()
        return _as_dict(ontime.monthly_rates(today=today))

    orm_ms, orm_p90, orm = _timed(counted_again, REQUESTS)
    table.append(
        ["monthly_rates(), uncached", f"{batches:,}", f"{orm_ms:.1f}", f"{orm_p90:.1f}", 2, "what the page counts"]
    )
    raw_ms, raw_p90, raw = _timed(lambda: raw_sql_counts(first, today), REQUESTS)
    table.append(["hand-written SQL", f"{batches:,}", f"{raw_ms:.1f}", f"{raw_p90:.1f}", 1, "derived table, one query"])
    assert orm == raw, "the page's numbers differ from the hand-written SQL"
    customer_orm = _as_dict(ontime.monthly_rates(customer=customer, today=today))
    assert sum(v[0] for v in customer_orm.values()) > 0

    corr_ms, corr_p90, corr = _timed(lambda: correlated_counts(first, today), 3)
    table.append(
        [
            "ORM over batches_with_delivery()",
            f"{batches:,}",
            f"{corr_ms:.1f}",
            f"{corr_p90:.1f}",
            1,
            "correlated subqueries (not used; for comparison)",
        ]
    )
    assert corr == raw, "batches_with_delivery() classifies differently"

    due = sum(v[0] for v in raw.values())
    on_time = sum(v[1] for v in raw.values())
    footnotes = [
        f"Data built with bulk_create in {built:.1f} s: {batches:,} batches, {notes:,} delivery notes, "
        f"{note_lines:,} note lines, {CUSTOMERS} customers; over the 24 months {due:,} batches due, "
        f"{on_time / due:.1%} on time. The page, monthly_rates() and the hand-written SQL give identical "
        f"numbers (asserted); so does the ORM over batches_with_delivery().",
        f"Pages requested {REQUESTS} times after 3 warm-up requests through Django's test client in one process "
        "(DEBUG off): times include session, middleware and template. Queries: every statement for one request. "
        f"Page / hand-written SQL: {page_ms / raw_ms:.2f}x.",
    ]
    return HEADERS, table, footnotes
