"""Demo customers, products, quotations, environmental requirements, evaluations and a communication log.

Deterministic (a fixed random seed) and idempotent: if the demo customers are there, nothing is touched.
Evaluations go through the services, so the demo shows forms at every stage of their sign-off.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers import services
from customers.models import (
    CommunicationLog,
    Contact,
    Customer,
    DeliveryAddress,
    EnvironmentalRequirement,
    Product,
    QualityProblem,
)

# code, Chinese name, English name, kind, trade, city
CUSTOMERS = [
    ("C-0001", "东莞宏达电子有限公司", "Dongguan Hongda Electronics Co., Ltd.", "own", "domestic", "东莞"),
    ("C-0002", "深圳华光照明科技有限公司", "Shenzhen Huaguang Lighting Technology", "own", "domestic", "深圳"),
    ("C-0003", "", "Nordic Home Appliances AB", "oem", "export", "Stockholm"),
    ("C-0004", "广州美家家居用品有限公司", "Guangzhou Meijia Homeware", "own", "domestic", "广州"),
    ("C-0005", "苏州精工塑胶制品厂", "Suzhou Precision Plastics", "oem", "transfer", "苏州"),
    ("C-0006", "", "Brightline Tools Inc.", "own", "export", "Chicago"),
    ("C-0007", "佛山顺德永安电器有限公司", "Foshan Shunde Yongan Electric", "oem", "domestic", "佛山"),
    ("C-0008", "惠州德赛精密部件有限公司", "Huizhou Desay Precision Parts", "own", "transfer", "惠州"),
    ("C-0009", "", "Kessler Haustechnik GmbH", "oem", "export", "Stuttgart"),
    ("C-0010", "厦门海睿卫浴有限公司", "Xiamen Hairui Sanitary Ware", "own", "domestic", "厦门"),
    ("C-0011", "宁波东方电器集团", "Ningbo Oriental Electric Group", "oem", "domestic", "宁波"),
    ("C-0012", "", "Maple Leaf Kitchenware Ltd.", "own", "export", "Toronto"),
    ("C-0013", "中山雅居灯饰有限公司", "Zhongshan Yaju Lighting", "own", "domestic", "中山"),
    ("C-0014", "昆山信达电子科技有限公司", "Kunshan Xinda Electronic Technology", "oem", "transfer", "昆山"),
    ("C-0015", "", "Sakura Living Co., Ltd.", "own", "export", "Osaka"),
    ("C-0016", "杭州绿源环保科技有限公司", "Hangzhou Lvyuan Environmental Tech", "own", "domestic", "杭州"),
    ("C-0017", "江门新会五金制品厂", "Jiangmen Xinhui Hardware", "oem", "domestic", "江门"),
    ("C-0018", "", "Atlantic Garden Supplies Ltd.", "own", "export", "Manchester"),
    ("C-0019", "珠海格瑞电器有限公司", "Zhuhai Gerui Appliances", "oem", "domestic", "珠海"),
    ("C-0020", "天津滨海汽车配件有限公司", "Tianjin Binhai Auto Parts", "own", "transfer", "天津"),
    ("C-0021", "", "Oceanic Marine Equipment Pty Ltd", "own", "export", "Sydney"),
    ("C-0022", "青岛海峰家电有限公司", "Qingdao Haifeng Home Appliances", "oem", "domestic", "青岛"),
    ("C-0023", "武汉光谷智能设备有限公司", "Wuhan Optics Valley Smart Devices", "own", "domestic", "武汉"),
    ("C-0024", "", "Lumière Décor SARL", "own", "export", "Lyon"),
    ("C-0025", "成都天府电子有限公司", "Chengdu Tianfu Electronics", "oem", "domestic", "成都"),
    ("C-0026", "东莞长安精密模具厂", "Dongguan Chang'an Precision Mould", "own", "transfer", "东莞"),
    ("C-0027", "", "Pacific Craft Supplies LLC", "oem", "export", "Seattle"),
    ("C-0028", "上海申美日用品有限公司", "Shanghai Shenmei Daily Goods", "own", "domestic", "上海"),
    ("C-0029", "南京金陵仪表有限公司", "Nanjing Jinling Instruments", "own", "domestic", "南京"),
    ("C-0030", "", "Iberia Electro S.L.", "oem", "export", "Valencia"),
    ("C-0031", "温州瓯江电子有限公司", "Wenzhou Oujiang Electronics", "own", "domestic", "温州"),
    ("C-0032", "常州恒通电机有限公司", "Changzhou Hengtong Motors", "oem", "transfer", "常州"),
    ("C-0033", "", "Delta Appliances Sdn Bhd", "own", "export", "Penang"),
    ("C-0034", "长沙湘江智能家居有限公司", "Changsha Xiangjiang Smart Home", "own", "domestic", "长沙"),
    ("C-0035", "郑州中原塑业有限公司", "Zhengzhou Zhongyuan Plastics", "oem", "domestic", "郑州"),
    ("C-0036", "", "Alpine Outdoor Gear AG", "own", "export", "Zurich"),
]

PRODUCTS = [
    ("P-1001", "LED 吸顶灯外壳", "Φ300mm PC 白色", "PCS"),
    ("P-1002", "电源适配器外壳", "12V 2A ABS 黑色", "PCS"),
    ("P-1003", "电饭煲内胆把手", "PP 耐热 120℃", "PCS"),
    ("P-1004", "风扇叶片", "16 寸 AS 透明", "PCS"),
    ("P-1005", "遥控器面壳", "ABS+PC 银色喷涂", "PCS"),
    ("P-1006", "水龙头阀芯座", "POM 35mm", "PCS"),
    ("P-1007", "汽车空调出风口格栅", "PA66+GF30", "PCS"),
    ("P-1008", "收纳盒", "PP 5L 带盖", "SET"),
    ("P-1009", "插座面板", "PC V0 阻燃 白色", "PCS"),
    ("P-1010", "咖啡机水箱", "Tritan 1.2L", "PCS"),
    ("P-1011", "电动工具手柄", "TPE 包胶", "PCS"),
    ("P-1012", "园艺喷头", "ABS+TPR 七功能", "PCS"),
]

CONTACT_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄丽", "周杰", "吴霞"]
FOREIGN_CONTACTS = ["Anna Berg", "Mark Miller", "Julia Schmidt", "Kenji Sato", "Laura Smith", "Pierre Martin"]
PAYMENT_TERMS = ["月结 30 天", "月结 60 天", "T/T 30% deposit, 70% before shipment", "L/C at sight", "款到发货"]


def seed(users: dict | None = None) -> None:
    from accounts.demo import seed_users

    users = users or seed_users()
    if Customer.objects.filter(code__in=[c[0] for c in CUSTOMERS]).exists():
        return
    rng = random.Random(2026)
    today = timezone.localdate()
    products = _products(users)
    for index, (code, name_zh, name_en, kind, trade, city) in enumerate(CUSTOMERS):
        customer = _customer(rng, users, index, code, name_zh, name_en, kind, trade, city, today)
        _quotations(rng, users, customer, products, today)
        _environment(rng, users, customer, today)
        _log(rng, users, customer, today)
        _evaluation(users, customer, index)
        _quality(users, customer, index, products, today)


def _products(users) -> list[Product]:
    products = []
    for index, (code, name, spec, unit) in enumerate(PRODUCTS):
        products.append(Product.objects.create(code=code, name=name, spec=spec, unit=unit, is_new=index % 5 == 0))
    return products


def _customer(rng, users, index, code, name_zh, name_en, kind, trade, city, today) -> Customer:
    export = trade != Customer.Trade.DOMESTIC
    status = Customer.Status.DEVELOPMENT if index % 9 == 4 else Customer.Status.ACTIVE
    if index % 17 == 16:
        status = Customer.Status.INACTIVE
    customer = Customer(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        short_name=(name_zh[2:6] if name_zh else name_en.split()[0]),
        kind=kind,
        status=status,
        trade=trade,
        customs_code=f"44{rng.randint(10000000, 99999999)}" if export else "",
        customs_handbook=f"C{rng.randint(5000, 5999)}2{rng.randint(10000, 99999)}" if trade == "transfer" else "",
        payment_terms=rng.choice(PAYMENT_TERMS),
        incoterm=("FOB" if trade == "export" else ""),
        currency=("USD" if trade == "export" else "CNY"),
        tax_rate=Decimal("0") if trade == "export" else Decimal("13"),
        marketing_owner=users["marketing"] if index % 3 else users["head"],
        cs_owner=users["cs"],
        important_in_development=status == Customer.Status.DEVELOPMENT and index % 2 == 0,
        cooperation_since=None if status == Customer.Status.DEVELOPMENT else today - timedelta(days=200 + index * 41),
    )
    customer.save()
    names = FOREIGN_CONTACTS if not name_zh else CONTACT_NAMES
    for number in range(1 + index % 2):
        name = names[(index + number) % len(names)]
        Contact.objects.create(
            customer=customer,
            name=name,
            title=["采购经理", "Purchasing manager", "品质工程师", "Quality engineer"][(index + number) % 4],
            phone=f"0769-8{rng.randint(1000000, 9999999)}",
            email=f"{code.lower()}.{number + 1}@example.com",
            receives_surveys=number == 0,
            is_primary=number == 0,
        )
    DeliveryAddress.objects.create(
        customer=customer,
        label="总厂 Main plant",
        address=f"{city} 工业园区 {rng.randint(1, 99)} 号"
        if name_zh
        else f"{rng.randint(1, 999)} Harbour Road, {city}",
        receiver=names[index % len(names)],
        is_default=True,
    )
    if index % 4 == 0:
        DeliveryAddress.objects.create(
            customer=customer, label="二号仓 Warehouse 2", address=f"{city} 物流园 B 区 {rng.randint(1, 30)} 栋"
        )
    return customer


def _quotations(rng, users, customer, products, today) -> None:
    if customer.status == Customer.Status.DEVELOPMENT:
        return
    for product in rng.sample(products, 3):
        price = Decimal(rng.randint(80, 4000)) / 100
        if customer.currency == "USD":
            price = (price / 7).quantize(Decimal("0.0001"))
        old = services.quotation_create(
            user=users["marketing"],
            customer=customer,
            product=product,
            unit_price=price * Decimal("1.05"),
            currency=customer.currency,
            valid_from=today - timedelta(days=400),
            valid_to=today - timedelta(days=181),
            reference=f"Q{today.year - 1}-{customer.pk:03d}{product.pk:02d}",
        )
        services.quotation_create(
            user=users["marketing"],
            customer=customer,
            product=product,
            unit_price=price,
            currency=customer.currency,
            valid_from=old.valid_to + timedelta(days=1),
            reference=f"Q{today.year}-{customer.pk:03d}{product.pk:02d}",
        )


def _environment(rng, users, customer, today) -> None:
    standards = [EnvironmentalRequirement.Standard.ROHS]
    if customer.trade == Customer.Trade.EXPORT:
        standards.append(EnvironmentalRequirement.Standard.REACH)
    if customer.pk % 5 == 0:
        standards.append(EnvironmentalRequirement.Standard.HALOGEN_FREE)
    for standard in standards:
        services.envreq_save(
            user=users["qa"],
            requirement=EnvironmentalRequirement(
                customer=customer,
                standard=standard,
                detail={"rohs": "RoHS 2.0 (EU) 2015/863, 10 项", "reach": "SVHC 候选清单最新版"}.get(standard, ""),
                document_ref=f"ENV-{customer.code}-{standard.upper()}",
                effective_from=today - timedelta(days=rng.randint(100, 700)),
                expires_on=today + timedelta(days=rng.randint(-20, 500)),
            ),
        )


def _log(rng, users, customer, today) -> None:
    contact = customer.contacts.first()
    entries = [
        (CommunicationLog.Channel.VISIT, "拜访客户,了解新项目需求与年度用量。", "寄送样品并报价"),
        (
            CommunicationLog.Channel.EMAIL,
            "Customer asked for the updated RoHS test report.",
            "Send the 2026 SGS report",
        ),
        (CommunicationLog.Channel.PHONE, "确认下季度交期安排,客户无异议。", ""),
    ]
    for number, (channel, summary, follow_up) in enumerate(entries[: 1 + customer.pk % 3]):
        due = today + timedelta(days=rng.randint(-5, 10)) if follow_up else None
        services.communication_add(
            user=users["marketing"],
            entry=CommunicationLog(
                customer=customer,
                date=today - timedelta(days=30 * (3 - number) + rng.randint(0, 9)),
                channel=channel,
                contact=contact,
                summary=summary,
                follow_up=follow_up,
                follow_up_due=due,
                follow_up_done=bool(due and due < today - timedelta(days=2)),
            ),
        )


def _evaluation(users, customer, index) -> None:
    """Evaluation forms at every stage: draft, submitted, returned, approved (filed or not), re-evaluated."""
    stage = index % 6
    content = dict(
        business_scope="家电及照明产品的研发、生产与销售" if customer.name_zh else "Design and sale of home products",
        established_year=1995 + index % 25,
        registered_capital=f"{(index % 9 + 1) * 500} 万元",
        employees=80 + index * 37,
        certifications="ISO 9001:2015, ISO 14001:2015",
        expected_annual_volume=f"{(index % 7 + 1) * 100} 万 PCS",
        proposed_payment_terms=customer.payment_terms,
        credit_rating=["good", "normal", "good", "risky", "normal", "good"][stage],
        quality_requirements="AQL 0.65 / 1.0 抽检,首件需客户确认",
        environmental_requirements="RoHS, REACH" if customer.trade == "export" else "RoHS",
        risks="新客户,付款记录待观察" if stage == 3 else "",
        recommendation="" if stage == 0 else "建议合作,按标准条件执行。",
    )
    marketing, head, cs = users["marketing"], users["head"], users["cs"]
    form = services.evaluation_create(user=marketing, customer=customer, **content)
    if stage == 0:
        return  # a draft Marketing is still filling in
    form = services.evaluation_submit(user=marketing, evaluation=form)
    if stage == 1:
        return  # waiting for the head
    if stage == 2:
        services.evaluation_return(user=head, evaluation=form, comment="请补充客户的信用调查资料。")
        return
    form = services.evaluation_approve(user=head, evaluation=form, comment="同意。")
    if stage == 3:
        return  # approved, Customer Service has not filed it yet
    form = services.evaluation_file(user=cs, evaluation=form)
    if stage == 5:  # re-evaluated a year later: version 2 supersedes version 1
        second = services.evaluation_new_version(user=marketing, evaluation=form)
        second = services.evaluation_update(user=marketing, evaluation=second, expected_annual_volume="年用量增加 30%")
        second = services.evaluation_submit(user=marketing, evaluation=second)
        second = services.evaluation_approve(user=head, evaluation=second, comment="同意更新。")
        services.evaluation_file(user=cs, evaluation=second)


def _quality(users, customer, index, products, today) -> None:
    """A few customers with earlier quality problems, fixed or still open (seen by Quality on new orders)."""
    if index % 5 != 1:
        return
    problem = services.quality_problem_add(
        user=users["qa"],
        problem=QualityProblem(
            customer=customer,
            reported_on=today - timedelta(days=90 + index),
            product=products[index % len(products)],
            description=["外观刮花,客户来料检验退货 200 PCS", "尺寸超差 0.2 mm,装配不良", "包装破损,运输中压坏"][
                index % 3
            ],
        ),
    )
    if index % 2:
        services.quality_problem_fix(
            user=users["qa"],
            problem=problem,
            corrective_action="增加包装隔板并修模",
            fixed_on=today - timedelta(days=30),
        )
