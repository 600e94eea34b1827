"""The customer Excel import at scale: preview and commit of N customers, beside a plain bulk_create.

Every row is a customer with its primary contact and default delivery address, as the import creates them.
Steps run in order on one database: the preview sees an empty database (N new customers), the import fills it,
the re-import of the same file finds N unchanged rows, and the baseline bulk-creates the same rows into the
emptied tables (no validation, no history, no savepoints).
"""

import gc
import io
import random
import time
import tracemalloc
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import translation

from customers.importing import COLUMNS, customer_import, read_sheet
from customers.models import Contact, Customer, DeliveryAddress

TITLE = "Customer Excel import"
HEADERS = ["step", "rows", "seconds", "rows/s", "queries", "notes"]
SEED = 20240301
USERS = ("bench_sales1", "bench_sales2", "bench_cs")

# (Chinese, pinyin/English) pieces for realistic names; cities carry province, districts and area code.
CITIES = [
    ("深圳市", "Shenzhen", "广东省", ["宝安区", "龙岗区", "光明区", "南山区"], "0755"),
    ("东莞市", "Dongguan", "广东省", ["长安镇", "虎门镇", "松山湖", "塘厦镇"], "0769"),
    ("广州市", "Guangzhou", "广东省", ["番禺区", "白云区", "黄埔区"], "020"),
    ("佛山市", "Foshan", "广东省", ["顺德区", "南海区"], "0757"),
    ("中山市", "Zhongshan", "广东省", ["小榄镇", "古镇镇"], "0760"),
    ("苏州市", "Suzhou", "江苏省", ["工业园区", "吴江区", "昆山市"], "0512"),
    ("无锡市", "Wuxi", "江苏省", ["新吴区", "江阴市"], "0510"),
    ("宁波市", "Ningbo", "浙江省", ["北仑区", "慈溪市", "余姚市"], "0574"),
    ("厦门市", "Xiamen", "福建省", ["集美区", "海沧区"], "0592"),
    ("青岛市", "Qingdao", "山东省", ["黄岛区", "城阳区"], "0532"),
    ("天津市", "Tianjin", "天津市", ["滨海新区", "西青区"], "022"),
    ("上海市", "Shanghai", "上海市", ["松江区", "嘉定区", "闵行区"], "021"),
]
BRANDS = [
    ("华南", "Huanan"),
    ("恒通", "Hengtong"),
    ("宏达", "Hongda"),
    ("鑫源", "Xinyuan"),
    ("永盛", "Yongsheng"),
    ("立信", "Lixin"),
    ("精诚", "Jingcheng"),
    ("海创", "Haichuang"),
    ("金辉", "Jinhui"),
    ("瑞丰", "Ruifeng"),
    ("百利", "Baili"),
    ("天成", "Tiancheng"),
    ("东方", "Dongfang"),
    ("新亚", "Xinya"),
    ("联丰", "Lianfeng"),
    ("嘉信", "Jiaxin"),
    ("富城", "Fucheng"),
    ("国泰", "Guotai"),
]
INDUSTRIES = [
    ("电子", "Electronics"),
    ("五金制品", "Hardware Products"),
    ("塑胶", "Plastics"),
    ("精密模具", "Precision Mould"),
    ("科技", "Technology"),
    ("机电", "Electromechanical"),
    ("包装材料", "Packaging Materials"),
    ("照明", "Lighting"),
    ("汽车配件", "Auto Parts"),
    ("电器", "Electrical Appliances"),
]
SUFFIXES = [("有限公司", "Co., Ltd."), ("实业有限公司", "Industrial Co., Ltd."), ("股份有限公司", "Corporation")]
FOREIGN = [
    ("北欧元件", "Nordic Components AB"),
    ("莱茵精密", "Rhein Präzision GmbH"),
    ("太平洋贸易", "Pacific Trading Inc."),
    ("樱花电装", "Sakura Denso K.K."),
    ("阿尔卑斯工业", "Alpine Industries S.A."),
    ("大西洋供应", "Atlantic Supply LLC"),
]
SURNAMES = [
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("林", "Lin"),
    ("郭", "Guo"),
    ("何", "He"),
    ("罗", "Luo"),
]
GIVEN = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽华", "lihua"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("建军", "jianjun"),
    ("小明", "xiaoming"),
    ("秀英", "xiuying"),
    ("海涛", "haitao"),
    ("晓燕", "xiaoyan"),
    ("志刚", "zhigang"),
    ("婷", "ting"),
]
TITLES = ["采购经理", "采购员", "总经理", "品质主管", "计划员", "供应链经理", ""]
PAYMENT_TERMS = ["月结30天", "月结60天", "月结90天", "款到发货", "T/T 30 days"]
ADDRESS_LABELS = ["总厂", "二厂", "仓库", "Main plant", "Warehouse 2"]


