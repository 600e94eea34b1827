"""The figures of the satisfaction analysis report (§5.12.5) on hand-built rounds: the round's score and band,
the response rate, each customer's and each question's change from the last round, the lowest, the comments,
and the complaints, returns and on-time rate of the period per customer.

The rounds (all ad hoc unless said, each closed unless said, answered through the public link):

* R0 2024-01..03: A 80 (all 4), B 80 (all 4), C 60 (all 3).
* R1 2024-04..06: A 100 (all 5), B 71 (price 1, the rest 4), C surveyed, no answer. Round 85.5.
* H  2024 H2, a *half-year* round: A 20. Another kind: never "the last round" of an ad-hoc one.
* S  2024-07..09: A 40, sent and never closed: not a last round either.
* R2 2024-10..12, on form version 2 (questions reordered, one reworded): A 94 (quality 4, the rest 5),
  B 60 (all 3), C 40 (all 2), D 100 (all 5), E no answer. Round 73.5.

The fixtures here are shared by the other report test modules (imported from this one).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.models import Complaint
from delivery.models import DeliveryNote, Return
from improvement import report as reports
from satisfaction import services
from satisfaction.defaults import DEFAULT_QUESTIONS
from satisfaction.models import SurveyForm, SurveyRound
from satisfaction.services import QuestionData
from tests.satisfaction import conftest as survey_fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.5")]

TODAY = timezone.localdate()

# The survey fixtures of tests/satisfaction, usable here (and, through this module, in the other report tests).
survey_form = survey_fixtures.survey_form
make_customer = survey_fixtures.make_customer
deliver = survey_fixtures.deliver

QUALITY, DELIVERY, SERVICE, PRICE, TECH = (q.text_en for q in DEFAULT_QUESTIONS)
SERVICE_V2 = "Service and communication (answers within a day)"

FORM_V2 = [
    DEFAULT_QUESTIONS[1],  # delivery, moved up: matched by its text
    DEFAULT_QUESTIONS[0],  # quality, moved down: matched by its text
    QuestionData("服务与沟通(一天内答复)", SERVICE_V2, Decimal(20)),  # reworded: matched by its position
    DEFAULT_QUESTIONS[3],
    DEFAULT_QUESTIONS[4],
]


def answers(form, default: int, **by_text) -> dict[str, str]:
    """Every question of ``form`` answered ``default``, except those named by their English text's key
    (quality=4, price=1 …)."""
    keys = {QUALITY: "quality", DELIVERY: "delivery", SERVICE: "service", SERVICE_V2: "service", PRICE: "price"}
    keys[TECH] = "tech"
    return {str(q.pk): str(by_text.get(keys[q.text_en], default)) for q in form.questions.all()}


def build_round(users, customers, scores, *, name, start, end, close=True, half_year=None, comments=None):
    """A round over ``customers`` answered as ``scores`` ({code: (default, {question key: value})}; a customer
    not in it does not answer), then closed. ``half_year=(year, half)`` opens a half-year round instead."""
    cs = users["cs"]
    if half_year:
        survey_round, _created = services.round_open_half_year(year=half_year[0], half=half_year[1], user=cs)
        for line in survey_round.customers.filter(customer__in=customers, included=False):
            services.line_set_included(line=line, included=True, reason="test", user=cs)
        survey_round.customers.exclude(customer__in=customers).update(included=False)
    else:
        survey_round = services.round_create_ad_hoc(
            user=cs,
            name=name,
            reason="test",
            period_start=start,
            period_end=end,
            deadline=TODAY + timedelta(days=10),
            customers=customers,
        )
    services.round_send(survey_round=survey_round, user=cs)
    survey_round.refresh_from_db()
    comments = comments or {}
    for code, (default, specific) in scores.items():
        invitation = survey_round.invitations.get(line__customer__code=code)
        services.response_submit(
            invitation=invitation,
            raw_answers=answers(survey_round.form, default, **specific),
            comment=comments.get(code, ""),
        )
    if close:
        services.round_close(survey_round=survey_round, user=cs)
    survey_round.refresh_from_db()
    return survey_round


@pytest.fixture
def customers(make_customer):
    return {code: make_customer(code) for code in ("A", "B", "C", "D", "E")}


@pytest.fixture
def history(users, survey_form, customers):
    """The rounds of the module's docstring: {"R0": round, "R1": …, "H": …, "S": …, "R2": …}."""
    a, b, c, d, e = (customers[code] for code in "ABCDE")
    rounds = {}
    rounds["R0"] = build_round(
        users,
        [a, b, c],
        {"A": (4, {}), "B": (4, {}), "C": (3, {})},
        name="R0",
        start=date(2024, 1, 1),
        end=date(2024, 3, 31),
    )
    rounds["R1"] = build_round(
        users,
        [a, b, c],
        {"A": (5, {}), "B": (4, {"price": 1})},
        name="R1",
        start=date(2024, 4, 1),
        end=date(2024, 6, 30),
        comments={"A": "一切很好"},
    )
    rounds["H"] = build_round(users, [a], {"A": (1, {})}, name="H", start=None, end=None, half_year=(2024, 2))
    rounds["S"] = build_round(
        users, [a], {"A": (2, {})}, name="S", start=date(2024, 7, 1), end=date(2024, 9, 30), close=False
    )
    services.form_save(user=users["cs"], questions=FORM_V2)
    rounds["R2"] = build_round(
        users,
        [a, b, c, d, e],
        {"A": (5, {"quality": 4}), "B": (3, {}), "C": (2, {}), "D": (5, {})},
        name="R2",
        start=date(2024, 10, 1),
        end=date(2024, 12, 31),
        comments={"B": "包装破损,=请改进", "C": "交期太慢"},
    )
    return rounds


