"""``make loadtest`` (bench/loadtest): the signatures Locust posts are real ones the app accepts, built from the bench
data by the bench builders, and the figures table is read from Locust's own CSV (issue 10, "Fast at full volume")."""

import importlib.util
import sys
from pathlib import Path

import pytest
from django.test import Client

from orders.models import ReviewStep

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.3")]

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def loadtest():
    """bench/loadtest/run.py, loaded by path (bench/run.py has the same module name)."""
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("loadtest_run", BENCH / "loadtest" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(BENCH))


def test_every_prepared_signature_is_accepted_by_the_step_sign_view(loadtest):
    accounts = loadtest.build_data(orders=48, batches=40)
    data = loadtest.traffic_data(accounts)
    assert data["orders"] and data["notes"]
    assert {a["department"] for a in accounts} >= set(data["steps"])
    assert {"pmc", "quality", "customer_service"} <= set(data["steps"])  # PMC's form has a date per line
    for account in accounts:
        steps = data["steps"].get(account["department"], [])
        if not steps:
            continue
        client = Client()  # a session of its own, as each Locust user of this account has
        login = {"username": account["username"], "password": account["password"]}
        assert client.post("/login/", login, secure=True).status_code == 302  # the login form, as Locust uses it
        step = steps[0]
        response = client.post(f"/orders/steps/{step['pk']}/sign/", step["fields"], secure=True)
        assert response.status_code == 302, (account["department"], response.content[:500])
        assert ReviewStep.objects.get(pk=step["pk"]).status == ReviewStep.Status.SIGNED
    # A step signed by a previous run is not listed again (--reuse-data lists the open steps afresh).
    again = loadtest.traffic_data(accounts)
    signed = {steps[0]["pk"] for steps in data["steps"].values()}
    assert not signed & {s["pk"] for steps in again["steps"].values() for s in steps}


def test_the_table_is_read_from_locusts_csv_failures_included(loadtest, tmp_path):
    header = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    header += "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%"
    (tmp_path / "stats_stats.csv").write_text(
        f"{header}\n"
        "GET,My work,1200,0,45,52.1,12,410.2,30000,20.0,0.0,45,50,55,60,80,120\n"
        "POST,sign a review step (POST),300,3,90,95.0,40,800.0,0,5.0,0.05,90,100,110,120,150,190\n"
        ",Aggregated,1500,3,50,60.0,12,800.0,24000,25.0,0.05,50,60,70,80,100,150\n",
        encoding="utf-8",
    )
    table, total = loadtest.summary(tmp_path / "stats")
    cells = [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines()]
    assert cells[0] == ["request", "requests", "req/s", "median ms", "p95 ms", "max ms", "failures"]
    assert cells[2] == ["GET My work", "1,200", "20.0", "45", "120", "410", "0"]
    assert cells[3] == ["POST sign a review step (POST)", "300", "5.0", "90", "190", "800", "3"]
    assert cells[4] == ["**total**", "**1,500**", "**25.0**", "**50**", "**150**", "**800**", "**3**"]
    assert total["Failure Count"] == "3"
