"""The on-time delivery rate (§5.5.2) with N delivery batches: the page (24 months, chart and table) and the
late-batch list through Django's test client, beside one hand-written SQL query computing the same numbers.

The batches are spread over 26 months (the last one partly in the future) across 200 customers, with the
delivery patterns of a real plant: most delivered on time by one note, some late, some in two parts (both
before the due date, or the rest late), some only partly or not at all, a few notes cancelled and issued
again, a few cancelled orders (some batches due before the cancellation, which still count) and a few lines
with a part nobody planned. Each batch's stored delivery state is set by ``ontime.batch_state_recompute``, as the
services do. The hand-written SQL computes the figures from the delivery-note lines (not from the stored state),
following the same rule, the current month's included (batches due today, early deliveries, partial ones); the
bench stops (AssertionError) on any month where the page and the SQL disagree.
"""

import os
import random
import statistics
import time
from datetime import datetime, timedelta
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
from orders.models import Order, OrderLine, OrderRevision, SignOff

TITLE = "On-time delivery rate"
DEFAULT_ROWS = 300_000
HEADERS = ["what", "batches", "median ms", "p90 ms", "CPU ms", "queries", "notes"]
REQUESTS = 25
SEED = 20250552
CUSTOMERS = 200
LINES_PER_ORDER = 2
BATCHES_PER_LINE = 2
DAYS_BACK = 790  # due dates from about 26 months ago …
DAYS_AHEAD = 30  # … to a month ahead
CHUNK = 2_000  # orders per bulk_create round
CANCELLED = 0.02  # share of orders cancelled (on a day around their first due date)
UNPLANNED = 0.02  # share of lines with a part nobody planned in batches


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


def _cancel(cancel_days: dict, user) -> None:
    """The cancellation revision of each cancelled order (signed off once: its unplanned part counts too), dated
    on its cancellation day at 10:00 local time."""
    if not cancel_days:
        return
    OrderRevision.objects.bulk_create(
        OrderRevision(order_id=pk, number=2, kind="cancel", reason="bench", snapshot={}, created_by=user)
        for pk in cancel_days
    )
    SignOff.objects.bulk_create(SignOff(order_id=pk, revision=1, signed_by=user) for pk in cancel_days)
    zone = timezone.get_current_timezone()
    for pk, day in cancel_days.items():
        at = timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10), zone)
        OrderRevision.objects.filter(order_id=pk, kind="cancel").update(created_at=at)


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
                status="cancelled" if rng.random() < CANCELLED else "confirmed",
                revision=1,
                created_by=user,
            )
            for i in range(start, min(orders_wanted, start + CHUNK))
        )
        lines, plans = [], []  # plans: per line, its batches as (quantity, due)
        cancel_days = {}  # order pk -> the day it was cancelled
        for order in orders:
            first_due = today + timedelta(days=rng.randint(-DAYS_BACK, DAYS_AHEAD))
            if order.status == "cancelled":
                cancel_days[order.pk] = min(first_due + timedelta(days=rng.randint(-5, 20)), today)
            for position in range(1, LINES_PER_ORDER + 1):
                batches = []
                for k in range(BATCHES_PER_LINE):
                    if made + len(batches) + len(plans) * BATCHES_PER_LINE >= n:
                        break
                    due = min(first_due + timedelta(days=14 * k + rng.randint(0, 3)), today + timedelta(DAYS_AHEAD))
                    batches.append((Decimal(rng.choice([200, 500, 1000, 3000])), due))
                if not batches:
                    break
                unplanned = Decimal(100) if rng.random() < UNPLANNED else Decimal(0)
                lines.append(
                    OrderLine(
                        order=order,
                        position=position,
                        product=products[rng.randrange(len(products))],
                        quantity=sum(q for q, _ in batches) + unplanned,
                        unit_price=Decimal("1.50"),
                        requested_date=first_due,
                    )
                )
                plans.append(batches)
        _cancel(cancel_days, user)
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
        ontime.batch_state_recompute(batches)  # each batch's delivery state, as the services keep it
        ontime.line_state_recompute(lines)  # and each line's sums over its batches
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started, notes_made, note_lines_made


