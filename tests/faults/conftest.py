"""The fault-injection suite (marker ``faults``, issue 10): what the tests need to break things for real.

- ``smtp``: a real SMTP server (aiosmtpd) in this process, which can be down (connection refused), refuse every
  message for a while (451), or refuse one address for good (550), and records what it accepted.
- ``worker_process``: a real Celery worker started as a subprocess on the test database and Redis, which a test
  kills with SIGKILL at a pause point of the job (common.faults) and starts again.

Tests that need a real worker need PostgreSQL (the worker shares the test database) and Redis (REDIS_URL, db 5
here, db 15 in CI). Without them they are skipped with the reason, unless FAULTS_REQUIRE_SERVICES is set (the
faults step of .ci/run sets it): then a missing service fails the run instead of skipping it.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- A real SMTP server ------------------------------------------------------------------------------------


@dataclass
class Accepted:
    mail_from: str
    to: list[str]
    data: bytes

    @property
    def subject(self) -> str:
        from email import message_from_bytes
        from email.header import decode_header, make_header

        return str(make_header(decode_header(message_from_bytes(self.data)["Subject"] or "")))


@dataclass
class SmtpHandler:
    accepted: list[Accepted] = field(default_factory=list)
    refuse_all: int = 0  # the next this many messages get "451 try again later"
    bad: set[str] = field(default_factory=set)  # addresses refused for good (550)
    refused: list[str] = field(default_factory=list)  # what was refused, by kind

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.bad:
            self.refused.append(f"550 {address}")
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_all > 0:
            self.refuse_all -= 1
            self.refused.append(f"451 {','.join(envelope.rcpt_tos)}")
            return "451 4.3.0 Temporary failure, try again later"
        self.accepted.append(Accepted(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Accepted]:
        return [m for m in self.accepted if address in m.to]


class SmtpServer:
    """start() / stop() on a fixed port: stopped, connections are refused as with a mail server that is down."""

    def __init__(self):
        self.port = free_port()
        self.handler = SmtpHandler()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp(settings):
    """The app's mail goes to a real SMTP server in this process (started; ``smtp.stop()`` takes it down)."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
    asyncio.set_event_loop(None)


# --- A real worker ---------------------------------------------------------------------------------------


def need_services(*, postgres: bool = True, redis: bool = True) -> None:
    """Skip (or, in CI's faults step, fail) a test whose services are absent."""
    missing = []
    if redis and not settings.REDIS_URL:
        missing.append("REDIS_URL (a real Redis for the broker)")
    if postgres and connection.vendor != "postgresql":
        missing.append("DATABASE_URL on PostgreSQL (a worker process shares the test database)")
    if not missing:
        return
    reason = "needs " + " and ".join(missing) + "; .ci/run's faults step sets them"
    if os.environ.get("FAULTS_REQUIRE_SERVICES"):
        pytest.fail(reason + " (FAULTS_REQUIRE_SERVICES is set: not skipped)")
    pytest.skip(reason)


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A Celery worker subprocess (solo pool: the task runs in the process a SIGKILL ends)."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        self.log.write_text("")
        name = f"faults-{uuid.uuid4().hex[:8]}@%h"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-n", name, "-l", "info"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        with self.log.open("a") as out:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=settings.BASE_DIR,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the worker stopped at start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"the worker did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: as the kernel's OOM killer or ``kill -9`` would; nothing of the job runs after it."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


class Pauses:
    """The pause points of common.faults, in a folder shared with the worker."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def hold(self, name: str) -> None:
        (self.folder / f"{name}.hold").touch()
        (self.folder / f"{name}.reached").unlink(missing_ok=True)

    def release(self, name: str) -> None:
        (self.folder / f"{name}.hold").unlink(missing_ok=True)

    def wait_reached(self, name: str, worker: Worker, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if (self.folder / f"{name}.reached").exists():
                return
            time.sleep(0.05)
        raise AssertionError(f"the job never reached {name}:\n{worker.log.read_text()[-4000:]}")


@pytest.fixture
def pauses(tmp_path, settings):
    found = Pauses(tmp_path / "pauses")
    settings.FAULT_PAUSE_DIR = str(found.folder)
    yield found
    for hold in found.folder.glob("*.hold"):
        hold.unlink()


@pytest.fixture
def worker_process(tmp_path, settings, pauses, smtp):
    """A real worker on the test database (committed rows: use transactional tests), this Redis db, the test's
    media folder and the ``smtp`` server; started, and stopped (or killed) at the end."""
    need_services()
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # no message left over from another test run
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": smtp.url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "FAULT_PAUSE_DIR": str(pauses.folder),
        "LANGUAGE_CODE": "en",
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    worker = Worker(env, tmp_path / "worker.log")
    worker.start()
    yield worker
    pauses.folder.joinpath("stop").touch()
    for hold in pauses.folder.glob("*.hold"):
        hold.unlink()
    worker.stop()


def wait_until(check, *, seconds: float = 60, what: str = "the condition", log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    tail = log.read_text()[-4000:] if log is not None and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")
