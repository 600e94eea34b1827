"""Benchmarks (``make bench``; not part of ``make test``).

Runs every bench module listed in BENCHES, each in its own process against its own throwaway database, and prints a
Markdown table for each. The database is never the one in var/ (the demo data): by default a fresh SQLite file in
bench/out/, or the PostgreSQL database named by BENCH_DATABASE_URL, dropped and created again for each bench.

    .venv/bin/python bench/run.py [--only import] [--rows 10000] [--no-memory]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderreview_bench make bench

A bench module has ``TITLE`` and ``run(rows, *, memory) -> (headers, table_rows, footnotes)``.
"""

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"

# name (for --only) -> module in bench/
BENCHES = {
    "import": "bench_import",
    "orders": "bench_orders",
    "ontime": "bench_ontime",
    "notes": "bench_notes",
    "sheet": "bench_sheet",
    "survey": "bench_survey",
    "dashboard": "bench_dashboard",
    "export": "bench_export",
}


def markdown_table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), separator, *(line(row) for row in cells[1:])])


def _fresh_postgres(url: str) -> None:
    """Drop and create the database named in ``url`` (connecting to the server's ``postgres`` database)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"BENCH_DATABASE_URL must be a PostgreSQL URL (postgres://...), not {parts.scheme}://")
    name = unquote(parts.path.lstrip("/"))
    if not name or "bench" not in name:
        # It is dropped below: refuse anything that does not look like a throwaway bench database.
        sys.exit(f"BENCH_DATABASE_URL must name a database with 'bench' in its name (got {name!r}).")
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _fresh_sqlite() -> str:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / "bench.sqlite3"
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def setup_django() -> str:
    """Point Django at a fresh throwaway database, with production-like settings; returns a description."""
    bench_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if bench_url:
        _fresh_postgres(bench_url)
        database_url = bench_url
    else:
        database_url = _fresh_sqlite()

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "0"  # no query log, no debug overhead: realistic timings
    os.environ["SECRET_KEY"] = "bench-only-secret-key-not-used-for-anything-0123456789abcdef"
    os.environ["VAR_DIR"] = str(OUT_DIR)  # media and any other files stay out of var/
    os.environ.pop("REDIS_URL", None)  # jobs and cache inline, no Redis round trips
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"  # page benches use the test client
    os.environ["STATIC_MANIFEST"] = "0"  # no collectstatic for a bench
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(REPO_DIR) not in sys.path:
        sys.path.insert(0, str(REPO_DIR))
    os.chdir(REPO_DIR)

    import django
    from django.core.management import call_command

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic for a bench
    django.setup()
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started

    connection.ensure_connection()
    if connection.vendor == "postgresql":
        version = f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
    else:
        version = ".".join(str(part) for part in connection.Database.sqlite_version_info)
    where = connection.settings_dict["NAME"]
    return f"{connection.vendor} {version} ({where}; migrated in {migrated:.1f} s)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(BENCHES), help="run only this bench")
    parser.add_argument("--rows", type=int, default=None, help="rows per bench (default: each bench's own)")
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the peak-memory runs (tracemalloc makes them several times slower)",
    )
    args = parser.parse_args(argv)
    if args.rows is not None and args.rows < 1:
        parser.error("--rows must be at least 1")

    if not args.only:
        # Each bench in its own process with its own fresh database: the builders name their customers, users and
        # products alike (BC-…, bench_cs), so one database for all of them fails at the second bench.
        failed = []
        for name in BENCHES:
            command = [sys.executable, str(Path(__file__).resolve()), "--only", name]
            if args.rows is not None:
                command += ["--rows", str(args.rows)]
            if args.no_memory:
                command.append("--no-memory")
            print(f"\n# {name}", flush=True)
            if subprocess.run(command, check=False).returncode != 0:
                failed.append(name)
        if failed:
            print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
            return 1
        return 0

    database = setup_django()
    import django

    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; database: {database}",
        flush=True,
    )
    for name in [args.only]:
        module = importlib.import_module(BENCHES[name])
        rows_wanted = args.rows or getattr(module, "DEFAULT_ROWS", 10_000)
        print(f"\n## {module.TITLE} ({rows_wanted:,} rows)\n", flush=True)
        headers, rows, footnotes = module.run(rows_wanted, memory=not args.no_memory)
        print(markdown_table(headers, rows))
        for note in footnotes:
            print(f"\n{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