def _pick(rng, weighted: dict):
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def make_rows(count: int) -> list[dict]:
    """``count`` customers as dicts keyed by column key, with stored choice codes (deterministic)."""
    rng = random.Random(SEED)
    rows = []
    for number in range(1, count + 1):
        city_zh, city_en, province, districts, area = rng.choice(CITIES)
        trade = _pick(rng, {"domestic": 70, "export": 25, "transfer": 5})
        if trade == "export" and rng.random() < 0.4:
            name_zh, name_en = rng.choice(FOREIGN)
            name_zh, name_en = f"{name_zh}{number}号", f"{name_en} #{number}"
            short = name_zh[:4]
            domain = "example.com"
        else:
            brand_zh, brand_en = rng.choice(BRANDS)
            industry_zh, industry_en = rng.choice(INDUSTRIES)
            suffix_zh, suffix_en = rng.choice(SUFFIXES)
            name_zh = f"{city_zh}{brand_zh}{industry_zh}{suffix_zh}"
            name_en = f"{city_en} {brand_en} {industry_en} {suffix_en}"
            short = f"{brand_zh}{industry_zh[:2]}"
            domain = f"{brand_en.lower()}{number}.com.cn"
        surname_zh, surname_en = rng.choice(SURNAMES)
        given_zh, given_en = rng.choice(GIVEN)
        status = _pick(rng, {"active": 85, "development": 10, "inactive": 5})
        export = trade != "domestic"
        rows.append(
            {
                "code": f"B-{number:06d}",
                "name_zh": name_zh,
                "name_en": name_en,
                "short_name": short,
                "kind": _pick(rng, {"own": 80, "oem": 20}),
                "status": status,
                "trade": trade,
                "customs_code": f"{rng.randrange(10**9, 10**10)}" if export else "",
                "customs_handbook": f"C{rng.randrange(10**10, 10**11)}" if trade == "transfer" else "",
                "payment_terms": rng.choice(PAYMENT_TERMS),
                "incoterm": rng.choice(["FOB", "CIF", "EXW"]) if export else "",
                "currency": "USD" if export else "CNY",
                "tax_rate": 0 if export else 13,
                "important_in_development": status == "development" and rng.random() < 0.3,
                "marketing_owner": rng.choice(USERS[:2]),
                "cs_owner": USERS[2],
                "cooperation_since": date(2005, 1, 1) + timedelta(days=rng.randrange(7000)),
                "contact_name": f"{surname_zh}{given_zh}",
                "contact_title": rng.choice(TITLES),
                "contact_phone": f"{area}-{rng.randrange(10**7, 10**8)}",
                "contact_mobile": f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}",
                "contact_email": f"{given_en}.{surname_en.lower()}@{domain}",
                "contact_receives_surveys": rng.random() < 0.5,
                "address_label": rng.choice(ADDRESS_LABELS),
                "address": f"{province}{city_zh}{rng.choice(districts)}{rng.choice(['工业', '科技', '高新'])}"
                f"{rng.randrange(1, 30)}路{rng.randrange(1, 300)}号{rng.choice('ABCDE')}栋",
                "address_receiver": f"{rng.choice(SURNAMES)[0]}{rng.choice(GIVEN)[0]}",
                "address_phone": f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}",
            }
        )
    return rows


