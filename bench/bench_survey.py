"""A customer satisfaction round with N customers (default 2,000), each with one surveyed contact and three
deliveries of 100,000 pcs in last half-year (so every one is eligible by volume): opening the round
(eligibility of every customer), sending it (the web request: N invitations and outbox rows), delivering
the outbox to an SMTP server on 127.0.0.1 (what the worker does), the public survey page (GET and POST), the
round page and its live part with N responses, and the two record tables (.xlsx).

The SMTP server is a minimal sink written here (socketserver, in a process of its own; aiosmtpd is not a
dependency and is not needed for this): it speaks enough SMTP for smtplib (EHLO, MAIL, RCPT, DATA, QUIT),
counts the messages and their recipients, and stores nothing. Every message goes over its own TCP connection,
as Django's backend sends one message per ``EmailMessage.send()``. The bench checks that
the sink received exactly one message per contact.
"""

import multiprocessing
import random
import socketserver
import statistics
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.services import departments_sync
from common.models import OutboxMessage
from common.outbox import deliver_pending
from customers.models import Contact, Customer, DeliveryAddress, Product
from delivery.models import DeliveryBatch, DeliveryNote, DeliveryNoteLine
from orders.models import Order, OrderLine
from satisfaction import scoring, selectors, services
from satisfaction.defaults import default_form
from satisfaction.models import Invitation, Response

TITLE = "Customer satisfaction round"
DEFAULT_ROWS = 2_000
HEADERS = ["step", "rows", "seconds", "median ms", "queries", "aim", "notes"]
SEED = 20261125
CHUNK = 500
REQUESTS = 25
PAGE_REQUESTS = 10
# Answer patterns on the default form (weights 30/25/20/15/10, 1–5): one per band, picked at random.
PATTERNS = [
    (5, 5, 5, 5, 5),  # 100.0 very satisfied
    (5, 5, 5, 4, 4),  # 95.0 satisfied
    (5, 5, 4, 5, 4),  # 94.0 satisfied
    (4, 4, 4, 5, 5),  # 85.0 fairly satisfied
    (4, 4, 4, 4, 4),  # 80.0 fairly satisfied
    (4, 3, 3, 4, 4),  # 71.0 dissatisfied
    (3, 3, 3, 3, 3),  # 60.0 dissatisfied
    (2, 3, 2, 3, "na"),  # 48.9 very dissatisfied
]


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


# --- The SMTP sink ---------------------------------------------------------------------------------------------


class _SinkServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.lock = threading.Lock()
        self.messages = 0
        self.recipients: Counter[str] = Counter()


def _serve(pipe) -> None:
    """The sink's process: serve until the parent asks for the counts."""
    server = _SinkServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pipe.send(server.server_address[1])
    pipe.recv()
    server.shutdown()
    with server.lock:
        pipe.send((server.messages, dict(server.recipients)))


class SmtpSink:
    """An SMTP server on 127.0.0.1 in a process of its own (as a real mail server would be: its work is not
    counted in the sender's time, nor does it compete for the sender's interpreter lock)."""

    def __enter__(self):
        context = multiprocessing.get_context("fork")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.port = self._pipe.recv()
        self.messages, self.recipients = 0, Counter()
        return self

    def __exit__(self, *exc):
        self._pipe.send("stop")
        messages, recipients = self._pipe.recv()
        self.messages, self.recipients = messages, Counter(recipients)
        self._process.join(timeout=10)


class _SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink.bench ESMTP")
        recipients = []
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-sink.bench\r\n250-8BITMIME\r\n250 SMTPUTF8")
            elif verb == b"RCPT":
                recipients.append(line.split(b":", 1)[1].strip(b" <>\r\n").decode())
                self.reply("250 OK")
            elif verb == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                while (data := self.rfile.readline()) and data != b".\r\n":
                    pass
                with self.server.lock:
                    self.server.messages += 1
                    self.server.recipients.update(recipients)
                recipients = []
                self.reply("250 OK queued")
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:  # HELO, MAIL, RSET, NOOP
                self.reply("250 OK")


