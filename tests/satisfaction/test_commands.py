"""`manage.py survey_eligibility` (who must be surveyed, §5.11.1) and `manage.py survey_remind` (chasing those
who have not answered), on hand-built delivery data."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from common.models import OutboxMessage
from common.outbox import deliver_pending
from customers.models import Product
from orders.models import Order
from satisfaction import services
from satisfaction.models import Invitation, SurveyRound
from tests.satisfaction.conftest import TODAY, all_answers

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.11.1")]

START = TODAY - timedelta(days=60)
PERIOD = ["--from", START.isoformat(), "--to", TODAY.isoformat()]
IN_PERIOD = TODAY - timedelta(days=10)


def eligibility(*args) -> tuple[str, dict[str, list[str]]]:
    """Run the command; returns (header line, {customer code: its tab-separated cells})."""
    out = io.StringIO()
    call_command("survey_eligibility", *(args or PERIOD), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split("\t")[0] == "code"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[2:-1]}
    return lines[0], rows


def deliveries(deliver, customer, *quantities, on=IN_PERIOD, **kwargs):
    for quantity in quantities:
        deliver(customer, quantity, on, **kwargs)


# --- survey_eligibility ----------------------------------------------------------------------------------------


def test_it_prints_every_customer_that_is_not_inactive_with_its_figures_and_the_settings(make_customer, deliver):
    big = make_customer("BIG")
    few = make_customer("FEW")
    make_customer("NONE", status="development")
    gone = make_customer("GONE", status="inactive")
    deliveries(deliver, big, 100_000, 100_000, 50_000)
    deliveries(deliver, few, 150_000, 150_000)
    deliveries(deliver, gone, 100_000, 100_000, 100_000)

    header, rows = eligibility()

    assert f"Period {START} to {TODAY}" in header
    assert "at least 200,000 pcs and at least 3 deliveries (SURVEY_VOLUME_RULE=and)" in header
    assert list(rows) == ["BIG", "FEW", "NONE"]  # by code; the inactive customer is not listed
    assert rows["BIG"] == ["BIG", "客户BIG", "yes", "250,000", "3", "delivered volume"]
    assert rows["FEW"] == ["FEW", "客户FEW", "no", "300,000", "2", "—"]
    assert rows["NONE"] == ["NONE", "客户NONE", "no", "0", "0", "—"]


def test_it_ends_with_the_count_of_eligible_customers(make_customer, deliver):
    deliveries(deliver, make_customer("BIG"), 100_000, 100_000, 100_000)
    make_customer("SMALL")
    out = io.StringIO()
    call_command("survey_eligibility", *PERIOD, stdout=out)
    assert out.getvalue().splitlines()[-1] == "1 of 2 customers eligible."


def test_with_the_or_rule_either_the_quantity_or_the_deliveries_is_enough(settings, make_customer, deliver):
    settings.SURVEY_VOLUME_RULE = "or"
    deliveries(deliver, make_customer("QTY"), 250_000)
    deliveries(deliver, make_customer("OFTEN"), 10, 10, 10)
    deliveries(deliver, make_customer("NEITHER"), 10, 10)

    header, rows = eligibility()

    assert "at least 200,000 pcs or at least 3 deliveries (SURVEY_VOLUME_RULE=or)" in header
    assert rows["QTY"][2:] == ["yes", "250,000", "1", "delivered volume"]
    assert rows["OFTEN"][2:] == ["yes", "30", "3", "delivered volume"]
    assert rows["NEITHER"][2] == "no"


def test_with_the_and_rule_both_the_quantity_and_the_deliveries_are_needed(make_customer, deliver):
    deliveries(deliver, make_customer("QTY"), 250_000)
    deliveries(deliver, make_customer("OFTEN"), 10, 10, 10)
    deliveries(deliver, make_customer("BOTH"), 200_000, 1, 1)  # exactly at both thresholds

    _header, rows = eligibility()

    assert (rows["QTY"][2], rows["OFTEN"][2], rows["BOTH"][2]) == ("no", "no", "yes")
    assert rows["BOTH"][3:5] == ["200,002", "3"]


def test_it_reads_the_thresholds_from_the_settings(settings, make_customer, deliver):
    settings.SURVEY_MIN_QUANTITY = 5_000
    settings.SURVEY_MIN_DELIVERIES = 2
    deliveries(deliver, make_customer("SMALL"), 2_500, 2_500)
    deliveries(deliver, make_customer("ONCE"), 5_000)
    deliveries(deliver, make_customer("LOW"), 4_000, 999)

    header, rows = eligibility()

    assert "at least 5,000 pcs and at least 2 deliveries" in header
    assert rows["SMALL"][2:5] == ["yes", "5,000", "2"]
    assert rows["ONCE"][2:5] == ["no", "5,000", "1"]
    assert rows["LOW"][2:5] == ["no", "4,999", "2"]


def test_cancelled_delivery_notes_do_not_count(make_customer, deliver):
    customer = make_customer("CXL")
    deliveries(deliver, customer, 100_000, 100_000)
    deliveries(deliver, customer, 100_000, status="cancelled")

    _header, rows = eligibility()

    assert rows["CXL"][2:5] == ["no", "200,000", "2"]


def test_delivery_notes_outside_the_period_do_not_count(make_customer, deliver):
    customer = make_customer("EDGE")
    deliver(customer, 100_000, START)  # the first day counts
    deliver(customer, 100_000, TODAY)  # so does the last
    deliver(customer, 100_000, START - timedelta(days=1))
    deliver(customer, 100_000, TODAY + timedelta(days=1))

    _header, rows = eligibility()

    assert rows["EDGE"][2:5] == ["no", "200,000", "2"]
    _header, rows = eligibility("--from", (START - timedelta(days=1)).isoformat(), "--to", TODAY.isoformat())
    assert rows["EDGE"][2:5] == ["yes", "300,000", "3"]


def test_an_order_of_a_new_product_or_of_a_customer_owned_mould_in_the_period_makes_a_customer_eligible(
    make_customer, deliver
):
    new = Product.objects.create(code="P-NEW", name="新品", is_new=True)
    mould = Product.objects.create(code="P-MOULD", name="私模件", customer_owned_mould=True)
    both = Product.objects.create(code="P-BOTH", name="新私模件", is_new=True, customer_owned_mould=True)
    deliver(make_customer("NEW"), 10, IN_PERIOD, product=new)
    deliver(make_customer("MOULD"), 10, IN_PERIOD, product=mould)
    deliver(make_customer("BOTH"), 10, IN_PERIOD, product=both)
    deliver(make_customer("CXL"), 10, IN_PERIOD, product=new, order_status="cancelled")
    deliver(make_customer("OLD"), 10, IN_PERIOD, product=mould)
    # Entered before the period (delivered inside it: that counts for the volume rule only).
    Order.objects.filter(customer__code="OLD").update(created_at=timezone.now() - timedelta(days=90))

    _header, rows = eligibility()

    assert rows["NEW"][2:] == ["yes", "10", "1", "order of a new product"]
    assert rows["MOULD"][2:] == ["yes", "10", "1", "order of a customer-owned-mould product"]
    assert rows["BOTH"][5] == "order of a new product, order of a customer-owned-mould product"
    assert rows["CXL"][2] == "no"  # a cancelled order does not count
    assert rows["OLD"][2] == "no"


def test_a_key_customer_in_development_is_eligible_without_deliveries(make_customer):
    make_customer("KEY", status="development", important_in_development=True)
    make_customer("PROSPECT", status="development")

    _header, rows = eligibility()

    assert rows["KEY"][2:] == ["yes", "0", "0", "key customer in development"]
    assert rows["PROSPECT"][2] == "no"


def test_it_lists_every_rule_a_customer_meets(make_customer, deliver):
    new = Product.objects.create(code="P-NEW", name="新品", is_new=True)
    customer = make_customer("ALL", status="development", important_in_development=True)
    deliveries(deliver, customer, 100_000, 100_000, 100_000, product=new)

    _header, rows = eligibility()

    assert rows["ALL"][5] == "delivered volume, order of a new product, key customer in development"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2025-13-01", "--to", "2025-12-31"], "'2025-13-01' is not a date; write it as YYYY-MM-DD"),
        (["--from", "2025-01-01", "--to", "31/12/2025"], "--to: '31/12/2025' is not a date"),
        (["--from", "2025-07-01", "--to", "2025-06-30"], "--from 2025-07-01 is after --to 2025-06-30"),
    ],
)
def test_it_refuses_bad_dates_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("survey_eligibility", *args)


def test_it_exits_non_zero_on_bad_dates_from_the_command_line(capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "survey_eligibility", "--from", "2025-07-01", "--to", "2025-01-01"]).execute()
    assert exit_info.value.code != 0
    assert "is after --to" in capsys.readouterr().err


def test_a_single_day_period_is_fine(make_customer, deliver):
    deliver(make_customer("ONE"), 5, TODAY)
    _header, rows = eligibility("--from", TODAY.isoformat(), "--to", TODAY.isoformat())
    assert rows["ONE"][3:5] == ["5", "1"]


# --- survey_remind -----------------------------------------------------------------------------------------------


def remind(*args) -> list[str]:
    out = io.StringIO()
    call_command("survey_remind", *args, stdout=out)
    return out.getvalue().splitlines()


def age_invitations(survey_round, days: int) -> None:
    """As if the invitations had gone out ``days`` ago (and any reminder then too)."""
    then = timezone.now() - timedelta(days=days)
    survey_round.invitations.update(token_issued_at=then)
    survey_round.invitations.exclude(last_reminded_at=None).update(last_reminded_at=then)


def test_it_reminds_by_hand_only_the_customers_who_have_not_answered_and_prints_what_it_queued(sent_round):
    answered = sent_round.invitations.get(email="c1@a-01.example")
    services.response_submit(invitation=answered, raw_answers=all_answers(sent_round.form))
    age_invitations(sent_round, 6)

    lines = remind()

    assert lines == [
        f"Test round (#{sent_round.pk})\tB-01\t客户B-01\t联系人1\tc1@b-01.example\treminder 1",
        "1 reminder queued.",
    ]
    message = OutboxMessage.objects.get(kind=services.REMINDER)
    assert (message.to, message.language, message.status) == ("c1@b-01.example", "en", "queued")


def test_it_reminds_every_contact_of_a_customer_who_has_not_answered(sent_round):
    age_invitations(sent_round, 6)
    lines = remind("--round", str(sent_round.pk))
    assert sorted(line.split("\t")[4] for line in lines[:-1]) == [
        "c1@a-01.example",
        "c1@b-01.example",
        "c2@a-01.example",
    ]
    assert lines[-1] == "3 reminders queued."


def test_it_reminds_at_most_n_times_and_at_least_d_days_apart(settings, sent_round):
    settings.SURVEY_REMINDER_GAP_DAYS = 2
    settings.SURVEY_REMINDER_MAX = 3
    sent = max(sent_round.invitations.values_list("token_issued_at", flat=True))

    def reminded_on(day: int) -> int:
        return len(services.send_reminders(now=sent + timedelta(days=day)))

    assert reminded_on(1) == 0  # too soon after the invitation
    assert reminded_on(2) == 3
    assert reminded_on(3) == 0  # too soon after the first reminder
    assert reminded_on(4) == 3
    assert reminded_on(6) == 3
    assert reminded_on(8) == 0  # three reminders are the most
    assert set(Invitation.objects.values_list("reminders_sent", flat=True)) == {3}
    assert OutboxMessage.objects.filter(kind=services.REMINDER).count() == 9


def test_running_it_twice_the_same_day_reminds_nobody_twice(sent_round):
    age_invitations(sent_round, 6)
    assert remind()[-1] == "3 reminders queued."
    assert remind() == ["0 reminders queued."]


def test_a_waiting_reminder_is_not_sent_once_another_contact_of_the_customer_answered(sent_round, mailoutbox):
    age_invitations(sent_round, 6)
    remind()
    # A-01's first contact answers before the outbox got to the reminders: its colleague is not chased.
    services.response_submit(
        invitation=sent_round.invitations.get(email="c1@a-01.example"), raw_answers=all_answers(sent_round.form)
    )

    counts = deliver_pending(kinds=[services.REMINDER])

    assert counts["sent"] == 1 and counts["cancelled"] == 2
    assert [m.to for m in mailoutbox] == [["c1@b-01.example"]]
    cancelled = OutboxMessage.objects.filter(kind=services.REMINDER, status="cancelled")
    assert sorted(cancelled.values_list("to", flat=True)) == ["c1@a-01.example", "c2@a-01.example"]
    age_invitations(sent_round, 6)
    assert [line.split("\t")[1] for line in remind()[:-1]] == ["B-01"]


def test_the_customers_own_scorecard_in_the_period_stops_the_reminders(users, sent_round, mailoutbox):
    age_invitations(sent_round, 6)
    remind()
    b = sent_round.customers.get(customer__code="B-01").customer
    services.scorecard_record(customer=b, rated_on=TODAY, score=Decimal(88), maximum=Decimal(100), user=users["cs"])

    deliver_pending(kinds=[services.REMINDER])

    assert sorted(m.to[0] for m in mailoutbox) == ["c1@a-01.example", "c2@a-01.example"]
    age_invitations(sent_round, 6)
    assert [line.split("\t")[1] for line in remind()[:-1]] == ["A-01", "A-01"]


def test_a_scorecard_outside_the_round_period_does_not_stop_them(users, sent_round):
    b = sent_round.customers.get(customer__code="B-01").customer
    services.scorecard_record(
        customer=b,
        rated_on=sent_round.period_start - timedelta(days=1),
        score=Decimal(88),
        maximum=Decimal(100),
        user=users["cs"],
    )
    age_invitations(sent_round, 6)
    assert "B-01" in {line.split("\t")[1] for line in remind()[:-1]}


def test_a_closed_round_gets_no_reminders(users, sent_round):
    age_invitations(sent_round, 6)
    services.round_close(survey_round=sent_round, user=users["cs"])

    lines = remind("--round", str(sent_round.pk))

    assert "is not open" in lines[0]
    assert lines[-1] == "0 reminders queued."
    assert not OutboxMessage.objects.filter(kind=services.REMINDER).exists()


def test_a_round_past_its_deadline_gets_no_reminders(sent_round):
    age_invitations(sent_round, 6)
    assert services.send_reminders(now=timezone.now() + timedelta(days=11)) == []  # the deadline is in 10 days

    SurveyRound.objects.filter(pk=sent_round.pk).update(deadline=TODAY - timedelta(days=1))
    assert remind()[-1] == "0 reminders queued."


def test_a_reminder_queued_before_the_round_closed_is_not_sent(users, sent_round, mailoutbox):
    age_invitations(sent_round, 6)
    remind()
    services.round_close(survey_round=sent_round, user=users["cs"])
    assert deliver_pending(kinds=[services.REMINDER])["cancelled"] == 3
    assert mailoutbox == []


def test_it_refuses_an_unknown_round():
    with pytest.raises(CommandError, match="There is no survey round 999"):
        call_command("survey_remind", "--round", "999")