def make_workbook(rows: list[dict]) -> bytes:
    """The rows as a user would type them: Chinese labels for kind/status/trade, 是/否 for yes/no."""
    labels = {}
    with translation.override("zh-hans"):
        for key, choices in (("kind", Customer.Kind), ("status", Customer.Status), ("trade", Customer.Trade)):
            labels[key] = {value: str(label) for value, label in choices.choices}
    keys = [c.key for c in COLUMNS]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([c.header for c in COLUMNS])
    for row in rows:
        cells = []
        for key in keys:
            value = row.get(key)
            if key in labels:
                value = labels[key][value]
            elif isinstance(value, bool):
                value = "是" if value else "否"
            cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bulk_create_rows(rows: list[dict], users: dict) -> None:
    """The baseline: the same customers, contacts and addresses with three bulk_create calls."""
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            Customer(
                code=r["code"],
                name_zh=r["name_zh"],
                name_en=r["name_en"],
                short_name=r["short_name"],
                kind=r["kind"],
                status=r["status"],
                trade=r["trade"],
                customs_code=r["customs_code"],
                customs_handbook=r["customs_handbook"],
                payment_terms=r["payment_terms"],
                incoterm=r["incoterm"],
                currency=r["currency"],
                tax_rate=Decimal(r["tax_rate"]),
                important_in_development=r["important_in_development"],
                marketing_owner=users[r["marketing_owner"]],
                cs_owner=users[r["cs_owner"]],
                cooperation_since=r["cooperation_since"],
            )
            for r in rows
        )
        Contact.objects.bulk_create(
            Contact(
                customer=customer,
                name=r["contact_name"],
                title=r["contact_title"],
                phone=r["contact_phone"],
                mobile=r["contact_mobile"],
                email=r["contact_email"],
                receives_surveys=r["contact_receives_surveys"],
                is_primary=True,
            )
            for customer, r in zip(customers, rows, strict=True)
        )
        DeliveryAddress.objects.bulk_create(
            DeliveryAddress(
                customer=customer,
                label=r["address_label"],
                address=r["address"],
                receiver=r["address_receiver"],
                phone=r["address_phone"],
                is_default=True,
            )
            for customer, r in zip(customers, rows, strict=True)
        )


# --- Measuring ------------------------------------------------------------------------------------