# --- The hand-written SQL: the same numbers from the delivery-note lines, one query ---------------------------


def _local_day(column: str) -> str:
    """SQL for the local calendar day of a timestamp column (TIME_ZONE; a fixed-offset zone such as
    Asia/Shanghai on SQLite, which stores UTC text)."""
    if connection.vendor == "postgresql":
        return f"CAST(({column} AT TIME ZONE '{timezone.get_current_timezone_name()}') AS DATE)"
    offset = timezone.get_current_timezone().utcoffset(datetime(2025, 1, 1))
    return f"DATE({column}, '{int(offset.total_seconds())} seconds')"


def raw_sql_counts(first, last, today, customer=None) -> dict[str, tuple[int, int, int]]:
    """{"YYYY-MM": (due, on time, delivered late)} for the batches due from ``first`` to ``last``, by the rule of
    DESIGN.md §5.5.2 written out by hand, from the delivery-note lines (not the batches' stored state):

    * a batch is on time when issued notes dated on or before its due date carry its whole quantity; delivered
      late when issued notes carry it all but not by then; otherwise not delivered (cancelled notes count for
      nothing, a partial delivery is not a delivery);
    * a cancelled order's batch counts only when due before the day of the cancellation;
    * the part of a committed line nobody planned is one batch due on the customer's date, never delivered;
    * a batch due today or later counts only once on time (it may still be): the current month is provisional.

    Runs on PostgreSQL and SQLite (dates compared as ISO dates, months cut from their ISO text)."""
    batch, note, note_line = (m._meta.db_table for m in (DeliveryBatch, DeliveryNote, DeliveryNoteLine))
    line, order, revision, signoff = (m._meta.db_table for m in (OrderLine, Order, OrderRevision, SignOff))
    cancelled_on = (
        f"(SELECT {_local_day('r.created_at')} FROM {revision} r WHERE r.order_id = o.id AND r.kind = 'cancel'"
        " ORDER BY r.number DESC LIMIT 1)"
    )
    line_due = "COALESCE(l.confirmed_date, l.requested_date)"
    who = "AND o.customer_id = %(customer)s" if customer is not None else ""
    sql = f"""
        WITH delivered AS (
            SELECT nl.batch_id,
                   SUM(nl.quantity) AS delivered,
                   SUM(CASE WHEN n.delivery_date <= bb.due_date THEN nl.quantity ELSE 0 END) AS on_time
            FROM {note_line} nl
            JOIN {note} n ON n.id = nl.note_id
            JOIN {batch} bb ON bb.id = nl.batch_id
            WHERE n.status = 'issued' AND bb.due_date >= %(first)s AND bb.due_date <= %(last)s
            GROUP BY nl.batch_id
        ), planned AS (
            SELECT line_id, SUM(quantity) AS planned FROM {batch} GROUP BY line_id
        ), counted AS (
            SELECT b.due_date AS due, b.quantity AS quantity,
                   COALESCE(d.delivered, 0) AS delivered, COALESCE(d.on_time, 0) AS on_time
            FROM {batch} b
            JOIN {line} l ON l.id = b.line_id
            JOIN {order} o ON o.id = l.order_id
            LEFT JOIN delivered d ON d.batch_id = b.id
            WHERE b.due_date >= %(first)s AND b.due_date <= %(last)s {who}
              AND (o.status <> 'cancelled' OR b.due_date < {cancelled_on})
            UNION ALL
            SELECT {line_due}, l.quantity - COALESCE(p.planned, 0), 0, 0
            FROM {line} l
            JOIN {order} o ON o.id = l.order_id
            LEFT JOIN planned p ON p.line_id = l.id
            WHERE l.quantity > COALESCE(p.planned, 0)
              AND {line_due} >= %(first)s AND {line_due} <= %(last)s {who}
              AND (o.status IN ('signed_off', 'confirmed')
                   OR (o.status IN ('in_review', 'on_hold', 'awaiting_signoff', 'cancelled')
                       AND EXISTS (SELECT 1 FROM {signoff} s WHERE s.order_id = o.id)))
              AND (o.status <> 'cancelled' OR {line_due} < {cancelled_on})
        )
        SELECT SUBSTR(CAST(due AS TEXT), 1, 7) AS month,
               SUM(CASE WHEN due < %(today)s OR on_time >= quantity THEN 1 ELSE 0 END) AS due,
               SUM(CASE WHEN on_time >= quantity THEN 1 ELSE 0 END) AS on_time,
               SUM(CASE WHEN due < %(today)s AND on_time < quantity AND delivered >= quantity THEN 1 ELSE 0 END)
                   AS delivered_late
        FROM counted
        GROUP BY SUBSTR(CAST(due AS TEXT), 1, 7)
    """
    params = {"first": first, "last": last, "today": today, "customer": getattr(customer, "pk", None)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {month: (int(due), int(on_time), int(late)) for month, due, on_time, late in rows if due}


def correlated_counts(first, last) -> dict[str, tuple[int, int, int]]:
    """The old way, for comparison: conditional aggregation over ``batches_with_delivery()`` (correlated
    subqueries over the note lines for every batch), for months wholly before today."""
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


def _timed(fn, repeat: int) -> tuple[float, float, float, object]:
    """Median and p90 wall time, median CPU time of this process (ms), and the last result."""
    fn()
    times, cpu, result = [], [], None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.9) - 1, 0)], statistics.median(cpu), result


