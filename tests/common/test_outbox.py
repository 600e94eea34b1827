"""The outbox on its own (common.outbox): every e-mail is a row first, sent once, retried on SMTP trouble,
failed with its reason after OUTBOX_MAX_ATTEMPTS, sent again by hand; a worker that died mid-send never
causes a second e-mail. A test kind with its own composer keeps the apps out of it."""

import io
import smtplib
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.utils import timezone

from common import outbox
from common.errors import DomainError
from common.models import OutboxMessage

pytestmark = pytest.mark.django_db

KIND = "test.note"
GONE = 0  # an object_id whose message is no longer wanted: the composer returns None


def compose(object_id: int):
    if object_id == GONE:
        return None
    return f"Note {object_id}", f"Body of note {object_id}"


@pytest.fixture(autouse=True)
def test_kind(monkeypatch):
    monkeypatch.setitem(outbox._COMPOSERS, KIND, compose)


def queue(*addresses: str, object_id: int = 1) -> list[OutboxMessage]:
    return [outbox.outbox_add(kind=KIND, object_id=object_id, to=to, language="en") for to in addresses]


@pytest.fixture
def smtp_refuses(monkeypatch):
    """The mail server refuses the given addresses (all when the set holds "*"), as smtplib would."""
    refused: set[str] = set()
    real_send = EmailMessage.send

    def send(self, fail_silently=False):
        if "*" in refused or refused & set(self.to):
            raise smtplib.SMTPRecipientsRefused({self.to[0]: (550, b"mailbox unavailable")})
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send)
    return refused


