"""The record forms of the procedure (§7 and the records the clauses keep): where each comes from, how its
records are found for a period, and how each record's documents are made for the archive.

Records reads every app and nothing imports records, so the kinds are defined here, not registered by the apps:
a kind of an app that is not installed (or whose model is not there yet) is simply left out (``available()``).
Each document is the stored file where the app keeps one (signed scans, sent sheets, the acknowledgement PDF as
e-mailed), else made by the app's own render function from the record as the app prints it today.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.apps import apps
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

Make = Callable[[], bytes]


class NoDocument(Exception):
    """A document the record should have and that is not there (e.g. a sheet sent before sheets were kept)."""


@dataclass(frozen=True)
class Document:
    name: str  # file name inside the archive, without the kind's folder
    make: Make


@dataclass(frozen=True)
class Entry:
    """One record's line in the archive's index."""

    number: str
    day: date | None
    customer: str
    summary: str
    who: str
    when: datetime | None


@dataclass(frozen=True)
class RecordKind:
    key: str
    name_zh: str
    name: str  # lazy translation
    clause: str
    model: str  # "app_label.ModelName"
    date_field: str
    page: str  # the url name of the app page where these records are
    default_years: int
    entry: Callable[[Model], Entry]
    documents: Callable[[Model], list[Document]] = lambda obj: []
    filters: dict = field(default_factory=dict)
    related: tuple[str, ...] = ()
    note: str = ""  # what the archive holds for it, when not a document per record

    @property
    def app_label(self) -> str:
        return self.model.split(".")[0]

    def available(self) -> bool:
        if not apps.is_installed(self.app_label):
            return False
        try:
            model = apps.get_model(self.model)
        except LookupError:
            return False
        names = {f.name for f in model._meta.get_fields()}
        return self.date_field in names

    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    def queryset(self) -> QuerySet:
        return self.model_class().objects.filter(**self.filters)

    def records(self, date_from: date, date_to: date) -> QuerySet:
        """The records dated in the period (both days included), oldest first."""
        field_ = self.model_class()._meta.get_field(self.date_field)
        lookup = f"{self.date_field}__date" if field_.get_internal_type() == "DateTimeField" else self.date_field
        return (
            self.queryset()
            .filter(**{f"{lookup}__gte": date_from, f"{lookup}__lte": date_to})
            .select_related(*self.related)
            .order_by(self.date_field, "pk")
        )


# --- Helpers -----------------------------------------------------------------------------------------------------


def person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def customer_label(customer) -> str:
    if customer is None:
        return ""
    return f"{customer.code} {customer.name_zh or customer.name_en}".strip()


def day_of(value) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def stored(file_field, name: str | None = None) -> Document:
    """The file the app stored, exactly as stored (the signed scan, the sheet as sent, the PDF as e-mailed)."""

    def make() -> bytes:
        if not file_field:
            raise NoDocument(_("No file was kept for this record."))
        with file_field.open("rb") as handle:
            return handle.read()

    extension = "." + file_field.name.rsplit(".", 1)[-1] if file_field and "." in file_field.name else ""
    return Document((name or "file") + extension.lower(), make)


def kept_or(file_field, name: str, render: Make) -> Document:
    """The stored file when there is one, else the app's rendering of the record."""
    if file_field:
        return stored(file_field, name)
    return Document(name + ".pdf", render)


# --- The kinds ---------------------------------------------------------------------------------------------------


def _evaluation_docs(e) -> list[Document]:
    from customers.documents import evaluation_pdf

    return [Document(f"{e.customer.code}-v{e.version}.pdf", lambda: evaluation_pdf(e))]


def _acknowledgement_docs(a) -> list[Document]:
    from orders.documents import acknowledgement_pdf

    return [kept_or(a.pdf, f"{a.order.number}-r{a.revision}", lambda: acknowledgement_pdf(a.order, a.revision))]


