"""Demo complaints (§5.10.2): one in every state, as Customer Service and the departments would handle them.

- two closed ones from the last completed half-year (so the analysis report and the management review count
  them): a delivery complaint PMC investigated, and a quality complaint Quality investigated, whose quality
  problem is therefore fixed;
- one answered and waiting for the customer's acceptance (packaging, Quality);
- one investigated: a quality complaint with a return arranged from it against the customer's delivery note;
  its quality problem stays open, so Quality sees it beside its checklist on the customer's next order;
- one acknowledged, waiting for the warehouse's investigation (a shortage on a delivery note);
- two received: one this morning, and one whose acknowledgement is overdue (in Customer Service's My work).

Through the services, as the people would; the services stamp each step with the current time, so afterwards
each step's time is moved back to the day it happened (a complaint cannot be acknowledged or answered on a
day before its previous step, so the steps are taken in order and each is moved back before the next).
Customers write in their own language: Chinese for the Chinese customers, English for the others.

Idempotent: if any complaint exists, nothing is touched. Mail goes to memory while seeding (see seed_demo).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.roles import Dept
from complaints import services
from complaints.models import Complaint
from complaints.selectors import is_overdue
from customers.models import Customer, QualityProblem
from delivery.models import DeliveryNote, Return
from orders.models import Order

S = Complaint.Status
C = Complaint.Category
CH = Complaint.Channel
ORDER = [S.RECEIVED, S.ACKNOWLEDGED, S.INVESTIGATED, S.ANSWERED, S.CLOSED]


@dataclass
class Story:
    """One complaint: who complained, about what, how far it got, and on which days each step happened."""

    key: str
    customer: str
    channel: str
    category: str
    words: tuple[str, str]  # what the customer says: (Chinese, English); the customer's language is used
    status: str
    received_on: date
    investigator: str = "qa"
    department: str | None = None
    acknowledged_on: date | None = None
    investigated_on: date | None = None
    answered_on: date | None = None
    accepted_on: date | None = None
    acknowledgement: tuple[str, str] = ("", "")
    cause: str = ""
    action: str = ""
    answer: tuple[str, str] = ("", "")
    closing_note: str = ""
    link_note: bool = False
    extra: dict = field(default_factory=dict)


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if Complaint.objects.exists():
        return
    stories = _stories(timezone.localdate())
    codes = {story.customer for story in stories}
    customers = Customer.objects.in_bulk(list(codes), field_name="code")
    if len(customers) != len(codes):
        return  # no demo customers to complain
    # Complaints about a delivery go to a customer who had one: another demo customer when the first choice
    # received nothing before that day.
    taken = {customers[s.customer].pk for s in stories if not s.link_note}
    for story in sorted(stories, key=lambda s: (s.received_on, s.key)):  # numbers follow the days received
        customer = customers[story.customer]
        if story.link_note and _note_for(customer, story.received_on) is None:
            customer = _customer_with_note(story.received_on, taken) or customer
        taken.add(customer.pk)
        _tell(story, customer, users)


# --- The days -----------------------------------------------------------------------------------------------------


def _at(day: date, hour: int) -> datetime:
    """A local time on ``day``, never later than now (a step taken "this afternoon" before noon is now)."""
    return min(datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone()), timezone.now())


def _workday(day: date) -> date:
    """``day``, or the working day before it (Monday to Friday) when it falls on a weekend."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _after(day: date, working_days: int, today: date) -> date:
    """``working_days`` working days after ``day``, not after today."""
    while working_days > 0 and day < today:
        day += timedelta(days=1)
        if day.weekday() < 5:
            working_days -= 1
    return min(day, today)


def _back(today: date, working_days: int) -> date:
    day = _workday(today)
    for _step in range(working_days):
        day = _workday(day - timedelta(days=1))
    return day


def last_half_year(today: date) -> tuple[date, date]:
    """The last completed half-year (the period of the closed survey round and of the management review)."""
    if today.month <= 6:
        return date(today.year - 1, 7, 1), date(today.year - 1, 12, 31)
    return date(today.year, 1, 1), date(today.year, 6, 30)


def _overdue_ack_day(today: date) -> date:
    """A day received whose acknowledgement is overdue by now, by the app's own rule (and one working day more,
    so it stays overdue through the day)."""
    day = _workday(today)
    while not is_overdue(Complaint(status=S.RECEIVED, received_on=day), today):
        day = _workday(day - timedelta(days=1))
    return _workday(day - timedelta(days=1))


