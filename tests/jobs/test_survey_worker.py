"""Survey sending and reminders through a real Celery worker on Redis (skipped without REDIS_URL).

As in test_celery_worker.py: the worker runs in a thread of this process and consumes from the real broker;
transactional tests, so the worker sees committed rows; mail goes to the locmem backend (``mailoutbox``), which
the worker thread shares. Sending a round only writes outbox rows; the commit kicks ``deliver_outbox`` on the
queue and the worker sends them. The daily reminder job is sent to the queue as beat sends it.
"""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from common.jobs import enqueue
from common.models import OutboxMessage
from common.outbox import deliver_pending
from common.tasks import deliver_outbox
from satisfaction import services, tasks
from tests.jobs.test_celery_worker import worker  # noqa: F401 - fixture
from tests.satisfaction.conftest import TODAY, all_answers, make_customer, survey_form  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.clause("5.11.1"),
    pytest.mark.celery_worker,
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL (a real broker); .ci/run sets it"),
]


def wait_for_outbox(kind: str, count: int, seconds: float = 60) -> list[OutboxMessage]:
    """Poll until ``count`` messages of ``kind`` exist and none is waiting or being sent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = list(OutboxMessage.objects.filter(kind=kind).order_by("pk"))
        if len(messages) == count and all(m.status not in ("queued", "sending") for m in messages):
            return messages
        time.sleep(0.1)
    raise AssertionError(f"outbox: {list(OutboxMessage.objects.values_list('kind', 'to', 'status', 'error'))}")


def drain(worker_seconds: float = 1.0) -> None:
    """Let the worker take what is on the queue: one more kick, and wait until the queue is empty."""
    import redis

    enqueue(deliver_outbox)
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    deadline = time.monotonic() + 30
    while client.llen("celery") and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(worker_seconds)  # the last task taken off the queue finishes


@pytest.fixture
def sent_by_the_worker(worker, users, survey_form, make_customer, mailoutbox):  # noqa: F811
    """A round of three customers (one with two contacts) sent by Customer Service; the worker sends it."""
    customers = [
        make_customer("W-01", contacts=2),
        make_customer("W-02", language="en"),
        make_customer("W-03"),
    ]
    survey_round = services.round_create_ad_hoc(
        user=users["cs"],
        name="Worker round",
        reason="after a serious incident",
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        deadline=TODAY + timedelta(days=14),
        customers=customers,
    )
    assert services.round_send(survey_round=survey_round, user=users["cs"]) == 4  # kicks the worker on commit
    return survey_round


@pytest.mark.django_db(transaction=True)
def test_sending_a_round_queues_the_invitations_and_the_worker_sends_each_exactly_once(
    sent_by_the_worker,
    mailoutbox,
):
    # A second dispatcher at the same moment (the beat sweep, `manage.py deliver_pending`): each message is
    # claimed by one of them, never sent by both.
    sweep = threading.Thread(target=lambda: (deliver_pending(), connection.close()))
    sweep.start()
    messages = wait_for_outbox(services.INVITATION, 4)
    sweep.join()

    assert {m.status for m in messages} == {"sent"}
    assert {m.attempts for m in messages} == {1}
    drain()  # more kicks and sweeps send nothing again
    sent_to = Counter(m.to[0] for m in mailoutbox)
    assert sent_to == {"c1@w-01.example": 1, "c2@w-01.example": 1, "c1@w-02.example": 1, "c1@w-03.example": 1}
    english = next(m for m in mailoutbox if m.to == ["c1@w-02.example"])
    invitation = sent_by_the_worker.invitations.get(email="c1@w-02.example")
    assert invitation.public_url() in english.body
    assert english.subject.startswith(django_settings.COMPANY_NAME_EN)


@pytest.mark.django_db(transaction=True)
def test_the_reminder_job_queues_reminders_that_the_worker_sends_to_those_who_have_not_answered(
    sent_by_the_worker,
    mailoutbox,
):
    survey_round = sent_by_the_worker
    wait_for_outbox(services.INVITATION, 4)
    mailoutbox.clear()
    # W-01 answered (one of its two contacts); the invitations went out a week ago.
    services.response_submit(
        invitation=survey_round.invitations.get(email="c2@w-01.example"), raw_answers=all_answers(survey_round.form)
    )
    survey_round.invitations.update(token_issued_at=timezone.now() - timedelta(days=7))

    tasks.send_reminders.delay()  # as beat sends it in the morning

    reminders = wait_for_outbox(services.REMINDER, 2)
    assert sorted((m.to, m.status) for m in reminders) == [("c1@w-02.example", "sent"), ("c1@w-03.example", "sent")]
    drain()
    assert sorted(m.to[0] for m in mailoutbox) == ["c1@w-02.example", "c1@w-03.example"]
    assert dict(survey_round.invitations.values_list("email", "reminders_sent")) == {
        "c1@w-01.example": 0,
        "c2@w-01.example": 0,
        "c1@w-02.example": 1,
        "c1@w-03.example": 1,
    }

    # The job fires again the same day (a restart replays it): nobody is reminded twice.
    tasks.send_reminders.delay()
    drain()
    assert OutboxMessage.objects.filter(kind=services.REMINDER).count() == 2
    assert len(mailoutbox) == 2
