"""The daily delivery-progress sheet 《订单交货进度表》 (§5.4.2) with N open order lines: reading the rows, writing
the .xlsx, the whole morning job in a fresh process (build, store, e-mail; peak memory of that process), the
sheet page and the download.

The data: N open lines (signed-off and confirmed orders, two lines each) across 200 customers, most with
production progress, about half with delivery batches and issued notes (partly delivered; a few notes
cancelled), some with delay reports (half of them settled); beside them N/2 lines that must not appear (fully
delivered lines, drafts, orders in review, cancelled orders). The bench checks that the sheet holds exactly
the N open lines and that the at-risk count matches the rule computed here in Python.
"""

import gc
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.services import departments_sync
from customers.models import Customer, DeliveryAddress, Product
from delivery import ontime
from delivery.models import DelayReport, DeliveryBatch, DeliveryNote, DeliveryNoteLine, ProductionProgress
from delivery.progress_sheet import HEADER_ROW, build_workbook, open_lines
from orders.models import Order, OrderLine

TITLE = "Daily delivery-progress sheet"
DEFAULT_ROWS = 10_000
HEADERS = ["step", "open lines", "seconds", "queries", "peak memory", "notes"]
SEED = 20250542
CUSTOMERS = 200
CHUNK = 2_000  # orders per bulk_create round
REQUESTS = 10
REPO_DIR = Path(__file__).resolve().parent.parent

# The morning job as the worker runs it, in a process of its own so that its peak RSS is the job's alone.
JOB_SCRIPT = """
import json, time
import django
django.setup()
from django.core import mail
from django.test.utils import override_settings
from django.utils import timezone
from delivery.models import DailySheetRun
from delivery.sheet_jobs import sheet_trigger

def rss_mb():
    # VmHWM: this process's peak resident memory (ru_maxrss would carry the bench parent's over the exec).
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024

before = rss_mb()
with override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    DELIVERY_SHEET_RECIPIENTS=["delivery-list@bench.example"],
):
    started = time.perf_counter()
    trigger = sheet_trigger(day=timezone.localdate())
    seconds = time.perf_counter() - started
    run = DailySheetRun.objects.get(pk=trigger.run.pk)
    size = len(mail.outbox[0].attachments[0][1]) if mail.outbox else 0
print(json.dumps({"seconds": seconds, "status": run.status, "error": run.error, "rows": run.rows,
                  "mails": len(mail.outbox), "size": size, "rss_before": before, "rss_peak": rss_mb()}))
"""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _user():
    departments_sync()
    user = get_user_model().objects.create(username="bench_cs", email="cs@bench.example")
    user.groups.set([Group.objects.get(name="customer_service")])
    return user