def _stories(today: date) -> list[Story]:
    start, _end = last_half_year(today)
    delivery_day = _workday(start + timedelta(days=45))
    quality_day = _workday(start + timedelta(days=110))
    packaging_day = _back(today, 12)
    cracked_day = _back(today, 7)
    shortage_day = _back(today, 1)
    return [
        Story(
            key="late",
            customer="C-0004",
            channel=CH.PHONE,
            category=C.DELIVERY,
            department=Dept.PMC,
            investigator="pmc",
            words=(
                "采购陈小姐来电:订单第二批货比约定交期晚到 6 天,导致我司门店促销缺货,"
                "且延误前没有收到任何通知。要求说明原因并保证后续交期。",
                "Ms Chen (purchasing) called: the second batch arrived 6 days after the agreed date, our stores "
                "ran out during a promotion, and nobody told us beforehand. Explain why and secure later dates.",
            ),
            status=S.CLOSED,
            received_on=delivery_day,
            acknowledged_on=delivery_day,
            investigated_on=_after(delivery_day, 3, today),
            answered_on=_after(delivery_day, 4, today),
            accepted_on=_after(delivery_day, 9, today),
            acknowledgement=(
                "已电话回复陈小姐:已收到投诉,PMC 调查延误原因,3 个工作日内书面答复。",
                "Called Ms Chen back: complaint received, PMC is investigating, written answer within 3 days.",
            ),
            cause="注塑机 #7 模具维修 4 天,排产未及时调整;延误在出货前两天已知,但未通知营销部和客户。"
            " Mould repair on press #7 (4 days) without rescheduling; the delay was known two days before "
            "shipping but neither Marketing nor the customer was told.",
            action="关键订单改由两台机生产;PMC 每周一与营销部核对风险订单,预计延误当天书面通知客户。"
            " Key orders now run on two presses; PMC reviews at-risk orders with Marketing every Monday and "
            "a foreseen delay is notified to the customer in writing the same day.",
            answer=(
                "已发送书面答复:延误原因为模具维修,排产未及时调整;已采取双机生产及每周风险订单评审,"
                "今后如有延误当天书面通知。",
                "Written answer sent: mould repair without rescheduling; orders now run on two presses, at-risk "
                "orders are reviewed weekly, and any delay is notified in writing the same day.",
            ),
            closing_note="客户来电确认接受答复,后续两批均准时到货。Customer accepted by phone; the next two "
            "batches arrived on time.",
        ),
        Story(
            key="scratches",
            customer="C-0015",
            channel=CH.CUSTOMER_REPORT,
            category=C.QUALITY,
            words=(
                "客户来料检验报告:两批产品表面划伤,抽检不良率 4.2%,超出 AQL 1.0 允收水准,整批挑选。",
                "Incoming inspection report IQC-0412: two lots with surface scratches, 4.2% "
                "defective in the sample, above AQL 1.0. Both lots sorted at our cost; please send an 8D report.",
            ),
            status=S.CLOSED,
            received_on=quality_day,
            acknowledged_on=_after(quality_day, 1, today),
            investigated_on=_after(quality_day, 4, today),
            answered_on=_after(quality_day, 5, today),
            accepted_on=_after(quality_day, 11, today),
            acknowledgement=(
                "已邮件回复收到检验报告,品管部调查,一周内提交 8D 报告。",
                "Replied by e-mail: inspection report received, Quality investigating, 8D report within a week.",
            ),
            cause="包装工位产品叠放无隔层,运输振动造成表面摩擦划伤;出货检验未覆盖外观全检。"
            " Parts were stacked without separators at packing; transport vibration scratched the surfaces. "
            "Outgoing inspection did not cover appearance on every carton.",
            action="每层加 EPE 隔片,外观出货检验由抽检改为加严一级;包装作业指导书已更新。"
            " EPE separator on every layer; outgoing appearance inspection tightened one level; packing "
            "instruction updated.",
            answer=(
                "8D 报告已发送客户:根本原因为包装无隔层,已增加隔片并加严出货检验。",
                "8D report sent: root cause was packing without separators; separators added and outgoing "
                "inspection tightened.",
            ),
            closing_note="客户确认 8D 关闭,后续三批来料检验合格。Customer closed the 8D; next three lots passed.",
        ),
        Story(
            key="cartons",
            customer="C-0011",
            channel=CH.EMAIL,
            category=C.PACKAGING,
            words=(
                "收货时发现外箱受潮变形,部分纸箱破损,内包装完好但无法直接上线,请改善包装并提供说明。",
                "Cartons arrived damp and deformed, some torn; the inner packs are intact but cannot go to the "
                "line as they are. Please improve the packaging and explain.",
            ),
            status=S.ANSWERED,
            received_on=packaging_day,
            acknowledged_on=_after(packaging_day, 1, today),
            investigated_on=_after(packaging_day, 4, today),
            answered_on=_after(packaging_day, 5, today),
            acknowledgement=(
                "已邮件回复:品管部将调查包装及运输条件,一周内答复。",
                "Replied by e-mail: Quality will look into packaging and transport, answer within a week.",
            ),
            cause="雨天装车,货车篷布未完全覆盖;纸箱为三层瓦楞,防潮能力不足。"
            " Loaded in the rain with the truck's tarpaulin not fully closed; three-ply cartons do not resist damp.",
            action="改用五层防潮瓦楞纸箱,雨天装车加盖防水膜,装车前由仓务拍照确认。"
            " Five-ply moisture-resistant cartons; waterproof film when loading in rain; the warehouse photographs "
            "every load before departure.",
            answer=(
                "已邮件答复客户改善措施(五层防潮纸箱、雨天防水膜、装车拍照),请确认是否接受。",
                "Answer e-mailed with the measures (five-ply cartons, waterproof film, photos of every load); "
                "waiting for the customer to accept.",
            ),
            link_note=True,
        ),
        Story(
            key="cracked",
            customer="C-0012",
            channel=CH.EMAIL,
            category=C.QUALITY,
            words=(
                "来料检验发现卡扣断裂,约 120 PCS 无法装配,请安排退货并补货。",
                "Our incoming inspection found cracked snap-fits: about 120 pcs cannot be assembled. Please take "
                "them back and send replacements.",
            ),
            status=S.INVESTIGATED,
            received_on=cracked_day,
            acknowledged_on=_after(cracked_day, 1, today),
            investigated_on=_back(today, 1),
            acknowledgement=(
                "已回复:安排取回不良品,品管部分析断裂原因。",
                "Replied: we will collect the parts and Quality is analysing the cracks.",
            ),
            cause="原料烘料时间不足,卡扣根部应力集中;该批次注塑保压时间偏短。"
            " Resin not dried long enough and holding pressure time too short for that lot: stress at the "
            "root of the snap-fit.",
            action="烘料时间由 2 h 改为 3 h 并记录;保压参数锁定;退回品 100% 检验后报废,补货另行安排。"
            " Drying time 2 h → 3 h and logged; holding parameters locked; returned parts inspected and scrapped, "
            "replacement to be scheduled.",
            link_note=True,
            extra={"return": Decimal("120")},
        ),
        Story(
            key="shortage",
            customer="C-0016",
            channel=CH.PHONE,
            category=C.QUANTITY,
            department=Dept.WAREHOUSE,
            words=(
                "仓库来电:送货单数量与实收不符,实收少 14 PCS,外箱标签数量与实物不一致。",
                "Their warehouse called: 14 pcs short against the delivery note; carton labels do not match the "
                "contents.",
            ),
            status=S.ACKNOWLEDGED,
            received_on=shortage_day,
            acknowledged_on=shortage_day,
            acknowledgement=(
                "已电话回复:仓务核对出货记录及监控,两个工作日内答复。",
                "Called back: the warehouse is checking the shipping records and camera footage; answer within two "
                "working days.",
            ),
            link_note=True,
        ),
        Story(
            key="invoice",
            customer="C-0013",
            channel=CH.EMAIL,
            category=C.DOCUMENTS,
            words=(
                "发票数量与送货单不一致,财务无法入账,请尽快重开发票。",
                "The invoice quantity does not match the delivery note; please reissue the invoice.",
            ),
            status=S.RECEIVED,
            received_on=_overdue_ack_day(today),
        ),
        Story(
            key="visit",
            customer="C-0021",
            channel=CH.VISIT,
            category=C.SERVICE,
            words=(
                "客户来访反映:询价回复太慢,要求三天内回复报价。",
                "Visiting buyer: quotation requests take more than a week to answer; we expect an answer within "
                "three working days.",
            ),
            status=S.RECEIVED,
            received_on=today,
        ),
    ]