def _memo_document(memo) -> Document:
    def make() -> bytes:
        from orders.documents import memo_pdf
        from orders.selectors import memo_for_page

        return memo_pdf(memo_for_page(memo.pk))

    return Document(f"{memo.number}.pdf", make)


def _note_docs(note) -> list[Document]:
    def make() -> bytes:
        from delivery.printing import _notes, notes_pdf

        return notes_pdf(_notes([note.pk]), "a4")

    return [Document(f"{note.number}.pdf", make)]


def _dispatch_docs(request) -> list[Document]:
    def make() -> bytes:
        from delivery.dispatch import dispatch_pdf, requests_with_notes

        return dispatch_pdf([requests_with_notes().get(pk=request.pk)], "a4")

    return [Document(f"{request.number}.pdf", make)]


def _response_docs(response) -> list[Document]:
    from satisfaction.records import response_pdf

    name = f"{response.line.customer.code}-{response.round_id}-{response.pk}"
    documents = [Document(name + ".pdf", lambda: response_pdf(response))]
    if response.scan:
        documents.append(stored(response.scan, name + "-scan"))
    return documents


def _statistics_docs(survey_round) -> list[Document]:
    from satisfaction.records import build_statistics_xlsx

    return [Document(f"statistics-{survey_round.pk}.xlsx", lambda: build_statistics_xlsx(survey_round))]


def _summary_docs(survey_round) -> list[Document]:
    from satisfaction.records import build_summary_xlsx

    return [Document(f"summary-{survey_round.pk}.xlsx", lambda: build_summary_xlsx(survey_round))]


def _report_docs(report) -> list[Document]:
    from improvement.report import report_pdf

    return [Document(f"report-{report.round_id}-v{report.version}.pdf", lambda: report_pdf(report))]


def _review_docs(review) -> list[Document]:
    from improvement.review import build_xlsx, review_pdf

    name = f"review-{review.period_start:%Y%m%d}-{review.period_end:%Y%m%d}-{review.pk}"
    return [Document(name + ".pdf", lambda: review_pdf(review)), Document(name + ".xlsx", lambda: build_xlsx(review))]


def _sheet_docs(run) -> list[Document]:
    return [stored(run.workbook, f"sheet-{run.day:%Y%m%d}-{run.pk}")]


def _sample_note_docs(note) -> list[Document]:
    try:
        from samples.printing import note_pdf
    except ImportError:  # the samples app without its printing yet: the index row only
        return []
    return [Document(f"{note.number}.pdf", lambda: note_pdf(note, "a4"))]


def _files(objects: Iterable, attribute: str, prefix: str) -> list[Document]:
    return [stored(getattr(o, attribute), f"{prefix}-{n}") for n, o in enumerate(objects, 1)]


