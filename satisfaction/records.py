"""The survey records of §7 as files: the survey form 《客户满意度调查表》 (blank, for fax or paper, and as answered),
the statistics table 《客户满意度调查统计表》 and the summary table 《顾客满意度调查汇总表》 (.xlsx and PDF).

These are the procedure's record forms: they print Chinese and English side by side whatever the reader's
language, so their labels are written out in both languages here and in ``templates/satisfaction/pdf/`` rather
than translated. The figures come from the selectors (``round_results``, ``question_statistics``): the tables
agree with the round page. Text typed by people (customer names, comments) reaches a workbook only through
``common.xlsx.text_cell`` (no formulas, PITFALLS.md).
"""

import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation

from common.pdf import render_document, render_pdf, write_documents
from common.xlsx import XLSX_CONTENT_TYPE, text_cell
from satisfaction import scoring
from satisfaction.models import Question, Response, RoundCustomer, SurveyForm, SurveyRound
from satisfaction.selectors import CustomerResult, QuestionStats, RoundResults, question_statistics, round_results

__all__ = [
    "XLSX_CONTENT_TYPE",
    "blank_form_pdf",
    "build_statistics_xlsx",
    "build_summary_xlsx",
    "filename",
    "response_pdf",
    "responses_pdf",
    "statistics_pdf",
    "summary_pdf",
]

FORM_TITLE = ("客户满意度调查表", "Customer satisfaction survey")
STATISTICS_TITLE = ("客户满意度调查统计表", "Customer satisfaction survey statistics")
SUMMARY_TITLE = ("顾客满意度调查汇总表", "Customer satisfaction survey summary")

SOURCES = {
    "survey": ("本公司调查表", "Our survey form"),
    "scorecard": ("客户自有评分表", "Customer's own scorecard"),
}
CHANNELS_ZH = {
    Response.Channel.LINK: "个人链接",
    Response.Channel.PAPER: "纸质表(录入)",
    Response.Channel.EMAIL: "电邮表(录入)",
    Response.Channel.FAX: "传真表(录入)",
}
STATUSES_ZH = {
    SurveyRound.Status.DRAFT: "草稿",
    SurveyRound.Status.SENT: "已发出",
    SurveyRound.Status.CLOSED: "已结束",
}
KINDS_ZH = {SurveyRound.Kind.HALF_YEAR: "半年度调查", SurveyRound.Kind.AD_HOC: "临时调查"}
YES, NO = ("是", "Yes"), ("否", "No")


def both(pair: tuple[str, str], sep: str = " / ") -> str:
    return f"{pair[0]}{sep}{pair[1]}"


def english(text) -> str:
    """A lazy message (a model choice, a band) in English: the English half of a bilingual label."""
    with translation.override("en"):
        return str(text)


def band_label(band: scoring.Band | None, sep: str = " / ") -> str:
    return f"{band.label_zh}{sep}{english(band.label)}" if band else ""


def filename(survey_round: SurveyRound | None, kind: str, ext: str, *, extra: str = "") -> str:
    """``survey-<kind>-<round id>-<round name>.<ext>``: the name stripped of what file systems refuse."""
    parts = ["survey", kind]
    if survey_round is not None:
        name = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "-", survey_round.name).strip(" .-")[:80]
        parts += [str(survey_round.pk), name]
    if extra:
        parts.append(extra)
    return "-".join(p for p in parts if p) + f".{ext}"


def _company() -> dict:
    return {"company_zh": settings.COMPANY_NAME_ZH, "company_en": settings.COMPANY_NAME_EN}


def _round_info(survey_round: SurveyRound) -> list[tuple[str, str]]:
    """The lines that name a round at the top of its tables (label, value)."""
    r = survey_round
    return [
        (both(("调查批次", "Round")), r.name),
        (both(("类别", "Kind")), f"{KINDS_ZH.get(r.kind, r.kind)} / {english(r.get_kind_display())}"),
        (both(("调查期间", "Period")), f"{r.period_start.isoformat()} – {r.period_end.isoformat()}"),
        (both(("回复截止", "Answers by")), r.deadline.isoformat()),
        (both(("状态", "Status")), f"{STATUSES_ZH.get(r.status, r.status)} / {english(r.get_status_display())}"),
        (both(("调查表版本", "Form version")), str(r.form.version)),
    ]


