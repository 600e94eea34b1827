"""Every figure of the dashboard links to the list behind it, and every link opens (200) for the marketing head;
the charts are server-drawn SVG with their labels in the page's language, each with its table."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import ontime

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.5.2"), pytest.mark.clause("5.12.5")]

TODAY = timezone.localdate()


@pytest.fixture
def data(build, record, sent_round):
    customer = build.customer("L-01")
    day = ontime.add_months(ontime.month_start(TODAY), -1).replace(day=3)
    build.batch(customer, day)
    build.deliver(build.batch(customer, TODAY - timedelta(days=1)), TODAY)
    record(customer)


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def test_every_link_of_the_dashboard_opens(data, client_for):
    client = client_for("head")
    main = _main(client.get("/dashboard/").content.decode())
    links = {href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', main)}
    assert len(links) >= 25
    for href in sorted(links):
        assert href.startswith("/"), href  # nothing from outside
        assert client.get(href).status_code == 200, href


def test_the_figures_link_to_their_filtered_lists(data, client_for):
    main = _main(client_for("head").get("/dashboard/").content.decode())
    for href in (
        "/orders/?status=in_review",
        "/orders/?status=on_hold",
        "/delivery/sheet/?risk=1",
        "/delivery/?status=unsigned",
        "/delivery/reports/",
        "/complaints/?status=received",
        "/complaints/?overdue=1",
        "/improvement/actions/?status=overdue",
        "/improvement/actions/?status=done",
    ):
        assert f'href="{href}"' in main, href


def test_the_charts_are_inline_svg_with_chinese_labels_and_tables(data, client, users):
    client.force_login(users["head"])
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    main = _main(html)
    assert main.count("<svg") == 4  # on-time, satisfaction, orders by stage, review time
    assert "<script" not in main and "<canvas" not in main
    assert "Noto Sans CJK SC" in main  # the SVG names CJK fonts first
    # Each chart's figures are also in a table below or beside it.
    for testid in ("dash-ontime-table", "dash-rounds", "dash-stages", "dash-departments"):
        assert f'data-testid="{testid}"' in main
    # The tables scroll inside their box on a phone.
    assert main.count('class="table-responsive"') >= 6