def by_code(figures) -> dict:
    return {c["code"]: c for c in figures["customers"]}


def by_text(figures) -> dict:
    return {q["text_en"]: q for q in figures["questions"]}


# --- The round -------------------------------------------------------------------------------------------------


def test_the_rounds_score_band_and_response_rate_are_filled_in(history):
    figures = reports.report_figures(history["R2"])

    assert figures["score"] == "73.5" and figures["band"] == "dissatisfied"
    assert (figures["surveyed"], figures["answered"]) == (5, 4)
    assert figures["rate"] == "80.0" and figures["target"] == "80.0" and figures["rate_met"] is True
    assert {b["band"]: b["count"] for b in figures["band_counts"]} == {
        "very_satisfied": 1,
        "satisfied": 1,
        "fairly_satisfied": 0,
        "dissatisfied": 1,
        "very_dissatisfied": 1,
    }


def test_the_last_round_is_the_latest_earlier_closed_round_of_the_same_kind(history):
    figures = reports.report_figures(history["R2"])

    # Not H (a half-year round), not S (never closed): R1.
    assert figures["last_round"]["id"] == history["R1"].pk
    assert figures["last_round"]["score"] == "85.5"
    assert figures["score_change"] == "-12.0"
    assert [r.pk for r in reports.earlier_rounds(history["R2"])] == [history["R1"].pk, history["R0"].pk]
    # The first round has none; a half-year round does not look at ad-hoc rounds.
    assert reports.report_figures(history["R0"])["last_round"] is None
    assert reports.report_figures(history["H"])["last_round"] is None


def test_a_round_is_never_compared_with_a_later_one(history):
    figures = reports.report_figures(history["R1"])

    assert figures["last_round"]["id"] == history["R0"].pk
    assert by_code(figures)["A"]["previous"]["score"] == "80.0"


def test_the_score_trend_runs_over_the_closed_rounds_of_the_kind_oldest_first(history):
    trend = reports.report_figures(history["R2"])["trend"]

    assert [(t["round_id"], t["score"]) for t in trend] == [
        (history["R0"].pk, "73.3"),
        (history["R1"].pk, "85.5"),
        (history["R2"].pk, "73.5"),
    ]
    assert trend[-1]["label_zh"] == "2024-12 临时"
    assert reports.round_label(history["H"]) == ("2024下半年", "2024 H2")


# --- Customers -------------------------------------------------------------------------------------------------


def test_each_customer_has_its_score_band_and_change_from_its_own_last_score(history):
    customers = by_code(reports.report_figures(history["R2"]))

    a, b, c, d, e = (customers[code] for code in "ABCDE")
    assert (a["score"], a["band"], a["previous"]["score"], a["change"]) == ("94.0", "satisfied", "100.0", "-6.0")
    assert a["previous"]["round_id"] == history["R1"].pk  # not the half-year round, not the open one
    assert (b["score"], b["band"], b["previous"]["score"], b["change"]) == ("60.0", "dissatisfied", "71.0", "-11.0")
    # C did not answer R1: its last score is R0's.
    assert (c["score"], c["band"], c["change"]) == ("40.0", "very_dissatisfied", "-20.0")
    assert c["previous"]["round_id"] == history["R0"].pk and c["previous"]["score"] == "60.0"
    assert (d["score"], d["band"], d["previous"], d["change"]) == ("100.0", "very_satisfied", None, None)
    assert (e["score"], e["band"], e["answered"]) == (None, None, False)


