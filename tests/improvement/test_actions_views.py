# ruff: noqa: F811 - pytest fixtures imported from tests/satisfaction/conftest.py are parameters here
"""The pages of the corrective actions: the form prefilled by the link that proposes an action (the analysis
report, a complaint, a meeting), creating, reporting done and verifying through the pages, the evidence a
verifier is offered, the lists and the overview in a bounded number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Dept
from complaints.models import Complaint
from improvement import actions as services
from improvement.models import Action, Verification
from satisfaction import services as survey
from tests.improvement.test_actions import done, new_action
from tests.satisfaction.conftest import all_answers, deliver, make_customer, survey_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.6")]

TODAY = timezone.localdate()


def closed_round(users, customers, *, name, start, end, value):
    """A round over ``start``–``end`` where every contact answered every question ``value``, then closed."""
    survey_round = survey.round_create_ad_hoc(
        user=users["cs"],
        name=name,
        reason="test",
        period_start=start,
        period_end=end,
        deadline=TODAY + timedelta(days=10),
        customers=customers,
    )
    survey.round_send(survey_round=survey_round, user=users["cs"])
    for invitation in survey_round.invitations.all():
        survey.response_submit(invitation=invitation, raw_answers=all_answers(survey_round.form, value))
    return survey.round_close(survey_round=survey_round, user=users["cs"])


@pytest.fixture
def two_rounds(users, survey_form, make_customer):
    """An earlier round where customer A-01 answered 3 of 5 everywhere, a later one where it answered 5."""
    a = make_customer("A-01")
    before = closed_round(
        users, [a], name="Round H1", start=TODAY - timedelta(days=300), end=TODAY - timedelta(days=200), value=3
    )
    after = closed_round(users, [a], name="Round H2", start=TODAY - timedelta(days=100), end=TODAY, value=5)
    return {"customer": a, "before": before, "after": after, "question": survey_form.questions.order_by("pk")[0]}


def make_complaint(users, customer, number="CP-2025-0001", department=Dept.QA):
    return Complaint.objects.create(
        number=number,
        customer=customer,
        received_on=TODAY,
        description="Lamp shades cracked",
        category=Complaint.Category.QUALITY,
        department=department,
        recorded_by=users["cs"],
    )


# --- The form prefilled from the link ----------------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_proposing_link(users, client_for, two_rounds):
    r, q, customer = two_rounds["before"], two_rounds["question"], two_rounds["customer"]
    query = (
        f"?source=question&round={r.pk}&question={q.pk}&customer={customer.pk}"
        "&title=Delivery+score+fell&problem=Mean+fell+from+80+to+60"
    )
    response = client_for("cs").get(reverse("improvement:action_new") + query)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["source"] == "question"
    assert (form.initial["round"], form.initial["question"], form.initial["customer"]) == (r.pk, q.pk, "A-01")
    assert form.initial["title"] == "Delivery score fell"
    html = response.content.decode()
    assert '<option value="question" selected>' in html
    assert f'<option value="{r.pk}" selected>' in html
    assert f'<option value="{q.pk}" selected>' in html
    assert 'value="A-01"' in html and 'value="Delivery score fell"' in html
    assert "Mean fell from 80 to 60" in html


def test_a_customer_is_found_by_its_id_or_its_code(users, client_for, make_customer):
    make_customer("X-1")
    numeric = make_customer("777")
    for key in (str(numeric.pk), "777"):
        response = client_for("cs").get(reverse("improvement:action_new") + f"?source=customer&customer={key}")
        assert response.context["form"].initial["customer"] == "777"
    named = client_for("cs").get(reverse("improvement:action_new") + "?customer=X-1").context["form"].initial
    assert named["customer"] == "X-1"


def test_a_complaint_link_prefills_the_complaint_its_customer_and_the_investigating_department(
    users,
    client_for,
    make_customer,
):
    complaint = make_complaint(users, make_customer("C-07"), department=Dept.PMC)
    for key in (complaint.number, str(complaint.pk)):  # the complaint's number or its id
        response = client_for("qa").get(reverse("improvement:action_new") + f"?source=complaint&complaint={key}")
        initial = response.context["form"].initial
        assert (initial["source"], initial["complaint"], initial["customer"]) == ("complaint", complaint.number, "C-07")
        assert initial["owner_department"] == Dept.PMC
        assert f'value="{complaint.number}"' in response.content.decode()


def test_nonsense_in_the_link_is_dropped_not_an_error(users, client_for):
    query = "?source=gossip&round=abc&customer=NOPE&complaint=x&month=2025-03-99&kind=wish"
    response = client_for("cs").get(reverse("improvement:action_new") + query)
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert not {"source", "round", "customer", "complaint", "kind"} & set(initial)
    # A NUL byte is refused before any view with a clear message (common.middleware), never a server error.
    assert client_for("cs").get(reverse("improvement:action_new") + "?complaint=%00x").status_code == 400


def test_a_report_link_fills_in_its_round(users, client_for, two_rounds):
    from improvement.models import AnalysisReport

    report = AnalysisReport.objects.create(round=two_rounds["before"], created_by=users["cs"])
    response = client_for("cs").get(reverse("improvement:action_new") + f"?source=round&report={report.pk}")
    initial = response.context["form"].initial
    assert (initial["report"], initial["round"]) == (report.pk, two_rounds["before"].pk)


# --- Creating through the page ------------------------------------------------------------------------------------


def action_data(users, **fields):
    data = {
        "kind": "corrective",
        "source": "other",
        "title": "Carton strength",
        "problem": "Crushed cartons twice.",
        "plan": "7-ply cartons.",
        "owner_department": Dept.QA,
        "owner": users["qa"].pk,
        "due_date": (TODAY + timedelta(days=20)).isoformat(),
    }
    data.update(fields)
    return data


def test_quality_creates_an_action_from_a_question_through_the_page(users, client_for, two_rounds):
    r, q = two_rounds["before"], two_rounds["question"]
    response = client_for("qa").post(
        reverse("improvement:action_new"), action_data(users, source="question", round=r.pk, question=q.pk)
    )
    action = Action.objects.get()
    assert response.status_code == 302 and response["Location"] == action.get_absolute_url()
    assert (action.source, action.round, action.question, action.created_by) == ("question", r, q, users["qa"])


def test_an_owner_outside_the_department_is_refused_beside_the_owner_with_the_answers_kept(users, client_for):
    data = action_data(users, owner=users["warehouse"].pk, title="Keep this title")
    response = client_for("cs").post(reverse("improvement:action_new"), data)
    assert response.status_code == 422
    assert "does not belong to Quality" in " ".join(response.context["form"].errors["owner"])
    assert 'value="Keep this title"' in response.content.decode()
    assert not Action.objects.exists()


def test_a_source_without_its_reference_is_refused_through_the_page(users, client_for):
    response = client_for("cs").post(reverse("improvement:action_new"), action_data(users, source="complaint"))
    assert response.status_code == 422
    assert "complaint" in response.context["form"].errors
    assert not Action.objects.exists()


def test_a_due_date_in_the_past_is_refused_by_the_form(users, client_for):
    past = (TODAY - timedelta(days=1)).isoformat()
    response = client_for("cs").post(reverse("improvement:action_new"), action_data(users, due_date=past))
    assert response.status_code == 422 and "due_date" in response.context["form"].errors


# --- Done and verified through the pages --------------------------------------------------------------------------


def test_the_owner_reports_done_on_the_page_and_a_verifier_records_the_effect(users, client_for):
    action = new_action(users)
    client = client_for("qa")
    assert 'data-testid="report-done"' in client.get(action.get_absolute_url()).content.decode()
    assert client.get(reverse("improvement:action_done", args=[action.number])).status_code == 200
    response = client.post(
        reverse("improvement:action_done", args=[action.number]),
        {"done_text": "Cartons changed.", "verify_after": TODAY.isoformat()},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "done"

    client = client_for("rep")
    assert 'data-testid="verify"' in client.get(action.get_absolute_url()).content.decode()
    response = client.post(
        reverse("improvement:action_verify", args=[action.number]), {"effective": "0", "evidence": "Still cracked."}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.reopened) == ("open", 1)
    html = client_for("qa").get(action.get_absolute_url()).content.decode()
    assert "Still cracked." in html and "Verified not effective: reopened" in html


def test_done_with_a_past_verification_date_is_shown_again_with_the_reason(users, client_for):
    action = new_action(users)
    past = (TODAY - timedelta(days=2)).isoformat()
    response = client_for("qa").post(
        reverse("improvement:action_done", args=[action.number]), {"done_text": "Keep me", "verify_after": past}
    )
    assert response.status_code == 422
    assert "verify_after" in response.context["form"].errors
    assert "Keep me" in response.content.decode()


def test_the_owner_is_refused_the_verification_page_and_others_the_done_page(users, client_for):
    action = new_action(users, owner="cs", owner_department=Dept.CS)
    assert (
        client_for("qa").post(reverse("improvement:action_done", args=[action.number]), {"done_text": "x"}).status_code
        == 403
    )
    done(users, action, owner="cs")
    client = client_for("cs")  # Customer Service may verify, but not its own action
    assert client.get(reverse("improvement:action_verify", args=[action.number])).status_code == 403
    response = client.post(
        reverse("improvement:action_verify", args=[action.number]), {"effective": "1", "evidence": "mine"}
    )
    assert response.status_code == 403
    assert not Verification.objects.exists()


def test_verifying_too_early_through_the_page_is_refused_with_the_date(users, client_for):
    action = new_action(users)
    done(users, action, verify_after=TODAY + timedelta(days=5))
    client = client_for("cs")
    page = client.get(reverse("improvement:action_verify", args=[action.number])).content.decode()
    assert 'data-testid="verify-later"' in page and 'data-testid="verify-form"' not in page
    response = client.post(
        reverse("improvement:action_verify", args=[action.number]), {"effective": "1", "evidence": "fine"}
    )
    assert response.status_code == 422
    assert "can be verified from" in response.content.decode()
    assert not Verification.objects.exists()


# --- The evidence offered to the verifier --------------------------------------------------------------------------


def test_the_verifier_sees_the_next_rounds_mean_on_the_question_beside_the_first(users, client_for, two_rounds):
    action = new_action(users, source="question", round=two_rounds["before"], question=two_rounds["question"])
    done(users, action)
    response = client_for("cs").get(reverse("improvement:action_verify", args=[action.number]))
    evidence = response.context["evidence"]
    assert (evidence.base_label, evidence.next_label) == ("Round H1", "Round H2")
    assert (str(evidence.base_value), str(evidence.next_value), str(evidence.change)) == ("60.0", "100.0", "40.0")
    html = response.content.decode()
    assert 'data-testid="evidence-change">+40.0' in html
    # The evidence text is prefilled with the comparison.
    assert "60.0 in Round H1 → 100.0 in Round H2 (+40.0)" in response.context["form"].initial["evidence"]


def test_the_verifier_sees_the_customers_score_in_both_rounds(users, client_for, two_rounds):
    action = new_action(users, source="customer", round=two_rounds["before"], customer=two_rounds["customer"])
    done(users, action)
    evidence = client_for("rep").get(reverse("improvement:action_verify", args=[action.number])).context["evidence"]
    assert (str(evidence.base_value), str(evidence.next_value)) == ("60.0", "100.0")


def test_without_a_later_closed_round_the_evidence_says_so(users, client_for, two_rounds):
    action = new_action(users, source="question", round=two_rounds["after"], question=two_rounds["question"])
    done(users, action)
    response = client_for("cs").get(reverse("improvement:action_verify", args=[action.number]))
    evidence = response.context["evidence"]
    assert evidence.next_label == "" and evidence.next_value is None and str(evidence.base_value) == "100.0"
    assert "No closed survey round after Round H2 yet." in response.content.decode()


def test_the_action_page_links_the_complaint_the_return_and_the_month(
    users,
    client_for,
    make_customer,
    deliver,
):
    from delivery.models import Return

    customer = make_customer("R-01")
    note = deliver(customer, 1000, on=TODAY - timedelta(days=3))
    ret = Return.objects.create(note_line=note.lines.get(), quantity=10, reason="cracked", recorded_by=users["cs"])
    complaint = make_complaint(users, customer)
    action = new_action(users, source="complaint", complaint=complaint, ret=ret, month="2025-03", customer=customer)
    html = client_for("warehouse").get(action.get_absolute_url()).content.decode()
    refs = html.split('data-testid="action-refs"')[1].split("</dl>")[0]
    assert complaint.number in refs and note.number in refs and "cracked" in refs
    assert "?month=2025-03" in refs and reverse("customers:detail", args=["R-01"]) in refs
    assert "Created" in html.split('data-testid="history"')[1]


def test_an_on_time_action_offers_the_months_rate_and_the_last_complete_months(users, client_for):
    from delivery.ontime import add_months, month_key, month_start

    month = month_key(add_months(month_start(TODAY), -3))
    action = new_action(users, source="on_time", month=month)
    done(users, action)
    evidence = client_for("cs").get(reverse("improvement:action_verify", args=[action.number])).context["evidence"]
    assert evidence.base_label == month
    assert evidence.next_label == month_key(add_months(month_start(TODAY), -1))
    assert evidence.base_value is None  # nothing was due: no rate, not 0 %


# --- Lists and the overview ---------------------------------------------------------------------------------------


def test_the_action_list_filters_and_reads_a_bounded_number_of_queries(
    users, client_for, django_assert_max_num_queries
):
    for i in range(30):
        new_action(users, title=f"Late {i}", due_date=TODAY - timedelta(days=i + 1))
    waiting = new_action(users, owner="cs", owner_department=Dept.CS, title="Waiting one")
    done(users, waiting, owner="cs")
    client = client_for("head")
    with django_assert_max_num_queries(7):
        response = client.get(reverse("improvement:actions"))
    assert response.status_code == 200
    with django_assert_max_num_queries(7):
        overdue = client.get(reverse("improvement:actions") + "?status=overdue").content.decode()
    assert "Late 0" in overdue and "Waiting one" not in overdue
    ready = client.get(reverse("improvement:actions") + "?status=waiting").content.decode()
    assert "Waiting one" in ready and "Late 0" not in ready
    mine = client_for("cs").get(reverse("improvement:actions") + "?mine=1").content.decode()
    assert "Waiting one" in mine and "Late 0" not in mine


def test_the_overview_shows_reports_meetings_actions_and_reviews_in_a_bounded_number_of_queries(
    users, client_for, two_rounds, django_assert_max_num_queries
):
    from improvement.models import AnalysisReport

    AnalysisReport.objects.create(round=two_rounds["before"], created_by=users["cs"], status="submitted")
    for i in range(15):
        meeting = services.meeting_record(
            user=users["cs"], held_on=TODAY, title=f"Meeting {i}", departments=[Dept.QA], attendees="a", minutes="m"
        )
        new_action(users, source="meeting", meeting=meeting, due_date=TODAY - timedelta(days=1), title=f"Late {i}")
    client = client_for("cs")
    with django_assert_max_num_queries(13):
        response = client.get(reverse("improvement:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Round H1" in html and "Waiting for the management representative" in html
    assert 'data-testid="write-report"' in html  # Round H2 is closed and has no report yet
    assert "Meeting 14" in html and "Late 3" in html
    assert 'data-testid="new-meeting"' in html and 'data-testid="new-action"' in html
    counts = response.context["counts"]
    assert (counts["open"], counts["overdue"], counts["waiting"]) == (15, 15, 0)


def test_the_overview_offers_creating_only_to_those_allowed(users, client_for):
    html = client_for("warehouse").get(reverse("improvement:home")).content.decode()
    assert 'data-testid="new-meeting"' not in html and 'data-testid="new-action"' not in html
    html = client_for("qa").get(reverse("improvement:home")).content.decode()
    assert 'data-testid="new-meeting"' not in html and 'data-testid="new-action"' in html