def build(n: int, user) -> tuple[float, int]:
    """N open lines and N/2 lines that are not open; returns (seconds, expected at-risk count)."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    today = timezone.localdate()
    customers = Customer.objects.bulk_create(
        Customer(code=f"SC-{i:04d}", name_zh=f"基准客户{i}有限公司", name_en=f"Bench customer {i}", status="active")
        for i in range(CUSTOMERS)
    )
    addresses = DeliveryAddress.objects.bulk_create(
        DeliveryAddress(customer=c, label="总厂", address="东莞市长安镇", is_default=True) for c in customers
    )
    products = Product.objects.bulk_create(Product(code=f"SP-{i:03d}", name=f"产品{i} Φ300") for i in range(80))
    open_orders = (n + 1) // 2
    closed_orders = n // 4  # two lines each: N/2 lines that must not show
    kinds = ["open"] * open_orders + ["delivered"] * (closed_orders // 2)
    kinds += ["draft", "in_review", "cancelled"] * ((closed_orders - closed_orders // 2) // 3 + 1)
    kinds = kinds[: open_orders + closed_orders]
    status_of = {"delivered": "confirmed", "draft": "draft", "in_review": "in_review", "cancelled": "cancelled"}
    at_risk = 0
    open_lines_made = 0
    note_number = 0
    for start in range(0, len(kinds), CHUNK):
        chunk = kinds[start : start + CHUNK]
        orders = Order.objects.bulk_create(
            Order(
                number=f"SO-S-{start + i:06d}",
                customer=customers[(start + i) % CUSTOMERS],
                customer_po=f"PO-{start + i}",
                delivery_address=addresses[(start + i) % CUSTOMERS],
                status=status_of.get(kind) or rng.choice(["confirmed", "confirmed", "confirmed", "signed_off"]),
                revision=1,
                created_by=user,
            )
            for i, kind in enumerate(chunk)
        )
        lines, plan = [], []
        for order, kind in zip(orders, chunk, strict=True):
            for position in (1, 2):
                if kind == "open" and open_lines_made >= n:
                    break
                requested = today + timedelta(days=rng.randint(-7, 60))
                confirmed = requested + timedelta(days=rng.randint(0, 7)) if rng.random() < 0.7 else None
                quantity = Decimal(rng.choice([500, 1000, 2000, 5000]))
                lines.append(
                    OrderLine(
                        order=order,
                        position=position,
                        product=products[rng.randrange(len(products))],
                        quantity=quantity,
                        unit_price=Decimal("1.50"),
                        requested_date=requested,
                        confirmed_date=confirmed,
                    )
                )
                plan.append(kind)
                open_lines_made += kind == "open"
        OrderLine.objects.bulk_create(lines)

        progress, batches, deliveries, delays = [], [], [], []
        for line, kind in zip(lines, plan, strict=True):
            due = line.confirmed_date or line.requested_date
            planned = None
            if rng.random() < 0.85:
                planned = due - timedelta(days=rng.randint(-3, 10))
                produced = (line.quantity * Decimal(rng.choice([0, 0.3, 0.6, 1]))).quantize(Decimal("1"))
                warehoused = min(produced, (line.quantity * Decimal(rng.choice([0, 0.5, 1]))).quantize(Decimal("1")))
                progress.append(
                    ProductionProgress(line=line, planned_completion=planned, produced=produced, warehoused=warehoused)
                )
            if kind == "delivered":
                deliveries.append((line, line.quantity, line.quantity))
            elif rng.random() < 0.5:
                part = (line.quantity * Decimal(rng.choice([0.2, 0.5]))).quantize(Decimal("1"))
                deliveries.append((line, line.quantity, part))
                # Its batch, due on the requested date, is outstanding: the line is due then (the sheet's rule).
                due = line.requested_date
            delayed = False
            if kind == "open" and rng.random() < 0.05:
                settled = rng.random() < 0.5
                delayed = not settled
                delays.append(
                    DelayReport(
                        line=line,
                        reason="模具维修 mould repair",
                        new_date=due + timedelta(days=7),
                        reported_by=user,
                        outcome="客户同意" if settled else "",
                        settled_by=user if settled else None,
                        settled_at=timezone.now() if settled else None,
                    )
                )
            if kind == "open" and ((planned is not None and planned >= due) or delayed or due < today):
                at_risk += 1
        for line, quantity, _part in deliveries:
            batches.append(DeliveryBatch(line=line, quantity=quantity, due_date=line.requested_date, created_by=user))
        DeliveryBatch.objects.bulk_create(batches)
        ProductionProgress.objects.bulk_create(progress)
        DelayReport.objects.bulk_create(delays)

        notes, note_lines = [], []
        for batch, (line, _quantity, part) in zip(batches, deliveries, strict=True):
            for cancelled in (False, True) if rng.random() < 0.05 else (False,):
                note_number += 1
                notes.append(
                    DeliveryNote(
                        number=f"DN-S-{note_number:07d}",
                        customer_id=line.order.customer_id,
                        address_id=line.order.delivery_address_id,
                        delivery_date=today - timedelta(days=rng.randint(0, 10)),
                        status="cancelled" if cancelled else "issued",
                        issued_by=user,
                    )
                )
                note_lines.append((batch, part))
        DeliveryNote.objects.bulk_create(notes)
        DeliveryNoteLine.objects.bulk_create(
            DeliveryNoteLine(note=note, batch=batch, quantity=part)
            for note, (batch, part) in zip(notes, note_lines, strict=True)
        )
        ontime.batch_state_recompute(batches)  # each batch's delivery state, as the services keep it
        ontime.line_state_recompute(lines)  # and each line's sums over its batches
    check(open_lines_made == n, f"built {open_lines_made} open lines, wanted {n}")
    return time.perf_counter() - started, at_risk


def counted(fn):
    """fn() -> (result, seconds, queries)."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return result, seconds, len(queries)


