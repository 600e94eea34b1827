"""Demo improvement loop (§5.12.5–§5.12.7) on the closed demo survey round:

- its analysis report, written and submitted by Customer Service and confirmed by the management representative;
- the improvement meeting that discussed it, with attendees, minutes and decisions, sent to the departments as a
  memo (acknowledged by all but Marketing);
- three corrective actions decided there: one done and verified effective, one overdue (open past its due date),
  one done and waiting for verification (the date from which its effect can be checked has passed);
- the management review pack of the last completed half-year, recorded as reviewed with its decisions.

Through the services, as Customer Service, the owners and the representative would do it. The services refuse
past dates (an action cannot be verified before its verify date, a review cannot be recorded before its pack was
prepared), so each step is taken today and then moved back to its day in the story (``plan``): after the round
closed, at a realistic pace, compressed when the round closed only recently. The frozen figures of the report and
of the pack are recomputed as of their day, and the history rows are moved with the steps.

Idempotent: if any analysis report exists, nothing is touched. Mail goes to memory while seeding (see seed_demo).
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.roles import Dept, departments_of
from complaints.models import Complaint
from customers.models import Customer
from improvement import actions, report, review
from improvement.models import Action, AnalysisReport, ManagementReview, Meeting, Verification
from orders.models import Memo, MemoReceipt
from orders.services import memo_acknowledge
from satisfaction.models import SurveyRound

# Days after the round closed, at the pace of a factory that follows its procedure. When the round closed less
# than FULL days ago, the whole story is compressed into the days there were.
STEPS = {  # in the order they happen
    "report_created": 3,
    "report_submitted": 8,
    "report_confirmed": 10,
    "meeting": 15,
    "inspection_done": 30,
    "risk_review_due": 40,
    "inspection_due": 45,
    "inspection_verify_after": 50,
    "cartons_done": 52,
    "inspection_verified": 55,
    "cartons_due": 60,
    "cartons_verify_after": 75,
    "pack_prepared": 80,
    "pack_reviewed": 85,
}
FULL = max(STEPS.values())

MEETING_DEPARTMENTS = [Dept.CS, Dept.QA, Dept.PMC, Dept.MARKETING, Dept.WAREHOUSE]
NOT_YET_ACKNOWLEDGED = Dept.MARKETING  # the minutes still wait for Marketing's acknowledgement (in its My work)


def plan(closed_on: date, today: date) -> dict[str, date]:
    """The day of each step. In order, none after today; the overdue action's due date is before today even when
    the round closed today."""
    span = max(0, (today - closed_on).days)
    scale = min(1.0, span / FULL)
    days = {name: closed_on + timedelta(days=int(offset * scale)) for name, offset in STEPS.items()}
    days["risk_review_due"] = min(days["risk_review_due"], today - timedelta(days=1))
    return days


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if AnalysisReport.objects.exists():
        return
    survey_round = SurveyRound.objects.filter(status=SurveyRound.Status.CLOSED).order_by("-period_end").first()
    if survey_round is None:
        return  # no closed round to report on
    today = timezone.localdate()
    days = plan(timezone.localdate(survey_round.closed_at or timezone.now()), today)
    confirmed = _report(survey_round, users, days)
    meeting = _meeting(confirmed, users, days)
    _actions(confirmed, meeting, users, days, today)
    _review(users, days, today)


def _at(day: date, hour: int) -> datetime:
    """A local time on ``day``, never later than now."""
    return min(datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone()), timezone.now())


def _restamp_history(obj, moments: list[datetime]) -> None:
    """Move an object's history rows, oldest first, to the moments its steps were taken."""
    rows = list(obj.history.order_by("history_date", "history_id"))
    for row, moment in zip(rows, moments + [moments[-1]] * len(rows), strict=False):
        type(row).objects.filter(pk=row.pk).update(history_date=moment)


def _name(user) -> str:
    return f"{user.first_name}{user.last_name}" or user.get_username()


# --- The analysis report (§5.12.5) ----------------------------------------------------------------------------

