"""The staff pages of the surveys through the client: what Customer Service does with a round, from the draft to
the chase, keyed-in forms, the form's versions, scorecards and failed e-mails."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from common.models import OutboxMessage
from satisfaction import services
from satisfaction.models import Invitation, Response, RoundCustomer, Scorecard, SurveyForm, SurveyRound
from tests.satisfaction.conftest import TODAY, all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="form.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def url(name, *args):
    return reverse(f"satisfaction:{name}", args=args)


@pytest.fixture
def draft(users, survey_form, make_customer):
    """A draft ad-hoc round for A-01 (two contacts) and N-01 (no contact who receives surveys); Z-01 not on it."""
    a = make_customer("A-01", contacts=2)
    n = make_customer("N-01", contacts=0)
    make_customer("Z-01")
    return services.round_create_ad_hoc(
        user=users["cs"],
        name="After the March incident",
        reason="broken shades in transit",
        period_start=TODAY - timedelta(days=90),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=14),
        customers=[a, n],
    )


def line_of(survey_round, code) -> RoundCustomer:
    return survey_round.customers.get(customer__code=code)


# --- The list of rounds --------------------------------------------------------------------------------------


def test_the_round_list_shows_each_rounds_rate_and_score_in_a_bounded_number_of_queries(
    client_for, users, survey_form, make_customer, django_assert_max_num_queries
):
    customers = [make_customer(f"C-{i:02d}") for i in range(4)]
    for i in range(12):
        survey_round = services.round_create_ad_hoc(
            user=users["cs"],
            name=f"Round {i}",
            reason="incident",
            period_start=TODAY - timedelta(days=30),
            period_end=TODAY,
            deadline=TODAY + timedelta(days=10),
            customers=customers,
        )
        if i % 2:
            services.round_send(survey_round=survey_round, user=users["cs"])
            for invitation in survey_round.invitations.all()[:2]:
                services.response_submit(invitation=invitation, raw_answers=all_answers(survey_form, 4))
    services.scorecard_record(
        customer=customers[3], rated_on=TODAY, score=Decimal(45), maximum=Decimal(50), user=users["cs"]
    )
    client = client_for("rep")
    with django_assert_max_num_queries(12):
        response = client.get(url("rounds"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-round=") == 12
    # Two of four customers answered our form and a third sent its own scorecard: 75% of 80%.
    assert "75.0%" in page
    assert "80.0" in page  # 4 of 5 everywhere, and the scorecard's 90 makes the round (80+80+90)/3 = 83.3
    assert "83.3" in page
    assert "New ad-hoc round" not in page  # the management representative reads, does not run rounds


def test_customer_service_opens_a_half_year_round_once(client_for, survey_form):
    client = client_for("cs")
    response = client.post(url("round_open_half_year"), {"year": TODAY.year, "half": 1})
    survey_round = SurveyRound.objects.get(kind="half_year")
    assert response.status_code == 302 and response["Location"] == survey_round.get_absolute_url()
    assert survey_round.is_draft and survey_round.created_by.username == "cs"
    again = client.post(url("round_open_half_year"), {"year": TODAY.year, "half": 1}, follow=True)
    assert "already exists" in again.content.decode()
    assert SurveyRound.objects.count() == 1


def test_a_half_year_round_without_a_form_is_refused_on_the_list_page(client_for):
    response = client_for("cs").post(url("round_open_half_year"), {"year": TODAY.year, "half": 2})
    assert response.status_code == 422
    assert "There is no survey form yet" in response.content.decode()
    assert not SurveyRound.objects.exists()


# --- An ad-hoc round and its list ----------------------------------------------------------------------------


def test_customer_service_creates_an_ad_hoc_round_for_chosen_customers(client_for, survey_form, make_customer):
    a, b = make_customer("A-01"), make_customer("B-01")
    make_customer("C-01")
    response = client_for("cs").post(
        url("round_new"),
        {
            "name": "After the March incident",
            "reason": "broken shades in transit",
            "period_start": (TODAY - timedelta(days=60)).isoformat(),
            "period_end": TODAY.isoformat(),
            "deadline": (TODAY + timedelta(days=14)).isoformat(),
            "customers": [a.pk, b.pk],
        },
    )
    survey_round = SurveyRound.objects.get()
    assert response.status_code == 302 and response["Location"] == survey_round.get_absolute_url()
    assert survey_round.kind == "ad_hoc" and survey_round.is_draft
    included = list(survey_round.customers.filter(included=True).values_list("customer__code", flat=True))
    assert included == ["A-01", "B-01"]
    assert line_of(survey_round, "A-01").override_reason == "broken shades in transit"


def test_an_ad_hoc_round_without_a_reason_is_refused_with_the_input_kept(client_for, survey_form, make_customer):
    a = make_customer("A-01")
    response = client_for("cs").post(
        url("round_new"),
        {
            "name": "Kept name",
            "reason": "  ",
            "period_start": (TODAY - timedelta(days=60)).isoformat(),
            "period_end": TODAY.isoformat(),
            "deadline": (TODAY + timedelta(days=14)).isoformat(),
            "customers": [a.pk],
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'value="Kept name"' in page and "This field is required" in page
    assert not SurveyRound.objects.exists()


def test_the_list_says_why_and_why_not_and_filters(client_for, draft):
    client = client_for("qa")
    page = client.get(url("round_customers", draft.pk)).content.decode()
    assert "Not eligible: 0 pcs in 0 deliveries" in page
    assert 'data-customer="Z-01"' in page and "no contact for surveys" in page
    assert "Remove from the list" not in page  # Quality reads the list; it does not change it
    included = client.get(url("round_customers", draft.pk), {"show": "included"}).content.decode()
    assert 'data-customer="A-01"' in included and 'data-customer="Z-01"' not in included
    excluded = client.get(url("round_customers", draft.pk), {"show": "excluded"}).content.decode()
    assert 'data-customer="Z-01"' in excluded and 'data-customer="A-01"' not in excluded


def test_customer_service_adds_and_removes_a_customer_with_a_reason(client_for, users, draft):
    client = client_for("cs")
    z = line_of(draft, "Z-01")
    response = client.post(
        url("line_include", draft.pk, z.pk) + "?show=all", {"included": "1", "reason": "Marketing asks for it"}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"?show=all#line-{z.pk}")
    z.refresh_from_db()
    assert z.included and z.override_reason == "Marketing asks for it" and z.override_by == users["cs"]
    n = line_of(draft, "N-01")
    client.post(url("line_include", draft.pk, n.pk), {"included": "0", "reason": "no buyer any more"})
    n.refresh_from_db()
    assert not n.included and n.override_reason == "no buyer any more"
    page = client.get(url("round_customers", draft.pk)).content.decode()
    assert "no buyer any more" in page and "Marketing asks for it" in page


def test_adding_or_removing_without_a_reason_is_refused_beside_the_field(client_for, draft):
    client = client_for("cs")
    z = line_of(draft, "Z-01")
    response = client.post(url("line_include", draft.pk, z.pk), {"included": "1", "reason": ""})
    assert response.status_code == 422
    assert "Write why this customer is added or removed." in response.content.decode()
    z.refresh_from_db()
    assert not z.included and not z.override_at
    # A refusal of the procedure keeps what was written.
    a = line_of(draft, "A-01")
    response = client.post(url("line_include", draft.pk, a.pk), {"included": "1", "reason": "typed with care"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "already on the list" in page and "typed with care</textarea>" in page


def test_the_list_of_a_sent_round_cannot_be_changed(client_for, sent_round):
    line = sent_round.customers.filter(included=True).first()
    response = client_for("cs").post(url("line_include", sent_round.pk, line.pk), {"included": "0", "reason": "x"})
    assert response.status_code == 422 and "frozen" in response.content.decode()
    refresh = client_for("cs").post(url("round_refresh", sent_round.pk))
    assert refresh.status_code == 422 and "frozen" in refresh.content.decode()


def test_refreshing_a_draft_keeps_the_changes_made_by_hand(client_for, draft):
    client = client_for("cs")
    z = line_of(draft, "Z-01")
    client.post(url("line_include", draft.pk, z.pk), {"included": "1", "reason": "asked"})
    response = client.post(url("round_refresh", draft.pk))
    assert response.status_code == 302
    z.refresh_from_db()
    assert z.included and z.override_reason == "asked"


# --- Sending ---------------------------------------------------------------------------------------------------


def test_sending_is_refused_while_a_surveyed_customer_has_no_contact(client_for, draft):
    client = client_for("cs")
    page = client.get(draft.get_absolute_url()).content.decode()
    assert 'data-testid="missing-contacts"' in page and "N-01" in page
    response = client.post(url("round_send", draft.pk))
    assert response.status_code == 422
    assert "have no contact who receives surveys: N-01" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft and not draft.invitations.exists()

    n = line_of(draft, "N-01")
    client.post(url("line_include", draft.pk, n.pk), {"included": "0", "reason": "no surveyed contact"})
    response = client.post(url("round_send", draft.pk), follow=True)
    draft.refresh_from_db()
    assert draft.status == "sent" and draft.invitations.count() == 2
    assert "2 invitations queued" in response.content.decode()
    assert OutboxMessage.objects.filter(kind=services.INVITATION, status="queued").count() == 2


def test_the_round_page_shows_the_live_rate_against_the_target(client_for, sent_round, survey_form):
    a_invitation = sent_round.invitations.filter(line__customer__code="A-01").first()
    client = client_for("marketing")
    page = client.get(sent_round.get_absolute_url()).content.decode()
    assert 'data-testid="rate">0.0%' in page
    assert 'data-testid="behind-target"' not in page  # no pace to judge on the day of sending
    assert "B-01" in page.split('data-testid="not-answered"')[1]
    SurveyRound.objects.filter(pk=sent_round.pk).update(sent_at=timezone.now() - timedelta(days=3))
    page = client.get(sent_round.get_absolute_url()).content.decode()
    assert 'data-testid="behind-target"' in page  # nobody answered in three days

    services.response_submit(invitation=a_invitation, raw_answers=all_answers(survey_form, 5))
    page = client.get(sent_round.get_absolute_url()).content.decode()
    assert 'data-testid="rate">50.0%' in page
    assert "1 of 2 customers answered" in page
    not_answered = page.split('data-testid="not-answered"')[1].split("</table>")[0]
    assert "B-01" in not_answered and "A-01" not in not_answered
    assert 'data-testid="response-link"' in page

    # The fragment refreshes itself with htmx; without it the address leads to the round page.
    fragment = client.get(url("round_progress", sent_round.pk), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert 'data-testid="rate">50.0%' in body and 'hx-trigger="every' in body
    plain = client.get(url("round_progress", sent_round.pk))
    assert plain.status_code == 302 and plain["Location"].startswith(sent_round.get_absolute_url())


def test_a_closed_round_stops_polling(client_for, sent_round):
    client = client_for("cs")
    assert client.post(url("round_close", sent_round.pk)).status_code == 302
    sent_round.refresh_from_db()
    assert sent_round.status == "closed" and sent_round.closed_by.username == "cs"
    fragment = client.get(url("round_progress", sent_round.pk), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment
    again = client.post(url("round_close", sent_round.pk))
    assert again.status_code == 422 and "Only a sent round can be closed." in again.content.decode()


def test_the_deadline_is_extended_but_never_shortened(client_for, sent_round):
    client = client_for("cs")
    later = sent_round.deadline + timedelta(days=7)
    assert client.post(url("round_deadline", sent_round.pk), {"deadline": later.isoformat()}).status_code == 302
    sent_round.refresh_from_db()
    assert sent_round.deadline == later
    earlier = (later - timedelta(days=3)).isoformat()
    response = client.post(url("round_deadline", sent_round.pk), {"deadline": earlier})
    assert response.status_code == 422
    page = response.content.decode()
    assert "can be extended, not shortened" in page and f'value="{earlier}"' in page


def test_reminders_are_sent_by_hand_when_due(client_for, sent_round, settings):
    client = client_for("cs")
    response = client.post(url("round_remind", sent_round.pk), follow=True)
    assert "Nobody is due a reminder now" in response.content.decode()
    settings.SURVEY_REMINDER_GAP_DAYS = 0
    response = client.post(url("round_remind", sent_round.pk), follow=True)
    assert "3 reminders queued." in response.content.decode()
    assert OutboxMessage.objects.filter(kind=services.REMINDER).count() == 3


def test_resending_an_invitation_gives_a_new_link_and_the_old_one_stops_working(client_for, sent_round):
    invitation = sent_round.invitations.first()
    old = invitation.token
    response = client_for("cs").post(url("invitation_resend", invitation.pk))
    assert response.status_code == 302 and response["Location"] == sent_round.get_absolute_url()
    invitation.refresh_from_db()
    assert invitation.token != old and invitation.resent_count == 1
    assert not Invitation.objects.filter(token=old).exists()
    messages = OutboxMessage.objects.filter(kind=services.INVITATION, object_id=invitation.pk)
    assert sorted(messages.values_list("status", flat=True)) == ["cancelled", "queued"]


def test_resending_in_a_closed_round_is_refused_on_the_round_page(client_for, users, sent_round):
    services.round_close(survey_round=sent_round, user=users["cs"])
    response = client_for("cs").post(url("invitation_resend", sent_round.invitations.first().pk))
    assert response.status_code == 422
    assert "The round is not open" in response.content.decode()


# --- Keyed-in forms and responses -----------------------------------------------------------------------------


def entry(form, value="4", **extra):
    data = {f"q_{q.pk}": value for q in form.questions.all()}
    data.update({"channel": "paper", "comment": "faxed back"}, **extra)
    return data


def test_customer_service_keys_in_a_paper_form_with_its_scan(client_for, users, sent_round, survey_form):
    invitation = sent_round.invitations.filter(line__customer__code="B-01").get()
    client = client_for("cs")
    page = client.get(url("response_enter", invitation.pk)).content.decode()
    assert "<fieldset" in page and "<legend" in page and 'type="radio"' in page
    response = client.post(url("response_enter", invitation.pk), entry(survey_form, scan=pdf()))
    saved = Response.objects.get(invitation=invitation)
    assert response.status_code == 302 and response["Location"] == url("response", saved.pk)
    assert saved.channel == "paper" and saved.entered_by == users["cs"] and saved.score == Decimal("80.0")
    assert saved.scan.name.endswith(".pdf") and saved.comment == "faxed back"

    detail = client.get(url("response", saved.pk)).content.decode()
    assert 'data-testid="response-score">80.0' in detail and "keyed in by cs" in detail
    assert 'data-band="fairly_satisfied"' in detail and 'data-testid="scan-link"' in detail

    # A correction is the next version; the scan on file need not be attached again.
    client.post(url("response_enter", invitation.pk), entry(survey_form, value="5", channel="email"))
    saved.refresh_from_db()
    assert saved.version == 2 and saved.score == Decimal("100.0") and saved.channel == "email"
    detail = client.get(url("response", saved.pk)).content.decode()
    versions = detail.split('data-testid="versions"')[1]
    assert "v1" in versions and "v2" in versions and "Paper form (keyed in)" in versions


def test_a_keyed_in_form_without_a_scan_or_with_a_wrong_file_is_refused_with_the_answers_kept(
    client_for, sent_round, survey_form
):
    invitation = sent_round.invitations.first()
    client = client_for("cs")
    response = client.post(url("response_enter", invitation.pk), entry(survey_form, value="3"))
    assert response.status_code == 422
    page = response.content.decode()
    assert "This field is required" in page and len(re.findall(r'value="3"[^>]*checked', page)) == 5
    text = SimpleUploadedFile("form.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client.post(url("response_enter", invitation.pk), entry(survey_form, scan=text))
    assert response.status_code == 422 and "Attach a PDF or an image" in response.content.decode()
    missing = entry(survey_form, scan=pdf())
    missing.pop(f"q_{survey_form.questions.first().pk}")
    response = client.post(url("response_enter", invitation.pk), missing)
    assert response.status_code == 422 and "Choose an answer." in response.content.decode()
    assert not Response.objects.exists()


# --- The form ----------------------------------------------------------------------------------------------------


def form_post(form, **changes):
    questions = list(form.questions.all())
    data = {
        "title_zh": form.title_zh,
        "title_en": form.title_en,
        "intro_zh": "",
        "intro_en": "",
        "q-TOTAL_FORMS": str(len(questions) + 2),
        "q-INITIAL_FORMS": str(len(questions)),
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "50",
    }
    for i, q in enumerate(questions):
        data.update(
            {
                f"q-{i}-text_zh": q.text_zh,
                f"q-{i}-text_en": q.text_en,
                f"q-{i}-weight": str(q.weight),
                f"q-{i}-scale_min": str(q.scale_min),
                f"q-{i}-scale_max": str(q.scale_max),
                f"q-{i}-allow_na": "on" if q.allow_na else "",
            }
        )
    data.update(changes)
    return data


def test_editing_the_form_after_a_round_was_sent_makes_a_new_version(client_for, sent_round, survey_form):
    client = client_for("admin")
    page = client.get(url("form")).content.decode()
    assert 'data-testid="locked-note"' in page and "saving makes version 2" in page
    data = form_post(
        survey_form,
        **{
            "q-4-weight": "5",
            "q-5-text_zh": "环保要求",
            "q-5-text_en": "Environmental requirements",
            "q-5-weight": "5",
            "q-5-scale_min": "0",
            "q-5-scale_max": "10",
        },
    )
    response = client.post(url("form"), data, follow=True)
    assert "Rounds already sent keep version 1" in response.content.decode()
    new = SurveyForm.objects.get(version=2)
    assert new.previous == survey_form and new.questions.count() == 6
    assert new.questions.last().scale_max == 10
    sent_round.refresh_from_db()
    assert sent_round.form == survey_form and survey_form.questions.count() == 5


def test_a_draft_version_is_changed_in_place_and_a_question_removed(client_for, survey_form):
    data = form_post(survey_form, **{"q-4-DELETE": "on", "q-3-weight": "25"})
    response = client_for("cs").post(url("form"), data)
    assert response.status_code == 302
    assert SurveyForm.objects.count() == 1 and survey_form.questions.count() == 4


def test_weights_that_do_not_add_up_to_100_are_refused_with_the_input_kept(client_for, survey_form):
    data = form_post(survey_form, **{"q-0-weight": "31", "q-0-text_en": "Quality, edited"})
    response = client_for("cs").post(url("form"), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "The weights add up to 101; they must add up to 100." in page
    assert 'value="Quality, edited"' in page
    assert survey_form.questions.first().weight == 30


# --- Scorecards ------------------------------------------------------------------------------------------------


def test_customer_service_records_a_customers_own_scorecard(client_for, users, make_customer):
    customer = make_customer("A-01")
    client = client_for("cs")
    response = client.post(
        url("scorecard_new"),
        {
            "customer": customer.pk,
            "rated_on": TODAY.isoformat(),
            "score": "4.3",
            "maximum": "5",
            "grade": "B+",
            "file": pdf("their-form.pdf"),
            "note": "quarterly supplier rating",
        },
    )
    assert response.status_code == 302 and response["Location"] == url("scorecards")
    card = Scorecard.objects.get()
    assert card.normalised == Decimal("86.0") and card.recorded_by == users["cs"] and card.file
    page = client_for("qa").get(url("scorecards")).content.decode()
    assert 'data-testid="normalised">86.0' in page and 'data-band="fairly_satisfied"' in page


def test_a_score_above_its_maximum_is_refused(client_for, make_customer):
    customer = make_customer("A-01")
    response = client_for("cs").post(
        url("scorecard_new"),
        {"customer": customer.pk, "rated_on": TODAY.isoformat(), "score": "6", "maximum": "5"},
    )
    assert response.status_code == 422
    assert "The score must be between 0 and the maximum." in response.content.decode()
    assert not Scorecard.objects.exists()


# --- Failed e-mails ---------------------------------------------------------------------------------------------


def test_a_failed_survey_email_is_sent_again(client_for, sent_round):
    invitation = sent_round.invitations.first()
    message = OutboxMessage.objects.get(kind=services.INVITATION, object_id=invitation.pk)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="failed", attempts=5, error="SMTPRecipientsRefused: mailbox unavailable"
    )
    client = client_for("admin")
    page = client.get(url("failed_mail")).content.decode()
    assert "mailbox unavailable" in page and sent_round.name in page
    response = client.post(url("mail_resend", message.pk))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == "queued" and message.attempts == 0
    again = client.post(url("mail_resend", message.pk))
    assert again.status_code == 422 and "Only a failed message can be sent again." in again.content.decode()


def test_the_round_page_reads_a_fixed_number_of_queries_whatever_its_size(
    client_for, users, survey_form, make_customer, django_assert_max_num_queries
):
    customers = [make_customer(f"C-{i:02d}", contacts=2) for i in range(15)]
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="Big",
        reason="incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=10),
        customers=customers,
    )
    client = client_for("cs")
    with django_assert_max_num_queries(16):
        assert client.get(survey_round.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(url("round_customers", survey_round.pk)).status_code == 200
    services.round_send(survey_round=survey_round, user=users["cs"])
    for invitation in survey_round.invitations.all()[:10]:
        services.response_submit(invitation=invitation, raw_answers=all_answers(survey_form, 3))
    with django_assert_max_num_queries(16):
        assert client.get(survey_round.get_absolute_url()).status_code == 200


def test_the_round_page_shows_a_page_of_customers_and_links_to_all_who_have_not_answered(
    client_for, users, survey_form, make_customer
):
    customers = [make_customer(f"M-{i:03d}") for i in range(55)]
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="Many",
        reason="incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=10),
        customers=customers,
    )
    services.round_send(survey_round=survey_round, user=users["cs"])
    answered = survey_round.invitations.get(line__customer__code="M-054")
    services.response_submit(invitation=answered, raw_answers=all_answers(survey_form, 4))
    client = client_for("cs")
    page = client.get(survey_round.get_absolute_url()).content.decode()
    assert page.count("data-customer=") == 50  # the first page of 55
    assert "1 of 55 customers answered" in page  # the figures count them all
    assert "and 4 more customers not answered yet" in page  # 54 to chase, 50 shown
    second = client.get(survey_round.get_absolute_url() + "?page=2").content.decode()
    assert second.count("data-customer=") == 5 and "M-054" in second
    listed = client.get(url("round_customers", survey_round.pk) + "?show=unanswered").content.decode()
    assert "M-053" in listed and "M-054" not in listed