KINDS: tuple[RecordKind, ...] = (
    RecordKind(
        key="evaluation",
        name_zh="《客户资料评估表》",
        name=_("Customer evaluation form"),
        clause="5.1.1",
        model="customers.CustomerEvaluation",
        date_field="decided_at",
        page="customers:list",
        default_years=5,
        filters={"status__in": ["approved", "superseded"]},
        related=("customer", "decided_by", "filed_by"),
        entry=lambda e: Entry(
            f"{e.customer.code} v{e.version}",
            day_of(e.decided_at),
            customer_label(e.customer),
            str(e.get_status_display()),
            person(e.decided_by),
            e.decided_at,
        ),
        documents=_evaluation_docs,
    ),
    RecordKind(
        key="quotation",
        name_zh="《报价单》",
        name=_("Quotation"),
        clause="5.2.4.1",
        model="customers.Quotation",
        date_field="valid_from",
        page="customers:list",
        default_years=3,
        related=("customer", "product", "created_by"),
        entry=lambda q: Entry(
            q.reference or f"Q{q.pk}",
            q.valid_from,
            customer_label(q.customer),
            f"{q.product.code} {q.unit_price} {q.currency} {q.valid_from}–{q.valid_to or ''}",
            person(q.created_by),
            q.created_at,
        ),
        note=_("The index sheet holds each quotation (the app keeps no issued document for it)."),
    ),
    RecordKind(
        key="acknowledgement",
        name_zh="订单回传确认",
        name=_("Order acknowledgement"),
        clause="5.2.3",
        model="orders.Acknowledgement",
        date_field="sent_at",
        page="orders:list",
        default_years=3,
        filters={"status": "sent"},
        related=("order__customer", "requested_by"),
        entry=lambda a: Entry(
            f"{a.order.number} r{a.revision}",
            day_of(a.sent_at),
            customer_label(a.order.customer),
            a.recipient,
            person(a.requested_by),
            a.sent_at,
        ),
        documents=_acknowledgement_docs,
    ),
    RecordKind(
        key="memo",
        name_zh="《内部联络函》",
        name=_("Internal memo"),
        clause="7.3",
        model="orders.Memo",
        date_field="issued_at",
        page="orders:memos",
        default_years=3,
        related=("order__customer", "issued_by"),
        entry=lambda m: Entry(
            m.number,
            day_of(m.issued_at),
            customer_label(m.order.customer) if m.order_id else "",
            m.subject,
            person(m.issued_by),
            m.issued_at,
        ),
        documents=lambda m: [_memo_document(m)],
    ),
    RecordKind(
        key="progress_sheet",
        name_zh="《订单交货进度表》",
        name=_("Daily delivery-progress sheet, as sent"),
        clause="7.2",
        model="delivery.DailySheetRun",
        date_field="day",
        page="delivery:sheet",
        default_years=1,
        filters={"status": "sent"},
        entry=lambda r: Entry(
            f"{r.day:%Y-%m-%d}" + (" +" if r.forced else ""),
            r.day,
            "",
            ", ".join(r.recipients),
            "",
            r.sent_at,
        ),
        documents=_sheet_docs,
    ),
    RecordKind(
        key="delivery_note",
        name_zh="《送货单》",
        name=_("Delivery note"),
        clause="7.1",
        model="delivery.DeliveryNote",
        date_field="delivery_date",
        page="delivery:notes",
        default_years=3,
        related=("customer", "issued_by"),
        entry=lambda n: Entry(
            n.number,
            n.delivery_date,
            customer_label(n.customer),
            str(n.get_status_display()),
            person(n.issued_by),
            n.issued_at,
        ),
        documents=_note_docs,
    ),
    RecordKind(
        key="dispatch",
        name_zh="《车辆调度申请单》",
        name=_("Vehicle dispatch request"),
        clause="5.6.1",
        model="delivery.DispatchRequest",
        date_field="use_date",
        page="delivery:notes",
        default_years=3,
        related=("note__customer", "requested_by"),
        entry=lambda d: Entry(
            d.number,
            d.use_date,
            customer_label(d.note.customer),
            d.note.number,
            person(d.requested_by),
            d.requested_at,
        ),
        documents=_dispatch_docs,
    ),
    RecordKind(
        key="sign_back",
        name_zh="送货单回签",
        name=_("Signed-back delivery note"),
        clause="5.8.1",
        model="delivery.SignBack",
        date_field="signed_on",
        page="delivery:notes",
        default_years=3,
        related=("note__customer", "recorded_by"),
        entry=lambda s: Entry(
            s.note.number,
            s.signed_on,
            customer_label(s.note.customer),
            s.signed_by_name,
            person(s.recorded_by),
            s.recorded_at,
        ),
        documents=lambda s: [stored(s.scan, f"{s.note.number}-signed")],
    ),
    RecordKind(
        key="return",
        name_zh="退货",
        name=_("Return"),
        clause="5.7.1",
        model="delivery.Return",
        date_field="recorded_at",
        page="delivery:returns",
        default_years=3,
        related=("note_line__note__customer", "recorded_by"),
        entry=lambda r: Entry(
            f"{r.note_line.note.number} R{r.pk}",
            day_of(r.recorded_at),
            customer_label(r.note_line.note.customer),
            f"{r.quantity} {r.get_status_display()}: {r.reason}",
            person(r.recorded_by),
            r.recorded_at,
        ),
        documents=lambda r: [_memo_document(m) for m in r.memos.order_by("issued_at", "pk")],
        note=_("Quality's internal memos of each return."),
    ),
    RecordKind(
        key="survey_form",
        name_zh="《客户满意度调查表》",
        name=_("Customer satisfaction survey form (answered)"),
        clause="7.4",
        model="satisfaction.Response",
        date_field="submitted_at",
        page="satisfaction:rounds",
        default_years=3,
        related=("line__customer", "round", "entered_by", "invitation__contact"),
        entry=lambda r: Entry(
            f"{r.round.name} #{r.pk}",
            day_of(r.submitted_at),
            customer_label(r.line.customer),
            f"{r.score if r.score is not None else ''} {r.get_channel_display()}",
            person(r.entered_by) or r.invitation.contact.name,
            r.submitted_at,
        ),
        documents=_response_docs,
    ),
    RecordKind(
        key="statistics",
        name_zh="《客户满意度调查统计表》",
        name=_("Survey statistics table"),
        clause="7.5",
        model="satisfaction.SurveyRound",
        date_field="period_end",
        page="satisfaction:rounds",
        default_years=3,
        filters={"status": "closed"},
        related=("closed_by",),
        entry=lambda r: Entry(
            r.name, r.period_end, "", f"{r.period_start}–{r.period_end}", person(r.closed_by), r.closed_at
        ),
        documents=_statistics_docs,
    ),
    RecordKind(
        key="summary",
        name_zh="《顾客满意度调查汇总表》",
        name=_("Survey summary table"),
        clause="7.6",
        model="satisfaction.SurveyRound",
        date_field="period_end",
        page="satisfaction:rounds",
        default_years=3,
        filters={"status": "closed"},
        related=("closed_by",),
        entry=lambda r: Entry(
            r.name, r.period_end, "", f"{r.period_start}–{r.period_end}", person(r.closed_by), r.closed_at
        ),
        documents=_summary_docs,
    ),
    RecordKind(
        key="analysis_report",
        name_zh="《客户满意度调查分析报告》",
        name=_("Satisfaction analysis report"),
        clause="5.12.5",
        model="improvement.AnalysisReport",
        date_field="decided_at",
        page="improvement:home",
        default_years=3,
        filters={"status__in": ["confirmed", "superseded"]},
        related=("round", "decided_by"),
        entry=lambda r: Entry(
            f"{r.round.name} v{r.version}",
            day_of(r.decided_at),
            "",
            str(r.get_status_display()),
            person(r.decided_by),
            r.decided_at,
        ),
        documents=_report_docs,
    ),
    RecordKind(
        key="meeting",
        name_zh="改善措施会议记录",
        name=_("Improvement meeting minutes"),
        clause="5.12.6",
        model="improvement.Meeting",
        date_field="held_on",
        page="improvement:meetings",
        default_years=3,
        related=("memo", "recorded_by"),
        entry=lambda m: Entry(
            m.memo.number if m.memo_id else f"M{m.pk}", m.held_on, "", m.title, person(m.recorded_by), m.recorded_at
        ),
        documents=lambda m: [_memo_document(m.memo)] if m.memo_id else [],
        note=_("The minutes as the internal memo sent to the departments."),
    ),
    RecordKind(
        key="action",
        name_zh="纠正与预防措施",
        name=_("Corrective action"),
        clause="5.12.6",
        model="improvement.Action",
        date_field="created_at",
        page="improvement:actions",
        default_years=3,
        related=("customer", "owner", "created_by"),
        entry=lambda a: Entry(
            a.number,
            day_of(a.created_at),
            customer_label(a.customer),
            f"{a.title} ({a.get_status_display()}, {a.owner_department}, {person(a.owner)}, {a.due_date})",
            person(a.created_by),
            a.created_at,
        ),
        note=_("The index sheet holds each action with its status (the app keeps no issued document for it)."),
    ),
    RecordKind(
        key="complaint",
        name_zh="客户抱怨(客诉)",
        name=_("Complaint"),
        clause="5.10.2",
        model="complaints.Complaint",
        date_field="received_on",
        page="complaints:list",
        default_years=3,
        related=("customer", "recorded_by"),
        entry=lambda c: Entry(
            c.number,
            c.received_on,
            customer_label(c.customer),
            f"{c.get_category_display()} ({c.get_status_display()}): {c.description[:200]}",
            person(c.recorded_by),
            c.recorded_at,
        ),
        documents=lambda c: _files(c.attachments.order_by("uploaded_at", "pk"), "file", c.number),
        note=_("Each complaint's attached files."),
    ),
    RecordKind(
        key="management_review",
        name_zh="管理评审资料",
        name=_("Management review pack"),
        clause="5.12.7",
        model="improvement.ManagementReview",
        date_field="period_end",
        page="improvement:reviews",
        default_years=3,
        related=("prepared_by",),
        entry=lambda r: Entry(
            r.title, r.period_end, "", f"{r.period_start}–{r.period_end}", person(r.prepared_by), r.prepared_at
        ),
        documents=_review_docs,
    ),
    # Samples and customer property (§5.2.4.3, §5.8.1, §5.10.3): present once those apps have their models.
    RecordKind(
        key="sample_note",
        name_zh="送样单",
        name=_("Sample delivery note"),
        clause="5.8.1",
        model="samples.SampleNote",
        date_field="delivery_date",
        page="samples:list",
        default_years=3,
        related=("customer", "issued_by"),
        entry=lambda n: Entry(
            n.number,
            n.delivery_date,
            customer_label(n.customer),
            f"{n.product_code} {n.quantity} {n.unit}",
            person(n.issued_by),
            n.issued_at,
        ),
        documents=_sample_note_docs,
    ),
    RecordKind(
        key="sample_receipt",
        name_zh="送样单回签",
        name=_("Signed sample receipt"),
        clause="5.8.1",
        model="samples.SampleReceipt",
        date_field="signed_on",
        page="samples:list",
        default_years=3,
        related=("note__customer", "recorded_by"),
        entry=lambda s: Entry(
            s.note.number,
            s.signed_on,
            customer_label(s.note.customer),
            s.signed_by_name,
            person(s.recorded_by),
            s.recorded_at,
        ),
        documents=lambda s: [stored(s.scan, f"{s.note.number}-signed")],
    ),
    RecordKind(
        key="sample_verdict",
        name_zh="试样结果客户书面回签",
        name=_("Customer's written sample verdict"),
        clause="5.2.4.3",
        model="samples.SampleVerdict",
        date_field="document_date",
        page="samples:list",
        default_years=3,
        related=("request", "recorded_by"),
        entry=lambda v: Entry(
            f"V{v.pk}",
            v.document_date,
            customer_label(getattr(v.request, "customer", None)),
            str(v.get_outcome_display()),
            person(v.recorded_by),
            v.recorded_at,
        ),
        documents=lambda v: [stored(v.document, f"verdict-{v.pk}")],
    ),
    RecordKind(
        key="property_check",
        name_zh="客供品检查记录",
        name=_("Customer property check"),
        clause="5.10.3",
        model="customer_property.PropertyCheck",
        date_field="checked_on",
        page="customer_property:list",
        default_years=3,
        related=("item", "checked_by"),
        entry=lambda c: Entry(
            c.item.number,
            c.checked_on,
            customer_label(getattr(c.item, "customer", None)),
            f"{c.get_condition_found_display()} {c.notes}".strip(),
            person(c.checked_by),
            c.recorded_at,
        ),
        note=_("The index sheet holds each check."),
    ),
)


def available_kinds() -> list[RecordKind]:
    return [kind for kind in KINDS if kind.available()]


def get_kind(key: str) -> RecordKind | None:
    return next((kind for kind in available_kinds() if kind.key == key), None)