CAUSES = """\
1. 交期:部分客户反映交货延误且未提前通知(广州美家评为“不满意”,同期有交期客诉),交期是本期得分最低的项目之一。
   Delivery: customers reported late deliveries without notice (Guangzhou Meijia rated us "dissatisfied" and \
complained about a late batch); delivery is among the lowest-rated criteria this round.
2. 质量:Sakura Living 两批来料检验发现外观划伤,已按客诉处理并提交 8D;其评分低于上期。
   Quality: Sakura Living found scratches on two lots at incoming inspection (handled as a complaint, 8D sent); \
its score fell against the last round.
3. 包装:Nordic Home 建议加强海运包装;有客户反映外箱受潮。
   Packaging: Nordic Home asked for sturdier cartons for sea freight; damp cartons were reported as well.
4. 回收率达到 80% 的目标;两家客户未回复,已电话跟进。
   The response rate met the 80% target; the two customers who did not answer were called."""

CONCLUSIONS = """\
交期与外观质量是本期主要扣分项。建议:
(1) PMC 与营销部每周评审风险订单,预计延误当天书面通知客户;
(2) 品管部加严外观出货检验,包装增加隔层;
(3) 仓务改进海运及雨季包装。
以上措施提交改善措施会议,确定责任人与完成日期。
Delivery and appearance quality cost the most points. Proposals: (1) PMC and Marketing review at-risk orders \
weekly and a foreseen delay is notified in writing the same day; (2) Quality tightens outgoing appearance \
inspection and adds separators; (3) the warehouse improves packaging for sea freight and the rainy season. \
The improvement meeting decides owners and due dates."""


def _report(survey_round: SurveyRound, users: dict, days: dict[str, date]) -> AnalysisReport:
    cs, rep = users["cs"], users["rep"]
    draft = report.report_create(user=cs, survey_round=survey_round)
    report.report_update(user=cs, report=draft, causes=CAUSES, conclusions=CONCLUSIONS)
    report.report_submit(user=cs, report=draft)
    confirmed = report.report_confirm(user=rep, report=draft)
    created = _at(days["report_created"], 10)
    submitted = _at(days["report_submitted"], 16)
    decided = _at(days["report_confirmed"], 11)
    # The figures the representative confirmed are those of the day Customer Service submitted the report.
    figures = report.report_figures(survey_round, today=days["report_submitted"])
    figures["computed_at"] = submitted.isoformat()
    AnalysisReport.objects.filter(pk=confirmed.pk).update(
        created_at=created, submitted_at=submitted, decided_at=decided, figures=figures
    )
    _restamp_history(confirmed, [created, created + timedelta(hours=2), submitted, decided])
    confirmed.refresh_from_db()
    return confirmed


# --- The improvement meeting (§5.12.6) --------------------------------------------------------------------------


