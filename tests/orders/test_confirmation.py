"""Confirming a signed-off order to the customer: the bilingual acknowledgement PDF, e-mailed by a job."""

import io
import logging
from smtplib import SMTPException

import pytest
from django.urls import reverse
from pypdf import PdfReader

from common.errors import DomainError
from orders import services
from orders.models import Acknowledgement, Order
from tests.orders.conftest import REVIEWERS, sign

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.2.3")]


@pytest.fixture
def signed_off(submitted, users):
    for reviewer in REVIEWERS:
        sign(users, submitted, reviewer)
    services.head_signoff(user=users["head"], order=submitted, revision_seen=1)
    submitted.refresh_from_db()
    return submitted


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())  # lines wrap anywhere


def test_the_acknowledgement_is_mailed_with_its_pdf_in_chinese_and_english(
    client_for, signed_off, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("cs").post(
            reverse("orders:confirm", args=[signed_off.number]), {"revision": 1, "to": "zhang@hongda.example"}
        )
    assert response.status_code == 302
    ack = Acknowledgement.objects.get()
    assert ack.status == "sent" and ack.recipient == "zhang@hongda.example" and ack.sent_at
    signed_off.refresh_from_db()
    assert signed_off.status == Order.Status.CONFIRMED

    [message] = [m for m in mailoutbox if m.to == ["zhang@hongda.example"]]
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and name == f"{signed_off.number}.pdf"
    text = pdf_text(content)
    for expected in (
        "东莞宏达电子有限公司",
        "Dongguan Hongda Electronics",
        "订单确认书",
        "Order Acknowledgement",
        "PO-778",
        "灯罩",
    ):
        assert expected in text, expected
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()], "missing glyphs in the PDF"
    page = client_for("qa").get(signed_off.get_absolute_url()).content.decode()
    assert "Acknowledgement r1 e-mailed to zhang@hongda.example" in page
    pdf = client_for("qa").get(reverse("orders:ack_pdf", args=[ack.pk]))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_it_is_sent_once_per_revision(client_for, signed_off, users, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm(user=users["cs"], order=signed_off, revision_seen=1)
    with pytest.raises(DomainError, match="already sent"):
        services.order_confirm(user=users["cs"], order=signed_off, revision_seen=1)
    services.acknowledgement_send(Acknowledgement.objects.get().pk)  # a task delivered twice
    assert len([m for m in mailoutbox if m.attachments]) == 1


def test_only_a_signed_off_order_is_confirmed(submitted, users):
    with pytest.raises(DomainError, match="signed-off"):
        services.order_confirm(user=users["cs"], order=submitted, revision_seen=1)


def test_a_customer_without_an_e_mail_address_is_refused_clearly(signed_off, users):
    signed_off.customer.contacts.update(email="")
    with pytest.raises(DomainError, match="no contact with an e-mail address"):
        services.order_confirm(user=users["cs"], order=signed_off, revision_seen=1)
    assert not Acknowledgement.objects.exists()


def test_an_smtp_failure_is_recorded_and_can_be_sent_again(
    client_for, signed_off, users, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    from django.core.mail import EmailMessage

    def refuse(self, *args, **kwargs):
        raise SMTPException("421 try again later")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMessage, "send", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            services.order_confirm(user=users["cs"], order=signed_off, revision_seen=1)
    ack = Acknowledgement.objects.get()
    assert ack.status == "failed" and "421" in ack.error
    signed_off.refresh_from_db()
    assert signed_off.status == Order.Status.SIGNED_OFF
    page = client_for("cs").get(signed_off.get_absolute_url()).content.decode()
    assert "Sending failed" in page and "421 try again later" in page

    with django_capture_on_commit_callbacks(execute=True):
        client_for("cs").post(reverse("orders:ack_resend", args=[ack.pk]))
    ack.refresh_from_db()
    assert ack.status == "sent" and len(mailoutbox) >= 1


def test_a_pdf_with_missing_glyphs_is_refused_rather_than_printed_with_boxes(monkeypatch):
    """WeasyPrint only logs missing glyphs; render_pdf turns that log line into an error."""
    import weasyprint

    from common.pdf import MissingGlyphs, render_pdf

    real = weasyprint.Document.write_pdf

    def write_with_a_missing_glyph(self, *args, **kwargs):
        logging.getLogger("weasyprint").warning(
            '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)', "东", 0x4E1C
        )
        return real(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.Document, "write_pdf", write_with_a_missing_glyph)
    with pytest.raises(MissingGlyphs, match="U\\+4E1C"):
        render_pdf("pdf/base.html", {})
