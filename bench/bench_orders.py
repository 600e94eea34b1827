"""Order pages with N orders in the database: median server time and queries of the order list, an order page
and "My work", measured through Django's test client (the whole request: middleware, view, template).

The orders are bulk-created in every stage of the review (lines, one step per department, sign-offs), so the
pages see realistic volumes: thousands of open steps for "My work", thousands of orders for the list.
"""

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.services import departments_sync
from customers.models import Contact, Customer, DeliveryAddress, Product, Quotation
from orders.models import REVIEW_DEPARTMENTS, Order, OrderLine, OrderRevision, ReviewStep, SignOff
from orders.services import current_checklist

TITLE = "Order pages"
DEFAULT_ROWS = 20_000
HEADERS = ["page", "orders", "median ms", "p90 ms", "queries", "notes"]
REQUESTS = 25
SEED = 20261125


def _users():
    departments_sync()
    User = get_user_model()
    users = {}
    for name, dept in (
        ("cs", "customer_service"),
        ("qa", "quality"),
        ("pmc", "pmc"),
        ("head", "marketing_head"),
        ("marketing", "marketing"),
    ):
        user = User.objects.create(username=f"bench_{name}", email=f"{name}@bench.example")
        user.groups.set([Group.objects.get(name=dept)])
        users[name] = user
    return users


def build(n: int, users) -> float:
    started = time.perf_counter()
    rng = random.Random(SEED)
    today = timezone.localdate()
    customers = Customer.objects.bulk_create(
        Customer(code=f"BC-{i:04d}", name_zh=f"基准客户{i}", name_en=f"Bench customer {i}", status="active")
        for i in range(200)
    )
    Contact.objects.bulk_create(
        Contact(customer=c, name="王", email=f"c{c.pk}@bench.example", is_primary=True) for c in customers
    )
    addresses = DeliveryAddress.objects.bulk_create(
        DeliveryAddress(customer=c, label="总厂", address="东莞", is_default=True) for c in customers
    )
    products = Product.objects.bulk_create(Product(code=f"BP-{i:03d}", name=f"产品{i}") for i in range(50))
    Quotation.objects.bulk_create(
        Quotation(customer=c, product=p, unit_price=Decimal("1.50"), valid_from=today - timedelta(days=365))
        for c in customers[:50]
        for p in products[:10]
    )
    checklists = {d: current_checklist(d) for d in REVIEW_DEPARTMENTS}
    statuses = [
        "draft",
        "in_review",
        "in_review",
        "awaiting_signoff",
        "signed_off",
        "confirmed",
        "confirmed",
        "on_hold",
    ]
    batch = 2000
    for start in range(0, n, batch):
        orders = Order.objects.bulk_create(
            Order(
                number=f"SO-B-{i:06d}",
                customer=customers[i % len(customers)],
                customer_po=f"PO-{i}",
                delivery_address=addresses[i % len(addresses)],
                packaging="纸箱",
                status=statuses[i % len(statuses)],
                revision=0 if statuses[i % len(statuses)] == "draft" else 1,
                created_by=users["cs"],
            )
            for i in range(start, min(n, start + batch))
        )
        lines, steps, revisions, signoffs = [], [], [], []
        for order in orders:
            for position in (1, 2):
                lines.append(
                    OrderLine(
                        order=order,
                        position=position,
                        product=products[rng.randrange(len(products))],
                        quantity=Decimal(rng.choice([500, 1000, 3000])),
                        unit_price=Decimal("1.50"),
                        requested_date=today + timedelta(days=rng.randint(-200, 60)),
                    )
                )
            if order.status == "draft":
                continue
            revisions.append(OrderRevision(order=order, number=1, snapshot={}, created_by=users["cs"]))
            for dept in REVIEW_DEPARTMENTS:
                signed = order.status not in ("in_review", "on_hold") or rng.random() < 0.5
                steps.append(
                    ReviewStep(
                        order=order,
                        revision=1,
                        department=dept,
                        checklist=checklists[dept],
                        status="signed" if signed else "open",
                        signed_by=users["qa"] if signed else None,
                        signed_at=timezone.now() if signed else None,
                        answers=[{"key": i["key"], "yes": True} for i in checklists[dept].items] if signed else [],
                    )
                )
            if order.status in ("signed_off", "confirmed"):
                signoffs.append(SignOff(order=order, revision=1, signed_by=users["head"]))
        OrderLine.objects.bulk_create(lines)
        OrderRevision.objects.bulk_create(revisions)
        ReviewStep.objects.bulk_create(steps)
        SignOff.objects.bulk_create(signoffs)
    return time.perf_counter() - started


def measure(client: Client, url: str) -> tuple[float, float, int]:
    counted = []

    def count(execute, sql, params, many, context):
        counted.append(1)
        return execute(sql, params, many, context)

    for _ in range(3):
        assert client.get(url, secure=True).status_code == 200, url
    times, queries = [], 0
    for _ in range(REQUESTS):
        counted.clear()
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
        queries = len(counted)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], queries


def run(rows: int, *, memory: bool):
    users = _users()
    built = build(rows, users)
    order = Order.objects.filter(status="confirmed").order_by("pk").first()
    client = Client()
    table = []
    pages = [
        ("order list", "cs", "/orders/", "first page of 50"),
        ("order list, filtered", "cs", "/orders/?status=in_review&q=SO-B-0", "status + search"),
        ("order page", "qa", order.get_absolute_url(), "2 lines, 6 signed steps, checks, timeline"),
        (
            "My work (Quality)",
            "qa",
            "/work/",
            f"{ReviewStep.objects.filter(department='quality', status='open').count():,} open steps",
        ),
        ("My work (marketing head)", "head", "/work/", "sign-offs and customer changes"),
    ]
    for label, who, url, note in pages:
        client.force_login(users[who])
        median, p90, queries = measure(client, url)
        table.append([label, f"{rows:,}", f"{median:.1f}", f"{p90:.1f}", queries, note])
    footnotes = [
        f"Data built with bulk_create in {built:.1f} s. Each page requested {REQUESTS} times after 3 warm-up "
        "requests, through Django's test client in one process (DEBUG off), so times include middleware and "
        "templates but no network. Queries: every statement sent for one request.",
    ]
    return HEADERS, table, footnotes