# --- The statistics table 《客户满意度调查统计表》 ------------------------------------------------------------


@dataclass
class StatisticsRow:
    number: int
    stats: QuestionStats
    cells: list[int | None]  # answers per value of the table's columns; None where the scale has no such value

    @property
    def question(self) -> Question:
        return self.stats.question


@dataclass
class Comment:
    customer_code: str
    customer_name: str
    contact: str
    text: str


@dataclass
class Statistics:
    survey_round: SurveyRound
    values: list[int]  # the distribution's columns: every value of every question's scale
    rows: list[StatisticsRow]
    responses: int
    mean_score: Decimal | None  # the mean of the responses' scores (0–100)
    comments: list[Comment] = field(default_factory=list)


def statistics(survey_round: SurveyRound) -> Statistics:
    stats = question_statistics(survey_round)
    values = sorted({v for item in stats for v in item.question.choices})
    rows = []
    for number, item in enumerate(stats, 1):
        choices = set(item.question.choices)
        rows.append(
            StatisticsRow(
                number=number,
                stats=item,
                cells=[item.distribution.get(v, 0) if v in choices else None for v in values],
            )
        )
    scores, comments = [], []
    responses = survey_round.responses.select_related("line__customer", "invitation__contact").order_by(
        "line__customer__code", "pk"
    )
    for response in responses:
        if response.score is not None:
            scores.append(response.score)
        if response.comment:
            customer = response.line.customer
            comments.append(
                Comment(
                    customer.code,
                    customer.name_zh or customer.name_en,
                    response.invitation.contact.name,
                    response.comment,
                )
            )
    return Statistics(
        survey_round=survey_round,
        values=values,
        rows=rows,
        responses=len(responses),
        mean_score=scoring.mean(scores),
        comments=comments,
    )


# --- The summary table 《顾客满意度调查汇总表》 ----------------------------------------------------------------


def source_label(result: CustomerResult, sep: str = " / ") -> str:
    return both(SOURCES[result.source], sep) if result.source in SOURCES else ""


def rate_met(results: RoundResults) -> bool:
    return results.rate is not None and results.rate >= results.survey_round.target


# --- Workbooks ----------------------------------------------------------------------------------------------

HEADER_FILL = "DDEBF7"
SCORE_FORMAT = "0.0"


class _Sheet:
    """A write-only sheet with the records' common look: a title, the company, the round, a styled header."""

    def __init__(self, workbook, title: str, widths: list[int]):
        from openpyxl.utils import get_column_letter

        self.sheet = workbook.create_sheet(title=title)
        for index, width in enumerate(widths, 1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.row = 0

    def append(self, values: list, *, style=None) -> None:
        from openpyxl.cell import Cell, WriteOnlyCell

        cells = []
        for value in values:
            value = text_cell(self.sheet, value)
            if style is not None or isinstance(value, Decimal):
                cell = value if isinstance(value, Cell) else WriteOnlyCell(self.sheet, value=value)
                if isinstance(value, Decimal):
                    cell.number_format = SCORE_FORMAT
                if style is not None:
                    style(cell)
                value = cell
            cells.append(value)
        self.sheet.append(cells)
        self.row += 1

    def title(self, pair: tuple[str, str], survey_round: SurveyRound) -> None:
        from openpyxl.styles import Font

        def big(cell):
            cell.font = Font(bold=True, size=14)

        self.append([both(pair)], style=big)
        self.append([f"{settings.COMPANY_NAME_ZH} / {settings.COMPANY_NAME_EN}"])
        for label, value in _round_info(survey_round):
            self.append([label, value])
        self.append([])

    def header(self, labels: list[str]) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        font, fill, wrap = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL), Alignment(wrap_text=True)

        def styled(cell):
            cell.font, cell.fill, cell.alignment = font, fill, wrap

        self.append(labels, style=styled)
        self.sheet.freeze_panes = f"A{self.row + 1}"

    def section(self, text: str) -> None:
        from openpyxl.styles import Font

        def bold(cell):
            cell.font = Font(bold=True)

        self.append([])
        self.append([text], style=bold)


