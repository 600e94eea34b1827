"""``make loadtest``: mixed staff traffic (Locust, headless) against gunicorn + PostgreSQL + Redis + a Celery worker.

    .venv/bin/python bench/loadtest/run.py [--users 50] [--pace 4] [--time 60s] [--orders 20000] [--batches 300000]

1. Drops and creates the PostgreSQL database ``orderreview_loadtest`` (LOADTEST_DATABASE_URL; the name must contain
   "loadtest"), migrates it, collects the static files into bench/out/loadtest/ and empties Redis db 4.
2. Builds the bench data with the bench builders themselves: bench_orders.build (orders in every stage of the
   review) and bench_ontime.build (delivery batches and notes over 26 months), then one staff account per
   department, and lists what the Locust users will touch (orders, notes, open review steps with their answers).
3. Starts gunicorn on 127.0.0.1 only (DEBUG off, a dummy SECRET_KEY, ALLOWED_HOSTS=127.0.0.1) and a Celery worker,
   both on Redis db 4, and waits for /healthz.
4. Runs Locust headless (bench/loadtest/locustfile.py) for the given time, CSV stats in bench/out/loadtest/. The
   logins (one per account, through the login form) happen before the run, outside the figures: a login hashes a
   password on purpose, hundreds of ms of CPU. The server's CPU (gunicorn and its PostgreSQL backends, from /proc)
   is counted over the run too: per request, it says what the machine would serve with nothing else running.
5. Stops everything it started (also on Ctrl-C or an error) and prints a Markdown table per request kind.

Plain HTTP on loopback: SECURE_SSL_REDIRECT and secure cookies are off for the run (production has TLS in front).
"""

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