# --- Telling one story ------------------------------------------------------------------------------------------


def _say(customer: Customer, pair: tuple[str, str]) -> str:
    """The customer's language: Chinese for a customer with a Chinese name, English otherwise."""
    zh, en = pair
    return zh if customer.name_zh else en


def _note_for(customer: Customer, before: date) -> DeliveryNote | None:
    """The customer's latest issued delivery note delivered by ``before``."""
    return (
        DeliveryNote.objects.filter(customer=customer, status=DeliveryNote.Status.ISSUED, delivery_date__lte=before)
        .order_by("-delivery_date", "-pk")
        .first()
    )


def _customer_with_note(before: date, taken: set[int]) -> Customer | None:
    note = (
        DeliveryNote.objects.filter(status=DeliveryNote.Status.ISSUED, delivery_date__lte=before)
        .exclude(customer__in=taken)
        .select_related("customer")
        .order_by("-delivery_date", "-pk")
        .first()
    )
    return note.customer if note is not None else None


def _tell(story: Story, customer: Customer, users: dict) -> Complaint:
    cs = users["cs"]
    note = _note_for(customer, story.received_on) if story.link_note else None
    orders = []
    if note is not None:
        orders = list(Order.objects.filter(lines__batches__note_lines__note=note).distinct())
    description = _say(customer, story.words)
    if note is not None:
        products = " ".join(
            sorted({line.batch.line.product.code for line in note.lines.select_related("batch__line__product")})
        )
        description = f"{note.number} {products}: {description}"
    complaint = services.complaint_record(
        user=cs,
        customer=customer,
        channel=story.channel,
        received_on=story.received_on,
        description=description,
        category=story.category,
        department=story.department,
        orders=orders,
        notes=[note] if note is not None else [],
    )
    stamps = [_at(story.received_on, 9)]
    _restamp(complaint, recorded_at=stamps[0])
    if _reached(story, S.ACKNOWLEDGED):
        complaint = services.complaint_acknowledge(
            user=cs, complaint=complaint, on=story.acknowledged_on, text=_say(customer, story.acknowledgement)
        )
        stamps.append(_at(story.acknowledged_on, 11))
        _restamp(complaint, acknowledged_at=stamps[-1])
        amount = story.extra.get("return")
        if amount and note is not None:
            _arrange_return(complaint, note, amount, story, users)
    if _reached(story, S.INVESTIGATED):
        complaint = services.complaint_investigate(
            user=users[story.investigator], complaint=complaint, cause=story.cause, action=story.action
        )
        stamps.append(_at(story.investigated_on, 16))
        _restamp(complaint, investigated_at=stamps[-1])
    if _reached(story, S.ANSWERED):
        complaint = services.complaint_answer(
            user=cs, complaint=complaint, answer=_say(customer, story.answer), on=story.answered_on
        )
        stamps.append(_at(story.answered_on, 14))
        _restamp(complaint, answered_at=stamps[-1])
    if _reached(story, S.CLOSED):
        complaint = services.complaint_close(
            user=cs, complaint=complaint, accepted_on=story.accepted_on, note=story.closing_note
        )
        stamps.append(_at(story.accepted_on, 15))
        _restamp(complaint, closed_at=stamps[-1])
    # The history (the complaint page's timeline) says when each step was taken, not when the demo ran.
    for version, moment in zip(complaint.history.order_by("history_date", "history_id"), stamps, strict=False):
        type(version).objects.filter(pk=version.pk).update(history_date=moment)
    if complaint.quality_problem_id:
        problem = QualityProblem.history.filter(id=complaint.quality_problem_id).order_by("history_date")
        for version, moment in zip(problem, [stamps[0], stamps[-1]], strict=False):
            type(version).objects.filter(pk=version.pk).update(history_date=moment)
        if any(f.name == "fixed_at" for f in QualityProblem._meta.get_fields()):  # when the fix was recorded
            QualityProblem.objects.filter(pk=complaint.quality_problem_id, fixed_at__isnull=False).update(
                fixed_at=stamps[-1]
            )
    return complaint


def _reached(story: Story, status: str) -> bool:
    return ORDER.index(story.status) >= ORDER.index(status)


def _restamp(complaint: Complaint, **moments) -> None:
    Complaint.objects.filter(pk=complaint.pk).update(**moments)
    for name, value in moments.items():
        setattr(complaint, name, value)


def _arrange_return(complaint: Complaint, note: DeliveryNote, amount: Decimal, story: Story, users: dict) -> None:
    """Customer Service arranges the return of the bad parts from the complaint, picked up the next working day."""
    line = note.lines.order_by("pk").first()
    returned = sum((r.quantity for r in line.returns.all()), Decimal(0))
    quantity = min(amount, line.quantity - returned)
    if quantity <= 0:
        return
    pickup = _after(story.acknowledged_on, 1, timezone.localdate())
    ret = services.complaint_arrange_return(
        user=users["cs"],
        complaint=complaint,
        note_line=line,
        quantity=quantity,
        reason=_say(
            complaint.customer,
            ("卡扣断裂,客户来料检验退回,补货另行安排。", "Cracked snap-fits, rejected at incoming inspection."),
        ),
        pickup_date=pickup,
    )
    Return.objects.filter(pk=ret.pk).update(recorded_at=_at(story.acknowledged_on, 14))
