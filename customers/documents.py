"""The customer evaluation form 《客户资料评估表》 (§5.1.1) printed as a paper record: the company, the customer,
every field of the form, and who prepared, submitted, approved and filed it, and when. Bilingual whatever the
reader's language, like the other printed records (it is filed and read as it was issued)."""

from django.conf import settings
from django.utils import translation

from common.pdf import render_pdf
from customers.models import CustomerEvaluation

# The form's Chinese labels, in the order of CustomerEvaluation.CONTENT_FIELDS (the English ones are the fields').
LABELS_ZH = {
    "business_scope": "经营范围及主要产品",
    "established_year": "成立年份",
    "registered_capital": "注册资本",
    "employees": "员工人数",
    "certifications": "体系认证",
    "expected_annual_volume": "预计年交易量",
    "proposed_payment_terms": "拟定付款条件",
    "credit_rating": "信用评估",
    "quality_requirements": "品质要求",
    "environmental_requirements": "环保要求",
    "risks": "风险",
    "recommendation": "营销部意见",
}


def _both(callable_):
    with translation.override("zh-hans"):
        zh = str(callable_())
    with translation.override("en"):
        en = str(callable_())
    return zh if zh == en else f"{zh} {en}"


def evaluation_fields(evaluation: CustomerEvaluation) -> list[dict]:
    rows = []
    for name in CustomerEvaluation.CONTENT_FIELDS:
        field = CustomerEvaluation._meta.get_field(name)
        value = getattr(evaluation, name)
        if field.choices and value:
            value = _both(getattr(evaluation, f"get_{name}_display"))
        with translation.override("en"):
            label_en = str(field.verbose_name)
        rows.append({"name": name, "zh": LABELS_ZH.get(name, ""), "en": label_en, "value": value})
    return rows


def evaluation_pdf(evaluation: CustomerEvaluation) -> bytes:
    customer = evaluation.customer
    return render_pdf(
        "customers/pdf/evaluation.html",
        {
            "evaluation": evaluation,
            "customer": customer,
            "fields": evaluation_fields(evaluation),
            "status": _both(evaluation.get_status_display),
            "customer_kind": _both(customer.get_kind_display),
            "customer_trade": _both(customer.get_trade_display),
            "company_zh": settings.COMPANY_NAME_ZH,
            "company_en": settings.COMPANY_NAME_EN,
        },
    )
