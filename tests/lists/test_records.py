"""Customers and products (§5.1), complaints (§5.10.2), the satisfaction rounds and the customers' own scorecards
(§5.11.1, §5.11.2.1) and the corrective actions (§5.12.6): sorted, filtered by a date range, exported as exactly
what the filters keep."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from complaints.views import COMPLAINTS
from customers.models import Contact, Customer, Product
from customers.views import CUSTOMERS, PRODUCTS
from improvement.models import Action
from improvement.views_actions import ACTIONS
from satisfaction import services as survey_services
from satisfaction.defaults import DEFAULT_QUESTIONS
from satisfaction.listings import ROUNDS, SCORECARDS
from satisfaction.models import Scorecard, SurveyRound
from tests.lists.conftest import (
    assert_text_cells,
    at,
    check_bad_date,
    check_bilingual,
    check_forbidden,
    check_sorting,
    column,
    export,
    export_queries,
)

pytestmark = [pytest.mark.clause("7")]

TODAY = timezone.localdate()


# --- Customers and products -------------------------------------------------------------------------------------


@pytest.fixture
def customers(db):
    made = []
    for code, zh, status, trade, days in (
        ("C-A", "甲公司", "active", "domestic", -40),
        ("C-B", "=HYPERLINK(1)", "active", "export", -5),
        ("C-C", "丙公司", "development", "domestic", -1),
    ):
        customer = Customer.objects.create(code=code, name_zh=zh, name_en=f"Co {code}", status=status, trade=trade)
        Customer.objects.filter(pk=customer.pk).update(created_at=at(days))
        Contact.objects.create(customer=customer, name=f"联系人{code}", is_primary=True)
        made.append(customer)
    return made


@pytest.mark.clause("5.1")
def test_customers_export_the_filtered_rows(client_for, customers):
    client = client_for("marketing")
    url = reverse("customers:list")
    header, rows = export(client, url, {"status": "active"})
    assert column(header, rows, "Code") == ["C-A", "C-B"]
    check_bilingual(header)
    assert column(header, rows, "Primary contact") == ["联系人C-A", "联系人C-B"]
    header, rows = export(client, url, {"from": (TODAY - timedelta(days=10)).isoformat()})
    assert column(header, rows, "Code") == ["C-B", "C-C"]
    assert all(hasattr(v, "year") for v in column(header, rows, "created"))
    assert_text_cells(client.get(url, {"format": "xlsx"}), ["=HYPERLINK(1)"])
    check_sorting(client, url, CUSTOMERS, "Code", monotonic={"code", "name_en", "created"})
    check_bad_date(client, url, "Code", 3)


@pytest.mark.clause("5.1")
def test_customers_export_needs_the_capability_and_bounded_queries(client, client_for, make_user, customers):
    url = reverse("customers:list")
    few = export_queries(client_for("marketing"), url)
    for n in range(12):
        c = Customer.objects.create(code=f"C-X{n:02d}", name_zh=f"客户{n}")
        Contact.objects.create(customer=c, name="x", is_primary=True)
    assert export_queries(client_for("marketing"), url) == few
    check_forbidden(client, make_user, url)


@pytest.mark.clause("5.1")
def test_products_export_sort_filter(client, client_for, make_user, db):
    url = reverse("customers:product_list")
    for code, name, active in (("P-1", "灯罩", True), ("P-2", "+底座", True), ("P-3", "旧件", False)):
        Product.objects.create(code=code, name=name, active=active, spec="Φ300")
    c = client_for("tech")
    header, rows = export(c, url, {"active": "1"})
    assert column(header, rows, "Code") == ["P-1", "P-2"]
    check_bilingual(header)
    header, rows = export(c, url, {"q": "P-3"})
    assert column(header, rows, "Code") == ["P-3"] and column(header, rows, "in use") == ["no"]
    assert_text_cells(c.get(url, {"format": "xlsx"}), ["+底座"])
    check_sorting(c, url, PRODUCTS, "Code", monotonic={"code", "unit"})
    check_forbidden(client, make_user, url)


# --- Complaints -------------------------------------------------------------------------------------------------


@pytest.fixture
def complaints(users, customers):
    made = []
    for n, (category, status, days, text) in enumerate(
        [("quality", "received", -20, "毛刺"), ("delivery", "received", -3, "-1 晚到"), ("quality", "closed", -1, "OK")]
    ):
        made.append(
            Complaint.objects.create(
                number=f"CP-{n:03d}",
                customer=customers[n],
                received_on=TODAY + timedelta(days=days),
                description=text,
                category=category,
                status=status,
                department="quality",
                recorded_by=users["cs"],
            )
        )
    return made


@pytest.mark.clause("5.10.2")
def test_complaints_export_sort_filter(client_for, complaints):
    client = client_for("cs")
    url = reverse("complaints:list")
    header, rows = export(client, url, {"category": "quality"})
    assert column(header, rows, "No.") == ["CP-002", "CP-000"]
    check_bilingual(header)
    assert all(isinstance(v, date) or hasattr(v, "year") for v in column(header, rows, "Received"))
    header, rows = export(client, url, {"from": (TODAY - timedelta(days=5)).isoformat()})
    assert column(header, rows, "No.") == ["CP-002", "CP-001"]
    assert_text_cells(client.get(url, {"format": "xlsx"}), ["-1 晚到"])
    check_sorting(client, url, COMPLAINTS, "No.", monotonic={"number", "received", "customer"})
    check_bad_date(client, url, "No.", 3)


@pytest.mark.clause("5.10.2")
def test_complaints_export_needs_the_capability_and_bounded_queries(client, client_for, make_user, complaints, users):
    url = reverse("complaints:list")
    few = export_queries(client_for("cs"), url)
    for n in range(12):
        Complaint.objects.create(
            number=f"CP-X{n}",
            customer=complaints[0].customer,
            received_on=TODAY,
            description="x",
            category="other",
            department="quality",
            recorded_by=users["cs"],
        )
    assert export_queries(client_for("cs"), url) == few
    check_forbidden(client, make_user, url)


# --- Satisfaction rounds and scorecards --------------------------------------------------------------------------


@pytest.fixture
def rounds(users):
    form = survey_services.form_save(user=users["cs"], questions=DEFAULT_QUESTIONS)
    made = []
    for name, start, end, status in (
        ("2025 H2", date(2025, 7, 1), date(2025, 12, 31), "closed"),
        ("=2026 H1", date(2026, 1, 1), date(2026, 6, 30), "sent"),
        ("Ad hoc", date(2026, 3, 1), date(2026, 3, 31), "draft"),
    ):
        made.append(
            SurveyRound.objects.create(
                kind="ad_hoc",
                name=name,
                period_start=start,
                period_end=end,
                deadline=end + timedelta(days=20),
                form=form,
                target=Decimal("80"),
                status=status,
                created_by=users["cs"],
            )
        )
    return made


@pytest.mark.clause("5.11.1")
def test_rounds_export_sort_filter(client, client_for, make_user, rounds):
    c = client_for("cs")
    url = reverse("satisfaction:rounds")
    header, rows = export(c, url)
    assert column(header, rows, "Round") == ["=2026 H1", "Ad hoc", "2025 H2"]
    check_bilingual(header)
    assert all(isinstance(v, int) for v in column(header, rows, "Surveyed"))
    header, rows = export(c, url, {"from": "2026-01-01", "to": "2026-04-30"})
    assert column(header, rows, "Round") == ["Ad hoc"]
    header, rows = export(c, url, {"status": "closed"})
    assert column(header, rows, "Round") == ["2025 H2"]
    assert_text_cells(c.get(url, {"format": "xlsx"}), ["=2026 H1"])
    check_sorting(c, url, ROUNDS, "Round", monotonic={"name", "start", "end", "deadline", "surveyed"})
    check_bad_date(c, url, "Round", 3)
    check_forbidden(client, make_user, url)


@pytest.mark.clause("5.11.2.1")
def test_scorecards_export_sort_filter(client, client_for, make_user, users, customers):
    for customer, on, score, note in (
        (customers[0], TODAY - timedelta(days=40), "80", "ok"),
        (customers[1], TODAY - timedelta(days=3), "4.5", "@note"),
        (customers[2], TODAY, "95", ""),
    ):
        maximum = Decimal("5") if score == "4.5" else Decimal("100")
        Scorecard.objects.create(
            customer=customer,
            rated_on=on,
            score=Decimal(score),
            maximum=maximum,
            normalised=Decimal(score) * 100 / maximum,
            note=note,
            recorded_by=users["cs"],
        )
    c = client_for("cs")
    url = reverse("satisfaction:scorecards")
    header, rows = export(c, url, {"from": (TODAY - timedelta(days=7)).isoformat()})
    assert column(header, rows, "Customer code") == ["C-C", "C-B"]
    assert column(header, rows, "Score (0–100)") == [95, 90]
    check_bilingual(header)
    header, rows = export(c, url, {"q": "C-A"})
    assert column(header, rows, "Customer code") == ["C-A"]
    assert_text_cells(c.get(url, {"format": "xlsx"}), ["@note", "=HYPERLINK(1)"])
    check_sorting(c, url, SCORECARDS, "Customer code", monotonic={"customer", "rated_on", "score", "normalised"})
    check_bad_date(c, url, "Customer code", 3)
    check_forbidden(client, make_user, url)


# --- Corrective actions -----------------------------------------------------------------------------------------


@pytest.fixture
def actions(users):
    made = []
    for n, (title, status, due) in enumerate(
        [("改善包装", "open", -5), ("+培训", "done", 10), ("复检", "effective", 30), ("新模具", "open", 3)]
    ):
        made.append(
            Action.objects.create(
                number=f"CA-{n:03d}",
                source="complaint",
                title=title,
                problem="p",
                plan="q",
                owner_department="quality",
                owner=users["qa"],
                due_date=TODAY + timedelta(days=due),
                status=status,
                created_by=users["qa"],
            )
        )
    return made


@pytest.mark.clause("5.12.6")
def test_actions_export_sort_filter(client, client_for, make_user, actions, users):
    c = client_for("qa")
    url = reverse("improvement:actions")
    header, rows = export(c, url, {"status": "open"})
    assert column(header, rows, "Action no.") == ["CA-000", "CA-003"]
    check_bilingual(header)
    assert all(hasattr(v, "year") for v in column(header, rows, "Due"))
    header, rows = export(c, url, {"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=15)).isoformat()})
    assert column(header, rows, "Action no.") == ["CA-003", "CA-001"]
    assert_text_cells(c.get(url, {"format": "xlsx"}), ["+培训"])
    check_sorting(c, url, ACTIONS, "Action no.", monotonic={"number", "due", "reopened", "created"})
    check_bad_date(c, url, "Action no.", 4)
    few = export_queries(c, url)
    for n in range(12):
        Action.objects.create(
            number=f"CA-X{n}",
            source="complaint",
            title="t",
            problem="p",
            plan="q",
            owner_department="quality",
            owner=users["qa"],
            due_date=TODAY,
            created_by=users["qa"],
        )
    assert export_queries(c, url) == few
    check_forbidden(client, make_user, url)
