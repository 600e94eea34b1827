"""The review checklists of §5.2.4, as first installed. Administrators edit them later in the admin; every
edit makes a new version and an open step keeps the version it was opened with.

An item with ``"na": true`` may be answered "not applicable"; with ``"na": "domestic"`` only for a domestic
customer (the customs item). Any other answer is yes, or the department raises an objection (§5.2.3).

Items are stored bilingual ({"key", "zh", "en"}) because a checklist is data, not code: the catalogue
cannot translate what an administrator types.
"""

from accounts.roles import Dept

DEFAULT_CHECKLISTS: dict[str, list[dict[str, str]]] = {
    Dept.PRODUCT: [
        {"key": "unit_price", "zh": "单价已审核", "en": "Unit prices checked"},
    ],
    Dept.MARKETING: [
        {"key": "price_quotation", "zh": "单价与《报价单》相符", "en": "Prices match the quotation"},
        {
            "key": "terms_profile",
            "zh": "交易条款与《客户资料评估表》相符",
            "en": "Terms match the customer evaluation form",
        },
        {"key": "delivery_place", "zh": "送货地点明确", "en": "Delivery place is clear"},
    ],
    Dept.CS: [
        {
            "key": "terms_profile",
            "zh": "交易条款与《客户资料评估表》相符",
            "en": "Terms match the customer evaluation form",
        },
        {"key": "delivery_place", "zh": "送货地点明确", "en": "Delivery place is clear"},
        {"key": "other_requirements", "zh": "其它要求或注意事项已明确", "en": "Other requirements and notes are clear"},
        {
            "key": "customs",
            "zh": "外销客户:关封及结转手续正常(内销客户答“不适用”)",
            "en": "Export customers: customs seal and transfer paperwork in order (domestic: not applicable)",
            "na": "domestic",
        },
    ],
    Dept.TECH: [
        {"key": "sample_approved", "zh": "试样结果客户书面回签 OK", "en": "Sample approved by the customer in writing"},
        {"key": "formula_ready", "zh": "生产配方已确认并准备", "en": "Production formula confirmed and prepared"},
    ],
    Dept.PMC: [
        {"key": "capacity", "zh": "生产可达成", "en": "Production can be achieved"},
        {
            "key": "delivery_date",
            "zh": "交期可达成(按行回复确认交期)",
            "en": "Delivery dates achievable (date per line)",
        },
    ],
    Dept.QA: [
        {"key": "packaging", "zh": "包装要求明确", "en": "Packaging requirements are clear"},
        {"key": "labelling", "zh": "客户要求的标识明确", "en": "Customer labelling is clear"},
        {"key": "inspection", "zh": "检验标准明确", "en": "Inspection standard is clear"},
        {
            "key": "past_problems",
            "zh": "历史做货之品质异常已改善",
            "en": "Earlier quality problems for this customer are fixed",
        },
    ],
}


def item_text(item: dict, language: str | None) -> str:
    return item["zh"] if (language or "").startswith("zh") else item["en"]


def item_allows_na(item: dict, customer=None) -> bool:
    allowed = item.get("na")
    if allowed == "domestic":
        return customer is not None and customer.trade == customer.Trade.DOMESTIC
    return bool(allowed)
