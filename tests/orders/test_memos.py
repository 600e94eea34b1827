"""Internal memos (《内部联络函》) not tied to an order revision: numbering, pages, acknowledgement, My work, print.

Memos of an order's change are tested with the changes (test_changes.py); a return's write-up with the returns
(tests/delivery/test_returns.py)."""

import ast
import io
import logging
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from common.errors import DomainError
from orders import services
from orders.models import Memo, MemoCounter

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.3.1"), pytest.mark.clause("7.3")]

YEAR = timezone.localdate().year
BODY = "会议决定:包装箱加隔板,出货检验加严一级。\nDecision: add dividers to the cartons."


def issue(users, *, topic=Memo.Topic.OTHER, departments=("pmc", "warehouse", "quality"), **kwargs):
    values = dict(user=users["cs"], topic=topic, subject="包装改善通知 Packaging change", body=BODY)
    values.update(kwargs)
    return services.memo_issue(departments=list(departments), **values)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


# --- Numbering ----------------------------------------------------------------------------------------------


def test_it_numbers_memos_per_year_without_gaps(users):
    first, second = issue(users), issue(users)
    assert (first.number, second.number) == (f"NM-{YEAR}-0001", f"NM-{YEAR}-0002")
    # A memo whose change is rolled back gives its number back: the next one does not skip it.
    with pytest.raises(RuntimeError), transaction.atomic():
        assert issue(users).number == f"NM-{YEAR}-0003"
        raise RuntimeError("the change the memo belongs to failed")
    assert issue(users).number == f"NM-{YEAR}-0003"
    assert MemoCounter.objects.get(year=YEAR).last == 3


def test_it_starts_again_at_one_in_a_new_year(users, monkeypatch):
    issue(users)
    monkeypatch.setattr(services.timezone, "localdate", lambda *args, **kwargs: date(YEAR + 1, 1, 2))
    assert issue(users).number == f"NM-{YEAR + 1}-0001"
    assert issue(users).number == f"NM-{YEAR + 1}-0002"


def test_a_refused_memo_takes_no_number(users):
    with pytest.raises(DomainError, match="at least one department"):
        issue(users, departments=())
    with pytest.raises(DomainError, match="subject and a text"):
        issue(users, body="   ")
    assert not Memo.objects.exists()
    assert issue(users).number == f"NM-{YEAR}-0001"


# --- Pages, acknowledgement, My work ------------------------------------------------------------------------


def test_a_memo_without_an_order_is_shown_and_each_department_acknowledges_it(client_for, users):
    memo = issue(users)
    assert memo.order is None and memo.revision == 0
    page = client_for("marketing").get(reverse("orders:memo", args=[memo.pk])).content.decode()
    assert memo.number in page and "包装改善通知" in page and "包装箱加隔板" in page
    concerns = page[page.index('data-testid="memo-concerns"') :]
    assert "Other" in concerns[:300]
    assert page.count('data-testid="acknowledge"') == 0  # Marketing is not on the memo
    for role, department in (("pmc", "pmc"), ("warehouse", "warehouse"), ("qa", "quality")):
        page = client_for(role).get(reverse("orders:memo", args=[memo.pk])).content.decode()
        assert page.count('data-testid="acknowledge"') == 1
        response = client_for(role).post(reverse("orders:memo_acknowledge", args=[memo.pk]), {"department": department})
        assert response.status_code == 302
    receipts = {r.department: r for r in memo.receipts.all()}
    assert (
        receipts["pmc"].acknowledged_by == users["pmc"] and receipts["warehouse"].acknowledged_by == users["warehouse"]
    )
    assert all(r.acknowledged_at for r in receipts.values())
    page = client_for("marketing").get(reverse("orders:memo", args=[memo.pk])).content.decode()
    assert page.count("✔") == 3 and "not yet" not in page


def test_a_department_not_on_the_memo_cannot_acknowledge_it(client_for, users):
    memo = issue(users)
    response = client_for("marketing").post(
        reverse("orders:memo_acknowledge", args=[memo.pk]), {"department": "marketing"}
    )
    assert response.status_code == 403
    response = client_for("marketing").post(reverse("orders:memo_acknowledge", args=[memo.pk]), {"department": "pmc"})
    assert response.status_code == 403
    assert not memo.receipts.filter(acknowledged_at__isnull=False).exists()


