"""The figures of the management review pack (§5.12.7) on hand-built data, for the period 2025 H2
(2025-07-01 – 2025-12-31), prepared today (after it):

* survey rounds (ad hoc, closed unless said; all-5 answers score 100, all-4 80, all-3 60, all-2 40):
  B0 2024 Q4 (A 60), B1 2025 Q1 (A 80), B2 2025 Q2 (A 100): before the period, only the last two on the trend;
  P1 2025 Q3: A 100, B 60, C no answer → 80.0, response rate 66.7% < 80%;
  P2 2025 Q4: A 100, B 40, C 60, D 80 → 70.0; B (very dissatisfied) and C (dissatisfied) are below "fairly
  satisfied"; a draft round in the period and a round ending after it are not in the pack;
* complaints: two received and closed in the period (10 and 4 days to close), one open from the period, one
  open from before it, one closed before it, one received after it;
* returns recorded in the period by local day (one at 23:30 on its last day, one at 00:10 the day after);
* corrective actions of every state, created and verified inside and outside the period;
* delivery batches: July one on time and one delivered late, August one not delivered, November one on time.

The fixtures here are shared by the other test_review modules (imported from this one).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.errors import DomainError
from complaints.models import Complaint
from delivery import ontime
from delivery.models import DeliveryNote, Return
from delivery.ontime import add_months, month_key, month_start
from improvement import review as reviews
from improvement.models import Action, Verification
from satisfaction import services
from satisfaction.models import SurveyRound
from tests.satisfaction import conftest as survey_fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.7")]

survey_form = survey_fixtures.survey_form
make_customer = survey_fixtures.make_customer
deliver = survey_fixtures.deliver
all_answers = survey_fixtures.all_answers

TODAY = timezone.localdate()
START, END = date(2025, 7, 1), date(2025, 12, 31)
_numbers = count(1)


def local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def build_round(users, customers, scores: dict, *, name, start, end, close=True, send=True) -> SurveyRound:
    """An ad-hoc round over ``customers``, answered ``scores`` ({code: the value of every answer}; a customer not
    in it does not answer), then closed."""
    cs = users["cs"]
    survey_round = services.round_create_ad_hoc(
        user=cs,
        name=name,
        reason="test",
        period_start=start,
        period_end=end,
        deadline=TODAY + timedelta(days=10),
        customers=customers,
    )
    if not send:
        return survey_round
    services.round_send(survey_round=survey_round, user=cs)
    survey_round.refresh_from_db()
    for code, value in scores.items():
        invitation = survey_round.invitations.get(line__customer__code=code)
        services.response_submit(invitation=invitation, raw_answers=all_answers(survey_round.form, value))
    if close:
        services.round_close(survey_round=survey_round, user=cs)
    survey_round.refresh_from_db()
    return survey_round


def complaint(users, customer, received_on, *, category="quality", status="received", accepted_on=None, **fields):
    closed = status == Complaint.Status.CLOSED
    return Complaint.objects.create(
        number=f"CC-T{next(_numbers):04d}",
        customer=customer,
        received_on=received_on,
        description="客户投诉",
        category=category,
        department="quality" if category == "quality" else "customer_service",
        status=status,
        recorded_by=users["cs"],
        accepted_on=accepted_on,
        closed_by=users["cs"] if closed else None,
        closed_at=local(accepted_on) if closed and accepted_on else None,
        **fields,
    )


def a_return(users, note, quantity, recorded_at, status="open"):
    ret = Return.objects.create(
        note_line=note.lines.first(), quantity=Decimal(quantity), reason="破损", status=status, recorded_by=users["cs"]
    )
    Return.objects.filter(pk=ret.pk).update(recorded_at=recorded_at)
    return ret


def action(users, source, *, status="open", due=None, created=None, owner="qa", verify_after=None, reopened=0, **kw):
    made = Action.objects.create(
        number=f"CA-T-{next(_numbers):04d}",
        source=source,
        title=kw.pop("title", f"措施 {source}"),
        problem="发现",
        plan="计划",
        owner=users[owner],
        owner_department=users[owner].groups.first().name,
        due_date=due or TODAY + timedelta(days=30),
        status=status,
        verify_after=verify_after,
        reopened=reopened,
        created_by=users["cs"],
        **kw,
    )
    if created:
        Action.objects.filter(pk=made.pk).update(created_at=local(created))
    return made


def verification(users, made, effective, on):
    v = Verification.objects.create(action=made, effective=effective, evidence="证据", verified_by=users["rep"])
    Verification.objects.filter(pk=v.pk).update(verified_at=local(on))
    return v


@dataclass
class World:
    customers: dict
    rounds: dict
    complaints: dict = field(default_factory=dict)
    returns: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)


@pytest.fixture
def world(users, survey_form, make_customer, deliver) -> World:
    customers = {code: make_customer(code) for code in ("A", "B", "C", "D")}
    a, b, c, d = customers.values()
    rounds = {
        "B0": build_round(users, [a], {"A": 3}, name="B0", start=date(2024, 10, 1), end=date(2024, 12, 31)),
        "B1": build_round(users, [a], {"A": 4}, name="B1", start=date(2025, 1, 1), end=date(2025, 3, 31)),
        "B2": build_round(users, [a], {"A": 5}, name="B2", start=date(2025, 4, 1), end=date(2025, 6, 30)),
        "P1": build_round(users, [a, b, c], {"A": 5, "B": 3}, name="P1", start=START, end=date(2025, 9, 30)),
        "P2": build_round(
            users, [a, b, c, d], {"A": 5, "B": 2, "C": 3, "D": 4}, name="P2", start=date(2025, 10, 1), end=END
        ),
        "draft": build_round(users, [a], {}, name="draft", start=START, end=END, send=False),
        "after": build_round(users, [a], {"A": 1}, name="after", start=date(2025, 10, 1), end=date(2026, 1, 31)),
    }
    w = World(customers=customers, rounds=rounds)

    w.complaints = {
        "closed10": complaint(users, a, date(2025, 8, 1), status="closed", accepted_on=date(2025, 8, 11)),
        "closed4": complaint(
            users, b, date(2025, 9, 1), category="delivery", status="closed", accepted_on=date(2025, 9, 5)
        ),
        "open": complaint(users, c, date(2025, 11, 20), status="acknowledged"),
        "older": complaint(users, d, date(2025, 6, 15), category="packaging", status="investigated"),
        "closed_before": complaint(users, a, date(2025, 5, 1), status="closed", accepted_on=date(2025, 5, 3)),
        "after": complaint(users, a, date(2026, 1, 10)),
    }

    # Delivery: July on time and late, August not delivered, November on time.
    july = deliver(a, 1000, on=date(2025, 7, 10))
    late = deliver(b, 500, on=date(2025, 7, 20))
    DeliveryNote.objects.filter(pk=late.pk).update(delivery_date=date(2025, 7, 25))
    ontime.batch_state_recompute(late.lines.values_list("batch_id", flat=True))  # .update() bypasses the services
    deliver(c, 300, on=date(2025, 8, 5), status=DeliveryNote.Status.CANCELLED)
    deliver(d, 200, on=date(2025, 11, 3))

    w.returns = {
        "open": a_return(users, july, "100", local(date(2025, 7, 15))),
        "closed": a_return(users, july, "50.5", local(date(2025, 9, 1)), status="closed"),
        "last_evening": a_return(users, late, "20", local(END, 23, 30), status="closed"),
        "next_morning": a_return(users, late, "7", local(END + timedelta(days=1), 0, 10)),
    }

    w.actions = {
        "overdue": action(
            users, "complaint", due=TODAY - timedelta(days=10), created=date(2025, 8, 2), title="=1+1 逾期"
        ),
        "reopened": action(users, "question", reopened=1, created=date(2025, 9, 1)),
        "ready": action(
            users, "customer", status="done", verify_after=TODAY - timedelta(days=1), created=date(2025, 3, 1)
        ),
        "done": action(
            users, "customer", status="done", verify_after=TODAY + timedelta(days=5), created=date(2026, 2, 1)
        ),
        "effective": action(users, "on_time", status="effective", created=date(2025, 10, 1), month="2025-08"),
        "effective_before": action(users, "round", status="effective", created=date(2025, 1, 5)),
    }
    verification(users, w.actions["reopened"], False, date(2025, 10, 15))
    verification(users, w.actions["effective"], True, date(2025, 12, 1))
    verification(users, w.actions["effective_before"], True, date(2025, 6, 1))
    return w


@pytest.fixture
def figures(world):
    return reviews.review_figures(START, END)


# --- Satisfaction ------------------------------------------------------------------------------------------------


def test_it_lists_the_rounds_of_the_period_after_the_two_before_them(figures, world):
    rounds = figures["satisfaction"]["rounds"]

    assert [r["name"] for r in rounds] == ["B1", "B2", "P1", "P2"]
    assert [r["in_period"] for r in rounds] == [False, False, True, True]
    assert figures["satisfaction"]["in_period"] == 2


def test_each_round_has_its_score_band_rate_against_the_target_and_change(figures):
    b1, b2, p1, p2 = figures["satisfaction"]["rounds"]

    assert (b1["score"], b2["score"], p1["score"], p2["score"]) == ("80.0", "100.0", "80.0", "70.0")
    assert (p1["band"], p2["band"]) == ("fairly_satisfied", "dissatisfied")
    assert (b1["change"], b2["change"], p1["change"], p2["change"]) == (None, "20.0", "-20.0", "-10.0")
    assert (p1["surveyed"], p1["answered"], p1["rate"], p1["target"], p1["rate_met"]) == (3, 2, "66.7", "80.0", False)
    assert (p2["rate"], p2["rate_met"]) == ("100.0", True)


def test_the_band_counts_of_a_round_cover_every_band(figures):
    p2 = figures["satisfaction"]["rounds"][-1]

    assert p2["band_counts"] == [
        {"band": "very_satisfied", "count": 1},
        {"band": "satisfied", "count": 0},
        {"band": "fairly_satisfied", "count": 1},
        {"band": "dissatisfied", "count": 1},
        {"band": "very_dissatisfied", "count": 1},
    ]


def test_the_customers_below_fairly_satisfied_are_those_of_the_latest_round_lowest_first(figures):
    sat = figures["satisfaction"]

    assert sat["latest"]["name"] == "P2"
    assert [(c["code"], c["score"], c["band"]) for c in sat["low_customers"]] == [
        ("B", "40.0", "very_dissatisfied"),
        ("C", "60.0", "dissatisfied"),
    ]


def test_a_round_still_open_is_in_the_pack_and_marked(world, users):
    build_round(users, [world.customers["A"]], {"A": 4}, name="open", start=START, end=END, close=False)

    rounds = reviews.review_figures(START, END)["satisfaction"]["rounds"]

    opened = rounds[-1]
    assert (opened["name"], opened["closed"], opened["status"], opened["score"]) == ("open", False, "sent", "80.0")
    assert [r["closed"] for r in rounds[:-1]] == [True] * 4


def test_a_period_without_rounds_has_an_empty_satisfaction_part(world):
    sat = reviews.review_figures(date(2023, 1, 1), date(2023, 6, 30))["satisfaction"]

    assert sat == {"rounds": [], "in_period": 0, "latest": None, "low_customers": []}


# --- Complaints, returns --------------------------------------------------------------------------------------------


def test_the_complaints_of_the_period_count_by_status_and_category(figures):
    complaints = figures["complaints"]

    assert complaints["count"] == 3
    assert {s["status"]: s["count"] for s in complaints["by_status"]} == {
        "received": 0,
        "acknowledged": 1,
        "investigated": 0,
        "answered": 0,
        "closed": 2,
    }
    by_category = {c["category"]: c["count"] for c in complaints["by_category"]}
    assert by_category["quality"] == 2 and by_category["delivery"] == 1 and by_category["packaging"] == 0
    assert sum(by_category.values()) == 3


def test_closed_complaints_count_their_days_from_receipt_to_the_customers_acceptance(figures):
    assert figures["complaints"]["closed"] == 2
    assert figures["complaints"]["average_days_to_close"] == "7.0"


def test_open_complaints_include_older_ones_with_their_age_oldest_first(figures, world):
    complaints = figures["complaints"]

    assert complaints["open_total"] == 2
    older, current = complaints["open"]
    assert (older["number"], older["before_period"]) == (world.complaints["older"].number, True)
    assert (current["number"], current["before_period"]) == (world.complaints["open"].number, False)
    assert current["age_days"] == (TODAY - date(2025, 11, 20)).days
    assert current["customer_code"] == "C" and current["status"] == "acknowledged"


def test_no_complaint_closed_gives_no_average(world):
    assert reviews.review_figures(date(2025, 10, 1), END)["complaints"]["average_days_to_close"] is None


def test_returns_count_by_the_local_day_they_were_recorded(figures):
    returns = figures["returns"]

    assert (returns["count"], returns["quantity"]) == (3, "170.5")
    assert returns["by_status"] == [
        {"status": "open", "count": 1, "quantity": "100"},
        {"status": "picked_up", "count": 0, "quantity": "0"},
        {"status": "closed", "count": 2, "quantity": "70.5"},
    ]


# --- Corrective actions -----------------------------------------------------------------------------------------


def test_actions_count_their_state_today_and_their_verifications_in_the_period(figures):
    assert figures["actions"]["totals"] == {
        "created": 3,
        "open": 2,
        "overdue": 1,
        "reopened": 1,
        "done": 2,
        "ready": 1,
        "effective": 1,
        "not_effective": 1,
    }


def test_actions_by_source_leave_out_the_sources_with_nothing_to_show(figures):
    by_source = {s["source"]: s for s in figures["actions"]["by_source"]}

    assert set(by_source) == {"complaint", "question", "customer", "on_time"}  # "round": verified before
    assert (by_source["complaint"]["created"], by_source["complaint"]["overdue"]) == (1, 1)
    assert (by_source["question"]["reopened"], by_source["question"]["not_effective"]) == (1, 1)
    assert (by_source["customer"]["done"], by_source["customer"]["ready"], by_source["customer"]["created"]) == (
        2,
        1,
        0,
    )
    assert (by_source["on_time"]["effective"], by_source["on_time"]["open"]) == (1, 0)


def test_the_overdue_actions_are_listed_with_their_days_overdue(figures, world):
    (overdue,) = figures["actions"]["overdue"]

    assert overdue["number"] == world.actions["overdue"].number
    assert (overdue["days_overdue"], overdue["owner_department"], overdue["owner"]) == (10, "quality", "qa")


# --- On-time rate -----------------------------------------------------------------------------------------------


def test_the_on_time_rate_is_given_for_every_month_of_the_period(figures):
    months = {m["month"]: m for m in figures["on_time"]["months"]}

    assert list(months) == ["2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12"]
    july = months["2025-07"]
    assert (july["due"], july["on_time"], july["delivered_late"], july["not_delivered"], july["rate"]) == (
        2,
        1,
        1,
        0,
        "50.0",
    )
    assert (months["2025-08"]["not_delivered"], months["2025-08"]["rate"]) == (1, "0.0")
    assert months["2025-09"]["rate"] is None  # nothing due: no rate, neither 0% nor 100%
    assert months["2025-11"]["rate"] == "100.0"
    assert not any(m["provisional"] for m in months.values())
    assert (figures["on_time"]["due"], figures["on_time"]["late"], figures["on_time"]["rate"]) == (4, 2, "50.0")


def test_the_current_month_is_provisional_and_later_months_are_not_shown(world):
    current = month_start(TODAY)
    start = add_months(current, -1)

    figures = reviews.review_figures(start, TODAY + timedelta(days=70))

    months = figures["on_time"]["months"]
    assert [m["month"] for m in months] == [month_key(start), month_key(current)]
    assert [m["provisional"] for m in months] == [False, True]
    assert figures["period"]["provisional"] is True


# --- The whole -------------------------------------------------------------------------------------------------


def test_the_figures_are_json_values(figures):
    import json

    assert json.loads(json.dumps(figures)) == figures
    assert figures["period"] == {"start": "2025-07-01", "end": "2025-12-31", "months": 6, "provisional": False}
    assert figures["as_of"] == TODAY.isoformat()


def test_the_number_of_queries_does_not_grow_with_customers_complaints_returns_or_actions(
    world, users, make_customer, deliver
):
    with CaptureQueriesContext(connection) as before:
        reviews.review_figures(START, END)
    for i in range(8):
        customer = make_customer(f"X-{i}")
        note = deliver(customer, 10, on=date(2025, 10, 2 + i))
        complaint(users, customer, date(2025, 10, 2 + i), status="answered")
        a_return(users, note, "1", local(date(2025, 10, 3)))
        action(users, "complaint", due=TODAY - timedelta(days=i + 1), created=date(2025, 10, 3))
    build_round(
        users,
        [world.customers["A"], *[make_customer(f"Y-{i}") for i in range(6)]],
        {f"Y-{i}": 1 for i in range(6)},
        name="P3",
        start=date(2025, 11, 1),
        end=END,
    )

    with CaptureQueriesContext(connection) as after:
        figures = reviews.review_figures(START, END)

    assert len(figures["satisfaction"]["low_customers"]) == 6 and figures["complaints"]["open_total"] == 10
    assert len(after.captured_queries) == len(before.captured_queries), [q["sql"] for q in after.captured_queries]


# --- Periods ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (date(2026, 3, 15), (date(2025, 7, 1), date(2025, 12, 31))),
        (date(2026, 6, 30), (date(2025, 7, 1), date(2025, 12, 31))),
        (date(2026, 7, 1), (date(2026, 1, 1), date(2026, 6, 30))),
        (date(2026, 12, 31), (date(2026, 1, 1), date(2026, 6, 30))),
    ],
)
def test_the_default_period_is_the_last_completed_half_year(today, period):
    assert reviews.default_period(today) == period


def test_the_default_title_names_the_half_year_the_year_or_the_dates():
    assert reviews.default_title(date(2025, 7, 1), date(2025, 12, 31)) == (
        "2025年下半年管理评审资料 / Management review pack 2025 H2"
    )
    assert reviews.default_title(date(2026, 1, 1), date(2026, 6, 30)).endswith("2026 H1")
    assert reviews.default_title(date(2025, 1, 1), date(2025, 12, 31)) == (
        "2025年度管理评审资料 / Management review pack 2025"
    )
    assert "2025-02-01 – 2025-04-30" in reviews.default_title(date(2025, 2, 1), date(2025, 4, 30))


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2025, 7, 1), date(2025, 6, 30), "period_end"),
        (TODAY + timedelta(days=1), TODAY + timedelta(days=30), "period_start"),
        (date(2023, 1, 1), date(2025, 1, 1), "period_end"),  # 25 months
        (None, date(2025, 1, 1), "period_start"),
        (date(2025, 1, 1), None, "period_end"),
    ],
)
def test_a_period_that_cannot_have_a_pack_is_refused_naming_the_field(db, start, end, field):
    with pytest.raises(DomainError) as refused:
        reviews.review_figures(start, end)

    assert refused.value.code == field


def test_a_period_of_twenty_four_months_is_allowed(db):
    figures = reviews.review_figures(date(2023, 1, 1), date(2024, 12, 31))

    assert len(figures["on_time"]["months"]) == 24