def _meeting(confirmed: AnalysisReport, users: dict, days: dict[str, date]) -> Meeting:
    held_on = days["meeting"]
    people = [
        f"{_name(users['cs'])}(客服部,主持 chair)",
        f"{_name(users['qa'])}(品管部 Quality)",
        f"{_name(users['pmc'])}(PMC)",
        f"{_name(users['marketing'])}(营销部 Marketing)",
        f"{_name(users['warehouse'])}(仓务 Warehouse)",
        f"{_name(users['rep'])}(管理者代表 Management representative)",
    ]
    meeting = actions.meeting_record(
        user=users["cs"],
        held_on=held_on,
        title=f"{confirmed.round.name} 改善措施会议 Improvement meeting",
        departments=MEETING_DEPARTMENTS,
        attendees="、".join(people),
        minutes=(
            "客服部通报分析报告(已经管理者代表确认):交期、外观质量和包装是主要扣分项。PMC 说明延误主要因模具维修"
            "未及时调整排产;品管部通报 Sakura Living 划伤客诉的 8D 结果;仓务说明雨天装车防护不足。\n"
            "Customer Service presented the confirmed analysis report: delivery, appearance quality and packaging "
            "cost the most points. PMC explained the delays (mould repair without rescheduling); Quality "
            "presented the 8D of Sakura Living's scratch complaint; the warehouse explained loading in the rain."
        ),
        decisions=(
            f"1. 品管部:外观出货检验加严一级,包装加隔层,{days['inspection_due'].isoformat()} 前完成。"
            f" Quality tightens outgoing appearance inspection and adds separators by "
            f"{days['inspection_due'].isoformat()}.\n"
            f"2. PMC:每周一与营销部评审风险订单,预计延误当天书面通知客户,"
            f"{days['risk_review_due'].isoformat()} 前建立。"
            f" PMC sets up a weekly at-risk order review with Marketing by {days['risk_review_due'].isoformat()}.\n"
            f"3. 仓务:海运及雨季包装改进(五层防潮纸箱、防水膜),{days['cartons_due'].isoformat()} 前完成。"
            f" The warehouse improves packaging for sea freight and rain by {days['cartons_due'].isoformat()}."
        ),
        report=confirmed,
    )
    held = _at(held_on, 17)
    Meeting.objects.filter(pk=meeting.pk).update(recorded_at=held)
    Memo.objects.filter(pk=meeting.memo_id).update(issued_at=held)
    for department in MEETING_DEPARTMENTS:
        if department == NOT_YET_ACKNOWLEDGED:
            continue
        reader = next(u for u in users.values() if department in departments_of(u))
        memo_acknowledge(user=reader, memo=meeting.memo, department=department)
    MemoReceipt.objects.filter(memo_id=meeting.memo_id, acknowledged_at__isnull=False).update(
        acknowledged_at=_at(held_on + timedelta(days=1), 9)
    )
    meeting.refresh_from_db()
    return meeting


# --- Corrective actions from the meeting --------------------------------------------------------------------------


