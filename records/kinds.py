"""The record forms of the procedure (§7 and the records the clauses keep): where each comes from, how its
records are found for a period, and how each record's documents are made for the archive.

Records reads every app and nothing imports records, so the kinds are defined here, not registered by the apps:
a kind of an app that is not installed (or whose model is not there yet) is simply left out (``available()``).
Each document is the stored file where the app keeps one (signed scans, sent sheets, the acknowledgement PDF as
e-mailed), else made by the app's own render function from the record as the app prints it today.

A kind is a table row: its index entry is read from the record by attribute paths (``"note.customer"``) or, where
the form needs more, a function of the record; its documents come from ``stored_file``/``rendered`` where the form
has the common shape, else from a function written out below.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

Make = Callable[[], bytes]
Documents = Callable[[Model], list["Document"]]
# Where an index value comes from: an attribute path of the record ("note.number"), or a function of the record.
Part = str | Callable[[Any], Any]


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


def _at(obj, path: str):
    """The value at a dotted attribute path; None for no path, or where the path meets an empty relation."""
    if not path:
        return None
    for name in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def _value(obj, part: Part):
    return part(obj) if callable(part) else _at(obj, part)


@dataclass(frozen=True)
class RecordKind:
    key: str
    name_zh: str
    name: str  # lazy translation
    clause: str
    model: str  # "app_label.ModelName"
    date_field: str
    page: str  # the url name of the app page where these records are
    # The index entry: number, summary and when are parts (a path or a function); customer is the path to the
    # record's customer and who the path to the user (or a function giving the name); "" where the form has none.
    number: Part
    summary: Part
    when: Part
    customer: str = ""
    who: Part = ""
    default_years: int = 3  # kept this long unless an administrator sets another period
    documents: Documents = lambda obj: []
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

    def entry(self, obj: Model) -> Entry:
        """The record's line in the index; its day is the (local) day the period is chosen by."""
        return Entry(
            _value(obj, self.number),
            day_of(getattr(obj, self.date_field)),
            customer_label(_at(obj, self.customer)),
            _value(obj, self.summary),
            self.who(obj) if callable(self.who) else person(_at(obj, self.who)),
            _value(obj, self.when),
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


def status(obj) -> str:
    return str(obj.get_status_display())


def period(obj) -> str:
    return f"{obj.period_start}–{obj.period_end}"


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


def stored_file(attribute: str, name: Callable[[Any], str]) -> Documents:
    """The record's one stored file (its ``attribute``), named ``name(record)`` plus the file's own extension."""
    return lambda obj: [stored(getattr(obj, attribute), name(obj))]


def rendered(render: str, name: Callable[[Any], str]) -> Documents:
    """One document ``name(record)`` (with its extension) made by the app's function ``render(record)``, given by
    its dotted path: it is imported when the documents are asked for, as the app may not be installed."""

    def documents(obj) -> list[Document]:
        function = import_string(render)
        return [Document(name(obj), lambda: function(obj))]

    return documents


# --- The documents of the forms that differ ----------------------------------------------------------------------


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


def _review_docs(review) -> list[Document]:
    from improvement.review import build_xlsx, review_pdf

    name = f"review-{review.period_start:%Y%m%d}-{review.period_end:%Y%m%d}-{review.pk}"
    return [Document(name + ".pdf", lambda: review_pdf(review)), Document(name + ".xlsx", lambda: build_xlsx(review))]


def _sample_note_docs(note) -> list[Document]:
    try:
        from samples.printing import note_pdf
    except ImportError:  # the samples app without its printing yet: the index row only
        return []
    return [Document(f"{note.number}.pdf", lambda: note_pdf(note, "a4"))]


def _files(objects: Iterable, attribute: str, prefix: str) -> list[Document]:
    return [stored(getattr(o, attribute), f"{prefix}-{n}") for n, o in enumerate(objects, 1)]


# --- The kinds ---------------------------------------------------------------------------------------------------


def signed_copy_kind(*, key: str, name_zh: str, name: str, model: str, page: str) -> RecordKind:
    """A note as the customer signed it back (§5.8.1): the scan, filed under the note's number."""
    return RecordKind(
        key=key,
        name_zh=name_zh,
        name=name,
        clause="5.8.1",
        model=model,
        date_field="signed_on",
        page=page,
        related=("note__customer", "recorded_by"),
        number="note.number",
        customer="note.customer",
        summary="signed_by_name",
        who="recorded_by",
        when="recorded_at",
        documents=stored_file("scan", lambda s: f"{s.note.number}-signed"),
    )


def survey_table_kind(*, key: str, name_zh: str, name: str, clause: str, documents: Documents) -> RecordKind:
    """A table made from a closed survey round (§7.5, §7.6), one record per round."""
    return RecordKind(
        key=key,
        name_zh=name_zh,
        name=name,
        clause=clause,
        model="satisfaction.SurveyRound",
        date_field="period_end",
        page="satisfaction:rounds",
        filters={"status": "closed"},
        related=("closed_by",),
        number="name",
        summary=period,
        who="closed_by",
        when="closed_at",
        documents=documents,
    )


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
        number=lambda e: f"{e.customer.code} v{e.version}",
        customer="customer",
        summary=status,
        who="decided_by",
        when="decided_at",
        documents=rendered("customers.documents.evaluation_pdf", lambda e: f"{e.customer.code}-v{e.version}.pdf"),
    ),
    RecordKind(
        key="quotation",
        name_zh="《报价单》",
        name=_("Quotation"),
        clause="5.2.4.1",
        model="customers.Quotation",
        date_field="valid_from",
        page="customers:list",
        related=("customer", "product", "created_by"),
        number=lambda q: q.reference or f"Q{q.pk}",
        customer="customer",
        summary=lambda q: f"{q.product.code} {q.unit_price} {q.currency} {q.valid_from}–{q.valid_to or ''}",
        who="created_by",
        when="created_at",
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
        filters={"status": "sent"},
        related=("order__customer", "requested_by"),
        number=lambda a: f"{a.order.number} r{a.revision}",
        customer="order.customer",
        summary="recipient",
        who="requested_by",
        when="sent_at",
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
        related=("order__customer", "issued_by"),
        number="number",
        customer="order.customer",  # a memo of no order has no customer
        summary="subject",
        who="issued_by",
        when="issued_at",
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
        number=lambda r: f"{r.day:%Y-%m-%d}" + (" +" if r.forced else ""),
        summary=lambda r: ", ".join(r.recipients),
        when="sent_at",
        documents=stored_file("workbook", lambda r: f"sheet-{r.day:%Y%m%d}-{r.pk}"),
    ),
    RecordKind(
        key="delivery_note",
        name_zh="《送货单》",
        name=_("Delivery note"),
        clause="7.1",
        model="delivery.DeliveryNote",
        date_field="delivery_date",
        page="delivery:notes",
        related=("customer", "issued_by"),
        number="number",
        customer="customer",
        summary=status,
        who="issued_by",
        when="issued_at",
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
        related=("note__customer", "requested_by"),
        number="number",
        customer="note.customer",
        summary="note.number",
        who="requested_by",
        when="requested_at",
        documents=_dispatch_docs,
    ),
    signed_copy_kind(
        key="sign_back",
        name_zh="送货单回签",
        name=_("Signed-back delivery note"),
        model="delivery.SignBack",
        page="delivery:notes",
    ),
    RecordKind(
        key="return",
        name_zh="退货",
        name=_("Return"),
        clause="5.7.1",
        model="delivery.Return",
        date_field="recorded_at",
        page="delivery:returns",
        related=("note_line__note__customer", "recorded_by"),
        number=lambda r: f"{r.note_line.note.number} R{r.pk}",
        customer="note_line.note.customer",
        summary=lambda r: f"{r.quantity} {r.get_status_display()}: {r.reason}",
        who="recorded_by",
        when="recorded_at",
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
        related=("line__customer", "round", "entered_by", "invitation__contact"),
        number=lambda r: f"{r.round.name} #{r.pk}",
        customer="line.customer",
        summary=lambda r: f"{r.score if r.score is not None else ''} {r.get_channel_display()}",
        who=lambda r: person(r.entered_by) or r.invitation.contact.name,
        when="submitted_at",
        documents=_response_docs,
    ),
    survey_table_kind(
        key="statistics",
        name_zh="《客户满意度调查统计表》",
        name=_("Survey statistics table"),
        clause="7.5",
        documents=rendered("satisfaction.records.build_statistics_xlsx", lambda r: f"statistics-{r.pk}.xlsx"),
    ),
    survey_table_kind(
        key="summary",
        name_zh="《顾客满意度调查汇总表》",
        name=_("Survey summary table"),
        clause="7.6",
        documents=rendered("satisfaction.records.build_summary_xlsx", lambda r: f"summary-{r.pk}.xlsx"),
    ),
    RecordKind(
        key="analysis_report",
        name_zh="《客户满意度调查分析报告》",
        name=_("Satisfaction analysis report"),
        clause="5.12.5",
        model="improvement.AnalysisReport",
        date_field="decided_at",
        page="improvement:home",
        filters={"status__in": ["confirmed", "superseded"]},
        related=("round", "decided_by"),
        number=lambda r: f"{r.round.name} v{r.version}",
        summary=status,
        who="decided_by",
        when="decided_at",
        documents=rendered("improvement.report.report_pdf", lambda r: f"report-{r.round_id}-v{r.version}.pdf"),
    ),
    RecordKind(
        key="meeting",
        name_zh="改善措施会议记录",
        name=_("Improvement meeting minutes"),
        clause="5.12.6",
        model="improvement.Meeting",
        date_field="held_on",
        page="improvement:meetings",
        related=("memo", "recorded_by"),
        number=lambda m: m.memo.number if m.memo_id else f"M{m.pk}",
        summary="title",
        who="recorded_by",
        when="recorded_at",
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
        related=("customer", "owner", "created_by"),
        number="number",
        customer="customer",
        summary=lambda a: (
            f"{a.title} ({a.get_status_display()}, {a.owner_department}, {person(a.owner)}, {a.due_date})"
        ),
        who="created_by",
        when="created_at",
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
        related=("customer", "recorded_by"),
        number="number",
        customer="customer",
        summary=lambda c: f"{c.get_category_display()} ({c.get_status_display()}): {c.description[:200]}",
        who="recorded_by",
        when="recorded_at",
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
        related=("prepared_by",),
        number="title",
        summary=period,
        who="prepared_by",
        when="prepared_at",
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
        related=("customer", "issued_by"),
        number="number",
        customer="customer",
        summary=lambda n: f"{n.product_code} {n.quantity} {n.unit}",
        who="issued_by",
        when="issued_at",
        documents=_sample_note_docs,
    ),
    signed_copy_kind(
        key="sample_receipt",
        name_zh="送样单回签",
        name=_("Signed sample receipt"),
        model="samples.SampleReceipt",
        page="samples:list",
    ),
    RecordKind(
        key="sample_verdict",
        name_zh="试样结果客户书面回签",
        name=_("Customer's written sample verdict"),
        clause="5.2.4.3",
        model="samples.SampleVerdict",
        date_field="document_date",
        page="samples:list",
        related=("request", "recorded_by"),
        number=lambda v: f"V{v.pk}",
        customer="request.customer",
        summary=lambda v: str(v.get_outcome_display()),
        who="recorded_by",
        when="recorded_at",
        documents=stored_file("document", lambda v: f"verdict-{v.pk}"),
    ),
    RecordKind(
        key="property_check",
        name_zh="客供品检查记录",
        name=_("Customer property check"),
        clause="5.10.3",
        model="customer_property.PropertyCheck",
        date_field="checked_on",
        page="customer_property:list",
        related=("item", "checked_by"),
        number="item.number",
        customer="item.customer",
        summary=lambda c: f"{c.get_condition_found_display()} {c.notes}".strip(),
        who="checked_by",
        when="recorded_at",
        note=_("The index sheet holds each check."),
    ),
)


def available_kinds() -> list[RecordKind]:
    return [kind for kind in KINDS if kind.available()]


def get_kind(key: str) -> RecordKind | None:
    return next((kind for kind in available_kinds() if kind.key == key), None)