LOADTEST_DIR = Path(__file__).resolve().parent
BENCH_DIR = LOADTEST_DIR.parent
REPO_DIR = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out" / "loadtest"
BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/orderreview_loadtest"
DEFAULT_REDIS = "redis://127.0.0.1:6379/4"
PASSWORD = "loadtest-only-password-7f3a91"  # throwaway accounts in a throwaway database
SIGNABLE_STEPS = 4000  # open steps listed per department (more than a run signs)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated staff users (default 50)")
    parser.add_argument("--pace", type=float, default=4.0, help="requests per second per user (default 4)")
    parser.add_argument("--spawn-rate", type=float, default=25.0, help="users started per second (default 25)")
    parser.add_argument("--time", default="60s", help="how long the measured run lasts (Locust -t; default 60s)")
    parser.add_argument("--orders", type=int, default=None, help="orders (default: bench_orders' 20,000)")
    parser.add_argument("--batches", type=int, default=None, help="delivery batches (default: bench_ontime's 300,000)")
    parser.add_argument("--port", type=int, default=8765, help="gunicorn port on 127.0.0.1 (default 8765)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: CPUs + 1)")
    parser.add_argument(
        "--exclude-tags",
        default="",
        help="leave these request kinds out (comma-separated: mywork, orders, sign, notes, ontime, sheet)",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep the database of the previous run (no drop, no build): only the test itself runs again",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.pace <= 0 or args.spawn_rate <= 0:
        parser.error("--users, --pace and --spawn-rate must be positive")
    return args


def environment(database_url: str, redis_url: str) -> dict[str, str]:
    """The settings of every process of the run: production-like, on loopback, away from var/."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_PREFIX": "loadtest",
            "DEBUG": "0",
            "SECRET_KEY": "loadtest-only-secret-key-not-used-for-anything-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
            "SECURE_COOKIES": "0",
            "VAR_DIR": str(OUT_DIR),
            "STATIC_ROOT": str(OUT_DIR / "static"),
            "EMAIL_URL": f"filemail:///{OUT_DIR / 'mail'}",
            "LOG_LEVEL": "WARNING",
            "DB_CONN_MAX_AGE": "600",  # persistent connections, kept for the whole run (CPU counted per backend)
            "PYTHONPATH": os.pathsep.join([str(REPO_DIR), str(BENCH_DIR)]),
        }
    )
    return env


def fresh_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("postgres", "postgresql") or "loadtest" not in name:
        # It is dropped below: refuse anything that is not a throwaway load-test database.
        sys.exit(f"LOADTEST_DATABASE_URL must be postgres://…/<name with 'loadtest'> (got {url!r}).")
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()  # this run's own db only (4 by default)


def build_data(orders: int | None, batches: int | None) -> list[dict]:
    """The staff accounts, then the bench data built by the bench builders; returns the accounts."""
    import bench_ontime
    import bench_orders
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.models import F, Func, Value

    from accounts.roles import Dept
    from accounts.services import departments_sync
    from customers.models import Customer, Product

    departments_sync()
    User = get_user_model()
    users = {}
    for account in staff_accounts():
        dept = account["department"]
        user = User.objects.create_user(
            username=account["username"], password=PASSWORD, email=f"{dept}@loadtest.example"
        )
        user.groups.set([Group.objects.get(name=dept)])
        users[dept] = user

    orders = orders or bench_orders.DEFAULT_ROWS
    batches = batches or bench_ontime.DEFAULT_ROWS
    started = time.perf_counter()
    bench_orders.build(orders, {"cs": users[Dept.CS], "qa": users[Dept.QA], "head": users[Dept.MARKETING_HEAD]})
    # Both builders name their 200 customers and 50 products alike: the first set is renamed before the second.
    renamed = Func(F("code"), Value("BC-"), Value("BO-"), function="REPLACE")
    Customer.objects.filter(code__startswith="BC-").update(code=renamed)
    Product.objects.filter(code__startswith="BP-").update(
        code=Func(F("code"), Value("BP-"), Value("BQ-"), function="REPLACE")
    )
    print(f"  orders: {orders:,} in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    bench_ontime.build(batches, users[Dept.CS])
    print(f"  delivery batches: {batches:,} in {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return staff_accounts()


def staff_accounts() -> list[dict]:
    """One staff account per department (lt_<department>), the same on every run."""
    from accounts.roles import Dept

    return [{"username": f"lt_{dept}", "password": PASSWORD, "department": dept} for dept in Dept.values]


def traffic_data(accounts: list[dict]) -> dict:
    """Order and note numbers to visit, and open review steps to sign with their answers (all "yes")."""
    from django.db.models import F

    from delivery.models import DeliveryNote
    from orders.models import Order, ReviewStep

    rng = random.Random(20261126)
    numbers = list(Order.objects.values_list("number", flat=True))
    notes = list(DeliveryNote.objects.values_list("number", flat=True))
    steps: dict[str, list[dict]] = {}
    open_steps = (
        ReviewStep.objects.filter(status=ReviewStep.Status.OPEN, order__status=Order.Status.IN_REVIEW)
        .filter(revision=F("order__revision"))
        .select_related("order", "checklist")
        .prefetch_related("order__lines")
        .order_by("?")
    )
    for step in open_steps.iterator(chunk_size=2000):
        listed = steps.setdefault(step.department, [])
        if len(listed) >= SIGNABLE_STEPS:
            continue
        fields = {"revision": step.order.revision, "comment": ""}
        fields.update({f"item_{item['key']}": "yes" for item in step.checklist.items})
        if step.department == "pmc":
            fields.update({f"date_{line.position}": line.requested_date.isoformat() for line in step.order.lines.all()})
        listed.append({"pk": step.pk, "order": step.order.number, "fields": fields})
    return {
        "accounts": accounts,
        "orders": rng.sample(numbers, min(len(numbers), 5000)),
        "notes": rng.sample(notes, min(len(notes), 5000)),
        "steps": steps,
    }


def _cpu_seconds(pids) -> float:
    """User + system CPU of these processes so far (Linux /proc), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def cpu_used(gunicorn_pgid: int, database: str) -> tuple[float, float]:
    """(CPU seconds of gunicorn and its workers, of the PostgreSQL backends serving the load-test database)."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"  # not autovacuum, which may still be busy after the build
        ).fetchall()
    return _cpu_seconds(_group(gunicorn_pgid)), _cpu_seconds(pid for (pid,) in rows)


def wait_for(url: str, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn stopped with status {process.returncode} before answering (see {OUT_DIR}/gunicorn.log)")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback, our own server
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"{url} did not answer within {seconds:.0f} s")


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop the processes this run started (each in a session of its own: its group is its pid)."""
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def summary(prefix: Path) -> tuple[str, dict]:
    """The Markdown table from Locust's CSV stats, and the aggregated row."""
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    headers = ["request", "requests", "req/s", "median ms", "p95 ms", "max ms", "failures"]
    table, total = [], {}
    for row in rows:
        name = "total" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        line = [
            name,
            f"{int(row['Request Count']):,}",
            f"{float(row['Requests/s']):.1f}",
            row["50%"],
            row["95%"],
            f"{float(row['Max Response Time']):.0f}",
            row["Failure Count"],
        ]
        if row["Name"] == "Aggregated":
            total = row
            line = [f"**{cell}**" for cell in line]
        table.append(line)
    widths = [max(len(str(r[i])) for r in [headers, *table]) for i in range(len(headers))]

    def fmt(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    lines = [fmt(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(fmt(r) for r in table)]
    return "\n".join(lines), total


def main(argv=None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_DATABASE)
    redis_url = os.environ.get("LOADTEST_REDIS_URL", DEFAULT_REDIS)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    env = environment(database_url, redis_url)
    pg_url = urlunsplit(("postgresql", *urlsplit(database_url)[1:]))
    os.environ.update(env)
    sys.path[:0] = [str(REPO_DIR), str(BENCH_DIR)]
    os.chdir(REPO_DIR)
    data_file = OUT_DIR / "data.json"

    if not args.reuse_data:
        print(f"Database {urlsplit(database_url).path.lstrip('/')}: dropped and created again", flush=True)
        fresh_database(database_url)
    flush_redis(redis_url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.reuse_data:
        print("Data: the previous run's database (--reuse-data)", flush=True)
        accounts = staff_accounts()
    else:
        print("Building the bench data…", flush=True)
        accounts = build_data(args.orders, args.batches)
    # Listed again on every run: the steps a previous run signed are no longer open.
    data_file.write_text(json.dumps(traffic_data(accounts)), encoding="utf-8")
    from django.db import connections

    connections.close_all()

    cores = os.cpu_count() or 2
    workers = args.workers or cores + 1
    processes: list[subprocess.Popen] = []

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        gunicorn_log = open(OUT_DIR / "gunicorn.log", "w", encoding="utf-8")  # noqa: SIM115 - closed with the run
        worker_log = open(OUT_DIR / "worker.log", "w", encoding="utf-8")  # noqa: SIM115
        processes.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{args.port}",
                    "--workers",
                    str(workers),
                    "--timeout",
                    "60",
                    "--log-level",
                    "warning",
                ],
                env=env,
                stdout=gunicorn_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        processes.append(
            subprocess.Popen(
                [str(BIN / "celery"), "-A", "config", "worker", "-l", "warning", "--concurrency", "1"],
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        host = f"http://127.0.0.1:{args.port}"
        wait_for(f"{host}/healthz", 60, processes[0])
        prefix = OUT_DIR / "stats"
        ready = OUT_DIR / "logged-in"
        ready.unlink(missing_ok=True)
        locust_env = {
            **env,
            "LOADTEST_DATA": str(data_file),
            "LOADTEST_PACE": str(args.pace),
            "LOADTEST_READY": str(ready),
        }
        print(
            f"Locust: {args.users} users x {args.pace:g} requests/s for {args.time} against gunicorn "
            f"({workers} workers) on {host}",
            flush=True,
        )
        locust = subprocess.Popen(
            [
                str(BIN / "locust"),
                "-f",
                str(LOADTEST_DIR / "locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                args.time,
                "--host",
                host,
                "--csv",
                str(prefix),
                "--only-summary",
                *(["--exclude-tags", *args.exclude_tags.split(",")] if args.exclude_tags else []),
                "--loglevel",
                "WARNING",
            ],
            env=locust_env,
            start_new_session=True,
        )
        processes.append(locust)
        while not ready.exists() and locust.poll() is None:
            time.sleep(0.2)  # the logins (init) are over when the file appears: the CPU count starts there
        before = cpu_used(processes[0].pid, pg_url)
        locust.wait()
        after = cpu_used(processes[0].pid, pg_url)
    except KeyboardInterrupt:
        print("Interrupted: stopping what the run started.", flush=True)
        return 130
    finally:
        stop(processes)

    table, total = summary(prefix)
    print(
        f"\n## Load test ({args.users} users x {args.pace:g} req/s offered, {args.time}, gunicorn {workers} workers, "
        f"{cores} CPUs{', without ' + args.exclude_tags if args.exclude_tags else ''})\n"
    )
    print(table)
    print(
        "\nTimes are Locust's (client side, loopback), logins excluded. "
        f"Failures: any status other than the one expected (see {prefix}_failures.csv)."
    )
    requests = int(total.get("Request Count") or 0)
    if requests:
        app, db = after[0] - before[0], after[1] - before[1]
        per_request = (app + db) * 1000 / requests
        print(
            f"\nServer CPU over the run: gunicorn {app:.1f} s, PostgreSQL {db:.1f} s for "
            f"{requests:,} measured requests, about {per_request:.1f} ms per request: {cores} cores busy with nothing "
            f"else would serve about {cores * 1000 / per_request:,.0f} requests per second."
        )
    return 1 if total and int(total["Failure Count"]) else 0


if __name__ == "__main__":
    sys.exit(main())