def _save(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _na(value):
    """Empty for "nothing to show" rather than a zero that reads as a score."""
    return "" if value is None else value


def build_statistics_xlsx(survey_round: SurveyRound) -> bytes:
    """《客户满意度调查统计表》 of a round as .xlsx: per question the answers, "not applicable", the mean on the
    question's scale and on 0–100, and how many gave each value; then the comments."""
    from openpyxl import Workbook

    data = statistics(survey_round)
    workbook = Workbook(write_only=True)
    sheet = _Sheet(workbook, STATISTICS_TITLE[0], [8, 50, 9, 9, 9, 11, 11, 13] + [9] * len(data.values))
    sheet.title(STATISTICS_TITLE, survey_round)
    sheet.append([both(("答卷数", "Responses")), data.responses])
    sheet.append([both(("平均得分(0–100)", "Mean score (0–100)")), _na(data.mean_score)])
    sheet.append([])
    sheet.header(
        [
            both(("序号", "No."), "\n"),
            both(("调查项目", "Question"), "\n"),
            both(("权重", "Weight"), "\n"),
            both(("分值范围", "Scale"), "\n"),
            both(("答复数", "Answers"), "\n"),
            both(("不适用", "N/A"), "\n"),
            both(("平均分", "Mean"), "\n"),
            both(("平均分(0–100)", "Mean (0–100)"), "\n"),
        ]
        + [f"{v}分\nRated {v}" for v in data.values]
    )
    for row in data.rows:
        q = row.question
        sheet.append(
            [
                row.number,
                f"{q.text_zh}\n{q.text_en}",
                q.weight,
                f"{q.scale_min}–{q.scale_max}",
                row.stats.answers,
                row.stats.not_applicable,
                _na(row.stats.mean),
                _na(row.stats.mean_points),
            ]
            + [_na(cell) for cell in row.cells]
        )
    sheet.section(both(("意见及建议", "Comments")))
    sheet.header(
        [both(("客户代码", "Code"), "\n"), both(("客户", "Customer"), "\n"), both(("联系人", "Contact"), "\n")]
        + [both(("意见", "Comment"), "\n")]
    )
    for comment in data.comments:
        sheet.append([comment.customer_code, comment.customer_name, comment.contact, comment.text])
    return _save(workbook)


def build_summary_xlsx(survey_round: SurveyRound) -> bytes:
    """《顾客满意度调查汇总表》 of a round as .xlsx: per surveyed customer the contacts, whether it answered,
    its score, band and where the score comes from; then the round's score, response rate and band counts."""
    from openpyxl import Workbook

    results = round_results(survey_round)
    workbook = Workbook(write_only=True)
    sheet = _Sheet(workbook, SUMMARY_TITLE[0], [8, 14, 30, 30, 11, 10, 10, 13, 13, 11, 22, 24])
    sheet.title(SUMMARY_TITLE, survey_round)
    sheet.header(
        [
            both(("序号", "No."), "\n"),
            both(("客户代码", "Code"), "\n"),
            both(("客户名称", "Customer (Chinese)"), "\n"),
            both(("英文名称", "Customer (English)"), "\n"),
            both(("调查联系人", "Contacts surveyed"), "\n"),
            both(("答卷数", "Responses"), "\n"),
            both(("已答复", "Answered"), "\n"),
            both(("调查表得分", "Survey score"), "\n"),
            both(("客户评分(0–100)", "Own scorecard (0–100)"), "\n"),
            both(("得分", "Score"), "\n"),
            both(("满意等级", "Rating"), "\n"),
            both(("得分来源", "Score from"), "\n"),
        ]
    )
    for number, c in enumerate(results.customers, 1):
        sheet.append(
            [
                number,
                c.customer.code,
                c.customer.name_zh,
                c.customer.name_en,
                c.contacts,
                len(c.responses),
                both(YES if c.answered else NO),
                _na(c.survey_score),
                _na(c.scorecard.normalised if c.scorecard else None),
                _na(c.score),
                band_label(c.band),
                source_label(c),
            ]
        )
    sheet.section(both(("合计", "Totals")))
    sheet.append([both(("调查客户数", "Customers surveyed")), results.surveyed])
    sheet.append([both(("已答复客户数", "Customers who answered")), results.answered])
    sheet.append([both(("回收率 (%)", "Response rate (%)")), _na(results.rate)])
    sheet.append(
        [
            both(("回收率目标 (%)", "Response-rate target (%)")),
            survey_round.target,
            both(YES if rate_met(results) else NO) + " " + both(("达标", "target met"), "/"),
        ]
    )
    sheet.append([both(("本批次得分", "Round score")), _na(results.score), band_label(results.band)])
    if settings.SURVEY_ROUND_WEIGHTING == "quantity":
        sheet.append(["", both(("按交货数量加权", "weighted by quantity delivered"))])
    sheet.section(both(("各等级客户数", "Customers per rating")))
    for band, count in results.band_counts:
        sheet.append([band_label(band), count])
    return _save(workbook)


# --- PDFs -----------------------------------------------------------------------------------------------------


@dataclass
class FormQuestion:
    number: int
    question: Question
    choices: list[tuple[int, bool]]  # (value, chosen)
    na_chosen: bool = False
    answered: bool = False
    value: int | None = None


def _form_questions(form: SurveyForm, answers: dict | None = None) -> list[FormQuestion]:
    items = []
    for number, question in enumerate(form.questions.all(), 1):
        key = str(question.pk)
        answered = answers is not None and key in answers
        value = answers.get(key) if answered else None
        items.append(
            FormQuestion(
                number=number,
                question=question,
                choices=[(v, answered and value == v) for v in question.choices],
                na_chosen=answered and value is None,
                answered=answered,
                value=value,
            )
        )
    return items


def _form_context(
    form: SurveyForm, *, survey_round: SurveyRound | None = None, line: RoundCustomer | None = None, response=None
) -> dict:
    context = {
        **_company(),
        "form": form,
        "questions": _form_questions(form, response.answers if response is not None else None),
        "survey_round": survey_round,
        "customer": line.customer if line is not None else None,
        "response": response,
        "comment_lines": range(4),
    }
    if response is not None:
        band = scoring.band_for(response.score)
        context |= {
            "band": band_label(band),
            "channel": f"{CHANNELS_ZH.get(response.channel, response.channel)} / "
            f"{english(response.get_channel_display())}",
            "contact": response.invitation.contact,
        }
    return context


def blank_form_pdf(form: SurveyForm, *, survey_round: SurveyRound | None = None, line: RoundCustomer | None = None):
    """The blank 《客户满意度调查表》 of a form version; with the round and customer filled in when given."""
    return render_pdf("satisfaction/pdf/form.html", _form_context(form, survey_round=survey_round, line=line))


def _responses(queryset):
    return queryset.select_related(
        "form", "round__form", "line__customer", "invitation__contact", "entered_by"
    ).prefetch_related("form__questions")


def response_pdf(response: Response) -> bytes:
    """One answered form: the answers marked, its score and band, how it came in and who keyed it."""
    response = _responses(Response.objects.filter(pk=response.pk)).get()
    return render_pdf("satisfaction/pdf/form.html", _response_context(response))


def _response_context(response: Response) -> dict:
    return _form_context(response.form, survey_round=response.round, line=response.line, response=response)


def responses_pdf(survey_round: SurveyRound) -> bytes | None:
    """Every answered form of a round, one after the other (each numbered on its own); None when there is none."""
    responses = list(_responses(survey_round.responses.order_by("line__customer__code", "invitation__contact__name")))
    if not responses:
        return None
    documents = [render_document("satisfaction/pdf/form.html", _response_context(r)) for r in responses]
    return write_documents(documents)


def statistics_pdf(survey_round: SurveyRound) -> bytes:
    data = statistics(survey_round)
    return render_pdf(
        "satisfaction/pdf/statistics.html",
        {
            **_company(),
            "survey_round": survey_round,
            "round_info": _round_info(survey_round),
            "data": data,
            "landscape": len(data.values) > 6,
            "printed_at": timezone.localtime(),
        },
    )


def summary_pdf(survey_round: SurveyRound) -> bytes:
    results = round_results(survey_round)
    rows = [
        {
            "number": number,
            "result": c,
            "answered": both(YES if c.answered else NO),
            "band": band_label(c.band),
            "source": source_label(c),
        }
        for number, c in enumerate(results.customers, 1)
    ]
    return render_pdf(
        "satisfaction/pdf/summary.html",
        {
            **_company(),
            "survey_round": survey_round,
            "round_info": _round_info(survey_round),
            "results": results,
            "rows": rows,
            "round_band": band_label(results.band),
            "rate_met": both(YES if rate_met(results) else NO),
            "band_counts": [(band_label(band), count) for band, count in results.band_counts],
            "weighted_by_quantity": settings.SURVEY_ROUND_WEIGHTING == "quantity",
            "printed_at": timezone.localtime(),
        },
    )