def traced_peak_mb(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def job_in_a_fresh_process() -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", JOB_SCRIPT], cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    check(result.returncode == 0, f"the job process failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def page_times(client: Client, url: str) -> tuple[float, int]:
    client.get(url, secure=True)
    times, queries = [], 0
    for _ in range(REQUESTS):
        response, seconds, queries = counted(lambda: client.get(url, secure=True))
        check(response.status_code == 200, f"{url}: {response.status_code}")
        if response.streaming:
            b"".join(response.streaming_content)
        times.append(seconds)
    return statistics.median(times), queries


def run(rows: int, *, memory: bool):
    user = _user()
    built, expected_at_risk = build(rows, user)
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum keeps them in production. Right after a bulk load without them,
        # PostgreSQL plans the delivered-quantity subquery as a scan of all note lines per line (minutes).
        cursor.execute("ANALYZE")
    today = timezone.localdate()
    table = []

    lines, seconds, queries = counted(lambda: open_lines(today))
    check(len(lines) == rows, f"the sheet has {len(lines)} lines, {rows} are open")
    at_risk = sum(line.at_risk for line in lines)
    check(at_risk == expected_at_risk, f"{at_risk} lines at risk, the rule says {expected_at_risk}")
    peak = f"{traced_peak_mb(lambda: open_lines(today)):.0f} MB" if memory else ""
    table.append(["open lines (query + rows)", f"{rows:,}", f"{seconds:.2f}", queries, peak, f"{at_risk:,} at risk"])

    data, seconds, queries = counted(lambda: build_workbook(lines, today))
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    written = sum(1 for _ in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    check(written == rows, f"the workbook holds {written} rows")
    peak = f"{traced_peak_mb(lambda: build_workbook(lines, today)):.0f} MB" if memory else ""
    size = f"{len(data) / 2**20:.1f} MB file"
    table.append(["workbook (.xlsx, write-only)", f"{rows:,}", f"{seconds:.2f}", queries, peak, size])
    lines = data = sheet = None  # free them before the job's own process runs
    gc.collect()

    job = job_in_a_fresh_process()
    check(job["status"] == "sent" and job["rows"] == rows and job["mails"] == 1, f"the job: {job}")
    table.append(
        [
            "the morning job, end to end",
            f"{rows:,}",
            f"{job['seconds']:.2f}",
            "",
            f"{job['rss_peak']:.0f} MB RSS",
            f"fresh process (Django loaded: {job['rss_before']:.0f} MB); rows, .xlsx, file, e-mail",
        ]
    )

    client = Client()
    client.force_login(user)
    median, queries = page_times(client, "/delivery/sheet/")
    table.append(["sheet page (first 100 rows)", f"{rows:,}", f"{median:.2f}", queries, "", f"median of {REQUESTS}"])
    median, queries = page_times(client, "/delivery/sheet/?risk=1&page=2")
    table.append(["sheet page, at risk, page 2", f"{rows:,}", f"{median:.2f}", queries, "", f"median of {REQUESTS}"])
    median, queries = page_times(client, "/delivery/sheet/download/")
    table.append(["download (.xlsx)", f"{rows:,}", f"{median:.2f}", queries, "", f"median of {REQUESTS}"])

    footnotes = [
        f"Data built with bulk_create in {built:.1f} s: {rows:,} open lines and {rows // 2:,} that are not open "
        "(fully delivered, draft, in review, cancelled), then ANALYZE. Aim: the morning job under 10 s and 300 MB.",
        "Peak memory: tracemalloc (Python allocations of that step, in a second traced run) for the steps; "
        "for the morning job, the peak resident memory (VmHWM) of a fresh Python process that loads Django and "
        "runs the job as the worker would (inline, e-mail to the locmem backend).",
    ]
    return HEADERS, table, footnotes