def measure_page(client: Client, url: str) -> tuple[float, float, float, int]:
    """Median and p90 (wall), median CPU of REQUESTS requests after 3 warm-up ones, and one request's queries."""
    counted = []

    def count(execute, sql, params, many, context):
        counted.append(1)
        return execute(sql, params, many, context)

    for _ in range(3):
        assert client.get(url, secure=True).status_code == 200, url
    times, cpu, queries = [], [], 0
    for _ in range(REQUESTS):
        counted.clear()
        with connection.execute_wrapper(count):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, url
        queries = len(counted)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], statistics.median(cpu), queries


def _as_dict(rates) -> dict[str, tuple[int, int, int]]:
    return {r.key: (r.due, r.on_time, r.delivered_late) for r in rates if r.due}


def compare(page: dict, raw: dict, what: str) -> list[list]:
    """Month by month; stops on the first difference, naming it."""
    rows = []
    for key in sorted(set(page) | set(raw)):
        mine, theirs = page.get(key), raw.get(key)
        assert mine == theirs, f"{what}, {key}: the page counts {mine}, the hand-written SQL {theirs}"
        due, on_time, late = mine
        rows.append([key, due, on_time, late, due - on_time - late, f"{on_time / due:.1%}"])
    return rows


def run(rows: int, *, memory: bool):
    user = _user()
    return measure(user, *build(rows, user))


