"""The management review pages (§5.12.7) through the client: the list, preparing a pack (with the default
period), the pack with its frozen figures, the representative's record of the review, failing POSTs kept on
their page with status 422, who may use each page, and a bounded number of queries."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from improvement import review as reviews
from improvement.models import ManagementReview
from tests.conftest import ROLE_USERS
from tests.improvement import test_review as base

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.7")]

survey_form = base.survey_form
make_customer = base.make_customer
deliver = base.deliver
world = base.world

START, END, TODAY = base.START, base.END, base.TODAY
EVERYONE = set(ROLE_USERS)
# §5.12.7: Customer Service or the representative prepares the pack; the representative records the review.
ALLOWED = {"improvement.view": EVERYONE, "review.prepare": {"cs", "rep"}, "review.record": {"rep"}}


def u(name, *args):
    return reverse(f"improvement:{name}", args=args)


@pytest.fixture
def pack(users):
    return reviews.review_prepare(user=users["cs"], period_start=START, period_end=END)


@pytest.fixture
def no_pdf(monkeypatch):
    """Rendering a real PDF costs seconds: the permission tests only need the view to answer."""
    monkeypatch.setattr(reviews, "render_pdf", lambda template, context: b"%PDF-1.7 test")


# --- Permissions --------------------------------------------------------------------------------------------------


def pages(pack):
    """(capability, method, url, data) for every page and action."""
    period = {"period_start": START.isoformat(), "period_end": END.isoformat(), "title": ""}
    return [
        ("improvement.view", "get", u("reviews"), None),
        ("improvement.view", "get", u("review", pack.pk), None),
        ("improvement.view", "get", u("review_pdf", pack.pk), None),
        ("improvement.view", "get", u("review_xlsx", pack.pk), None),
        ("review.prepare", "get", u("review_new"), None),
        ("review.prepare", "post", u("review_new"), period),
        ("review.record", "get", u("review_record", pack.pk), None),
        ("review.record", "post", u("review_record", pack.pk), {"reviewed_on": TODAY.isoformat(), "decisions": "决议"}),
    ]


def test_every_review_page_is_open_to_its_departments_and_refused_to_the_others(client_for, pack, no_pdf):
    for role in sorted(ROLE_USERS, key=lambda r: r == "rep"):  # the representative last: it records the review
        client = client_for(role)
        for capability, method, address, data in pages(pack):
            response = getattr(client, method)(address, data) if data is not None else getattr(client, method)(address)
            if role in ALLOWED[capability]:
                assert response.status_code in (200, 302), (role, address, response.status_code)
            else:
                assert response.status_code == 403, (role, address, response.status_code)
    pack.refresh_from_db()
    assert pack.status == ManagementReview.Status.REVIEWED and pack.recorded_by.username == "rep"
    # One pack from the fixture, one prepared by each of cs and rep.
    assert ManagementReview.objects.count() == 3


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(client, pack):
    for _capability, method, address, data in pages(pack):
        response = getattr(client, method)(address, data or {})
        assert response.status_code == 302 and "/login" in response["Location"], address
    assert ManagementReview.objects.count() == 1


# --- The list and a new pack -----------------------------------------------------------------------------------


def test_the_list_shows_every_pack_and_offers_a_new_one_to_those_who_may(client_for, users, pack):
    second = reviews.review_prepare(user=users["rep"], period_start=START, period_end=END, title="第二份")

    page = client_for("rep").get(u("reviews")).content.decode()
    assert pack.title in page and "第二份" in page and u("review", second.pk) in page
    assert 'data-testid="new-review"' in page
    assert 'data-testid="new-review"' not in client_for("qa").get(u("reviews")).content.decode()


def test_the_new_pack_form_proposes_the_last_completed_half_year(client_for):
    response = client_for("cs").get(u("review_new"))

    start, end = reviews.default_period()
    assert response.status_code == 200
    assert response.context["form"].initial == {"period_start": start, "period_end": end}
    assert start.isoformat() in response.content.decode()


def test_the_new_pack_form_takes_the_period_from_the_link_in_my_work(client_for):
    response = client_for("rep").get(u("review_new") + "?period_start=2025-01-01&period_end=2025-06-30")

    assert response.context["form"].initial == {"period_start": date(2025, 1, 1), "period_end": date(2025, 6, 30)}


@pytest.mark.parametrize("query", ["?period_start=2025-02-30&period_end=x", "?period_start=99-99"])
def test_a_hand_edited_link_falls_back_to_the_default_period(client_for, query):
    response = client_for("cs").get(u("review_new") + query)

    start, end = reviews.default_period()
    assert response.status_code == 200
    assert response.context["form"].initial == {"period_start": start, "period_end": end}


def test_preparing_a_pack_freezes_its_figures_and_opens_it(client_for, world):
    response = client_for("cs").post(
        u("review_new"), {"period_start": "2025-07-01", "period_end": "2025-12-31", "title": ""}
    )

    review = ManagementReview.objects.get()
    assert response.status_code == 302 and response["Location"] == u("review", review.pk)
    assert review.figures["complaints"]["count"] == 3
    assert review.title.endswith("2025 H2")


def test_a_period_ending_before_it_starts_stays_on_the_form_with_the_reason(client_for):
    response = client_for("cs").post(
        u("review_new"), {"period_start": "2025-07-01", "period_end": "2025-06-30", "title": "我的标题"}
    )

    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["period_end"] == ["The period cannot end before it starts."]
    assert form.data["title"] == "我的标题"
    assert 'value="我的标题"' in response.content.decode()
    assert not ManagementReview.objects.exists()


def test_a_malformed_date_stays_on_the_form(client_for):
    response = client_for("rep").post(u("review_new"), {"period_start": "2025-13-01", "period_end": "2025-12-31"})

    assert response.status_code == 422
    assert "period_start" in response.context["form"].errors
    assert not ManagementReview.objects.exists()


# --- The pack ------------------------------------------------------------------------------------------------------


def test_the_pack_page_shows_every_part_of_the_frozen_figures(client_for, world, users):
    review = reviews.review_prepare(user=users["cs"], period_start=START, period_end=END)
    base.complaint(users, world.customers["A"], date(2025, 12, 1))  # after preparing: not in the pack

    response = client_for("marketing").get(u("review", review.pk))

    assert response.status_code == 200
    page = response.content.decode()
    for text in ("P1", "P2", "B1", "66.7%", "70.0", world.complaints["open"].number, "7.0", "170.5", "2025-07"):
        assert text in page, text
    assert world.actions["overdue"].number in page
    assert "50.0%" in page
    assert response.context["f"]["complaints"]["open_total"] == 2  # not 3: the figures are frozen
    assert 'data-testid="record-review"' not in page  # marketing does not record the review
    assert 'data-testid="prepare-again"' not in page  # nor prepares packs
    again = client_for("cs").get(u("review", review.pk)).content.decode()
    assert "?period_start=2025-07-01&amp;period_end=2025-12-31" in again


def test_the_representative_sees_the_record_button_until_the_review_is_recorded(client_for, users, pack):
    client = client_for("rep")
    assert 'data-testid="record-review"' in client.get(u("review", pack.pk)).content.decode()

    reviews.review_record(user=users["rep"], review=pack, reviewed_on=TODAY, decisions="提高包装标准")

    page = client.get(u("review", pack.pk)).content.decode()
    assert 'data-testid="record-review"' not in page
    assert "提高包装标准" in page and 'data-testid="decisions"' in page


def test_the_pack_page_reads_a_bounded_number_of_queries(client_for, users, world, django_assert_max_num_queries):
    for i in range(120):
        base.complaint(users, world.customers["B"], date(2025, 8, 1) + timedelta(days=i % 100))
        base.action(users, "complaint", due=TODAY - timedelta(days=i + 1))
    review = reviews.review_prepare(user=users["cs"], period_start=START, period_end=END)
    assert review.figures["complaints"]["open_total"] == 122
    client = client_for("qa")

    with django_assert_max_num_queries(6):  # the dashboard grant is read with the departments (accounts.roles)
        response = client.get(u("review", review.pk))

    assert response.status_code == 200
    assert len(response.context["f"]["complaints"]["open"]) == reviews.LIST_LIMIT
    assert "and 22 more" in response.content.decode()


def test_the_list_reads_a_bounded_number_of_queries(client_for, users, django_assert_max_num_queries):
    for _ in range(30):
        reviews.review_prepare(user=users["cs"], period_start=START, period_end=END)
    client = client_for("qa")

    with django_assert_max_num_queries(6):  # the dashboard grant is read with the departments (accounts.roles)
        response = client.get(u("reviews"))

    assert response.status_code == 200 and len(response.context["page"]) == 30


# --- Recording the review ------------------------------------------------------------------------------------------


def test_the_representative_records_the_review_through_the_form(client_for, pack):
    client = client_for("rep")
    assert client.get(u("review_record", pack.pk)).context["form"].initial == {"reviewed_on": TODAY}

    response = client.post(u("review_record", pack.pk), {"reviewed_on": TODAY.isoformat(), "decisions": "决议一"})

    assert response.status_code == 302 and response["Location"] == u("review", pack.pk)
    pack.refresh_from_db()
    assert (pack.status, pack.decisions, pack.reviewed_on) == ("reviewed", "决议一", TODAY)


def test_a_second_record_is_refused_on_the_form_and_the_first_is_kept(client_for, users, pack):
    reviews.review_record(user=users["rep"], review=pack, reviewed_on=TODAY, decisions="第一次")
    client = client_for("rep")

    assert client.get(u("review_record", pack.pk))["Location"] == u("review", pack.pk)
    response = client.post(u("review_record", pack.pk), {"reviewed_on": TODAY.isoformat(), "decisions": "第二次"})

    assert response.status_code == 422
    assert "already recorded" in " ".join(response.context["form"].non_field_errors())
    pack.refresh_from_db()
    assert pack.decisions == "第一次"


def test_a_meeting_in_the_future_stays_on_the_form_with_the_decisions_kept(client_for, pack):
    response = client_for("rep").post(
        u("review_record", pack.pk),
        {"reviewed_on": (TODAY + timedelta(days=3)).isoformat(), "decisions": "保留这段文字"},
    )

    assert response.status_code == 422
    assert response.context["form"].errors["reviewed_on"] == ["The meeting cannot be in the future."]
    assert "保留这段文字" in response.content.decode()
    pack.refresh_from_db()
    assert pack.status == "prepared"


def test_a_record_without_decisions_stays_on_the_form(client_for, pack):
    response = client_for("rep").post(u("review_record", pack.pk), {"reviewed_on": TODAY.isoformat(), "decisions": ""})

    assert response.status_code == 422
    assert response.context["form"].errors["decisions"] == ["Write the decisions of the management review."]


def test_an_unknown_pack_is_not_found(client_for):
    assert client_for("rep").get(u("review", 999)).status_code == 404
    assert client_for("rep").post(u("review_record", 999), {"decisions": "x"}).status_code == 404
