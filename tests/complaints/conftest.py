"""Complaint fixtures: two customers with delivered goods (built straight in the database, as the survey tests do:
going through the whole order review for every test would be slow), and helpers that walk a complaint through
its steps with the services, as the people would."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints import services
from delivery import services as delivery_services
from orders.selectors import working_days_between
from tests.satisfaction.conftest import deliver, make_customer  # noqa: F401

TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name="report.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def days_back(working_days: int):
    """The latest day from which ``working_days`` working days (Mon–Fri) have passed by today."""
    day = TODAY
    while working_days_between(day, TODAY) < working_days:
        day -= timedelta(days=1)
    return day


@pytest.fixture
def acme(make_customer):  # noqa: F811
    return make_customer("ACME-01")


@pytest.fixture
def other(make_customer):  # noqa: F811
    return make_customer("OTHER-01")


@pytest.fixture
def note(acme, deliver):  # noqa: F811
    """A delivery note of 1000 pcs to ACME, five days ago."""
    return deliver(acme, 1000, TODAY - timedelta(days=5))


@pytest.fixture
def record(users):
    """record(customer, **overrides): a complaint recorded by Customer Service (category quality by default)."""

    def make(customer, **overrides):
        values = dict(
            user=users["cs"],
            customer=customer,
            channel="phone",
            received_on=TODAY,
            description="灯罩表面有划痕 Scratches on the lamp shades",
            category="quality",
        )
        values.update(overrides)
        return services.complaint_record(**values)

    return make


def acknowledge(users, complaint, on=None):
    return services.complaint_acknowledge(
        user=users["cs"], complaint=complaint, on=on or complaint.received_on, text="已收到,三天内回复。"
    )


def investigate(users, complaint, who="qa"):
    return services.complaint_investigate(
        user=users[who], complaint=complaint, cause="注塑模具磨损", action="更换模具,加强出货检验"
    )


def answer(users, complaint, on=None):
    return services.complaint_answer(user=users["cs"], complaint=complaint, answer="8D 报告已发客户", on=on or TODAY)


def close(users, complaint, on=None):
    return services.complaint_close(user=users["cs"], complaint=complaint, accepted_on=on or TODAY, note="客户接受")


def walk(users, complaint, to: str):
    """Take ``complaint`` through its remaining steps up to status ``to``."""
    order = ["received", "acknowledged", "investigated", "answered", "closed"]
    steps = {"acknowledged": acknowledge, "investigated": investigate, "answered": answer, "closed": close}
    for status in order[order.index(complaint.status) + 1 : order.index(to) + 1]:
        complaint = steps[status](users, complaint)
    return complaint


def return_of(users, note, quantity="10"):
    return delivery_services.return_record(
        user=users["cs"], note_line=note.lines.get(), quantity=Decimal(quantity), reason="划痕"
    )
