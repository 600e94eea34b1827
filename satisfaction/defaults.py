"""The default 《客户满意度调查表》: five weighted criteria on a 1–5 scale (demo data and a fresh install)."""

from decimal import Decimal

from satisfaction.services import QuestionData

DEFAULT_QUESTIONS = [
    QuestionData(
        "产品质量(外观、尺寸、性能符合要求)", "Product quality (appearance, dimensions, performance)", Decimal(30)
    ),
    QuestionData("交货(准时、数量准确、包装完好)", "Delivery (on time, right quantity, sound packaging)", Decimal(25)),
    QuestionData("服务(沟通及时、问题处理)", "Service (timely communication, handling of problems)", Decimal(20)),
    QuestionData("价格(具竞争力)", "Price (competitiveness)", Decimal(15)),
    QuestionData(
        "技术支持(打样、技术问题答复)", "Technical support (samples, answers to technical questions)", Decimal(10)
    ),
]


def default_form(user=None):
    from satisfaction.services import form_current, form_save

    return form_current() or form_save(user=user, questions=DEFAULT_QUESTIONS)
