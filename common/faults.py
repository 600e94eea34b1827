"""Pause points for the fault-injection suite (tests/faults, issue 10): off unless FAULT_PAUSE_DIR is set.

A background job that must be killed in the middle of its work (a customer import after its first rows are
written, a batch print after its first chunk, an acknowledgement whose PDF is made but not yet mailed) calls
``pause_point(name)`` at that moment of its real code path. With ``FAULT_PAUSE_DIR`` set (only the test suite
sets it, in the worker it starts) and a file ``<name>.hold`` in that folder, the job writes ``<name>.reached``
and waits there until the hold file is removed (or a time limit passes), so the test can kill the worker at a
known point. Without the setting it does nothing and costs one attribute lookup.
"""

import logging
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

# A pause never outlives this: a forgotten hold file cannot keep a worker waiting for ever.
PAUSE_LIMIT_SECONDS = 120


def pause_point(name: str) -> None:
    folder = getattr(settings, "FAULT_PAUSE_DIR", "")
    if not folder:
        return
    hold = Path(folder) / f"{name}.hold"
    if not hold.exists():
        return
    (Path(folder) / f"{name}.reached").touch()
    logger.warning("fault injection: paused at %s until %s is removed", name, hold)
    deadline = time.monotonic() + PAUSE_LIMIT_SECONDS
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