def test_it_waits_in_my_work_of_each_department_until_acknowledged(client_for, users):
    memo = issue(users, departments=("pmc", "warehouse"))

    def work(role):
        return client_for(role).get(reverse("accounts:my_work")).content.decode()

    for role in ("pmc", "warehouse"):
        page = work(role)
        assert "Internal memos to acknowledge" in page and memo.number in page
    assert memo.number not in work("marketing")
    services.memo_acknowledge(user=users["pmc"], memo=memo, department="pmc")
    assert memo.number not in work("pmc")
    assert memo.number in work("warehouse")


def test_the_list_shows_what_each_memo_is_about_and_filters_by_topic(client_for, users, entered):
    order = entered()
    other = issue(users, subject="年度盘点通知 Stock-taking")
    about_order = issue(users, topic=Memo.Topic.RETURN, order=order, subject="退货处理 Return write-up")
    client = client_for("warehouse")
    listing = client.get(reverse("orders:memos")).content.decode()
    assert other.number in listing and about_order.number in listing
    row = listing[listing.index(about_order.number) :]
    row = row[: row.index("</tr>")]
    assert order.number in row and "Return" in row
    only_returns = client.get(reverse("orders:memos"), {"topic": "return"}).content.decode()
    assert about_order.number in only_returns and other.number not in only_returns
    only_other = client.get(reverse("orders:memos"), {"topic": "other"}).content.decode()
    assert other.number in only_other and about_order.number not in only_other
    unknown = client.get(reverse("orders:memos"), {"topic": "nonsense"}).content.decode()
    assert other.number in unknown and about_order.number in unknown  # an unknown topic filters nothing out


def test_the_list_runs_a_bounded_number_of_queries(client_for, users, entered, django_assert_max_num_queries):
    from improvement.models import Meeting

    order = entered()
    for index in range(30):
        memo = issue(users, order=order if index % 2 else None, subject=f"通知 {index}")
        if index % 3 == 0:
            Meeting.objects.create(
                held_on=timezone.localdate(),
                title=f"改善会议 {index}",
                attendees="张三",
                minutes="纪要",
                memo=memo,
                recorded_by=users["cs"],
            )
    client = client_for("pmc")
    with django_assert_max_num_queries(15):
        response = client.get(reverse("orders:memos"))
    assert response.content.decode().count("改善会议") == 10


def test_a_meetings_minutes_memo_names_its_meeting(client_for, users):
    from improvement.models import Meeting

    memo = issue(users, topic=Memo.Topic.MEETING, subject="改善会议纪要 Minutes")
    meeting = Meeting.objects.create(
        held_on=timezone.localdate(),
        title="上半年满意度改善会议",
        attendees="客服部 张三; 品管部 李四",
        minutes="纪要",
        memo=memo,
        recorded_by=users["cs"],
    )
    page = client_for("qa").get(reverse("orders:memo", args=[memo.pk])).content.decode()
    concerns = page[page.index('data-testid="memo-concerns"') :]
    concerns = concerns[: concerns.index("</dl>")]
    assert "Improvement meeting" in concerns and "上半年满意度改善会议" in concerns
    assert meeting.get_absolute_url() in concerns
    text = pdf_text(client_for("qa").get(reverse("orders:memo_pdf", args=[memo.pk])).content)
    assert "改善会议 Improvement meeting" in text and "上半年满意度改善会议" in text  # not in the memo's own text


def test_the_printed_memo_carries_its_chinese_text(client_for, users, caplog):
    memo = issue(users)
    services.memo_acknowledge(user=users["pmc"], memo=memo, department="pmc")
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        response = client_for("warehouse").get(reverse("orders:memo_pdf", args=[memo.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert not [r for r in caplog.records if "glyph" in r.getMessage()]
    text = pdf_text(response.content)
    assert "内部联络函" in text and memo.number in text
    assert "包装箱加隔板" in text and "包装改善通知" in text
    assert "其它" in text  # the topic, bilingual
    assert "订单 Order" not in text  # no order row for a memo without one
    assert settings.COMPANY_NAME_ZH in text


def test_orders_does_not_import_the_apps_that_stand_on_it():
    """Layering: delivery, improvement, complaints and satisfaction read orders; orders reads them only through
    the reverse relations they add (and never at import time)."""
    above = {"delivery", "improvement", "complaints", "satisfaction"}
    for path in Path(settings.BASE_DIR, "orders").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not {n.split(".")[0] for n in names} & above, (path.name, names)