# --- Data ---------------------------------------------------------------------------------------------------------


def _user():
    departments_sync()
    user = get_user_model().objects.create(username="bench_cs", email="cs@bench.example")
    user.groups.set([Group.objects.get(name="customer_service")])
    return user


def build(n: int, user, period_start) -> float:
    """N active customers, each with one surveyed contact and 3 issued notes of 100,000 pcs in the period."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    product = Product.objects.create(code="SV-001", name="灯罩 Φ300")
    for start in range(0, n, CHUNK):
        numbers = range(start, min(n, start + CHUNK))
        customers = Customer.objects.bulk_create(
            Customer(
                code=f"SV-{i:05d}", name_zh=f"调查客户{i}有限公司", name_en=f"Survey customer {i}", status="active"
            )
            for i in numbers
        )
        addresses = DeliveryAddress.objects.bulk_create(
            DeliveryAddress(customer=c, label="总厂", address="东莞市长安镇", is_default=True) for c in customers
        )
        Contact.objects.bulk_create(
            Contact(
                customer=c,
                name=f"联系人{c.code}",
                email=f"buyer@{c.code.lower()}.bench.example",
                receives_surveys=True,
                is_primary=True,
                language=rng.choice(["zh-hans", "zh-hans", "en"]),
            )
            for c in customers
        )
        orders = Order.objects.bulk_create(
            Order(
                number=f"SO-SV-{c.code}",
                customer=c,
                customer_po=f"PO-{c.code}",
                delivery_address=a,
                status="confirmed",
                revision=1,
                created_by=user,
            )
            for c, a in zip(customers, addresses, strict=True)
        )
        lines = OrderLine.objects.bulk_create(
            OrderLine(
                order=o,
                position=1,
                product=product,
                quantity=Decimal(300_000),
                unit_price=Decimal("0.80"),
                requested_date=period_start + timedelta(days=30),
            )
            for o in orders
        )
        batches, notes = [], []
        for line, customer, address in zip(lines, customers, addresses, strict=True):
            for k in range(3):
                day = period_start + timedelta(days=20 + 50 * k + rng.randint(0, 9))
                batches.append(DeliveryBatch(line=line, quantity=Decimal(100_000), due_date=day, created_by=user))
                notes.append(
                    DeliveryNote(
                        number=f"DN-SV-{customer.code}-{k}",
                        customer=customer,
                        address=address,
                        delivery_date=day,
                        status="issued",
                        issued_by=user,
                    )
                )
        DeliveryBatch.objects.bulk_create(batches)
        DeliveryNote.objects.bulk_create(notes)
        DeliveryNoteLine.objects.bulk_create(
            DeliveryNoteLine(note=note, batch=batch, quantity=batch.quantity)
            for note, batch in zip(notes, batches, strict=True)
        )
    return time.perf_counter() - started


# --- Measuring ----------------------------------------------------------------------------------------------------


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


def requests_median(send, count: int) -> tuple[float, int, Counter]:
    """Median ms of ``send(i)`` for i in range(count), the queries of the last, and the status codes."""
    times, queries, statuses = [], 0, Counter()
    for i in range(count):
        response, seconds, queries = counted(lambda i=i: send(i))
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        statuses[response.status_code] += 1
        times.append(seconds)
    return statistics.median(times) * 1000, queries, statuses


def _status_note(statuses: Counter, expected: int) -> str:
    if set(statuses) == {expected}:
        return ""
    return "status " + ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items()))


def run(rows: int, *, memory: bool):
    n = rows
    user = _user()
    form = default_form(user=user)
    today = timezone.localdate()
    year, half = (today.year - 1, 2) if today.month <= 6 else (today.year, 1)
    period_start, _period_end = services.half_year_period(year, half)
    built = build(n, user, period_start)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum keeps them in production
    table = []

    # 1. Opening the round: every customer's verdict, the list.
    (survey_round, _created), seconds, queries = counted(
        lambda: services.round_open_half_year(year=year, half=half, today=today, user=user)
    )
    surveyed = survey_round.customers.filter(included=True).count()
    check(surveyed == n, f"{surveyed} customers eligible, wanted {n}")
    table.append(["open the half-year round (eligibility, list)", f"{n:,}", f"{seconds:.2f}", "", queries, "", ""])

    # 2. Sending: the web request writes the invitations and the outbox; the worker is kicked on commit (here:
    # not at all, so that the next step measures the delivery alone).
    with mock.patch("common.outbox.kick_on_commit"):
        invitations, send_seconds, queries = counted(lambda: services.round_send(survey_round=survey_round, user=user))
    check(invitations == n, f"{invitations} invitations, wanted {n}")
    table.append(
        ["send the round (invitations + outbox rows)", f"{n:,}", f"{send_seconds:.2f}", "", queries, "", "web request"]
    )

    # 3. The worker's job: deliver the outbox to the SMTP sink.
    with (
        SmtpSink() as sink,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_TIMEOUT=10,
        ),
    ):
        counts, deliver_seconds, queries = counted(deliver_pending)
    check(counts["sent"] == n, f"delivery: {counts}")
    check(sink.messages == n and len(sink.recipients) == n, f"the sink got {sink.messages} messages")
    check(set(sink.recipients.values()) == {1}, "a contact received two invitations")
    check(OutboxMessage.objects.filter(status="sent").count() == n, "outbox rows not all sent")
    table.append(
        [
            "deliver the outbox to the SMTP sink",
            f"{n:,}",
            f"{deliver_seconds:.2f}",
            f"{deliver_seconds / n * 1000:.1f} / mail",
            queries,
            "",
            f"{n / deliver_seconds:.0f} mails/s, one SMTP connection each",
        ]
    )
    total = send_seconds + deliver_seconds
    table.append(["sending, end to end (2 + 3)", f"{n:,}", f"{total:.2f}", "", "", "< 30 s", _met(total < 30)])

    # 4. The public page: GET a fresh link, POST the answers (each request from its own address: the page is
    # rate-limited per address).
    tokens = list(Invitation.objects.order_by("pk").values_list("token", flat=True))
    questions = list(form.questions.all())
    rng = random.Random(SEED)
    client = Client()

    def public_get(i):
        return client.get(
            reverse("survey_public", args=[tokens[i]]), secure=True, REMOTE_ADDR=f"10.1.{i // 250}.{i % 250}"
        )

    def public_post(i):
        data = {f"q{q.pk}": str(v) for q, v in zip(questions, rng.choice(PATTERNS), strict=True)}
        data["comment"] = "交货及时,质量稳定。"
        url = reverse("survey_public", args=[tokens[REQUESTS + i]])
        return client.post(url, data, secure=True, REMOTE_ADDR=f"10.2.{i // 250}.{i % 250}")

    median, queries, statuses = requests_median(public_get, REQUESTS)
    table.append(
        [
            "public survey page, GET",
            f"{n:,} links",
            "",
            f"{median:.1f}",
            queries,
            "< 50 ms",
            _met(median < 50, statuses, 200) + f"; median of {REQUESTS}",
        ]
    )
    median, queries, statuses = requests_median(public_post, REQUESTS)
    posted = Response.objects.count()
    table.append(
        [
            "public survey page, POST (answers)",
            f"{n:,} links",
            "",
            f"{median:.1f}",
            queries,
            "",
            (_status_note(statuses, 303) or "303 to the thanks page") + f"; {posted} responses; median of {REQUESTS}",
        ]
    )

    # The other answers through the service (what the POST calls), to fill the round.
    answered = set(Response.objects.values_list("invitation_id", flat=True))
    remaining = list(Invitation.objects.exclude(pk__in=answered).order_by("pk"))

    def answer_all():
        for invitation in remaining:
            raw = {str(q.pk): str(v) for q, v in zip(questions, rng.choice(PATTERNS), strict=True)}
            services.response_submit(invitation=invitation, raw_answers=raw, comment="")

    _result, seconds, queries = counted(answer_all)
    check(Response.objects.count() == n, f"{Response.objects.count()} responses, wanted {n}")
    table.append(
        [
            "record the other answers (response_submit)",
            f"{len(remaining):,}",
            f"{seconds:.2f}",
            f"{seconds / max(1, len(remaining)) * 1000:.1f} / answer",
            queries,
            "",
            "",
        ]
    )
    results = selectors.round_results(survey_round)
    bands = ", ".join(f"{band.key} {count}" for band, count in results.band_counts)
    check(results.answered == n and results.rate == 100, f"rate {results.rate}")

    # 5. The round page (Customer Service) with N responses, and its live part.
    staff = Client()
    staff.force_login(user)
    url = reverse("satisfaction:round", args=[survey_round.pk])
    staff.get(url, secure=True)
    median, queries, statuses = requests_median(lambda i: staff.get(url, secure=True), PAGE_REQUESTS)
    table.append(
        [
            "round page",
            f"{n:,} responses",
            "",
            f"{median:.1f}",
            queries,
            "< 200 ms",
            _met(median < 200, statuses, 200) + f"; median of {PAGE_REQUESTS}",
        ]
    )
    progress = reverse("satisfaction:round_progress", args=[survey_round.pk])
    median, queries, statuses = requests_median(
        lambda i: staff.get(progress, secure=True, HTTP_HX_REQUEST="true"), PAGE_REQUESTS
    )
    table.append(
        [
            "round page, live part (htmx poll)",
            f"{n:,} responses",
            "",
            f"{median:.1f}",
            queries,
            "",
            (_status_note(statuses, 200) or "ok") + f"; median of {PAGE_REQUESTS}",
        ]
    )

    # 6. The record tables.
    try:
        from satisfaction.records import build_statistics_xlsx, build_summary_xlsx
    except ImportError as error:
        table.append(["record tables (.xlsx)", "", "", "", "", "< 5 s", f"not built yet ({error})"])
    else:
        for label, build_xlsx in (
            ("statistics table 统计表 (.xlsx)", build_statistics_xlsx),
            ("summary table 汇总表 (.xlsx)", build_summary_xlsx),
        ):
            data, seconds, queries = counted(lambda build_xlsx=build_xlsx: build_xlsx(survey_round))
            size = f"{len(data) / 1024:.0f} KB"
            table.append(
                [label, f"{n:,} responses", f"{seconds:.2f}", "", queries, "< 5 s", _met(seconds < 5) + f"; {size}"]
            )

    footnotes = [
        f"Data built with bulk_create in {built:.1f} s: {n:,} customers with one surveyed contact each (a third "
        f"in English) and 3 issued delivery notes of 100,000 pcs in {year} H{half}. Round score {results.score}; "
        f"bands: {bands}.",
        "Sending is split as in production: the web request (step 2) only writes rows; the worker's job "
        "(`deliver_outbox`, step 3, run here in-process) composes each e-mail in the contact's language and "
        "sends it over SMTP to a sink on 127.0.0.1 (one connection per message, as Django's backend does).",
        "Pages: Django test client (no network, no gunicorn), logged in as Customer Service for the round page; "
        "the public page from a different address per request (it is rate-limited per address).",
    ]
    if scoring.band_for(results.score) is None:
        footnotes.append("No round score: no answers.")
    return HEADERS, table, footnotes


def _met(ok: bool, statuses: Counter | None = None, expected: int = 200) -> str:
    if statuses is not None:
        note = _status_note(statuses, expected)
        if note:
            return note + " (view not ready?)"
    return "met" if ok else "MISSED"