def test_the_lowest_customers_are_those_below_fairly_satisfied_lowest_first(history, customers):
    figures = reports.report_figures(history["R2"])

    assert figures["lowest_customers"] == [customers["C"].pk, customers["B"].pk]
    assert [c["code"] for c in figures["customers"] if c["low"]] == ["B", "C"]


def test_the_comments_are_listed_with_their_customer_and_contact(history):
    comments = reports.report_figures(history["R2"])["comments"]

    assert [(c["customer_code"], c["contact"], c["text"]) for c in comments] == [
        ("B", "联系人1", "包装破损,=请改进"),
        ("C", "联系人1", "交期太慢"),
    ]


# --- Questions -------------------------------------------------------------------------------------------------


def test_each_questions_mean_is_compared_across_form_versions_by_text_then_position(history):
    figures = reports.report_figures(history["R2"])
    questions = by_text(figures)
    old = {q.text_en: q for q in history["R1"].form.questions.all()}

    assert history["R2"].form_id != history["R1"].form_id
    # Moved questions keep their history by their text; the reworded one by its place.
    assert questions[DELIVERY]["previous"]["id"] == old[DELIVERY].pk and questions[DELIVERY]["number"] == 1
    assert questions[QUALITY]["previous"]["id"] == old[QUALITY].pk and questions[QUALITY]["number"] == 2
    assert questions[SERVICE_V2]["previous"]["id"] == old[SERVICE].pk
    assert [(q["mean"], q["previous"]["mean"], q["change"], q["fell"]) for q in figures["questions"]] == [
        ("75.0", "90.0", "-15.0", True),  # delivery: (5+3+2+5)/4, was (5+4)/2
        ("70.0", "90.0", "-20.0", True),  # quality: (4+3+2+5)/4
        ("75.0", "90.0", "-15.0", True),  # service
        ("75.0", "60.0", "15.0", False),  # price: was (5+1)/2, rose
        ("75.0", "90.0", "-15.0", True),  # technical support
    ]


def test_the_lowest_three_questions_are_the_lowest_means(history):
    figures = reports.report_figures(history["R2"])
    ids = {q["text_en"]: q["id"] for q in figures["questions"]}

    assert figures["lowest_questions"] == [ids[QUALITY], ids[DELIVERY], ids[SERVICE_V2]]


def test_question_matching_prefers_identity_then_text_then_position(survey_form, users):
    first = list(survey_form.questions.all())
    SurveyForm.objects.filter(pk=survey_form.pk).update(locked=True)  # as once a round was sent with it
    second = list(services.form_save(user=users["cs"], questions=FORM_V2).questions.all())

    matched = reports.match_questions(second, first)

    assert {q.text_en: matched[q.pk].text_en for q in second} == {
        DELIVERY: DELIVERY,
        QUALITY: QUALITY,
        SERVICE_V2: SERVICE,
        PRICE: PRICE,
        TECH: TECH,
    }
    assert reports.match_questions(first, first) == {q.pk: q for q in first}
    # A question whose place is held by a text match gets no history; otherwise the place decides.
    assert reports.match_questions(second[:2], first[1:2]) == {second[0].pk: first[1]}
    assert reports.match_questions(second[1:2], first[1:2]) == {second[1].pk: first[1]}


# --- Complaints, returns and on-time delivery of the period ----------------------------------------------------


_numbers = count(1)


def _complaint(users, customer, on, category):
    return Complaint.objects.create(
        number=f"CP-T{next(_numbers):04d}",
        customer=customer,
        received_on=on,
        description="投诉",
        category=category,
        department="quality",
        recorded_by=users["cs"],
    )


def _return(users, note, quantity, recorded_on):
    item = Return.objects.create(
        note_line=note.lines.get(), quantity=Decimal(quantity), reason="破损", recorded_by=users["cs"]
    )
    at = timezone.make_aware(datetime.combine(recorded_on, datetime.min.time()).replace(hour=10))
    Return.objects.filter(pk=item.pk).update(recorded_at=at)
    return item


