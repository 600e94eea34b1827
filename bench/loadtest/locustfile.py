"""Mixed staff traffic for ``make loadtest`` (bench/loadtest/run.py starts Locust with this file).

Every staff account run.py created (one per department) logs in through the login form, CSRF token included,
before the run; each simulated user takes the session of one account in turn. It then sends requests at a fixed
pace (``constant_throughput``: LOADTEST_PACE requests per second per user, so that users x pace is the load
offered), one weighted task at a time: My work, the order list with filters, order pages, signing an open review
step of its own department (a real POST on an order in review, each step signed once), the delivery-note list and
note pages, the on-time page and the delivery-progress sheet.

Each task carries a tag (mywork, orders, sign, notes, ontime, sheet): ``run.py --exclude-tags sheet`` leaves one out.

Every request states what it expects (200 for a page, 302 after a signature): anything else, 4xx or 5xx, is a
failure with the reason, counted in the table. Nothing is retried or hidden.

The data (accounts, order and note numbers, open steps with their checklist answers) comes from the JSON file
named by LOADTEST_DATA, written by run.py.
"""

import copy
import json
import os
import random
import re
from pathlib import Path

import requests
from locust import FastHttpUser, constant_throughput, events, tag, task

DATA = json.loads(Path(os.environ["LOADTEST_DATA"]).read_text(encoding="utf-8"))
PACE = float(os.environ.get("LOADTEST_PACE", "4"))
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ORDER_FILTERS = [
    "?status=in_review",
    "?status=confirmed",
    "?status=awaiting_signoff",
    "?q=SO-B-00",
    "?q=PO-12",
    "?status=in_review&q=SO-B-01",
    "?page=2",
]
NOTE_FILTERS = ["", "?status=unsigned", "?status=issued", "?q=DN-B-0001", "?page=3"]

# The open review steps, per department, shared by the users of this Locust process: each is signed once.
STEPS: dict[str, list[dict]] = {dept: list(steps) for dept, steps in DATA["steps"].items()}
# Each staff account's cookies after its login (at init, below): the Locust users of that account share them.
SESSIONS: dict[str, list] = {}
_next_account = 0


@events.init.add_listener
def log_in(environment, **kwargs):
    """Log every staff account in through the login form, CSRF token included, before the run starts: a login
    hashes the password on purpose (hundreds of ms of CPU), which would swamp the first seconds of the figures.
    Any login that does not answer with a redirect stops the run."""
    host = environment.host or environment.parsed_options.host
    for account in DATA["accounts"]:
        session = requests.Session()
        form = session.get(f"{host}/login/", timeout=60)
        found = CSRF_FIELD.search(form.text)
        if form.status_code != 200 or not found:
            raise RuntimeError(f"login form: status {form.status_code}, CSRF field found: {bool(found)}")
        response = session.post(
            f"{host}/login/",
            data={"username": account["username"], "password": account["password"], "csrfmiddlewaretoken": found[1]},
            allow_redirects=False,
            timeout=60,
        )
        if response.status_code != 302 or "sessionid" not in session.cookies:
            raise RuntimeError(f"login of {account['username']}: status {response.status_code}")
        SESSIONS[account["username"]] = list(session.cookies)
    if os.environ.get("LOADTEST_READY"):
        Path(os.environ["LOADTEST_READY"]).touch()  # run.py starts counting the server's CPU here


def _account() -> dict:
    """The staff accounts in turn, so that every department has users."""
    global _next_account
    account = DATA["accounts"][_next_account % len(DATA["accounts"])]
    _next_account += 1
    return account


class Staff(FastHttpUser):
    wait_time = constant_throughput(PACE)

    def on_start(self):
        self.account = _account()
        for cookie in SESSIONS[self.account["username"]]:
            self.client.cookiejar.set_cookie(copy.copy(cookie))

    def _csrf(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def _page(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{url}: status {response.status_code}")

    @task(4)
    @tag("mywork")
    def my_work(self):
        self._page("/work/", "My work")

    @task(3)
    @tag("orders")
    def order_list(self):
        self._page("/orders/" + random.choice(ORDER_FILTERS), "order list (filters)")

    @task(4)
    @tag("orders")
    def order_page(self):
        self._page(f"/orders/{random.choice(DATA['orders'])}/", "order page")

    @task(2)
    @tag("sign")
    def sign_step(self):
        steps = STEPS.get(self.account["department"])
        if not steps:
            return  # this department signs no review step, or every prepared step is signed
        step = steps.pop()
        fields = {**step["fields"], "csrfmiddlewaretoken": self._csrf()}
        with self.client.post(
            f"/orders/steps/{step['pk']}/sign/",
            data=fields,
            name="sign a review step (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"step {step['pk']} ({step['order']}): status {response.status_code}")

    @task(2)
    @tag("notes")
    def note_list(self):
        self._page("/delivery/" + random.choice(NOTE_FILTERS), "delivery-note list")

    @task(2)
    @tag("notes")
    def note_page(self):
        self._page(f"/delivery/notes/{random.choice(DATA['notes'])}/", "delivery-note page")

    @task(1)
    @tag("ontime")
    def ontime(self):
        self._page("/delivery/on-time/", "on-time page")

    @task(1)
    @tag("sheet")
    def sheet(self):
        self._page("/delivery/sheet/", "delivery-progress sheet")