def _actions(confirmed: AnalysisReport, meeting: Meeting, users: dict, days: dict[str, date], today: date) -> None:
    cs, rep = users["cs"], users["rep"]
    decided = _at(days["meeting"], 17)
    scratches = (
        Complaint.objects.filter(category=Complaint.Category.QUALITY, status=Complaint.Status.CLOSED)
        .filter(received_on__gte=confirmed.round.period_start, received_on__lte=confirmed.round.period_end)
        .order_by("received_on")
        .first()
    )
    common = {"user": cs, "meeting": meeting, "report": confirmed}

    # Done and verified effective.
    inspection = actions.action_create(
        **common,
        kind=Action.Kind.CORRECTIVE,
        source=Action.Source.COMPLAINT if scratches else Action.Source.MEETING,
        complaint=scratches,
        title="外观出货检验加严 Tighten outgoing appearance inspection",
        problem="两批产品外观划伤被客户来料检验判退;包装无隔层,出货检验未覆盖外观。"
        " Two lots rejected for scratches at the customer's incoming inspection: no separators at packing, "
        "appearance not covered by outgoing inspection.",
        plan="每层加 EPE 隔片;外观出货检验加严一级;更新包装作业指导书并培训。"
        " EPE separator on every layer; outgoing appearance inspection one level tighter; packing "
        "instruction updated and operators trained.",
        owner=users["qa"],
        owner_department=Dept.QA,
        due_date=days["inspection_due"],
    )
    actions.action_done(
        user=users["qa"],
        action=inspection,
        done_text="隔片已于全部包装线使用;检验标准 QI-017 改为加严一级;12 名包装员已培训。"
        " Separators in use on every packing line; inspection standard QI-017 tightened; 12 packers trained.",
    )
    Action.objects.filter(pk=inspection.pk).update(verify_after=days["inspection_verify_after"])
    verification = actions.action_verify(
        user=rep,
        action=inspection,
        effective=True,
        evidence="此后三批来料检验全部合格,无外观客诉;出货检验记录齐全。"
        " The next three lots passed the customer's incoming inspection, no appearance complaint since; "
        "outgoing inspection records complete.",
    )
    done = _at(days["inspection_done"], 15)
    verified = _at(days["inspection_verified"], 10)
    Action.objects.filter(pk=inspection.pk).update(created_at=decided, done_at=done)
    Verification.objects.filter(pk=verification.pk).update(verified_at=verified)
    _restamp_history(inspection, [decided, done, verified])

    # Open past its due date: overdue (in PMC's My work and the daily reminder).
    meijia = Customer.objects.filter(code="C-0004").first()
    risk_review = actions.action_create(
        **common,
        kind=Action.Kind.PREVENTIVE,
        source=Action.Source.CUSTOMER if meijia else Action.Source.MEETING,
        round=confirmed.round if meijia else None,
        customer=meijia,
        title="交期风险订单周评审 Weekly review of at-risk orders",
        problem="交货延误未提前通知客户,交期得分偏低。 Late deliveries were not announced to the customer; "
        "delivery scored low.",
        plan="PMC 每周一与营销部评审风险订单;预计延误当天书面通知客户并记录。"
        " Every Monday PMC and Marketing review at-risk orders; a foreseen delay is notified to the customer in "
        "writing the same day and recorded.",
        owner=users["pmc"],
        owner_department=Dept.PMC,
        due_date=days["risk_review_due"],
    )
    Action.objects.filter(pk=risk_review.pk).update(created_at=decided)
    _restamp_history(risk_review, [decided])

    # Done; the day from which its effect can be checked has come: waiting for verification.
    cartons = actions.action_create(
        **common,
        kind=Action.Kind.IMPROVEMENT,
        source=Action.Source.MEETING,
        customer=Customer.objects.filter(code="C-0003").first(),
        title="海运及雨季包装改进 Packaging for sea freight and rain",
        problem="海运客户反映纸箱强度不足;雨天装车外箱受潮。 Export customers found the cartons too weak for sea "
        "freight; cartons got damp when loaded in the rain.",
        plan="改用五层防潮瓦楞纸箱;雨天装车加盖防水膜;每车装车前拍照存档。"
        " Five-ply moisture-resistant cartons; waterproof film when loading in rain; every load photographed "
        "before departure.",
        owner=users["warehouse"],
        owner_department=Dept.WAREHOUSE,
        due_date=days["cartons_due"],
    )
    actions.action_done(
        user=users["warehouse"],
        action=cartons,
        done_text="五层纸箱自本月起用于全部出口订单;防水膜已配发;装车照片存于共享盘。"
        " Five-ply cartons used for every export order from this month; waterproof film issued; load photos "
        "kept on the shared drive.",
    )
    cartons_done = _at(days["cartons_done"], 16)
    Action.objects.filter(pk=cartons.pk).update(
        created_at=decided, done_at=cartons_done, verify_after=min(days["cartons_verify_after"], today)
    )
    _restamp_history(cartons, [decided, cartons_done])


# --- The management review pack (§5.12.7) -------------------------------------------------------------------------


def _review(users: dict, days: dict[str, date], today: date) -> None:
    start, end = review.default_period(today)
    pack = review.review_prepare(user=users["cs"], period_start=start, period_end=end)
    review.review_record(
        user=users["rep"],
        review=pack,
        reviewed_on=today,
        decisions=(
            "1. 交期达成率目标维持 95%,PMC 风险订单周评审须尽快落实(已逾期),下次管理评审复查。\n"
            "   On-time target stays at 95%; PMC's weekly at-risk order review is overdue and must start now; "
            "checked again at the next review.\n"
            "2. 批准品管部外观检验加严措施为标准做法,推广至全部外观件。\n"
            "   Quality's tightened appearance inspection becomes the standard for every cosmetic part.\n"
            "3. 客户满意度调查回收率目标维持 80%,下半年增加一次重点客户走访。\n"
            "   The response-rate target stays at 80%; one visit to each key customer in the next half-year."
        ),
    )
    prepared = _at(max(days["pack_prepared"], start), 10)
    recorded = _at(days["pack_reviewed"], 16)
    # The pack's figures as of the day it was prepared (it is a record of that day).
    figures = review.review_figures(start, end, today=timezone.localdate(prepared))
    figures["computed_at"] = prepared.isoformat()
    ManagementReview.objects.filter(pk=pack.pk).update(
        prepared_at=prepared,
        reviewed_on=timezone.localdate(recorded),
        recorded_at=recorded,
        figures=figures,
    )
    _restamp_history(pack, [prepared, recorded])
