"""The procedure map: every clause of 《客户需求识别与满意度审查管制程序》 once, machine-readable (issue 11).

Each clause has its Chinese text (shortened from the procedure, /work/shared/seed/procedure-zh.txt), an English
summary, the pages (url names) and management commands that carry it, and the record kinds it keeps
(records.kinds). The tests that prove it are found by their marker ``pytest.mark.clause("5.8.1")``
(records.markers reads the test files with ``ast``; no pytest run). ``manage.py procedure_map --check`` fails when
a clause has no feature or no test, when a marker names a clause that is not here, or when a url name or command
named here does not exist. CI runs it.

The procedure's own numbering jumps from 5.11.3 to 5.12.4 (there is no 5.12, 5.12.1–5.12.3 in the text): 5.12
is kept here as the heading of 5.12.4–5.12.8 so that their parent exists. A clause's sub-clauses carry features
and tests for it: a heading needs none of its own.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Clause:
    id: str
    zh: str
    en: str
    pages: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()

    @property
    def parent(self) -> str | None:
        return self.id.rsplit(".", 1)[0] if "." in self.id else None

    @property
    def depth(self) -> int:
        return self.id.count(".")


C = Clause

PROCEDURE: tuple[Clause, ...] = (
    C("4.0", "权责", _("Responsibilities of the departments.")),
    C(
        "4.0.1",
        "营销部:客户的开发、客户评估跟进及客户维护;报价管理规定的执行;订单与其变更的审查。",
        _("Marketing develops, evaluates and keeps customers, keeps the quotations and reviews orders and changes."),
        pages=("customers:list", "orders:list"),
    ),
    C(
        "4.0.2",
        "客服部:已核准之订单的跟单处理及交付排程;样品交付的跟单处理;客户满意度的调查与分析。",
        _("Customer Service follows approved orders and deliveries, sample deliveries, and runs the surveys."),
        pages=("delivery:notes", "satisfaction:rounds", "samples:list"),
    ),
    C(
        "4.0.3",
        "营销部负责人:客户订单的签核。",
        _("The marketing head signs off the customer's orders."),
        pages=("orders:list", "accounts:my_work"),
    ),
    C("5.1", "客户资料建立与维护", _("Customer records are set up and kept."), pages=("customers:list",)),
    C(
        "5.1.1",
        "新客户开发评估后,营销部提供已签核之《客户资料评估表》至客服部建档及保管。",
        _("Marketing's signed customer evaluation form is filed with Customer Service."),
        pages=("customers:list", "records:register"),
        commands=("import_customers",),
    ),
    C("5.2", "订单审核", _("Order review."), pages=("orders:list",)),
    C(
        "5.2.1",
        "客服助理接到客户订单后通知各相关业务,交产品组审核单价,呈营销部负责人签名审核;依已审核的订单在SAP下达订单。",
        _("Customer Service enters the order; the product group checks prices; the head signs; the SAP number."),
        pages=("orders:list", "orders:create"),
    ),
    C(
        "5.2.2",
        "客户订单上有相关环保要求时,需在包装要求中注明(依《客户环保要求一览表》)。",
        _("The customer's environmental requirements are written into the order's packaging requirements."),
        pages=("customers:list", "orders:create"),
    ),
    C(
        "5.2.3",
        "据订单的签核及PMC交期回复确认后回传订单至客户;有异议通知营销部;口头要求需书面回执。",
        _("The signed-off order is confirmed to the customer; objections; verbal requirements confirmed in writing."),
        pages=("orders:list",),
    ),
    C("5.2.4", "订单评审包括:", _("What each department checks in the review."), pages=("orders:list",)),
    C(
        "5.2.4.1",
        "营销部确认单价与交易条款是否与《报价单》、《客户资料评估表》相符合,送货地点是否明确。",
        _("Marketing: price and terms match the quotation and the evaluation form; the delivery place is clear."),
        pages=("orders:list", "customers:list"),
    ),
    C(
        "5.2.4.2",
        "客服部确认交易条款与《客户资料评估表》相符,送货地点明确;外销客户确认关封及结转手续。",
        _("Customer Service: terms match the profile; delivery place; customs seal and transfer for exports."),
        pages=("orders:list",),
    ),
    C(
        "5.2.4.3",
        "技术部跟进并确认试样结果回复是否OK(客户书面回签),以及生产配方的确认及准备。",
        _("Technical: the customer approved the sample in writing; the formula is confirmed and prepared."),
        pages=("orders:list", "samples:list"),
    ),
    C(
        "5.2.4.4",
        "PMC及客服部确认生产与交期是否可达成。",
        _("PMC and Customer Service: production and the delivery date can be met."),
        pages=("orders:list",),
    ),
    C(
        "5.2.4.5",
        "品管确认包装要求及客户要求标识、检验标准是否明确;历史做货之品质异常是否已改善。",
        _("Quality: packaging, labelling and inspection standard clear; earlier quality problems fixed."),
        pages=("orders:list", "complaints:list"),
    ),
    C("5.3", "订单变更或取消", _("Order change or cancellation."), pages=("orders:list",)),
    C(
        "5.3.1",
        "订单的变更或取消由客户提供并经销售负责人确认,或因本公司原因,由客服部以内部联络函OA通知各相关部门。",
        _("A change or cancellation (customer's, confirmed by the sales head, or ours) goes out as an internal memo."),
        pages=("orders:list", "orders:memos"),
    ),
    C("5.4", "生产进度跟进", _("Production progress."), pages=("delivery:sheet",)),
    C(
        "5.4.1",
        "PMC不能按预期完成生产时应书面说明原因;客服部跟进交期,不能达成时联络营销部协调并书面反馈。",
        _("PMC reports a delay in writing; Customer Service and Marketing settle it with the customer."),
        pages=("accounts:my_work", "delivery:sheet"),
    ),
    C(
        "5.4.2",
        "客服部每日更新《订单交货进度表》(电子档)并通过E-mail上报及分发相关部门。",
        _("The delivery-progress sheet is updated and e-mailed to the departments every day."),
        pages=("delivery:sheet",),
        commands=("send_delivery_progress",),
    ),
    C("5.5", "交期与运输排程", _("Delivery dates and transport."), pages=("delivery:sheet",)),
    C(
        "5.5.1",
        "客服部至少提前一天作好客户产品的交付准备;必要时请求相关部门的协助。",
        _("Deliveries are ready at least one day ahead; what is not ready is announced."),
        pages=("delivery:sheet", "accounts:my_work"),
    ),
    C(
        "5.5.2",
        "每月统计交期达成率:(应交货批数-延迟交货批数(包括未交批数))/应交货批数*100%。",
        _("The on-time delivery rate per month: (due batches - late or undelivered) / due batches."),
        pages=("delivery:ontime",),
        commands=("on_time_rate",),
    ),
    C(
        "5.5.3",
        "客服部对运输公司进行控制和管理,建立运输供应商清单,签订运输协议,明确产品防护要求。",
        _("The list of carriers, their agreements with product-protection terms, and their vehicles."),
        pages=("delivery:carriers",),
    ),
    C("5.6", "产品交货", _("Delivery."), pages=("delivery:notes",)),
    C(
        "5.6.1",
        "客服部按客户需求日期开立《送货单》、《车辆调度申请单》,通知仓务、品质管理部;通知客户出货与到货时间。",
        _("Delivery note and vehicle dispatch request; warehouse and Quality told; the customer told the times."),
        pages=("delivery:notes", "delivery:note_create"),
    ),
    C(
        "5.6.2",
        "直接出口时,客服部协助报关部完成出口单证办理手续。",
        _("For direct exports Customer Service helps Customs with the export paperwork."),
        pages=("delivery:notes",),
    ),
    C("5.7", "产品退货", _("Returns."), pages=("delivery:returns",)),
    C(
        "5.7.1",
        "对确定需退货产品由客服安排载回,由品质管理部制作《内部联络函》后通知相关部门人员。",
        _("Customer Service picks returned goods up; Quality writes an internal memo to the departments."),
        pages=("delivery:returns", "orders:memos"),
    ),
    C("5.8", "单据回签", _("Signed-back documents."), pages=("delivery:notes",)),
    C(
        "5.8.1",
        "客服部跟进及复查送货、送样单据的回执情况,送货人员须及时盖章及签名;交运异常及时联络客服部。",
        _("Delivery and sample notes come back stamped and signed; incidents in transit are recorded."),
        pages=("delivery:notes", "samples:list"),
    ),
    C("5.9", "账务处理及交单", _("Reports and hand-over of documents."), pages=("delivery:reports",)),
    C(
        "5.9.1",
        "客服部据签回的单据作相应的报表与统计,并按表单所属部门及时交单。",
        _("Reports and statistics from the signed-back notes, handed to the departments."),
        pages=("delivery:reports",),
    ),
    C(
        "5.9.2",
        "需办理核销结转手续的客户,客服部根据关封及交付情况协助报关部跟催转厂结转手续。",
        _("Processing-trade transfers (结转) are chased with Customs until completed."),
        pages=("delivery:reports",),
    ),
    C("5.10", "客户维护", _("Customer care."), pages=("customers:list",)),
    C(
        "5.10.1",
        "营销部及客服部时常保持与客户的良好沟通与相关的信息反馈,及时知会及跟进相关部门。",
        _("Marketing and Customer Service keep in touch with customers and follow up with the departments."),
        pages=("customers:list", "accounts:my_work"),
    ),
    C(
        "5.10.2",
        "客户抱怨按《客诉管制程序》作业,客服部跟进处理进度,及时安排退货载回或补货。",
        _("Complaints are handled to closure, with returns or replacements."),
        pages=("complaints:list",),
    ),
    C(
        "5.10.3",
        "关于客供品的管理详见《客户供应品管制程序》。",
        _("Customer property is managed by its own procedure."),
        pages=("customer_property:list",),
    ),
    C("5.11", "客户满意度调查", _("Customer satisfaction survey."), pages=("satisfaction:rounds",)),
    C(
        "5.11.1",
        "每年二次调查;对象为20WPCS以上、送货3次以上、新产品或客户私模及重要开发客户;回收率达80%以上。",
        _("Twice a year, the eligible customers, the survey form, a response rate of at least 80%."),
        pages=("satisfaction:rounds",),
        commands=("survey_eligibility", "survey_remind"),
    ),
    C("5.11.2", "客户满意度内部监控", _("Internal follow-up of satisfaction."), pages=("satisfaction:scorecards",)),
    C(
        "5.11.2.1",
        "如客户提供标准文本的满意度评价表,客服部应按其发放频率跟踪收集,并在内部展开以不断改进。",
        _("The customer's own rating forms are collected at their frequency and followed up."),
        pages=("satisfaction:scorecards",),
    ),
    C(
        "5.11.3",
        "客户满意度总体评价记分方法。",
        _("How the overall score is computed (weighted criteria)."),
        pages=("satisfaction:form",),
    ),
    C("5.12", "客户满意度评定与改善(5.12.4–5.12.8)", _("Rating, analysis and improvement."), pages=()),
    C(
        "5.12.4",
        "客户满意度总评定:98分以上很满意;90.1~98满意;75.1~90一般满意;60~75不满意;低于60非常不满意。",
        _("The five bands of the score."),
        pages=("satisfaction:rounds",),
    ),
    C(
        "5.12.5",
        "客服部根据统计结果进行原因分析,整理出客户满意度调查分析报告呈管理者代表确认。",
        _("The analysis report, confirmed by the management representative."),
        pages=("improvement:home",),
    ),
    C(
        "5.12.6",
        "客服部主持召开改善措施会议,整理会议记录并分发至相关部门依《纠正与预防措施管制程序》进行改善。",
        _("The improvement meeting, its minutes to the departments, and the corrective actions."),
        pages=("improvement:meetings", "improvement:actions"),
    ),
    C(
        "5.12.7",
        "客服部需对客户满意度回执情况分析报告提交管理评审会议评审。",
        _("The analysis goes to the management review."),
        pages=("improvement:reviews",),
    ),
    C(
        "5.12.8",
        "有关客服部资料管理依《记录管制程序》处理与保管。",
        _("Customer Service's records are kept under the records-control procedure."),
        pages=("records:register",),
        commands=("export_records",),
    ),
    C(
        "7",
        "记录表单",
        _("The record forms: listed with their retention, and downloadable per period."),
        pages=("records:register",),
        commands=("export_records",),
    ),
    C("7.1", "《送货单》", _("Delivery note."), pages=("delivery:notes",)),
    C("7.2", "《订单交货进度表》(电子档)", _("Daily delivery-progress sheet (electronic)."), pages=("delivery:sheet",)),
    C("7.3", "《内部联络函》", _("Internal memo."), pages=("orders:memos",)),
    C("7.4", "《客户满意度调查表》", _("Customer satisfaction survey form."), pages=("satisfaction:form",)),
    C("7.5", "《客户满意度调查统计表》", _("Survey statistics table."), pages=("satisfaction:rounds",)),
    C("7.6", "《顾客满意度调查汇总表》", _("Survey summary table."), pages=("satisfaction:rounds",)),
)

BY_ID: dict[str, Clause] = {clause.id: clause for clause in PROCEDURE}


def children(clause_id: str) -> list[Clause]:
    return [c for c in PROCEDURE if c.parent == clause_id]


def descendants(clause_id: str) -> list[Clause]:
    prefix = clause_id + "."
    return [c for c in PROCEDURE if c.id.startswith(prefix)]