def measure(user, built: float, notes: int, note_lines: int):
    """Time and check the page on the data built (``build``; also run on a database built before)."""
    batches = DeliveryBatch.objects.count()
    today = timezone.localdate()
    current = ontime.month_start(today)
    first = ontime.add_months(current, -(ontime.MONTHS_SHOWN - 1))
    last = ontime.month_end(current)
    in_window = DeliveryBatch.objects.filter(due_date__gte=first, due_date__lte=last).count()
    last_month = ontime.add_months(current, -1)
    customer = Customer.objects.order_by("code")[7]
    due_today = DeliveryBatch.objects.filter(due_date=today)
    if batches >= 20_000:  # the data holds what the rule is subtle about: due today (done, not yet), partial
        assert due_today.filter(delivered_on__isnull=True).exists() and due_today.filter(delivered_on=today).exists()
        assert DeliveryBatch.objects.filter(delivered_quantity__gt=0, delivered_on__isnull=True).exists()

    client = Client()
    client.force_login(user)
    table = []
    pages = [
        ("page, all customers", "/delivery/on-time/", f"24 months; {in_window:,} batches due in them; no cache"),
        ("page, one customer", f"/delivery/on-time/?customer={customer.code}", "24 months of one customer"),
        (
            "page + late list of a month",
            f"/delivery/on-time/?month={ontime.month_key(last_month)}",
            "all customers; first 50 late batches",
        ),
    ]
    page_ms = None
    for label, url, note in pages:
        median, p90, cpu, queries = measure_page(client, url)
        page_ms = page_ms or median
        table.append([label, f"{batches:,}", f"{median:.1f}", f"{p90:.1f}", f"{cpu:.1f}", queries, note])

    sel_ms, sel_p90, sel_cpu, page = _timed(lambda: _as_dict(ontime.monthly_rates(today=today)), REQUESTS)
    table.append(
        [
            "monthly_rates()",
            f"{batches:,}",
            f"{sel_ms:.1f}",
            f"{sel_p90:.1f}",
            f"{sel_cpu:.1f}",
            4,
            "what the page counts",
        ]
    )
    raw_ms, raw_p90, raw_cpu, raw = _timed(lambda: raw_sql_counts(first, last, today), 5)
    table.append(
        [
            "hand-written SQL",
            f"{batches:,}",
            f"{raw_ms:.1f}",
            f"{raw_p90:.1f}",
            f"{raw_cpu:.1f}",
            1,
            "from the note lines",
        ]
    )
    months = compare(page, raw, "all customers")
    customer_page = _as_dict(ontime.monthly_rates(customer=customer, today=today))
    compare(customer_page, raw_sql_counts(first, last, today, customer), f"customer {customer.code}")
    assert sum(v[0] for v in customer_page.values()) > 0

    before = current - timedelta(days=1)
    corr_ms, corr_p90, corr_cpu, corr = _timed(lambda: correlated_counts(first, before), 1)
    table.append(
        [
            "ORM over batches_with_delivery()",
            f"{batches:,}",
            f"{corr_ms:.1f}",
            f"{corr_p90:.1f}",
            f"{corr_cpu:.1f}",
            1,
            "the join over the note lines (not used; for comparison)",
        ]
    )
    # The old way counts the batches only (not the unplanned parts of lines): on time and delivered late agree.
    assert {k: v[1:] for k, v in corr.items()} == {k: v[1:] for k, v in raw.items() if k < ontime.month_key(current)}, (
        "batches_with_delivery() classifies differently"
    )

    print(
        "\n"
        + "\n".join(["| month | due | on time | delivered late | not delivered | rate |", "|---|---|---|---|---|---|"])
    )
    for row in months:
        print("| " + " | ".join(str(v) for v in row) + " |")
    due = sum(v[0] for v in raw.values())
    on_time = sum(v[1] for v in raw.values())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    footnotes = [
        f"Data built with bulk_create in {built:.1f} s: {batches:,} batches, {notes:,} delivery notes, "
        f"{note_lines:,} note lines, {CUSTOMERS} customers; over the 24 months {due:,} batches due, "
        f"{on_time / due:.1%} on time. The page (monthly_rates(), from the batches' stored delivery state) and the "
        "hand-written SQL (from the note lines) agree month by month, for all customers and for one (asserted; "
        "the table above).",
        f"Pages requested {REQUESTS} times after 3 warm-up requests through Django's test client in one process "
        f"(DEBUG off, no cache): times include session, middleware and template. CPU ms: this process's CPU time "
        "(on SQLite the queries run in it, so this is the cost without the waiting for a shared CPU; on PostgreSQL "
        f"the server's part is not in it). Load average when measured: {load:.1f} on {os.cpu_count()} CPUs. "
        f"Queries: every statement for one request. Page / hand-written SQL: {page_ms / raw_ms:.2f}x.",
    ]
    return HEADERS, table, footnotes
