"""The improvement meeting (§5.12.6): Customer Service records it, and in the same step its minutes go to the
departments concerned as a numbered internal memo; each department acknowledges it on the memo's page and sees
it in My work until it has."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Dept
from common.errors import DomainError
from improvement import actions as services
from improvement.models import Meeting
from orders.models import Memo, MemoReceipt
from tests.improvement.test_actions import new_action

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.12.6")]

TODAY = timezone.localdate()
DEPARTMENTS = [Dept.QA, Dept.PMC, Dept.MGMT_REP]


def record(users, **fields) -> Meeting:
    values = {
        "held_on": TODAY,
        "title": "H1 satisfaction results",
        "departments": DEPARTMENTS,
        "attendees": "王经理 (客服), 李工 (品管), 张主管 (PMC)",
        "minutes": "交期得分下降;包装破损两次。",
        "decisions": "1. 品管部改进包装。\n2. PMC 每周复核排程。",
    }
    values.update(fields)
    return services.meeting_record(user=users["cs"], **values)


def test_the_meeting_is_recorded_and_its_minutes_go_out_as_a_memo_with_one_receipt_per_department(users):
    meeting = record(users)
    memo = meeting.memo
    assert memo.topic == Memo.Topic.MEETING and memo.order is None
    assert memo.number == f"NM-{TODAY.year}-0001"
    assert sorted(memo.departments) == sorted(DEPARTMENTS)
    assert sorted(memo.receipts.values_list("department", flat=True)) == sorted(DEPARTMENTS)
    assert not memo.receipts.filter(acknowledged_at__isnull=False).exists()
    # The memo carries the minutes as they were recorded, in both languages' headings.
    assert "交期得分下降" in memo.body and "品管部改进包装" in memo.body
    assert "Minutes of the improvement meeting" in memo.body and "改善措施会议纪要" in memo.subject
    assert "品管部" in memo.body or "Quality" in memo.body
    assert memo.issued_by == users["cs"]
    assert meeting.recorded_by == users["cs"]


@pytest.mark.parametrize("role", ["qa", "rep", "marketing", "admin", "head"])
def test_only_customer_service_records_the_meeting(users, role):
    with pytest.raises(PermissionDenied):
        services.meeting_record(
            user=users[role],
            held_on=TODAY,
            title="x",
            departments=[Dept.QA],
            attendees="a",
            minutes="m",
        )
    assert not Meeting.objects.exists() and not Memo.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"held_on": TODAY + timedelta(days=1)}, "held_on"),
        ({"departments": []}, "departments"),
        ({"departments": ["nobody"]}, "departments"),
        ({"attendees": " "}, "attendees"),
        ({"minutes": ""}, "minutes"),
        ({"title": ""}, "title"),
    ],
)
def test_a_meeting_in_the_future_without_departments_attendees_or_minutes_is_refused(users, fields, code):
    with pytest.raises(DomainError) as refused:
        record(users, **fields)
    assert refused.value.code == code
    assert not Meeting.objects.exists() and not Memo.objects.exists()


def test_each_department_acknowledges_the_minutes_and_sees_them_in_my_work_until_it_has(users, client_for):
    meeting = record(users)
    memo = meeting.memo
    for role, department in (("qa", Dept.QA), ("pmc", Dept.PMC), ("rep", Dept.MGMT_REP)):
        client = client_for(role)
        work = client.get(reverse("accounts:my_work")).content.decode()
        assert memo.subject[:60] in work, role
        assert 'data-testid="acknowledge"' in client.get(reverse("orders:memo", args=[memo.pk])).content.decode()
        response = client.post(reverse("orders:memo_acknowledge", args=[memo.pk]), {"department": department})
        assert response.status_code == 302
        receipt = MemoReceipt.objects.get(memo=memo, department=department)
        assert receipt.acknowledged_by == users[role] and receipt.acknowledged_at is not None
        work = client.get(reverse("accounts:my_work")).content.decode()
        assert memo.subject[:60] not in work, role
    # A department the minutes did not go to has nothing to acknowledge.
    assert memo.subject[:60] not in client_for("warehouse").get(reverse("accounts:my_work")).content.decode()


def test_the_meeting_page_shows_who_has_acknowledged(users, client_for):
    meeting = record(users)
    client_for("qa").post(reverse("orders:memo_acknowledge", args=[meeting.memo.pk]), {"department": Dept.QA})
    page = client_for("marketing").get(meeting.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    receipts = html.split('data-testid="receipts"')[1].split("</table>")[0]
    qa_row = receipts.split(f'data-department="{Dept.QA}"')[1].split("</tr>")[0]
    pmc_row = receipts.split(f'data-department="{Dept.PMC}"')[1].split("</tr>")[0]
    assert "✔" in qa_row and "qa" in qa_row
    assert "not yet" in pmc_row
    assert meeting.memo.number in html
    assert "交期得分下降" in html


def test_the_meeting_page_lists_its_actions_and_proposes_new_ones_to_those_who_may_create_them(users, client_for):
    meeting = record(users)
    action = new_action(users, source="meeting", meeting=meeting)
    html = client_for("qa").get(meeting.get_absolute_url()).content.decode()
    assert action.number in html
    assert f"source=meeting&amp;meeting={meeting.pk}" in html
    assert 'data-testid="propose-action"' not in client_for("pmc").get(meeting.get_absolute_url()).content.decode()


# --- The pages ----------------------------------------------------------------------------------------------------


def form_data(**fields):
    data = {
        "held_on": TODAY.isoformat(),
        "title": "Improvement meeting H1",
        "departments": [Dept.QA, Dept.PMC],
        "attendees": "CS, QA, PMC",
        "minutes": "Delivery scores fell.",
        "decisions": "PMC checks the plan weekly.",
    }
    data.update(fields)
    return data


def test_customer_service_records_a_meeting_through_the_page(users, client_for):
    client = client_for("cs")
    assert client.get(reverse("improvement:meeting_new")).status_code == 200
    response = client.post(reverse("improvement:meeting_new"), form_data())
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    assert meeting.departments == [Dept.PMC, Dept.QA]
    assert meeting.memo.receipts.count() == 2


def test_a_refused_meeting_is_shown_again_with_the_reason_and_every_answer_kept(users, client_for):
    future = (TODAY + timedelta(days=3)).isoformat()
    response = client_for("cs").post(reverse("improvement:meeting_new"), form_data(held_on=future))
    assert response.status_code == 422
    form = response.context["form"]
    assert "the date is in the future" in " ".join(form.errors["held_on"])
    html = response.content.decode()
    assert "Delivery scores fell." in html and "PMC checks the plan weekly." in html
    assert not Meeting.objects.exists() and not Memo.objects.exists()


def test_a_meeting_without_departments_is_refused_by_the_form(users, client_for):
    response = client_for("cs").post(reverse("improvement:meeting_new"), form_data(departments=[]))
    assert response.status_code == 422
    assert "departments" in response.context["form"].errors
    assert not Meeting.objects.exists()


def test_a_recorded_meeting_has_no_edit_and_cannot_be_posted_to(users, client_for):
    meeting = record(users)
    client = client_for("cs")
    before = Meeting.objects.values().get(pk=meeting.pk)
    client.post(meeting.get_absolute_url(), {"minutes": "rewritten"})
    assert Meeting.objects.values().get(pk=meeting.pk) == before
    assert "/edit" not in client.get(meeting.get_absolute_url()).content.decode()


def test_the_meeting_list_reads_a_bounded_number_of_queries(users, client_for, django_assert_max_num_queries):
    for i in range(12):
        meeting = record(users, title=f"Meeting {i}", held_on=TODAY - timedelta(days=i))
        new_action(users, source="meeting", meeting=meeting)
    client = client_for("head")
    with django_assert_max_num_queries(7):
        response = client.get(reverse("improvement:meetings"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Meeting 0" in html and "Meeting 11" in html
    assert "3 of 3 departments waiting" in html
