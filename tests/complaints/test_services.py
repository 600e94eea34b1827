"""The complaint's steps as services (§5.10.2): numbering, intake rules, the workflow with who and when, the
refusals, the quality problem it becomes, attachments and history."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from common.errors import DomainError
from complaints import services
from complaints.models import Complaint, ComplaintCounter
from customers.models import QualityProblem
from tests.complaints.conftest import (
    PNG,
    TODAY,
    acknowledge,
    answer,
    close,
    investigate,
    pdf,
    return_of,
    walk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.10.2")]


# --- Numbers ---------------------------------------------------------------------------------------------------


def test_numbers_run_per_year_of_receipt_without_gaps(users, acme, record):
    last_year = date(TODAY.year - 1, 12, 30)
    made = [
        record(acme, received_on=TODAY),
        record(acme, received_on=last_year),
        record(acme, received_on=TODAY),
        record(acme, received_on=last_year),
        record(acme, received_on=TODAY),
    ]
    assert [c.number for c in made] == [
        f"KS-{TODAY.year}-0001",
        f"KS-{TODAY.year - 1}-0001",
        f"KS-{TODAY.year}-0002",
        f"KS-{TODAY.year - 1}-0002",
        f"KS-{TODAY.year}-0003",
    ]


def test_a_refused_or_rolled_back_complaint_gives_its_number_back(users, acme, other, note, record):
    record(acme)
    with pytest.raises(DomainError):
        record(other, notes=[note])  # refused before a number is taken
    with pytest.raises(RuntimeError), transaction.atomic():
        record(acme)
        raise RuntimeError("the surrounding work failed")
    assert record(acme).number == f"KS-{TODAY.year}-0002"
    assert ComplaintCounter.objects.get(year=TODAY.year).last == 2


# --- Intake ----------------------------------------------------------------------------------------------------


def test_quality_and_packaging_go_to_quality_the_rest_to_customer_service_unless_chosen(users, acme, record):
    assert record(acme, category="quality").department == "quality"
    assert record(acme, category="packaging").department == "quality"
    assert record(acme, category="delivery").department == "customer_service"
    assert record(acme, category="documents").department == "customer_service"
    assert record(acme, category="delivery", department="pmc").department == "pmc"


def test_only_a_department_that_investigates_complaints_can_be_responsible(users, acme, record):
    for department in ("management_rep", "administrator", "customs", "nobody"):
        with pytest.raises(DomainError) as error:
            record(acme, category="delivery", department=department)
        assert error.value.code == "department"
    assert not Complaint.objects.exists()


def test_the_orders_notes_and_returns_must_be_the_customers_own(users, acme, other, note, deliver, record):
    theirs = deliver(other, 50, TODAY - timedelta(days=3))
    their_return = return_of(users, theirs)
    order = note.lines.get().batch.line.order
    their_order = theirs.lines.get().batch.line.order
    for links, named in (
        ({"notes": [theirs]}, theirs.number),
        ({"orders": [their_order]}, their_order.number),
        ({"returns": [their_return]}, theirs.number),
    ):
        with pytest.raises(DomainError) as error:
            record(acme, **links)
        assert named in error.value.message
    assert not Complaint.objects.exists()
    complaint = record(acme, notes=[note], orders=[order], returns=[return_of(users, note)])
    assert list(complaint.notes.all()) == [note] and list(complaint.orders.all()) == [order]
    assert complaint.returns.get().note_line.note == note


def test_the_date_received_cannot_be_in_the_future_and_the_text_is_needed(users, acme, record):
    with pytest.raises(DomainError) as error:
        record(acme, received_on=TODAY + timedelta(days=1))
    assert error.value.code == "received_on"
    with pytest.raises(DomainError) as error:
        record(acme, description="   ")
    assert error.value.code == "description"


def test_only_customer_service_records_complaints(users, acme, record):
    for name in ("qa", "marketing", "rep", "admin"):
        with pytest.raises(PermissionDenied):
            record(acme, user=users[name])


def test_a_quality_complaint_becomes_an_open_quality_problem_of_the_customer(users, acme, record):
    complaint = record(acme, received_on=TODAY - timedelta(days=2))
    problem = complaint.quality_problem
    assert problem.customer == acme and problem.status == QualityProblem.Status.OPEN
    assert problem.reported_on == TODAY - timedelta(days=2) and problem.recorded_by == users["cs"]
    assert problem.description.startswith(complaint.number) and "Scratches" in problem.description
    assert record(acme, category="packaging").quality_problem is None
    assert record(acme, category="delivery").quality_problem is None


# --- The workflow ----------------------------------------------------------------------------------------------


def test_a_complaint_goes_from_received_to_closed_with_who_and_when_at_each_step(users, acme, record):
    complaint = record(acme, received_on=TODAY - timedelta(days=1))
    assert complaint.status == "received" and complaint.recorded_by == users["cs"]
    complaint = acknowledge(users, complaint)
    assert complaint.status == "acknowledged"
    assert (complaint.acknowledged_on, complaint.acknowledged_by) == (TODAY - timedelta(days=1), users["cs"])
    assert complaint.acknowledgement and complaint.acknowledged_at
    complaint = investigate(users, complaint)
    assert complaint.status == "investigated" and complaint.investigated_by == users["qa"]
    assert complaint.cause == "注塑模具磨损" and complaint.investigated_at
    complaint = answer(users, complaint)
    assert complaint.status == "answered" and (complaint.answered_on, complaint.answered_by) == (TODAY, users["cs"])
    complaint = close(users, complaint)
    saved = Complaint.objects.get(pk=complaint.pk)
    assert saved.status == "closed" and saved.accepted_on == TODAY and saved.closed_by == users["cs"]
    assert saved.closing_note == "客户接受" and saved.closed_at
    # Every step is a version in the history, with the person who made it.
    versions = list(saved.history.order_by("history_date", "history_id"))
    assert [v.status for v in versions] == ["received", "acknowledged", "investigated", "answered", "closed"]
    assert [v.history_user.username for v in versions] == ["cs", "cs", "qa", "cs", "cs"]


def test_closing_a_quality_complaint_fixes_its_quality_problem_with_the_action_taken(users, acme, record):
    complaint = walk(users, record(acme), "answered")
    close(users, complaint, on=TODAY)
    problem = QualityProblem.objects.get(pk=complaint.quality_problem_id)
    assert problem.status == QualityProblem.Status.FIXED and problem.fixed_on == TODAY
    assert problem.corrective_action == f"{complaint.number}: 更换模具,加强出货检验"
    assert problem.history.latest().history_user == users["cs"]


def test_a_problem_quality_already_fixed_keeps_qualitys_words(users, acme, record):
    from customers import services as customer_services

    complaint = walk(users, record(acme), "answered")
    customer_services.quality_problem_fix(
        user=users["qa"], problem=complaint.quality_problem, corrective_action="Quality's own", fixed_on=TODAY
    )
    close(users, complaint)
    assert QualityProblem.objects.get(pk=complaint.quality_problem_id).corrective_action == "Quality's own"


@pytest.mark.parametrize(
    ("status", "step"),
    [
        ("received", investigate),
        ("received", answer),
        ("received", close),
        ("acknowledged", acknowledge),
        ("acknowledged", answer),
        ("investigated", investigate),
        ("investigated", close),
        ("answered", acknowledge),
        ("closed", close),
        ("closed", answer),
    ],
)
def test_a_step_is_refused_in_the_wrong_status_and_changes_nothing(users, acme, record, status, step):
    complaint = walk(users, record(acme), status)
    before = complaint.history.count()
    with pytest.raises(DomainError) as error:
        step(users, complaint)
    assert error.value.code == "status" and complaint.number in error.value.message
    assert Complaint.objects.get(pk=complaint.pk).status == status and complaint.history.count() == before


def test_a_step_done_twice_is_refused_even_from_a_stale_copy(users, acme, record):
    complaint = record(acme)
    stale = Complaint.objects.get(pk=complaint.pk)
    acknowledge(users, complaint)
    with pytest.raises(DomainError):
        acknowledge(users, stale)  # the copy still says "received": the locked row decides
    assert Complaint.objects.get(pk=complaint.pk).acknowledged_by == users["cs"]


def test_only_the_responsible_department_investigates(users, acme, record, make_user):
    quality = walk(users, record(acme, category="quality"), "acknowledged")
    for name in ("cs", "pmc", "marketing", "rep", "warehouse"):
        with pytest.raises(PermissionDenied):
            investigate(users, quality, who=name)
    assert Complaint.objects.get(pk=quality.pk).status == "acknowledged"
    assert investigate(users, quality, who="qa").investigated_by == users["qa"]
    delivery = walk(users, record(acme, category="delivery", department="pmc"), "acknowledged")
    with pytest.raises(PermissionDenied):
        investigate(users, delivery, who="qa")
    second_planner = make_user("pmc2", "pmc")
    assert services.complaint_investigate(user=second_planner, complaint=delivery, cause="c", action="a").status == (
        "investigated"
    )


def test_dates_cannot_be_in_the_future_nor_before_the_previous_step(users, acme, record):
    complaint = record(acme, received_on=TODAY - timedelta(days=3))
    with pytest.raises(DomainError) as error:
        acknowledge(users, complaint, on=TODAY + timedelta(days=1))
    assert error.value.code == "on" and "future" in error.value.message
    with pytest.raises(DomainError) as error:
        acknowledge(users, complaint, on=TODAY - timedelta(days=4))
    assert error.value.code == "on"
    complaint = investigate(users, acknowledge(users, complaint))
    with pytest.raises(DomainError):
        answer(users, complaint, on=TODAY + timedelta(days=1))
    with pytest.raises(DomainError):
        answer(users, complaint, on=TODAY - timedelta(days=1))  # before the investigation (today)
    complaint = answer(users, complaint)
    with pytest.raises(DomainError) as error:
        close(users, complaint, on=TODAY + timedelta(days=1))
    assert error.value.code == "accepted_on"
    with pytest.raises(DomainError):
        close(users, complaint, on=TODAY - timedelta(days=1))
    assert Complaint.objects.get(pk=complaint.pk).status == "answered"


def test_each_step_needs_its_text(users, acme, record):
    complaint = record(acme)
    with pytest.raises(DomainError) as error:
        services.complaint_acknowledge(user=users["cs"], complaint=complaint, on=TODAY, text=" ")
    assert error.value.code == "text"
    complaint = acknowledge(users, complaint)
    with pytest.raises(DomainError) as error:
        services.complaint_investigate(user=users["qa"], complaint=complaint, cause="", action="a")
    assert error.value.code == "cause"
    with pytest.raises(DomainError) as error:
        services.complaint_investigate(user=users["qa"], complaint=complaint, cause="c", action="")
    assert error.value.code == "action"


def test_only_customer_service_acknowledges_answers_and_closes(users, acme, record):
    complaint = record(acme)
    with pytest.raises(PermissionDenied):
        services.complaint_acknowledge(user=users["qa"], complaint=complaint, on=TODAY, text="x")
    complaint = walk(users, complaint, "investigated")
    with pytest.raises(PermissionDenied):
        services.complaint_answer(user=users["qa"], complaint=complaint, answer="x", on=TODAY)
    complaint = answer(users, complaint)
    with pytest.raises(PermissionDenied):
        services.complaint_close(user=users["rep"], complaint=complaint, accepted_on=TODAY)


# --- Attachments -----------------------------------------------------------------------------------------------


def test_attachments_at_intake_and_at_any_step_before_closing(users, acme, record):
    from django.core.files.uploadedfile import SimpleUploadedFile

    complaint = record(acme, attachments=[pdf("客户来函.pdf")])
    assert [a.name for a in complaint.attachments.all()] == ["客户来函.pdf"]
    complaint = acknowledge(users, complaint)
    photo = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    services.complaint_attach(user=users["qa"], complaint=complaint, upload=photo, name="划痕照片")
    services.complaint_attach(user=users["cs"], complaint=complaint, upload=pdf())
    assert complaint.attachments.count() == 3
    assert {a.uploaded_by.username for a in complaint.attachments.all()} == {"cs", "qa"}
    complaint = walk(users, complaint, "closed")
    with pytest.raises(DomainError) as error:
        services.complaint_attach(user=users["cs"], complaint=complaint, upload=pdf())
    assert error.value.code == "status"
    assert complaint.attachments.count() == 3


def test_an_attachment_must_be_a_pdf_or_an_image_under_the_limit(users, acme, record, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    complaint = record(acme)
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(DomainError) as error:
        services.complaint_attach(user=users["cs"], complaint=complaint, upload=fake)
    assert error.value.code == "file"
    settings.ORDER_ORIGINAL_MAX_MB = 1
    big = pdf(content=b"%PDF-" + b"0" * (1024 * 1024 + 1))
    with pytest.raises(DomainError):
        services.complaint_attach(user=users["cs"], complaint=complaint, upload=big)
    with pytest.raises(DomainError):
        record(acme, attachments=[SimpleUploadedFile("x.exe", b"MZ", content_type="application/pdf")])
    assert complaint.attachments.count() == 0 and Complaint.objects.count() == 1


def test_who_may_attach_customer_service_and_the_investigating_department(users, acme, record):
    complaint = record(acme)  # quality: Quality investigates
    for name in ("pmc", "marketing", "rep", "warehouse"):
        with pytest.raises(PermissionDenied):
            services.complaint_attach(user=users[name], complaint=complaint, upload=pdf())
    assert complaint.attachments.count() == 0
