"""Rounds, the frozen list, invitations, responses and their versions, scorecards and the round's figures."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from common.errors import DomainError
from common.models import OutboxMessage
from common.outbox import deliver_pending
from customers.models import Contact
from satisfaction import selectors, services
from satisfaction.defaults import DEFAULT_QUESTIONS
from satisfaction.models import Invitation, Response, RoundCustomer, SurveyForm, SurveyRound
from tests.satisfaction.conftest import TODAY, all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1"), pytest.mark.clause("5.11.2.1")]


def answers(form, *values):
    """answers(form, 5, 4, "na", …) in the order of the form's questions."""
    return {str(q.pk): str(v) for q, v in zip(form.questions.all(), values, strict=True)}


# --- The form ----------------------------------------------------------------------------------------------


def test_it_refuses_weights_that_do_not_add_up_to_100(users):
    questions = [
        services.QuestionData("质量", "Quality", Decimal(60)),
        services.QuestionData("交货", "Delivery", Decimal(30)),
    ]
    with pytest.raises(DomainError, match="add up to 90"):
        services.form_save(user=users["cs"], questions=questions)


def test_it_edits_a_form_in_place_until_a_round_is_sent_with_it_then_makes_a_new_version(users, sent_round):
    form = sent_round.form
    assert form.locked and form.version == 1
    changed = [*DEFAULT_QUESTIONS[:-1], services.QuestionData("交期弹性", "Flexibility", Decimal(10))]
    new = services.form_save(user=users["admin"], questions=changed)
    assert new.version == 2 and new.previous == form
    assert [q.text_en for q in form.questions.all()][-1] == DEFAULT_QUESTIONS[-1].text_en  # v1 untouched
    again = services.form_save(user=users["admin"], questions=DEFAULT_QUESTIONS)
    assert again.pk == new.pk  # v2 not sent yet: edited in place
    assert SurveyForm.objects.count() == 2


# --- Rounds and the list -------------------------------------------------------------------------------------


def test_it_opens_one_draft_per_half_year_with_the_eligible_customers(users, survey_form, make_customer, deliver):
    big = make_customer("BIG")
    small = make_customer("SMALL")
    for day in (3, 10, 20):
        deliver(big, 100_000, TODAY.replace(month=2, day=day))
    deliver(small, 1000, TODAY.replace(month=2, day=3))
    survey_round, created = services.round_open_half_year(year=TODAY.year, half=1)
    again, created_again = services.round_open_half_year(year=TODAY.year, half=1)
    assert created and not created_again and again.pk == survey_round.pk
    assert survey_round.status == SurveyRound.Status.DRAFT and survey_round.target == Decimal(80)
    lines = {line.customer.code: line for line in survey_round.customers.all()}
    assert lines["BIG"].included and lines["BIG"].rules == ["volume"] and lines["BIG"].deliveries == 3
    assert lines["BIG"].delivered_qty == Decimal(300_000)
    assert not lines["SMALL"].included and lines["SMALL"].rules == []
    assert not OutboxMessage.objects.exists()  # opened, never sent without a person


def test_it_keeps_one_half_year_round_even_when_two_are_created_at_once(survey_form):
    services.round_open_half_year(year=2025, half=2)
    with pytest.raises(IntegrityError):
        SurveyRound.objects.create(
            kind="half_year",
            year=2025,
            half=2,
            name="x",
            period_start=TODAY,
            period_end=TODAY,
            deadline=TODAY,
            target=80,
            form=survey_form,
        )


def test_it_adds_and_removes_customers_only_with_a_reason_and_records_who(users, survey_form, make_customer):
    make_customer("X-1")
    survey_round, _ = services.round_open_half_year(year=TODAY.year, half=1)
    line = survey_round.customers.get(customer__code="X-1")
    with pytest.raises(DomainError, match="why"):
        services.line_set_included(line=line, included=True, reason="  ", user=users["cs"])
    services.line_set_included(line=line, included=True, reason="重要客户投诉后", user=users["cs"])
    line.refresh_from_db()
    assert line.included and line.override_by == users["cs"] and line.override_reason == "重要客户投诉后"
    assert line.override_at is not None
    assert line.history.count() == 2  # created, then changed: who and when kept


