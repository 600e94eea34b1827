"""Exporting a list as .xlsx (issue 11, "Lists people can use"): the order list with N orders, exported whole and
filtered, through Django's test client (the whole request: the view, the filters, the workbook in write-only
mode streamed from a temporary file). Time, queries, the file's size, and peak Python memory (tracemalloc): the
workbook is written row by row from ``QuerySet.iterator``, so memory should not grow with the number of rows.

Each export is opened again with openpyxl (read-only) and its rows counted against the database: a bench that
measured a wrong file would be worthless.
"""

import os
import statistics
import time
import tracemalloc
from datetime import timedelta
from io import BytesIO

from bench_orders import _users, build
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from orders.models import Order

TITLE = "List export (.xlsx)"
DEFAULT_ROWS = 20_000
HEADERS = ["export", "rows", "median s", "max s", "CPU s", "queries", "file KB", "peak MB", "notes"]
REPEATS = 3


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


def _rows_in(body: bytes) -> int:
    book = load_workbook(BytesIO(body), read_only=True)
    count = sum(1 for _ in book.worksheets[0].iter_rows(min_row=2))
    book.close()
    return count


def measure(client: Client, url: str, params: dict, expected: int, *, memory: bool):
    counted = []

    def count(execute, sql, params_, many, context):
        counted.append(1)
        return execute(sql, params_, many, context)

    times, cpu, body = [], [], b""
    for _ in range(REPEATS):
        counted.clear()
        with connection.execute_wrapper(count):
            started, started_cpu = time.perf_counter(), time.process_time()
            body = _body(client.get(url, {**params, "format": "xlsx"}, secure=True))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    rows = _rows_in(body)
    assert rows == expected, f"{url} {params}: {rows} rows in the file, {expected} in the database"
    peak = None
    if memory:
        tracemalloc.start()
        _body(client.get(url, {**params, "format": "xlsx"}, secure=True))
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return statistics.median(times), max(times), statistics.median(cpu), len(counted), len(body) / 1024, peak, rows


def run(rows: int, *, memory: bool):
    users = _users()
    built = build(rows, users)
    client = Client()
    client.force_login(users["cs"])
    today = timezone.localdate()
    # Entered over time: nine in ten orders three months ago, so a date range of the last month keeps a tenth.
    tenth = Order.objects.annotate(m=F("pk") % 10).filter(m=0).values("pk")
    Order.objects.exclude(pk__in=tenth).update(created_at=timezone.now() - timedelta(days=90))
    in_review = Order.objects.filter(status="in_review").count()
    since = today - timedelta(days=30)
    recent = Order.objects.filter(created_at__date__gte=since).count()
    cases = [
        ("all orders", {}, rows, "default order (newest first)"),
        ("all orders, sorted by customer", {"sort": "customer"}, rows, "ORDER BY customer code, pk"),
        ("status filter", {"status": "in_review"}, in_review, "status = in review"),
        ("date range", {"from": since.isoformat(), "to": today.isoformat()}, recent, "the last 30 days: a tenth"),
    ]
    load = "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    table = []
    for label, params, expected, note in cases:
        median, worst, cpu, queries, size, peak, got = measure(client, "/orders/", params, expected, memory=memory)
        table.append(
            [
                label,
                f"{got:,}",
                f"{median:.2f}",
                f"{worst:.2f}",
                f"{cpu:.2f}",
                queries,
                f"{size:,.0f}",
                "—" if peak is None else f"{peak:.1f}",
                note,
            ]
        )
    footnotes = [
        f"{rows:,} orders built with bulk_create in {built:.1f} s (bench_orders' builder). Each export requested "
        f"{REPEATS} times through Django's test client (DEBUG off), the body read to the end; the file is then "
        "opened with openpyxl and its rows counted against the database. Queries: every statement of one export "
        "(session, user, departments, then one query for the rows, read 2,000 at a time: a server-side cursor "
        "on PostgreSQL). Peak MB: tracemalloc's peak during one more export (Python allocations only; "
        "tracemalloc slows "
        "it down, so it is not timed). CPU s: this process's CPU time (the database server's work excluded); on a "
        f"shared machine the wall time also counts waiting for a CPU: load average {load} when the exports ran.",
    ]
    return HEADERS, table, footnotes
