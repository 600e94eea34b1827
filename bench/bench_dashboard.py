"""The managers' dashboard at volume: the page's server time (median and p95 through Django's test
client, after a warm-up request) and its queries, and the time of each figure group read alone.

The data come from the other benches' builders, in one database: bench_survey's customers with a half-year round
opened, sent and answered in full (N responses, 2,000 by default); bench_orders' 20,000 orders in every stage of
the review (lines, steps, sign-offs); bench_ontime's 300,000 delivery batches with their notes (75,000 more
orders over 26 months). Two builders name their customers and products alike (BC-…, BP-…): the first set is
renamed before the second is built. Rows written by bulk_create pass no signals: the survey batches' stored
delivery state is recomputed with ``ontime.batch_state_recompute``, as the services do.

    .venv/bin/python bench/run.py --only dashboard [--rows 2000]
"""

import statistics
import time
from unittest import mock

import bench_ontime
import bench_orders
import bench_survey
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.test import Client
from django.utils import timezone

from customers.models import Customer, Product
from dashboard import selectors, snapshot
from delivery import ontime
from delivery.models import DeliveryBatch
from orders.models import Order
from satisfaction import services as survey_services
from satisfaction.defaults import default_form
from satisfaction.models import Invitation, Response

TITLE = "Managers' dashboard"
DEFAULT_ROWS = 2_000  # survey responses; the orders and batches are fixed below
ORDERS = 20_000
BATCHES = 300_000
HEADERS = ["what", "median ms", "p95 ms", "queries", "aim", "notes"]
REQUESTS = 25
COLD_REQUESTS = 5  # each counts every figure again: seconds at this volume
AIM_MS = 150


def _counted(fn):
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        result = fn()
        elapsed = (time.perf_counter() - started) * 1000
    return result, elapsed, len(queries)


def _times(fn, repeat: int = REQUESTS, warm: int = 3) -> tuple[float, float, int]:
    for _ in range(warm):
        fn()
    times, queries = [], 0
    for _ in range(repeat):
        _result, elapsed, queries = _counted(fn)
        times.append(elapsed)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)], queries


def _survey(n: int, user) -> tuple[float, int]:
    """bench_survey's customers and deliveries; the half-year round opened, sent and answered by all."""
    started = time.perf_counter()
    form = default_form(user=user)
    today = timezone.localdate()
    year, half = (today.year - 1, 2) if today.month <= 6 else (today.year, 1)
    period_start, _end = survey_services.half_year_period(year, half)
    bench_survey.build(n, user, period_start)
    ontime.batch_state_recompute(DeliveryBatch.objects.values_list("pk", flat=True))
    ontime.line_state_recompute(DeliveryBatch.objects.values_list("line", flat=True))
    survey_round, _created = survey_services.round_open_half_year(year=year, half=half, today=today, user=user)
    with mock.patch("common.outbox.kick_on_commit"):
        survey_services.round_send(survey_round=survey_round, user=user)
    questions = list(form.questions.all())
    for i, invitation in enumerate(Invitation.objects.order_by("pk")):
        pattern = bench_survey.PATTERNS[i % len(bench_survey.PATTERNS)]
        raw = {str(q.pk): str(v) for q, v in zip(questions, pattern, strict=True)}
        survey_services.response_submit(invitation=invitation, raw_answers=raw)
    return time.perf_counter() - started, Response.objects.count()


def _rename(prefix: str, to: str) -> None:
    """bench_orders and bench_ontime both create customers BC-… and products BP-…: move the first set aside."""
    Customer.objects.filter(code__startswith=prefix).update(code=Concat(Value(to), Substr("code", len(prefix) + 1)))
    Product.objects.filter(code__startswith="BP-").update(code=Concat(Value("BQ-"), Substr("code", 4)))


def run(rows: int, *, memory: bool):
    users = bench_orders._users()
    survey_seconds, responses = _survey(rows, users["cs"])
    orders_seconds = bench_orders.build(ORDERS, users)
    _rename("BC-", "BO-")
    ontime_result = bench_ontime.build(BATCHES, users["cs"])
    ontime_seconds = ontime_result[0] if isinstance(ontime_result, tuple) else ontime_result
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    orders = Order.objects.count()
    batches = DeliveryBatch.objects.count()

    head = get_user_model().objects.create(username="bench_dash_head", email="head2@bench.example")
    head.groups.set([Group.objects.get(name="marketing_head")])
    client = Client()
    client.force_login(head)
    today = timezone.localdate()

    table = []
    for label, url, repeat, note in (
        (
            "dashboard page, figures kept (what every request pays)",
            "/dashboard/",
            REQUESTS,
            f"counted by the beat job every {snapshot.REFRESH_SECONDS} s; {REQUESTS} requests",
        ),
        (
            "dashboard page, Refresh (?refresh=1: counted in the request)",
            "/dashboard/?refresh=1",
            COLD_REQUESTS,
            f"every figure read from the database; {COLD_REQUESTS} requests",
        ),
    ):
        median, p95, queries = _times(lambda url=url: client.get(url, secure=True), repeat, warm=1)
        assert client.get(url, secure=True).status_code == 200, url
        met = "met" if median < AIM_MS else "NOT MET"
        table.append([label, f"{median:.1f}", f"{p95:.1f}", queries, f"< {AIM_MS} ms", f"{met}; {note}"])
    median, p95, queries = _times(snapshot.count, COLD_REQUESTS, warm=1)
    table.append(
        [
            "counting the figures (the beat job: dashboard.snapshot.count)",
            f"{median:.1f}",
            f"{p95:.1f}",
            queries,
            "",
            f"in the worker, every {snapshot.REFRESH_SECONDS} s; {COLD_REQUESTS} runs",
        ]
    )
    groups = [
        ("on-time: 12 months, late customers", lambda: selectors.ontime_figures(today)),
        ("satisfaction: last rounds, open round", lambda: selectors.satisfaction_figures(today)),
        ("order review: stages, times, overdue", lambda: selectors.review_figures(today)),
        ("delivery: at risk, not ready, unsigned, transfers", lambda: selectors.delivery_figures(today)),
        ("complaints and corrective actions", lambda: selectors.complaint_figures(today)),
    ]
    for label, fn in groups:
        median, p95, queries = _times(fn, 3, warm=1)
        table.append([f"  {label}", f"{median:.1f}", f"{p95:.1f}", queries, "", "selector alone, median of 3"])

    figures = selectors.ontime_figures(today)
    footnotes = [
        f"Data built in {survey_seconds + orders_seconds + ontime_seconds:.0f} s (survey round with {responses:,} "
        f"responses {survey_seconds:.0f} s, orders {orders_seconds:.0f} s, batches {ontime_seconds:.0f} s). "
        f"Last month on time: {figures.last_month.rate}% of {figures.last_month.due:,} due. In the database: "
        f"{orders:,} orders, {batches:,} batches, {responses:,} survey responses.",
        "Page requested after 1 warm-up request through Django's test client in one process "
        "(DEBUG off, no Redis: the local-memory cache); the figure groups are timed alone below it.",
    ]
    return HEADERS, table, footnotes