def test_it_refuses_to_send_while_a_surveyed_customer_has_no_contact(users, survey_form, make_customer):
    with_contact = make_customer("OK-1")
    without = make_customer("NONE-1", contacts=0)
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="r",
        reason="incident",
        period_start=TODAY - timedelta(days=9),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=5),
        customers=[with_contact, without],
    )
    with pytest.raises(DomainError, match="NONE-1"):
        services.round_send(survey_round=survey_round, user=users["cs"])
    assert not Invitation.objects.exists()
    survey_round.refresh_from_db()
    assert survey_round.is_draft
    services.line_set_included(
        line=survey_round.customers.get(customer=without), included=False, reason="no contact", user=users["cs"]
    )
    assert services.round_send(survey_round=survey_round, user=users["cs"]) == 1


def test_it_freezes_the_list_when_the_round_is_sent(users, sent_round):
    line = sent_round.customers.filter(included=False).first() or sent_round.customers.first()
    with pytest.raises(DomainError, match="frozen"):
        services.line_set_included(line=line, included=not line.included, reason="late", user=users["cs"])
    with pytest.raises(DomainError, match="frozen"):
        services.round_refresh(survey_round=sent_round, user=users["cs"])
    with pytest.raises(DomainError, match="already been sent"):
        services.round_send(survey_round=sent_round, user=users["cs"])


def test_it_queues_one_invitation_per_surveyed_contact_in_the_contacts_language(sent_round, mailoutbox):
    assert Invitation.objects.filter(round=sent_round).count() == 3
    assert len({i.token for i in Invitation.objects.all()}) == 3
    assert all(len(i.token) >= 40 for i in Invitation.objects.all())
    deliver_pending()
    assert len(mailoutbox) == 3
    english = next(m for m in mailoutbox if m.to == ["c1@b-01.example"])
    chinese = next(m for m in mailoutbox if m.to == ["c1@a-01.example"])
    invitation = Invitation.objects.get(email="c1@b-01.example")
    assert invitation.public_url() in english.body and "Dear" in english.body
    assert "客户A-01" in chinese.body
    deliver_pending()
    assert len(mailoutbox) == 3  # nothing sent twice


# --- Responses -----------------------------------------------------------------------------------------------


def test_it_keeps_one_response_per_invitation_and_every_correction_as_a_version(sent_round):
    invitation = Invitation.objects.filter(round=sent_round).first()
    form = sent_round.form
    first = services.response_submit(invitation=invitation, raw_answers=answers(form, 5, 5, 5, 5, 5))
    same = services.response_submit(invitation=invitation, raw_answers=answers(form, 5, 5, 5, 5, 5))
    assert same.pk == first.pk and same.version == 1
    corrected = services.response_submit(invitation=invitation, raw_answers=answers(form, 4, 4, 4, 4, "na"))
    assert corrected.pk == first.pk and corrected.version == 2
    assert Response.objects.count() == 1
    assert [v.score for v in corrected.versions.all()] == [Decimal("100.0"), Decimal("80.0")]


def test_it_refuses_incomplete_or_out_of_scale_answers(sent_round):
    invitation = Invitation.objects.filter(round=sent_round).first()
    raw = all_answers(sent_round.form)
    raw.pop(next(iter(raw)))
    with pytest.raises(DomainError, match="every question"):
        services.response_submit(invitation=invitation, raw_answers=raw)
    with pytest.raises(DomainError, match="Choose one"):
        services.response_submit(invitation=invitation, raw_answers=all_answers(sent_round.form, 9))
    assert not Response.objects.exists()