def make_due(message: OutboxMessage) -> None:
    """Let the retry time pass."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def reload(message: OutboxMessage) -> OutboxMessage:
    message.refresh_from_db()
    return message


def test_a_queued_message_is_sent_once_with_what_went_out_kept(mailoutbox):
    [message] = queue("a@example.com", object_id=7)
    assert message.status == "queued"

    counts = outbox.deliver_pending()

    assert counts == {"sent": 1, "queued": 0, "failed": 0, "cancelled": 0}
    assert [(m.to, m.subject, m.body) for m in mailoutbox] == [(["a@example.com"], "Note 7", "Body of note 7")]
    message = reload(message)
    assert (message.status, message.attempts, message.subject, message.body) == ("sent", 1, "Note 7", "Body of note 7")
    assert message.sent_at is not None


def test_two_deliveries_never_send_a_message_twice(mailoutbox):
    queue("a@example.com", "b@example.com")
    outbox.deliver_pending()
    assert outbox.deliver_pending() == {"sent": 0, "queued": 0, "failed": 0, "cancelled": 0}
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.com", "b@example.com"]


def test_a_message_another_dispatcher_has_claimed_is_left_to_it(mailoutbox):
    [message] = queue("a@example.com")
    assert outbox.deliver_one(message.pk) == "sent"
    assert outbox.deliver_one(message.pk) == ""  # already taken: nothing done
    assert len(mailoutbox) == 1


def test_a_message_no_longer_wanted_is_cancelled_not_sent(mailoutbox):
    [message] = queue("a@example.com", object_id=GONE)
    assert outbox.deliver_pending()["cancelled"] == 1
    assert reload(message).status == "cancelled"
    assert mailoutbox == []


def test_an_unknown_kind_is_refused_when_queued():
    with pytest.raises(ValueError, match="no composer registered"):
        outbox.outbox_add(kind="nobody.knows", object_id=1, to="a@example.com", language="en")


def test_smtp_trouble_is_retried_later_then_failed_with_the_reason(settings, smtp_refuses, mailoutbox):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_refuses.add("*")
    [message] = queue("a@example.com")

    before = timezone.now()
    assert outbox.deliver_pending()["queued"] == 1
    message = reload(message)
    assert (message.status, message.attempts) == ("queued", 1)
    assert "SMTPRecipientsRefused" in message.error and "mailbox unavailable" in message.error
    assert message.next_attempt_at >= before + timedelta(minutes=1)

    # Not due yet: a sweep a moment later leaves it alone.
    assert outbox.deliver_pending()["queued"] == 0
    assert reload(message).attempts == 1

    make_due(message)
    assert outbox.deliver_pending()["queued"] == 1
    message = reload(message)
    assert message.attempts == 2
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=100)  # backs off: 2 minutes

    make_due(message)
    assert outbox.deliver_pending()["failed"] == 1
    message = reload(message)
    assert (message.status, message.attempts) == ("failed", 3)
    assert "SMTPRecipientsRefused" in message.error
    make_due(message)
    assert outbox.deliver_pending()["failed"] == 0  # a failed message waits for a person
    assert mailoutbox == []


def test_a_mail_server_that_is_down_is_retried_like_any_smtp_trouble(monkeypatch):
    def down(self, fail_silently=False):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(EmailMessage, "send", down)
    [message] = queue("a@example.com")
    assert outbox.deliver_pending()["queued"] == 1
    assert "ConnectionRefusedError" in reload(message).error


def test_a_failed_message_is_sent_again_by_hand(settings, users, smtp_refuses, mailoutbox):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    smtp_refuses.add("*")
    [message] = queue("a@example.com")
    outbox.deliver_pending()
    assert reload(message).status == "failed"

    smtp_refuses.clear()
    resent = outbox.message_resend(message=message, user=users["cs"])
    assert (resent.status, resent.attempts, resent.next_attempt_at) == ("queued", 0, None)
    assert outbox.deliver_pending()["sent"] == 1
    assert reload(message).status == "sent"
    assert len(mailoutbox) == 1
    assert OutboxMessage.objects.count() == 1  # one message, several attempts


def test_only_a_failed_message_can_be_sent_again(users):
    [message] = queue("a@example.com")
    with pytest.raises(DomainError, match="Only a failed message"):
        outbox.message_resend(message=message, user=users["cs"])
    outbox.deliver_pending()
    with pytest.raises(DomainError, match="Only a failed message"):
        outbox.message_resend(message=reload(message), user=users["cs"])


def test_one_bad_address_does_not_make_the_others_be_sent_twice(settings, smtp_refuses, mailoutbox):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    smtp_refuses.add("bad@example.com")
    messages = queue("a@example.com", "bad@example.com", "c@example.com", "d@example.com")

    assert outbox.deliver_pending() == {"sent": 3, "queued": 1, "failed": 0, "cancelled": 0}
    for message in messages:
        make_due(message)
    assert outbox.deliver_pending() == {"sent": 0, "queued": 0, "failed": 1, "cancelled": 0}

    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.com", "c@example.com", "d@example.com"]
    statuses = dict(OutboxMessage.objects.values_list("to", "status"))
    assert statuses == {
        "a@example.com": "sent",
        "bad@example.com": "failed",
        "c@example.com": "sent",
        "d@example.com": "sent",
    }
    assert OutboxMessage.objects.get(to="a@example.com").attempts == 1


def test_a_message_left_sending_by_a_worker_that_died_is_failed_not_sent_again(mailoutbox):
    stale, fresh = queue("stale@example.com", "fresh@example.com")
    # Two claims: one from a worker killed mid-send long ago, one being sent right now by another worker.
    OutboxMessage.objects.filter(pk=stale.pk).update(
        status="sending", attempts=1, claimed_at=timezone.now() - outbox.STALE_CLAIM - timedelta(minutes=1)
    )
    OutboxMessage.objects.filter(pk=fresh.pk).update(status="sending", attempts=1, claimed_at=timezone.now())

    outbox.deliver_pending()

    stale, fresh = reload(stale), reload(fresh)
    assert stale.status == "failed" and "interrupted" in stale.error
    assert fresh.status == "sending"  # still another worker's
    assert mailoutbox == []
    assert outbox.fail_stale_claims() == 0


def test_the_deliver_pending_command_prints_the_counts(settings, smtp_refuses, mailoutbox):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_refuses.add("bad@example.com")
    queue("a@example.com", "b@example.com", "bad@example.com")
    out = io.StringIO()
    call_command("deliver_pending", stdout=out)
    assert out.getvalue().strip() == "sent 2, waiting to retry 1, failed 0"
    assert len(mailoutbox) == 2


def test_the_deliver_pending_command_sends_at_most_the_limit(mailoutbox):
    queue("a@example.com", "b@example.com", "c@example.com")
    out = io.StringIO()
    call_command("deliver_pending", "--limit", "2", stdout=out)
    assert out.getvalue().strip() == "sent 2, waiting to retry 0, failed 0"
    assert OutboxMessage.objects.filter(status="queued").count() == 1


def test_queueing_asks_a_worker_to_deliver_once_the_change_is_committed(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queue("a@example.com", "b@example.com")
    assert len(callbacks) == 2  # one kick per write; the second finds nothing left to send
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.com", "b@example.com"]
