"""The records register (§7, §5.12.8): every record form with where it comes from, how many records exist and
how long they are kept; the retention period is a setting per form that only administrators change (with
history), without a deploy."""

import pytest
from django.urls import reverse

from records.kinds import KINDS, available_kinds
from records.models import RetentionPeriod

pytestmark = [pytest.mark.django_db, pytest.mark.clause("7"), pytest.mark.clause("5.12.8")]

# The forms the issue names (§7 and the records of the clauses), each must be on the register.
FORMS = [
    "evaluation",
    "quotation",
    "acknowledgement",
    "memo",
    "progress_sheet",
    "delivery_note",
    "dispatch",
    "sign_back",
    "return",
    "survey_form",
    "statistics",
    "summary",
    "analysis_report",
    "meeting",
    "action",
    "complaint",
]


def rows_of(response):
    page = response.content.decode()
    return page, {k.key: page.split(f'id="kind-{k.key}"', 1)[1].split("</tr>", 1)[0] for k in available_kinds()}


def test_every_form_is_listed_with_its_source_count_and_retention(client_for, memos, quotations, complaints):
    response = client_for("qa").get(reverse("records:register"))
    assert response.status_code == 200
    page, rows = rows_of(response)
    assert set(FORMS) <= set(rows)
    for key in FORMS:
        assert next(k for k in KINDS if k.key == key).name_zh in rows[key]
    assert 'data-testid="count">3<' in rows["memo"]
    assert 'data-testid="count">3<' in rows["quotation"]
    assert 'data-testid="count">0<' in rows["delivery_note"]
    assert f'href="{reverse("orders:memos")}"' in rows["memo"]
    assert f'href="{reverse("complaints:list")}"' in rows["complaint"]
    assert "5 years" in rows["evaluation"] and "1 year" in rows["progress_sheet"]
    # Not an administrator: no retention form, no archive form (records.export).
    assert "records:retention_edit" not in page and reverse("records:retention_edit") not in page
    assert reverse("records:archive_create") not in page


def test_kinds_of_apps_still_being_built_appear_once_their_models_exist(client_for):
    _page, rows = rows_of(client_for("qa").get(reverse("records:register")))
    for kind in KINDS:
        assert (kind.key in rows) == kind.available()


def test_an_administrator_changes_a_retention_period_and_it_is_kept_in_the_history(client_for, users):
    client = client_for("admin")
    page = client.get(reverse("records:register")).content.decode()
    assert reverse("records:retention_edit") in page
    response = client.post(reverse("records:retention_edit"), {"kind": "memo", "years": "7"})
    assert response.status_code == 302
    period = RetentionPeriod.objects.get(kind="memo")
    assert (period.years, period.changed_by) == (7, users["admin"])
    client.post(reverse("records:retention_edit"), {"kind": "memo", "years": "10"})
    assert [h.years for h in RetentionPeriod.objects.get(kind="memo").history.order_by("history_date")] == [7, 10]
    _page, rows = rows_of(client_for("qa").get(reverse("records:register")))
    assert "10 years" in rows["memo"] and "(default)" not in rows["memo"]


@pytest.mark.parametrize("name", ["rep", "cs", "head", "qa"])
def test_only_administrators_change_retention(client_for, name):
    response = client_for(name).post(reverse("records:retention_edit"), {"kind": "memo", "years": "7"})
    assert response.status_code == 403
    assert not RetentionPeriod.objects.exists()


@pytest.mark.parametrize("years", ["0", "100", "x"])
def test_a_bad_retention_is_refused_with_a_reason(client_for, years):
    response = client_for("admin").post(reverse("records:retention_edit"), {"kind": "memo", "years": years})
    assert response.status_code == 422
    assert 'data-testid="retention-error"' in response.content.decode()
    assert not RetentionPeriod.objects.exists()


def test_an_unknown_form_is_refused(client_for):
    response = client_for("admin").post(reverse("records:retention_edit"), {"kind": "nothing", "years": "3"})
    assert response.status_code == 422
    assert "There is no record form nothing." in response.content.decode()


def test_retention_in_the_admin_needs_the_administrators_capability(client, users, make_user):
    from django.contrib.auth.models import Permission

    period = RetentionPeriod.objects.create(kind="memo", years=3)
    url = reverse("admin:records_retentionperiod_change", args=[period.pk])
    staff = make_user("staff-qa", "quality", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="retentionperiod"))
    client.force_login(staff)
    client.post(url, {"kind": "memo", "years": "9"})
    assert RetentionPeriod.objects.get().years == 3
    admin = users["admin"]
    admin.user_permissions.set(Permission.objects.filter(codename__endswith="retentionperiod"))
    client.force_login(admin)
    assert client.post(url, {"kind": "memo", "years": "9"}).status_code == 302
    assert RetentionPeriod.objects.get().years == 9


def test_the_register_is_for_signed_in_users(client):
    response = client.get(reverse("records:register"))
    assert response.status_code == 302 and "login" in response["Location"]