def test_it_closes_the_link_after_the_deadline_but_lets_customer_service_key_in_until_closed(users, sent_round):
    invitation = Invitation.objects.filter(round=sent_round).first()
    SurveyRound.objects.filter(pk=sent_round.pk).update(deadline=TODAY - timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        services.response_submit(invitation=invitation, raw_answers=all_answers(sent_round.form))
    assert refused.value.code == "closed"
    keyed = services.response_submit(
        invitation=invitation, raw_answers=all_answers(sent_round.form), user=users["cs"], channel="paper"
    )
    assert keyed.entered_by == users["cs"] and keyed.channel == "paper"
    services.round_close(survey_round=sent_round, user=users["cs"])
    with pytest.raises(DomainError):
        services.response_submit(
            invitation=invitation, raw_answers=all_answers(sent_round.form, 3), user=users["cs"], channel="paper"
        )


def test_it_replaces_the_link_on_resend_and_the_old_one_stops_working(users, sent_round, mailoutbox):
    invitation = Invitation.objects.filter(round=sent_round).first()
    old = invitation.token
    services.invitation_resend(invitation=invitation, user=users["cs"])
    invitation.refresh_from_db()
    assert invitation.token != old and invitation.resent_count == 1
    assert not Invitation.objects.filter(token=old).exists()
    # The first invitation was still waiting: only one e-mail goes out, with the fresh link.
    deliver_pending()
    to_contact = [m for m in mailoutbox if m.to == [invitation.email]]
    assert len(to_contact) == 1 and invitation.token in to_contact[0].body and old not in to_contact[0].body


# --- Reminders -------------------------------------------------------------------------------------------------


def test_it_reminds_only_customers_who_have_not_answered_at_most_n_times_d_days_apart(settings, sent_round):
    settings.SURVEY_REMINDER_MAX, settings.SURVEY_REMINDER_GAP_DAYS = 2, 3
    now = timezone.now()
    assert services.send_reminders(now=now) == []  # just sent: not before the gap
    a_contact = Invitation.objects.filter(line__customer__code="A-01").first()
    services.response_submit(invitation=a_contact, raw_answers=all_answers(sent_round.form))
    later = now + timedelta(days=3, minutes=1)
    reminded = services.send_reminders(now=later)
    assert [i.line.customer.code for i in reminded] == ["B-01"]  # A answered (by one of its two contacts)
    assert services.send_reminders(now=later + timedelta(days=1)) == []  # gap
    assert len(services.send_reminders(now=later + timedelta(days=3, minutes=1))) == 1
    assert services.send_reminders(now=later + timedelta(days=9)) == []  # at most 2
    assert OutboxMessage.objects.filter(kind=services.REMINDER).count() == 2


def test_it_drops_a_waiting_reminder_once_the_customer_has_answered(sent_round, mailoutbox):
    deliver_pending()
    mailoutbox.clear()
    services.send_reminders(now=timezone.now() + timedelta(days=6))
    b = Invitation.objects.get(line__customer__code="B-01")
    services.response_submit(invitation=b, raw_answers=all_answers(sent_round.form))
    deliver_pending()
    assert [m.to for m in mailoutbox] == [[a.email] for a in Invitation.objects.filter(line__customer__code="A-01")]
    assert OutboxMessage.objects.filter(kind=services.REMINDER, status="cancelled", object_id=b.pk).count() == 1


# --- Figures ---------------------------------------------------------------------------------------------------


def test_it_computes_the_response_rate_and_the_scores_of_customers_and_round(users, sent_round):
    form = sent_round.form
    a1, a2 = Invitation.objects.filter(line__customer__code="A-01").order_by("pk")
    services.response_submit(invitation=a1, raw_answers=answers(form, 5, 5, 5, 5, 5))  # 100.0
    services.response_submit(invitation=a2, raw_answers=answers(form, 4, 4, 4, 4, 4))  # 80.0
    results = selectors.round_results(sent_round)
    assert (results.surveyed, results.answered, results.rate) == (2, 1, Decimal("50.0"))
    a = next(c for c in results.customers if c.customer.code == "A-01")
    assert a.score == Decimal("90.0") and a.band.key == "fairly_satisfied"
    assert results.score == Decimal("90.0")
    assert [c.customer.code for c in results.not_answered] == ["B-01"]
    b = Invitation.objects.get(line__customer__code="B-01")
    services.response_submit(invitation=b, raw_answers=answers(form, 3, 3, 3, 3, 3))  # 60.0
    results = selectors.round_results(sent_round)
    assert results.rate == Decimal("100.0") and results.score == Decimal("75.0")
    assert results.band.key == "dissatisfied"
    assert dict((band.key, n) for band, n in results.band_counts)["dissatisfied"] == 1


def test_it_weights_the_round_by_quantity_when_set(settings, users, sent_round):
    settings.SURVEY_ROUND_WEIGHTING = "quantity"
    RoundCustomer.objects.filter(round=sent_round, customer__code="A-01").update(delivered_qty=300)
    RoundCustomer.objects.filter(round=sent_round, customer__code="B-01").update(delivered_qty=100)
    form = sent_round.form
    services.response_submit(
        invitation=Invitation.objects.filter(line__customer__code="A-01").first(),
        raw_answers=answers(form, 5, 5, 5, 5, 5),
    )
    services.response_submit(
        invitation=Invitation.objects.get(line__customer__code="B-01"), raw_answers=answers(form, 3, 3, 3, 3, 3)
    )
    assert selectors.round_results(sent_round).score == Decimal("90.0")  # (100*300 + 60*100) / 400


def test_it_counts_a_customers_own_scorecard_as_its_answer_unless_it_also_answered_our_form(
    settings, users, sent_round
):
    b = sent_round.customers.get(customer__code="B-01").customer
    services.scorecard_record(customer=b, rated_on=TODAY, score=Decimal("88"), maximum=Decimal("100"), user=users["cs"])
    result = next(c for c in selectors.round_results(sent_round).customers if c.customer == b)
    assert result.answered and result.score == Decimal("88.0") and result.source == "scorecard"
    services.response_submit(
        invitation=Invitation.objects.get(line__customer=b), raw_answers=all_answers(sent_round.form)
    )
    result = next(c for c in selectors.round_results(sent_round).customers if c.customer == b)
    assert result.score == Decimal("100.0") and result.source == "survey" and result.scorecard is not None
    settings.SURVEY_SCORECARD_PRECEDENCE = "scorecard"
    result = next(c for c in selectors.round_results(sent_round).customers if c.customer == b)
    assert result.score == Decimal("88.0") and result.source == "scorecard"


def test_it_refuses_a_scorecard_above_its_maximum_or_in_the_future(users, make_customer):
    customer = make_customer("S-1")
    with pytest.raises(DomainError):
        services.scorecard_record(
            customer=customer, rated_on=TODAY, score=Decimal(6), maximum=Decimal(5), user=users["cs"]
        )
    with pytest.raises(DomainError):
        services.scorecard_record(
            customer=customer,
            rated_on=TODAY + timedelta(days=1),
            score=Decimal(4),
            maximum=Decimal(5),
            user=users["cs"],
        )


def test_it_flags_a_round_that_will_miss_its_target_at_the_current_pace(sent_round):
    SurveyRound.objects.filter(pk=sent_round.pk).update(
        sent_at=timezone.now() - timedelta(days=10), deadline=TODAY + timedelta(days=2)
    )
    sent_round.refresh_from_db()
    assert selectors.round_results(sent_round).behind_target  # 0 of 2 after 10 days
    services.response_submit(
        invitation=Invitation.objects.filter(line__customer__code="A-01").first(),
        raw_answers=all_answers(sent_round.form),
    )
    # 1 of 2 in 10 days, 2 days left: projected 1.2 of 2 = 60% < 80%
    assert selectors.round_results(sent_round).behind_target
    SurveyRound.objects.filter(pk=sent_round.pk).update(deadline=TODAY + timedelta(days=20))
    sent_round.refresh_from_db()
    # 20 days left at 0.1/day: projected 3 of 2 -> on pace
    assert not selectors.round_results(sent_round).behind_target


def test_it_computes_each_questions_statistics(sent_round):
    form = sent_round.form
    a1, a2 = Invitation.objects.filter(line__customer__code="A-01").order_by("pk")
    services.response_submit(invitation=a1, raw_answers=answers(form, 5, 4, 3, "na", 5))
    services.response_submit(invitation=a2, raw_answers=answers(form, 4, 4, 3, "na", 5))
    first, second, _, price, _ = selectors.question_statistics(sent_round)
    assert first.answers == 2 and first.mean == Decimal("4.5") and first.mean_points == Decimal("90.0")
    assert dict(first.rows()) == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert price.answers == 0 and price.not_applicable == 2 and price.mean is None


def test_contacts_without_email_are_not_surveyed(users, survey_form, make_customer):
    customer = make_customer("NOMAIL", contacts=1)
    Contact.objects.filter(customer=customer).update(email="")
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="r",
        reason="x",
        period_start=TODAY,
        period_end=TODAY,
        deadline=TODAY + timedelta(days=3),
        customers=[customer],
    )
    assert [line.customer.code for line in services.lines_without_contacts(survey_round)] == ["NOMAIL"]
