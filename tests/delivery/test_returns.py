"""Returns, finished (§5.7): open → picked up → closed; Quality's write-ups are numbered internal memos to the
departments concerned, each acknowledged, never rewritten."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from common.errors import DomainError
from delivery import services
from delivery.models import Return
from orders.models import Memo
from tests.delivery.conftest import TODAY, issue, plan

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.7.1")]

WRITE_UP = "来料检验加严,包装加隔板。"


@pytest.fixture
def note(users, order):
    return issue(users, (plan(users, order), "100"), delivery_date=TODAY - timedelta(days=2))


@pytest.fixture
def ret(users, note):
    return services.return_record(
        user=users["cs"], note_line=note.lines.get(), quantity=Decimal("30"), reason="外观刮花", pickup_date=TODAY
    )


def write_up(users, ret, text=WRITE_UP, **kwargs):
    return services.return_memo(user=users["qa"], ret=ret, memo=text, **kwargs)


def fresh(ret) -> Return:
    return Return.objects.get(pk=ret.pk)


# --- The lifecycle --------------------------------------------------------------------------------------------


def test_a_return_moves_from_open_to_picked_up_to_closed_with_who_and_when(users, ret):
    assert ret.status == Return.Status.OPEN
    memo = write_up(users, ret)
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY - timedelta(days=1))
    picked = fresh(ret)
    assert picked.status == Return.Status.PICKED_UP
    assert (picked.picked_up_on, picked.picked_up_by) == (TODAY - timedelta(days=1), users["cs"])
    before = timezone.now()
    services.return_close(user=users["cs"], ret=ret)
    closed = fresh(ret)
    assert closed.status == Return.Status.CLOSED and closed.closed_by == users["cs"] and closed.closed_at >= before
    assert list(closed.memos.all()) == [memo]


def test_it_cannot_be_closed_before_the_pickup(users, ret):
    write_up(users, ret)
    with pytest.raises(DomainError, match="pickup before closing"):
        services.return_close(user=users["cs"], ret=ret)
    assert fresh(ret).status == Return.Status.OPEN


def test_it_cannot_be_closed_without_qualitys_write_up(users, ret):
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    with pytest.raises(DomainError, match="Quality has not written its memo"):
        services.return_close(user=users["cs"], ret=ret)
    assert fresh(ret).status == Return.Status.PICKED_UP and fresh(ret).closed_at is None


def test_a_write_up_kept_as_text_from_before_counts(users, ret):
    Return.objects.filter(pk=ret.pk).update(quality_memo="旧版品管意见:加强检验")
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    services.return_close(user=users["cs"], ret=ret)
    assert fresh(ret).status == Return.Status.CLOSED


def test_it_is_closed_once(users, ret):
    write_up(users, ret)
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    services.return_close(user=users["cs"], ret=ret)
    closed_at = fresh(ret).closed_at
    with pytest.raises(DomainError, match="already closed"):
        services.return_close(user=users["cs"], ret=ret)
    assert fresh(ret).closed_at == closed_at


def test_the_pickup_date_is_never_in_the_future_nor_before_the_delivery(users, ret, note):
    with pytest.raises(DomainError, match="in the future"):
        services.return_pick_up(user=users["cs"], ret=ret, on=TODAY + timedelta(days=1))
    with pytest.raises(DomainError, match="before they were delivered"):
        services.return_pick_up(user=users["cs"], ret=ret, on=note.delivery_date - timedelta(days=1))
    assert fresh(ret).status == Return.Status.OPEN and fresh(ret).picked_up_on is None
    services.return_pick_up(user=users["cs"], ret=ret, on=note.delivery_date)
    with pytest.raises(DomainError, match="already picked up"):
        services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    assert fresh(ret).picked_up_on == note.delivery_date


@pytest.mark.parametrize("role", ["qa", "warehouse", "marketing", "pmc", "head", "rep", "admin"])
def test_only_customer_service_records_the_pickup_and_closes(users, ret, role):
    write_up(users, ret)
    with pytest.raises(PermissionDenied):
        services.return_pick_up(user=users[role], ret=ret, on=TODAY)
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    with pytest.raises(PermissionDenied):
        services.return_close(user=users[role], ret=ret)
    assert fresh(ret).status == Return.Status.PICKED_UP


@pytest.mark.parametrize("role", ["cs", "warehouse", "marketing", "pmc", "head", "rep", "admin"])
def test_only_quality_writes_the_memo(users, ret, role):
    with pytest.raises(PermissionDenied):
        services.return_memo(user=users[role], ret=ret, memo=WRITE_UP)
    assert not Memo.objects.exists()


# --- Quality's write-ups as numbered memos ----------------------------------------------------------------------


def test_the_write_up_is_a_numbered_memo_to_the_departments_concerned(users, ret, note):
    memo = write_up(users, ret, departments=["customer_service", "pmc", "warehouse"])
    order = note.lines.get().batch.line.order
    assert memo.number == f"NM-{timezone.localdate().year}-0001"
    assert memo.topic == Memo.Topic.RETURN and memo.order == order and memo.issued_by == users["qa"]
    assert sorted(memo.receipts.values_list("department", flat=True)) == ["customer_service", "pmc", "warehouse"]
    # The memo says what it is about as it was when issued, in Chinese and English.
    assert note.number in memo.subject and "P-1" in memo.subject
    assert "外观刮花" in memo.body and WRITE_UP in memo.body and "30" in memo.body
    assert list(fresh(ret).memos.all()) == [memo] and fresh(ret).quality_memo == ""


def test_by_default_it_goes_to_customer_service_pmc_the_warehouse_and_marketing(users, ret):
    memo = write_up(users, ret)
    assert sorted(memo.departments) == ["customer_service", "marketing", "pmc", "warehouse"]


def test_a_second_write_up_is_a_new_memo_and_the_first_stays_as_issued(client_for, users, ret):
    first = write_up(users, ret, subject="退货初步分析")
    second = write_up(users, ret, text="复查结论:供应商来料问题,已要求整改。", subject="退货复查结论")
    assert first.number != second.number and second.number.endswith("-0002")
    first.refresh_from_db()
    assert WRITE_UP in first.body and "复查结论" not in first.body and first.subject == "退货初步分析"
    assert list(fresh(ret).memos.order_by("pk")) == [first, second]
    page = client_for("warehouse").get(reverse("delivery:return", args=[ret.pk])).content.decode()
    table = page[page.index('data-testid="return-memos"') :]
    assert table.index(second.number) < table.index(first.number)  # the latest first


def test_a_write_up_needs_text_and_known_departments(users, ret):
    with pytest.raises(DomainError, match="Write the memo"):
        write_up(users, ret, text="  ")
    with pytest.raises(DomainError, match="Unknown department"):
        write_up(users, ret, departments=["pmc", "canteen"])
    with pytest.raises(DomainError, match="at least one department"):
        write_up(users, ret, departments=[])
    assert not Memo.objects.exists()


def test_a_stale_page_cannot_issue_the_same_memo_twice(users, ret):
    write_up(users, ret, memos_seen=0)
    with pytest.raises(DomainError, match="meanwhile"):
        write_up(users, ret, memos_seen=0)
    assert fresh(ret).memos.count() == 1
    write_up(users, ret, memos_seen=1)  # written after reading the first: a deliberate second memo
    assert fresh(ret).memos.count() == 2


def test_no_memo_on_a_closed_return(users, ret):
    write_up(users, ret)
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    services.return_close(user=users["cs"], ret=ret)
    with pytest.raises(DomainError, match="closed"):
        write_up(users, ret)
    assert fresh(ret).memos.count() == 1


def test_each_department_acknowledges_the_return_memo_and_sees_it_in_my_work(client_for, users, ret):
    memo = write_up(users, ret, departments=["customer_service", "warehouse"])
    for role, department in (("cs", "customer_service"), ("warehouse", "warehouse")):
        assert memo.number in client_for(role).get(reverse("accounts:my_work")).content.decode()
        client_for(role).post(reverse("orders:memo_acknowledge", args=[memo.pk]), {"department": department})
        assert memo.number not in client_for(role).get(reverse("accounts:my_work")).content.decode()
    assert not memo.receipts.filter(acknowledged_at__isnull=True).exists()
    page = client_for("qa").get(reverse("delivery:return", args=[ret.pk])).content.decode()
    assert "2/2" in page


def test_the_memo_page_and_print_name_the_return(client_for, users, ret, note):
    memo = write_up(users, ret)
    page = client_for("pmc").get(reverse("orders:memo", args=[memo.pk])).content.decode()
    concerns = page[page.index('data-testid="memo-concerns"') :]
    concerns = concerns[: concerns.index("</dl>")]
    assert reverse("delivery:return", args=[ret.pk]) in concerns and note.number in concerns
    assert memo.order.number in concerns
    pdf = client_for("pmc").get(reverse("orders:memo_pdf", args=[memo.pk]))
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "退货 Return" in text and note.number in text and "来料检验加严" in text and memo.order.number in text


# --- Pages -------------------------------------------------------------------------------------------------------


def test_customer_service_and_quality_work_the_return_through_its_page(client_for, users, ret):
    url = reverse("delivery:return", args=[ret.pk])
    qa = client_for("qa")
    page = qa.get(url).content.decode()
    assert 'data-testid="memo-form"' in page and 'data-testid="pick-up-form"' not in page
    response = qa.post(
        reverse("delivery:return_memo", args=[ret.pk]),
        {"memo": WRITE_UP, "departments": ["pmc", "warehouse"], "memos_seen": "0", "subject": ""},
    )
    assert response.status_code == 302 and response.url == url
    memo = Memo.objects.get()
    assert sorted(memo.departments) == ["pmc", "warehouse"]

    cs = client_for("cs")
    page = cs.get(url).content.decode()
    assert 'data-testid="pick-up-form"' in page and 'data-testid="memo-form"' not in page
    assert 'data-testid="close-return"' not in page  # not before the pickup
    response = cs.post(reverse("delivery:return_pick_up", args=[ret.pk]), {"picked_up_on": TODAY.isoformat()})
    assert response.status_code == 302
    page = cs.get(url).content.decode()
    assert 'data-testid="close-return"' in page and 'data-testid="pick-up-form"' not in page
    response = cs.post(reverse("delivery:return_close", args=[ret.pk]))
    assert response.status_code == 302
    assert fresh(ret).status == Return.Status.CLOSED
    page = qa.get(url).content.decode()
    assert 'data-testid="memo-form"' not in page and memo.number in page


def test_a_refused_pickup_shows_the_page_again_with_the_date_kept(client_for, ret):
    future = (TODAY + timedelta(days=2)).isoformat()
    response = client_for("cs").post(reverse("delivery:return_pick_up", args=[ret.pk]), {"picked_up_on": future})
    assert response.status_code == 422
    page = response.content.decode()
    assert "in the future" in page and f'value="{future}"' in page
    assert fresh(ret).status == Return.Status.OPEN


def test_a_refused_close_says_why(client_for, users, ret):
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    response = client_for("cs").post(reverse("delivery:return_close", args=[ret.pk]))
    assert response.status_code == 422
    assert "Quality has not written its memo" in response.content.decode()
    assert fresh(ret).status == Return.Status.PICKED_UP


def test_an_incomplete_memo_keeps_what_was_written(client_for, ret):
    response = client_for("qa").post(
        reverse("delivery:return_memo", args=[ret.pk]),
        {"memo": "包装加隔板", "subject": "退货分析", "memos_seen": "0"},  # no department chosen
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose at least one department" in page and "包装加隔板" in page and 'value="退货分析"' in page
    assert not Memo.objects.exists()


def test_a_double_click_issues_one_memo(client_for, ret):
    client = client_for("qa")
    data = {"memo": WRITE_UP, "departments": ["pmc"], "memos_seen": "0"}
    assert client.post(reverse("delivery:return_memo", args=[ret.pk]), data).status_code == 302
    again = client.post(reverse("delivery:return_memo", args=[ret.pk]), data)
    assert again.status_code == 422 and "meanwhile" in again.content.decode()
    assert Memo.objects.count() == 1
    # The page shown again counts the memo just read: sending it now is a deliberate second memo.
    assert 'name="memos_seen" value="1"' in again.content.decode()


def test_a_return_recorded_before_numbered_memos_shows_its_text_read_only(client_for, ret):
    Return.objects.filter(pk=ret.pk).update(quality_memo="旧版品管意见:加强检验")
    page = client_for("qa").get(reverse("delivery:return", args=[ret.pk])).content.decode()
    legacy = page[page.index('data-testid="legacy-memo"') :]
    assert "旧版品管意见" in legacy[:500]
    assert "Issue a further memo" in page  # a new write-up is a memo; the text is not edited


def test_the_note_page_links_each_return(client_for, users, ret, note):
    write_up(users, ret)
    page = client_for("warehouse").get(note.get_absolute_url()).content.decode()
    assert reverse("delivery:return", args=[ret.pk]) in page and "1 memo from Quality" in page


def test_the_list_filters_by_status_in_a_bounded_number_of_queries(
    client_for, users, note, django_assert_max_num_queries
):
    line = note.lines.get()
    made = [
        services.return_record(user=users["cs"], note_line=line, quantity=Decimal("1"), reason=f"原因 {i}")
        for i in range(20)
    ]
    for ret in made[:5]:
        write_up(users, ret)
        services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    client = client_for("warehouse")
    with django_assert_max_num_queries(12):
        page = client.get(reverse("delivery:returns")).content.decode()
    assert page.count('href="/delivery/returns/') >= 20
    picked = client.get(reverse("delivery:returns"), {"status": "picked_up"}).content.decode()
    assert "原因 0<" in picked and "原因 19<" not in picked
    still_open = client.get(reverse("delivery:returns"), {"status": "open"}).content.decode()
    assert "原因 19<" in still_open and "原因 0<" not in still_open


def test_every_new_action_is_refused_to_the_departments_without_the_capability(client, users, ret):
    from accounts.roles import MATRIX
    from tests.conftest import ROLE_USERS

    checks = [
        ("get", reverse("delivery:returns"), "delivery.view"),
        ("get", reverse("delivery:return", args=[ret.pk]), "delivery.view"),
        ("post", reverse("delivery:return_memo", args=[ret.pk]), "return.memo"),
        ("post", reverse("delivery:return_pick_up", args=[ret.pk]), "return.progress"),
        ("post", reverse("delivery:return_close", args=[ret.pk]), "return.progress"),
        ("post", reverse("delivery:return_replace", args=[ret.pk]), "delivery.edit"),
    ]
    for method, url, capability in checks:
        for role, dept in ROLE_USERS.items():
            client.force_login(users[role])
            status = getattr(client, method)(url, {}).status_code
            assert status < 500, (url, role, status)
            assert (status == 403) == (dept not in MATRIX[capability]), (url, role, status)
            client.logout()
    assert fresh(ret).status == Return.Status.OPEN and not Memo.objects.exists()


# --- Two people at once (PostgreSQL) --------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there")
def test_two_clicks_at_once_issue_one_memo_and_close_once(users, ret):
    from tests.orders.test_concurrency import at_once

    results = at_once(*[lambda: write_up(users, ret, memos_seen=0) for _ in range(3)])
    assert sum(isinstance(r, Memo) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 2, results
    services.return_pick_up(user=users["cs"], ret=ret, on=TODAY)
    results = at_once(*[lambda: services.return_close(user=users["cs"], ret=ret) for _ in range(3)])
    assert sum(isinstance(r, Return) for r in results) == 1, results
    assert all("already closed" in str(r) for r in results if isinstance(r, DomainError)), results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; .ci/run runs this there")
def test_memos_issued_at_once_get_consecutive_numbers(users, note):
    from tests.orders.test_concurrency import at_once

    line = note.lines.get()
    returns = [
        services.return_record(user=users["cs"], note_line=line, quantity=Decimal("1"), reason=f"r{i}")
        for i in range(4)
    ]
    results = at_once(*[lambda r=r: write_up(users, r) for r in returns])
    assert all(isinstance(r, Memo) for r in results), results
    assert sorted(int(m.number.rsplit("-", 1)[1]) for m in results) == [1, 2, 3, 4]