@pytest.fixture
def activity(history, users, customers, deliver):
    """In R2's period (2024-10-01..12-31), B has: two complaints (quality, packaging), two returns (50 + 20),
    three due batches of which two on time and one late, plus one of a cancelled order. Around it, outside the
    period: a complaint, a return and a batch. C has a late batch and one never delivered."""
    b, c = customers["B"], customers["C"]
    _complaint(users, b, date(2024, 11, 5), "quality")
    _complaint(users, b, date(2024, 12, 31), "packaging")
    _complaint(users, b, date(2024, 9, 30), "quality")
    _complaint(users, c, date(2025, 1, 1), "delivery")
    first = deliver(b, 1000, on=date(2024, 10, 15))
    deliver(b, 500, on=date(2024, 11, 20))
    late = deliver(b, 300, on=date(2024, 12, 10))
    DeliveryNote.objects.filter(pk=late.pk).update(delivery_date=date(2024, 12, 14))
    deliver(b, 700, on=date(2024, 12, 12), order_status="cancelled")
    deliver(b, 900, on=date(2025, 1, 3))
    _return(users, first, "50", date(2024, 10, 1))
    _return(users, first, "20", date(2024, 12, 31))
    _return(users, first, "5", date(2025, 1, 1))
    never = deliver(c, 100, on=date(2024, 11, 1))
    DeliveryNote.objects.filter(pk=never.pk).update(status=DeliveryNote.Status.CANCELLED)
    late_c = deliver(c, 100, on=date(2024, 11, 2))
    DeliveryNote.objects.filter(pk=late_c.pk).update(delivery_date=date(2024, 11, 30))
    return history


def test_complaints_returns_and_on_time_rate_of_the_period_per_customer(activity):
    customers = by_code(reports.report_figures(activity["R2"]))

    b, c, a = customers["B"], customers["C"], customers["A"]
    assert b["complaints"] == {"count": 2, "by_category": {"quality": 1, "packaging": 1}}
    assert b["returns"] == {"count": 2, "quantity": "70"}
    assert b["on_time"] == {"due": 3, "on_time": 2, "rate": "66.7"}
    assert c["complaints"] == {"count": 0, "by_category": {}}
    assert c["on_time"] == {"due": 2, "on_time": 0, "rate": "0.0"}
    assert a["complaints"]["count"] == 0 and a["returns"]["count"] == 0
    assert a["on_time"] == {"due": 0, "on_time": 0, "rate": None}


def test_the_period_totals_count_every_customer(activity):
    period = reports.report_figures(activity["R2"])["period"]

    assert period["complaints"] == {"count": 2, "by_category": {"quality": 1, "packaging": 1}}
    assert period["returns"] == {"count": 2, "quantity": "70"}
    assert period["on_time"] == {"due": 5, "on_time": 2, "rate": "40.0"}


def test_a_batch_due_from_today_counts_only_once_delivered_on_time(users, customers, deliver):
    """A round whose period runs to the future (closed early): as the monthly rate, a batch due today or later
    is not late yet; one already delivered is on time."""
    b = customers["B"]
    deliver(b, 100, on=TODAY - timedelta(days=2))
    deliver(b, 100, on=TODAY + timedelta(days=3))  # delivered early: counts, on time
    pending = deliver(b, 100, on=TODAY + timedelta(days=4))
    DeliveryNote.objects.filter(pk=pending.pk).update(status=DeliveryNote.Status.CANCELLED)  # not delivered yet

    counts = reports._on_time(TODAY - timedelta(days=10), TODAY + timedelta(days=10), TODAY)

    assert counts[b.pk] == (2, 2)


# --- Shape -----------------------------------------------------------------------------------------------------


def test_the_figures_are_plain_json(activity):
    import json

    figures = reports.report_figures(activity["R2"])

    assert json.loads(json.dumps(figures)) == figures


def test_the_figures_take_a_bounded_number_of_queries(history, make_customer, users, django_assert_max_num_queries):
    """Thirty customers in a round take as many queries as five, and earlier rounds add none."""
    more = [make_customer(f"M{i:02d}") for i in range(30)]
    big = build_round(
        users,
        more,
        {c.code: (4, {}) for c in more},
        name="R3",
        start=date(2025, 1, 1),
        end=date(2025, 3, 31),
    )
    small = SurveyRound.objects.get(pk=history["R2"].pk)
    big = SurveyRound.objects.get(pk=big.pk)

    with CaptureQueriesContext(connection) as for_small:
        reports.report_figures(small)
    with django_assert_max_num_queries(len(for_small)):
        figures = reports.report_figures(big)

    assert len(for_small) <= 15
    assert figures["surveyed"] == 30 and figures["score"] == "80.0"
    assert figures["last_round"]["id"] == history["R2"].pk and len(figures["trend"]) == 4