class QueryCounter:
    """Counts every statement sent to the database, by its first word.

    An execute wrapper rather than CaptureQueriesContext: the latter reads connection.queries_log, which
    keeps only the last 9,000 queries, so it undercounts any step that sends more.
    """

    def __init__(self):
        self.kinds: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.kinds[sql.lstrip().split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def summary(self) -> str:
        return ", ".join(f"{kind} {count:,}" for kind, count in self.kinds.most_common())


def measure(function):
    """(result, seconds, QueryCounter) of ``function()``."""
    gc.collect()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - started
    return result, seconds, counter


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(f"bench_import: {message}")


def check_report(report, *, expect: str, rows: int, committed: bool) -> None:
    counts = report.counts()
    if not report.ok:
        errors = [f"line {r.line} {r.code}: {'; '.join(r.errors)}" for r in report.rows if r.errors][:5]
        check(False, f"the import reported problems: {report.file_errors or errors}")
    check(counts[expect] == rows, f"expected {rows} {expect} rows, got {counts}")
    check(report.committed is committed, f"report.committed is {report.committed}, expected {committed}")


def check_tables(rows: int, *, history: int | None) -> None:
    found = {m.__name__: m.objects.count() for m in (Customer, Contact, DeliveryAddress)}
    check(found == dict.fromkeys(found, rows), f"expected {rows} rows in each table, found {found}")
    if history is not None:
        for model in (Customer, Contact, DeliveryAddress):
            written = model.history.count()
            check(written == history, f"expected {history} {model.__name__} history rows, found {written}")


def empty_tables() -> None:
    """Delete the customers, their contacts, addresses and history, without signals (not timed)."""
    models = [Contact, DeliveryAddress, Customer]
    tables = [m._meta.db_table for m in models] + [m.history.model._meta.db_table for m in models]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
    check_tables(0, history=0)


def line(step: str, rows: int, seconds: float | None, counter: QueryCounter | None, notes: str) -> list:
    return [
        step,
        f"{rows:,}",
        "" if seconds is None else f"{seconds:.2f}",
        "" if not seconds else f"{rows / seconds:,.0f}",
        "" if counter is None else f"{counter.total:,}",
        notes,
    ]


def run(rows: int, *, memory: bool = True):
    check(not Customer.objects.exists(), "the bench database is not empty")
    user_model = get_user_model()
    users = {}
    for username in USERS:
        user = user_model(username=username)
        user.set_unusable_password()
        user.save()
        users[username] = user
    importer = users[USERS[2]]
    table = []

    data_rows = make_rows(rows)
    data, seconds, _ = measure(lambda: make_workbook(data_rows))
    table.append(line("build the workbook (openpyxl)", rows, seconds, None, f"{len(data) / 1024:,.0f} KiB .xlsx"))

    sheet, seconds, counter = measure(lambda: read_sheet(data))
    check(len(sheet.dataset) == rows and not sheet.row_errors, f"read_sheet: {len(sheet.dataset)} rows, errors")
    table.append(line("read the workbook only (read_sheet, part of every run)", rows, seconds, counter, ""))
    del sheet

    report, preview_seconds, counter = measure(lambda: customer_import(data=data, user=importer, dry_run=True))
    check_report(report, expect="new", rows=rows, committed=False)
    check_tables(0, history=0)

    memory_note = "peak memory not measured (--no-memory)"
    if memory:
        # A second preview under tracemalloc, which slows it several times over: the time above is without it.
        gc.collect()
        started = time.perf_counter()
        tracemalloc.start()
        report = customer_import(data=data, user=importer, dry_run=True)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        traced_seconds = time.perf_counter() - started
        check_report(report, expect="new", rows=rows, committed=False)
        memory_note = (
            f"peak Python memory {peak / 1024 / 1024:,.0f} MiB "
            f"(tracemalloc, in a separate run that took {traced_seconds:,.0f} s)"
        )
    del report
    table.append(
        line(
            "preview (dry_run=True), empty database",
            rows,
            preview_seconds,
            counter,
            f"{counter.summary()}; {memory_note}",
        )
    )

    report, import_seconds, counter = measure(lambda: customer_import(data=data, user=importer, dry_run=False))
    check_report(report, expect="new", rows=rows, committed=True)
    check_tables(rows, history=rows)
    table.append(
        line(
            "commit (dry_run=False), empty database",
            rows,
            import_seconds,
            counter,
            f"{counter.summary()}; the whole confirmed import, its own checks included",
        )
    )

    report, seconds, counter = measure(lambda: customer_import(data=data, user=importer, dry_run=False))
    check_report(report, expect="unchanged", rows=rows, committed=True)
    check_tables(rows, history=rows)  # nothing written, not even history
    table.append(line("re-import the same file (all unchanged)", rows, seconds, counter, counter.summary()))
    del report

    empty_tables()
    _, baseline_seconds, counter = measure(lambda: bulk_create_rows(data_rows, users))
    check_tables(rows, history=0)
    table.append(
        line(
            "baseline: bulk_create customers + contacts + addresses",
            rows,
            baseline_seconds,
            counter,
            f"{counter.summary()}; no validation, no history",
        )
    )

    footnotes = [
        f"Preview is {preview_seconds / baseline_seconds:,.1f}x and commit {import_seconds / baseline_seconds:,.1f}x "
        "the time of the plain bulk_create of the same rows; "
        f"preview + commit {preview_seconds + import_seconds:,.1f} s "
        "(aim: under 15 s, the commit within 3x of the bulk_create on PostgreSQL).",
        "Queries: every statement Django sends (execute wrapper), by first word. Transaction starts and commits "
        "that the driver issues by itself (psycopg's BEGIN, every COMMIT) are not counted. "
        "Times are wall-clock, one run each, DEBUG off.",
    ]
    return HEADERS, table, footnotes
