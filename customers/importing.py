"""Excel import of customer lists (administrators).

One row = a customer with its first (primary) contact and first (default) delivery address; the customer
code is the key, so importing the same file twice changes nothing. The admin page, the background job and
``manage.py import_customers`` all call :func:`customer_import`.

The file is checked in three layers, and nothing is written unless all pass:
1. the file itself (size, really an .xlsx, not password-protected, not empty) -> ImportFileError;
2. the header row (missing, unknown or repeated columns) -> ImportFileError;
3. every row (types, dates, choices, users, formulas, codes repeated in the file, model validation),
   by a django-import-export resource -> per-row errors in the report.
Only a file without any error is imported, in one transaction.

Speed (bench/bench_import.py): the file is read with python-calamine (openpyxl only when the sheet holds
formulas, to name their cells); everything the rows refer to is loaded once; rows are validated one by one but
written together with bulk_create/bulk_update and their history. No query and no savepoint per row.
"""

import io
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import openpyxl
import tablib
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.results import RowResult
from openpyxl.utils import get_column_letter

from accounts.roles import require
from common import stale
from common.errors import DomainError
from common.faults import pause_point
from common.uploads import UploadRefused, app_name, check_xlsx
from common.validators import name_problem
from customers.models import Contact, Currency, Customer, DeliveryAddress, ImportJob, Incoterm

logger = logging.getLogger(__name__)

XLSX_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: encrypted .xlsx or old .xls


# Names people read: refused when they show nothing or carry direction overrides (common.validators).
NAME_COLUMNS = ("name_zh", "name_en", "short_name", "contact_name", "address_receiver")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says why (translated)."""


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    example: object = ""

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


COLUMNS: list[Column] = [
    Column("code", "客户编码", "Customer code", True, "C-1001"),
    Column("name_zh", "中文名称", "Chinese name", True, "深圳市华南电子有限公司"),
    Column("name_en", "英文名称", "English name", True, "South China Electronics Co., Ltd."),
    Column("short_name", "简称", "Short name", False, "华南电子"),
    Column("kind", "类别", "Kind", True, "OEM"),
    Column("status", "状态", "Status", True, "合作中"),
    Column("trade", "贸易方式", "Trade type", True, "Domestic"),
    Column("customs_code", "海关注册编码", "Customs registration code"),
    Column("customs_handbook", "加工贸易手册号", "Handbook no."),
    Column("payment_terms", "付款条件", "Payment terms", False, "月结60天"),
    Column("incoterm", "贸易术语", "Incoterms", False, "EXW"),
    Column("currency", "币种", "Currency", False, "CNY"),
    Column("tax_rate", "税率(%)", "Tax rate (%)", False, 13),
    Column("important_in_development", "开发期重要客户", "Important in development", False, "否"),
    Column("marketing_owner", "业务负责人", "Account manager (user name)"),
    Column("cs_owner", "客服负责人", "CS owner (user name)"),
    Column("cooperation_since", "合作起始日期", "Customer since", False, date(2024, 3, 1)),
    Column("contact_name", "联系人", "Contact name", True, "王小明"),
    Column("contact_title", "联系人职务", "Contact position", False, "采购经理"),
    Column("contact_phone", "联系电话", "Contact phone", False, "0755-12345678"),
    Column("contact_mobile", "联系人手机", "Contact mobile", False, "13800138000"),
    Column("contact_email", "联系人邮箱", "Contact e-mail", False, "wang@example.com"),
    Column("contact_receives_surveys", "接收满意度调查", "Receives surveys", False, "是"),
    Column("address_label", "地址名称", "Address label", False, "总厂"),
    Column("address", "送货地址", "Delivery address", True, "广东省深圳市宝安区福永街道福海工业区A栋"),
    Column("address_receiver", "收货人", "Receiver", False, "李四"),
    Column("address_phone", "收货电话", "Receiver phone", False, "13900139000"),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
CONTACT_FIELDS = {
    "contact_name": "name",
    "contact_title": "title",
    "contact_phone": "phone",
    "contact_mobile": "mobile",
    "contact_email": "email",
    "contact_receives_surveys": "receives_surveys",
}
ADDRESS_FIELDS = {
    "address_label": "label",
    "address": "address",
    "address_receiver": "receiver",
    "address_phone": "phone",
}


def _norm(text) -> str:
    return "".join(str(text).split()).casefold()


def _header_aliases() -> dict[str, str]:
    aliases = {}
    for c in COLUMNS:
        for alias in (c.key, c.zh, c.en, c.header, f"{c.zh}({c.en})", f"{c.zh}/{c.en}"):
            aliases[_norm(alias)] = c.key
    return aliases


HEADER_ALIASES = _header_aliases()


# --- Widgets: clear messages, and values in either language ------------------------------------------


class ChoiceWidget(widgets.Widget):
    """Accepts the stored code, the English label or the Chinese label of a choice."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = list(choices)
        self._lookup: dict[str, str] | None = None

    @property
    def lookup(self) -> dict[str, str]:
        # Built on first use: translations are not ready while modules are being imported.
        if self._lookup is None:
            lookup = {}
            for value, label in self.choices:
                lookup[_norm(value)] = value
                for language in ("en", "zh-hans"):
                    with translation.override(language):
                        lookup[_norm(str(label))] = value
            self._lookup = lookup
        return self._lookup

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return ""
        try:
            return self.lookup[_norm(value)]
        except KeyError:
            allowed = ", ".join(str(label) for _value, label in self.choices)
            raise ValueError(
                _("'%(value)s' is not one of: %(allowed)s") % {"value": value, "allowed": allowed}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return dict(self.choices).get(value, value)


TRUE_WORDS = {"1", "true", "yes", "y", "是", "√", "x"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否"}


class YesNoWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if value is None or isinstance(value, bool):
            return bool(value)
        word = _norm(value)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(_("'%(value)s' is not yes or no (是/否)") % {"value": value})


class StrictDecimalWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            return Decimal(str(value).strip().rstrip("%"))
        except InvalidOperation:
            raise ValueError(_("'%(value)s' is not a number") % {"value": value}) from None


class DateCellWidget(widgets.Widget):
    """Excel dates arrive as datetimes; text is accepted as YYYY-MM-DD or YYYY/MM/DD."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"):
            try:
                return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
            except ValueError:
                continue
        raise ValueError(_("'%(value)s' is not a date (use YYYY-MM-DD)") % {"value": value})


class UserWidget(widgets.Widget):
    """A user name, looked up in a dict loaded once per import (no query per row)."""

    def __init__(self, users: dict[str, object] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.users = users or {}

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            return self.users[str(value).strip()]
        except KeyError:
            raise ValueError(_("there is no user '%(value)s'") % {"value": value}) from None

    def render(self, value, obj=None, **kwargs):
        return value.username if value else ""


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a phone number typed as a number
        return str(value).strip()


# --- The resource ---------------------------------------------------------------------------------


def _stored(instance, name: str):
    """A field's stored value, foreign keys by id (no query)."""
    field = Customer._meta.get_field(name)
    return getattr(instance, field.attname)


def _text(key):
    return fields.Field(attribute=key, column_name=key, widget=TextWidget())


class CustomerResource(resources.ModelResource):
    code = _text("code")
    name_zh = _text("name_zh")
    name_en = _text("name_en")
    short_name = _text("short_name")
    kind = fields.Field(attribute="kind", column_name="kind", widget=ChoiceWidget(Customer.Kind.choices))
    status = fields.Field(attribute="status", column_name="status", widget=ChoiceWidget(Customer.Status.choices))
    trade = fields.Field(attribute="trade", column_name="trade", widget=ChoiceWidget(Customer.Trade.choices))
    customs_code = _text("customs_code")
    customs_handbook = _text("customs_handbook")
    payment_terms = _text("payment_terms")
    incoterm = fields.Field(attribute="incoterm", column_name="incoterm", widget=ChoiceWidget(Incoterm.choices))
    currency = fields.Field(attribute="currency", column_name="currency", widget=ChoiceWidget(Currency.choices))
    tax_rate = fields.Field(attribute="tax_rate", column_name="tax_rate", widget=StrictDecimalWidget())
    important_in_development = fields.Field(
        attribute="important_in_development", column_name="important_in_development", widget=YesNoWidget()
    )
    marketing_owner = fields.Field(attribute="marketing_owner", column_name="marketing_owner", widget=UserWidget())
    cs_owner = fields.Field(attribute="cs_owner", column_name="cs_owner", widget=UserWidget())
    cooperation_since = fields.Field(
        attribute="cooperation_since", column_name="cooperation_since", widget=DateCellWidget()
    )

    class Meta:
        model = Customer
        import_id_fields = ("code",)
        fields = (
            "code",
            "name_zh",
            "name_en",
            "short_name",
            "kind",
            "status",
            "trade",
            "customs_code",
            "customs_handbook",
            "payment_terms",
            "incoterm",
            "currency",
            "tax_rate",
            "important_in_development",
            "marketing_owner",
            "cs_owner",
            "cooperation_since",
        )
        skip_unchanged = True
        # No per-row deepcopy and Diff (django-import-export's change view, which we do not show): whether a
        # row changes anything is decided against the values preloaded in before_import (skip_row below).
        skip_diff = True
        report_skipped = True
        # Validation is ours (validate_instance below): the model's full_clean would query per row for the
        # code's uniqueness, each user and each check constraint (bench/: 10 queries a row). Those are
        # settled once per file instead: codes against the file and the preloaded customers, users from a
        # preloaded dict, the constraints' rules as field validators.
        clean_model_instances = False
        skip_html_diff = True
        # One transaction around the whole import (customer_import); no savepoint per row.
        use_transactions = False

    def __init__(self, *, row_errors=None, progress: Callable[[int, int], None] | None = None, user=None, preview=True):
        super().__init__()
        self.preview = preview
        self.row_errors: dict[int, list[str]] = row_errors or {}
        self.progress = progress
        self.user = user
        self.total = 0
        self._customers: dict[str, Customer] = {}
        self._contacts: dict[int, Contact] = {}
        self._addresses: dict[int, DeliveryAddress] = {}
        self._import_fields = None
        self._originals: dict[int, dict] = {}
        self._new: list[Customer] = []
        self._changed: list[Customer] = []
        self._contact_writes: list[tuple[Customer, Contact]] = []
        self._address_writes: list[tuple[Customer, DeliveryAddress]] = []
        self._values_of = None
        self._values: tuple[dict, dict] = ({}, {})

    # Load everything the rows will look at once, instead of a query per row (PITFALLS.md).
    def before_import(self, dataset, **kwargs):
        self.total = len(dataset)
        codes = [str(c).strip().upper() for c in dataset["code"] if c not in (None, "")]
        existing = (
            Customer.objects.select_related("marketing_owner", "cs_owner").in_bulk(codes, field_name="code")
            if codes
            else {}
        )
        self._customers = existing
        attributes = [f.attribute for f in self.get_import_fields()]
        self._originals = {c.pk: {name: _stored(c, name) for name in attributes} for c in existing.values()}
        ids = [c.pk for c in existing.values()]
        for contact in Contact.objects.filter(customer_id__in=ids).order_by("-is_primary", "id"):
            self._contacts.setdefault(contact.customer_id, contact)
        for address in DeliveryAddress.objects.filter(customer_id__in=ids).order_by("-is_default", "id"):
            self._addresses.setdefault(address.customer_id, address)
        users = {u.username: u for u in get_user_model().objects.filter(is_active=True)}
        for name in ("marketing_owner", "cs_owner"):
            self.fields[name].widget.users = users

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        # An empty cell for a field that has a default and cannot be empty keeps the current value
        # (the default for a new customer) instead of failing "this field cannot be blank".
        if row.get(field.column_name) in (None, "") and field.attribute:
            model_field = Customer._meta.get_field(field.attribute)
            if model_field.has_default() and not model_field.blank:
                return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def get_instance(self, instance_loader, row):
        return self._customers.get(str(row.get("code") or "").strip().upper())

    def before_import_row(self, row, **kwargs):
        # Normalise the key the same way get_instance looks it up.
        if row.get("code") not in (None, ""):
            row["code"] = str(row["code"]).strip().upper()
        problems = self.row_errors.get(kwargs["row_number"])
        if problems:
            raise ValidationError({"code": problems})
        if not str(row.get("name_zh") or "").strip() and not str(row.get("name_en") or "").strip():
            raise ValidationError({"name_zh": [_("give a Chinese or an English name")]})
        problems = {key: name_problem(str(row[key])) for key in NAME_COLUMNS if row.get(key)}
        odd = {key: [problem] for key, problem in problems.items() if problem}
        if odd:
            raise ValidationError(odd)
        if not row.get("code"):
            raise ValidationError({"code": [_("the customer code is empty")]})

    def _related_values(self, row, mapping, widget_for):
        values = {}
        for column, attr in mapping.items():
            if column in row:
                values[attr] = widget_for(column).clean(row[column])
        return values

    def _row_values(self, row) -> tuple[dict, dict]:
        """The row's contact and address values, cleaned once per row (import_instance, skip_row and
        after_save_instance all look at them; the row dict is the same object throughout one row)."""
        if self._values_of is not row:
            self._values = (self._contact_values(row), self._address_values(row))
            self._values_of = row  # only once both are cleaned: a ValueError leaves no half-filled cache
        return dict(self._values[0]), dict(self._values[1])

    def _contact_values(self, row):
        return self._related_values(
            row,
            CONTACT_FIELDS,
            lambda c: YesNoWidget() if c == "contact_receives_surveys" else TextWidget(),
        )

    def _address_values(self, row):
        values = self._related_values(row, ADDRESS_FIELDS, lambda c: TextWidget())
        if not values.get("label"):
            values.pop("label", None)  # an empty label keeps the address's label (a new one is named "Main")
        return values

    NOT_REVALIDATED = ("marketing_owner", "cs_owner")  # users come from the preloaded dict: they exist

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        try:
            instance.full_clean(
                exclude=[*self.NOT_REVALIDATED, *errors], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # Validate the contact and address columns with the model's own rules, before anything is saved.
        contact_values, address_values = self._row_values(row)
        for model, values, prefix, needed in (
            (Contact, contact_values, "contact_", "name"),
            (DeliveryAddress, address_values, "address_", "address"),
        ):
            if not any(values.values()):
                continue
            if not values.get(needed):
                errors.setdefault(f"{prefix}{needed}" if prefix == "contact_" else "address", []).append(
                    _("this column is empty but other %(what)s columns are filled") % {"what": model._meta.verbose_name}
                )
                continue
            candidate = model(**values)
            if model is DeliveryAddress and not candidate.label:
                candidate.label = _("Main")
            try:
                candidate.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    errors.setdefault(f"{prefix}{name}" if prefix == "contact_" else f"address_{name}", []).extend(
                        messages
                    )
        if errors:
            raise ValidationError(errors)

    def get_import_fields(self):
        # Asked several times per row by django-import-export; the fields do not change during an import.
        if self._import_fields is None:
            self._import_fields = super().get_import_fields()
        return self._import_fields

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance.pk is None:
            return False
        stored = self._originals.get(instance.pk, {})
        if any(_stored(instance, name) != value for name, value in stored.items()):
            return False
        contact_values, address_values = self._row_values(row)
        contact = self._contacts.get(instance.pk)
        address = self._addresses.get(instance.pk)
        return self._same(contact, contact_values) and self._same(address, address_values)

    @staticmethod
    def _same(existing, values) -> bool:
        if not any(values.values()):
            return True
        if existing is None:
            return False
        return all(getattr(existing, k) == v for k, v in values.items())

    # Writing: rows are validated one by one above, but written together at the end (after_import), in bulk
    # with their history. Saving row by row cost ~6 INSERTs and a history manager per row (bench/).
    def save_instance(self, instance, is_create, row, **kwargs):
        if self.preview:
            return  # the preview validates only; nothing is written, not even inside a rolled-back transaction
        (self._new if is_create else self._changed).append(instance)
        self.after_save_instance(instance, row, **kwargs)

    def after_save_instance(self, instance, row, **kwargs):
        if self.preview:
            return
        contact_values, address_values = self._row_values(row)
        for model, values, existing_map, flag, pending in (
            (Contact, contact_values, self._contacts, "is_primary", self._contact_writes),
            (DeliveryAddress, address_values, self._addresses, "is_default", self._address_writes),
        ):
            if not any(values.values()):
                continue
            existing = existing_map.get(instance.pk) if instance.pk else None
            if existing is None:
                existing = model(**{flag: True})
                if model is DeliveryAddress and not values.get("label"):
                    values["label"] = _("Main")
            elif self._same(existing, values):
                continue
            for name, value in values.items():
                setattr(existing, name, value)
            pending.append((instance, existing))

    def after_import(self, dataset, result, **kwargs):
        if self.preview or result.has_errors() or result.has_validation_errors():
            return
        # The rows are written with bulk_create/bulk_update, and their history copied from the written rows by
        # the database itself (write_history): what bulk_create_with_history writes, without building and
        # sending a historical object per row (half of the commit's time at 10,000 rows, bench/).
        now = timezone.now()
        if self._new:
            Customer.objects.bulk_create(self._new, batch_size=WRITE_BATCH)
            write_history(Customer, [c.pk for c in self._new], history_type="+", user=self.user, when=now)
        if self._changed:
            for customer in self._changed:
                customer.updated_at = now  # bulk_update does not apply auto_now; stale-form checks rely on it
            Customer.objects.bulk_update(self._changed, [*self.Meta.fields, "updated_at"], batch_size=WRITE_BATCH)
            write_history(Customer, [c.pk for c in self._changed], history_type="~", user=self.user, when=now)
        for model, writes, names in (
            (Contact, self._contact_writes, [*CONTACT_FIELDS.values(), "is_primary"]),
            (DeliveryAddress, self._address_writes, [*ADDRESS_FIELDS.values(), "is_default"]),
        ):
            created, updated = [], []
            for customer, obj in writes:
                obj.customer_id = customer.pk
                (updated if obj.pk else created).append(obj)
            if created:
                model.objects.bulk_create(created, batch_size=WRITE_BATCH)
                write_history(model, [o.pk for o in created], history_type="+", user=self.user, when=now)
            if updated:
                model.objects.bulk_update(updated, names, batch_size=WRITE_BATCH)
                write_history(model, [o.pk for o in updated], history_type="~", user=self.user, when=now)

    def after_import_row(self, row, row_result, **kwargs):
        number = kwargs.get("row_number", 0)
        if self.progress and (number % 200 == 0 or number == self.total):
            self.progress(number, self.total)


# --- Writing ------------------------------------------------------------------------------------------

WRITE_BATCH = 1000  # rows per INSERT/UPDATE statement
HISTORY_IDS_PER_STATEMENT = 900  # ids per history INSERT … SELECT (below SQLite's host-parameter limit)


def write_history(model, ids: list[int], *, history_type: str, user, when) -> None:
    """The simple_history rows of ``model``'s rows ``ids``, copied from the rows as the database now holds them:
    one ``INSERT INTO <history> (…) SELECT … FROM <table> WHERE id IN (…)`` per 900 ids.

    The same rows as simple_history's bulk_create_with_history / bulk_update_with_history ("+" created, "~"
    changed; the tracked fields, the user, the date, no change reason), which build a historical object per
    row in Python and send every value back over the wire."""
    if not ids or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    if None in ids:
        raise RuntimeError(f"{model.__name__} rows without an id: the database did not return them")
    history = model.history.model
    tracked = history.tracked_fields
    quote = connection.ops.quote_name
    target = [quote(history._meta.get_field(f.name).column) for f in tracked]
    target += [quote(history._meta.get_field(name).column) for name in HISTORY_COLUMNS]
    source = ", ".join(f"t.{quote(f.column)}" for f in tracked)
    user_id = getattr(user, "pk", None)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), HISTORY_IDS_PER_STATEMENT):
            chunk = ids[start : start + HISTORY_IDS_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(target)}) "
                f"SELECT {source}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} t "
                f"WHERE t.{quote(model._meta.pk.column)} IN ({', '.join(['%s'] * len(chunk))}) "
                f"ORDER BY t.{quote(model._meta.pk.column)}",
                [when, None, history_type, user_id, *chunk],
            )


HISTORY_COLUMNS = ("history_date", "history_change_reason", "history_type", "history_user")


# --- Reading the file -----------------------------------------------------------------------------


@dataclass
class RowReport:
    line: int  # the line number in Excel
    status: str  # new / update / unchanged / error
    code: str
    name: str
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(r.status == "error" for r in self.rows)

    def counts(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.rows)
        return {k: counts.get(k, 0) for k in ("new", "update", "unchanged", "error")}

    def as_dict(self) -> dict:
        return {
            "committed": self.committed,
            "file_errors": self.file_errors,
            "counts": self.counts(),
            "rows": [r.__dict__ for r in self.rows],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        return cls(
            rows=[RowReport(**r) for r in data.get("rows", [])],
            file_errors=list(data.get("file_errors", [])),
            committed=data.get("committed", False),
        )


@dataclass
class Sheet:
    dataset: tablib.Dataset
    lines: list[int]  # Excel line number of each dataset row
    row_errors: dict[int, list[str]]  # dataset row number (1-based) -> problems found while reading


def _cell_ref(column_index: int, line: int) -> str:
    return f"{get_column_letter(column_index + 1)}{line}"


class Formula(str):
    """A cell's formula, as openpyxl reads it: refused, never evaluated."""


# A formula element in a worksheet's XML, with or without a namespace prefix: <f>, <f t="shared" …/>, <x:f>.
FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _worksheets_xml(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b"".join(archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/sheet"))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from exc


def _rows_with_calamine(data: bytes):
    """The first sheet's rows as (Excel line, values), read by python-calamine (Rust): ~10x openpyxl's speed."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        values = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from exc
    return iter(enumerate(values, 1))


def _rows_with_openpyxl(data: bytes):
    try:
        # read_only streams rows; data_only=False keeps formulas as text so we can refuse them unevaluated.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from exc
    rows = []
    try:
        for line, row in enumerate(workbook.worksheets[0].iter_rows(), 1):
            rows.append((line, [Formula(c.value) if getattr(c, "data_type", None) == "f" else c.value for c in row]))
    finally:
        workbook.close()
    return iter(rows)


def check_file(data: bytes) -> None:
    """The file as a whole, before any reader loads it: its size, really an .xlsx (a zip holding a workbook),
    what it unpacks to and its longest cell text (common.uploads). Raises ImportFileError."""
    limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
    if len(data) > limit:
        raise ImportFileError(
            _("The file is %(size).1f MB; the limit is %(limit)d MB.")
            % {"size": len(data) / 1024 / 1024, "limit": settings.IMPORT_MAX_UPLOAD_MB}
        )
    if not data:
        raise ImportFileError(_("The file is empty."))
    if data.startswith(CFB_MAGIC):
        raise ImportFileError(
            _(
                "This workbook is password-protected or in the old .xls format. "
                "Remove the password and save it as an Excel workbook (.xlsx)."
            )
        )
    if not data.startswith(XLSX_MAGIC):
        raise ImportFileError(_("This is not an Excel workbook (.xlsx). Save the file from Excel as .xlsx."))
    try:
        check_xlsx(data)
    except UploadRefused as refused:
        raise ImportFileError(str(refused)) from None


def read_sheet(data: bytes) -> Sheet:
    check_file(data)
    if FORMULA_TAG.search(_worksheets_xml(data)):
        rows = _rows_with_openpyxl(data)  # rare: pinpoints the formula cells (calamine only sees their values)
    else:
        rows = _rows_with_calamine(data)
    header = None
    for _line, values in rows:
        if any(v not in (None, "") for v in values):
            header = values
            break
    if header is None:
        raise ImportFileError(_("The file is empty."))
    keys = _map_headers(header)
    dataset = tablib.Dataset(headers=[k for k in keys if k])
    lines: list[int] = []
    row_errors: dict[int, list[str]] = {}
    for line, row in rows:
        values = [None if v == "" else v for v in row[: len(keys)]]
        values += [None] * (len(keys) - len(values))
        if all(v is None for v in values):
            continue
        problems = [
            _("cell %(cell)s holds a formula or starts with '=': enter the value itself")
            % {"cell": _cell_ref(index, line)}
            for index, value in enumerate(values)
            if isinstance(value, Formula) or isinstance(value, str) and value.startswith("=")
        ]
        dataset.append([v for k, v in zip(keys, values, strict=True) if k])
        lines.append(line)
        if problems:
            row_errors[len(dataset)] = problems
    if not len(dataset):
        raise ImportFileError(_("The file has a header row but no customers."))
    _flag_duplicate_codes(dataset, lines, row_errors)
    return Sheet(dataset=dataset, lines=lines, row_errors=row_errors)


def _map_headers(headers: list) -> list[str | None]:
    keys: list[str | None] = []
    unknown, seen, repeated = [], set(), []
    for header in headers:
        if header in (None, ""):
            keys.append(None)
            continue
        key = HEADER_ALIASES.get(_norm(header))
        if key is None:
            unknown.append(str(header))
        elif key in seen:
            repeated.append(str(header))
        seen.add(key)
        keys.append(key)
    missing = [COLUMN_BY_KEY[k].header for k in (c.key for c in COLUMNS if c.required) if k not in seen]
    problems = []
    if missing:
        problems.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if unknown:
        problems.append(
            _("Unknown columns: %(columns)s. Use the columns of the template.") % {"columns": ", ".join(unknown)}
        )
    if repeated:
        problems.append(_("Columns given twice: %(columns)s.") % {"columns": ", ".join(repeated)})
    if problems:
        raise ImportFileError(" ".join(problems))
    return keys


def _flag_duplicate_codes(dataset, lines, row_errors):
    codes = [str(c).strip().upper() if c not in (None, "") else "" for c in dataset["code"]]
    lines_of: dict[str, list[int]] = {}
    for index, code in enumerate(codes):
        if code:
            lines_of.setdefault(code, []).append(index)
    for code, indexes in lines_of.items():
        if len(indexes) < 2:
            continue
        for index in indexes:
            others = [str(lines[i]) for i in indexes if i != index]
            row_errors.setdefault(index + 1, []).append(
                _("customer code %(code)s appears again on line %(lines)s") % {"code": code, "lines": ", ".join(others)}
            )


# --- The service ------------------------------------------------------------------------------------

STATUS = {
    RowResult.IMPORT_TYPE_NEW: "new",
    RowResult.IMPORT_TYPE_UPDATE: "update",
    RowResult.IMPORT_TYPE_SKIP: "unchanged",
    RowResult.IMPORT_TYPE_INVALID: "error",
    RowResult.IMPORT_TYPE_ERROR: "error",
}


def _field_label(key: str) -> str:
    column = COLUMN_BY_KEY.get(key)
    if column:
        return column.zh if translation.get_language() == "zh-hans" else column.en
    if key.startswith("address_") and key[8:] in ("label", "address", "receiver", "phone"):
        return _field_label("address" if key == "address_address" else key)
    return key


def _row_reports(result, sheet: Sheet) -> list[RowReport]:
    reports = []
    for number, (row_result, values) in enumerate(zip(result.rows, sheet.dataset.dict, strict=True), 1):
        errors: list[str] = []
        if row_result.validation_error is not None:
            for key, messages in row_result.validation_error.message_dict.items():
                label = "" if key == "__all__" else f"{_field_label(key)}: "
                errors.extend(f"{label}{m}" for m in messages)
        for error in row_result.errors:
            errors.append(str(error.error))
        reports.append(
            RowReport(
                line=sheet.lines[number - 1],
                status=STATUS.get(row_result.import_type, "error") if not errors else "error",
                code=str(values.get("code") or "").strip().upper(),
                name=str(values.get("name_zh") or values.get("name_en") or ""),
                errors=errors,
            )
        )
    return reports


def customer_import(*, data: bytes, user=None, dry_run: bool, progress=None) -> ImportReport:
    """Check a customer workbook and, unless ``dry_run`` or any problem, import it in one transaction."""
    try:
        sheet = read_sheet(data)
    except ImportFileError as exc:
        return ImportReport(file_errors=[str(exc)])

    def run(dry: bool):
        resource = CustomerResource(row_errors=sheet.row_errors, progress=progress, user=user, preview=dry)
        # django-import-export's own dry run wraps every row in a savepoint to roll it back; ours writes nothing
        # in the preview (save_instance below), so it runs as a plain pass inside our one transaction.
        return resource.import_data(sheet.dataset, dry_run=False, raise_errors=False, use_transactions=False)

    if dry_run:
        preview = run(True)
        return ImportReport(rows=_row_reports(preview, sheet), file_errors=[str(e.error) for e in preview.base_errors])
    # The import checks every row again as it goes (the data may have changed since the preview) and keeps
    # nothing unless every row passed.
    with transaction.atomic():
        result = run(False)
        final = ImportReport(rows=_row_reports(result, sheet), file_errors=[str(e.error) for e in result.base_errors])
        if not final.ok:
            transaction.set_rollback(True)
            return final
    final.committed = True
    return final


# --- The template ---------------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The import template: bilingual headers, one example row that imports as it is, and a notes sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "客户 Customers"
    sheet.append([c.header for c in COLUMNS])
    sheet.append([c.example for c in COLUMNS])
    for index, column in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.header) + 4)
        sheet.cell(row=1, column=index).font = openpyxl.styles.Font(bold=column.required)
        if isinstance(column.example, date):
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("说明 Notes")
    notes.append(["列 Column", "必填 Required", "可填的值 Allowed values"])
    choice_widgets = {
        "kind": Customer.Kind.choices,
        "status": Customer.Status.choices,
        "trade": Customer.Trade.choices,
        "incoterm": Incoterm.choices,
        "currency": Currency.choices,
    }
    for column in COLUMNS:
        allowed = ""
        if column.key in choice_widgets:
            labels = []
            for value, label in choice_widgets[column.key]:
                with translation.override("zh-hans"):
                    zh = str(label)
                with translation.override("en"):
                    en = str(label)
                labels.append(f"{value} / {en} / {zh}" if zh != en else f"{value} / {en}")
            allowed = "; ".join(labels)
        elif column.key in ("important_in_development", "contact_receives_surveys"):
            allowed = "是 / 否 / yes / no"
        elif column.key == "cooperation_since":
            allowed = "YYYY-MM-DD"
        notes.append([column.header, "✔" if column.required else "", allowed])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


TEMPLATE_FILENAME = gettext_lazy("customer-import-template.xlsx")


# --- Import jobs: the same service, run in the background with visible progress ---------------------


def progress_key(job_id: int) -> str:
    return f"customer-import:{job_id}:progress"


def import_job_progress(job_id: int) -> tuple[int, int]:
    return tuple(cache.get(progress_key(job_id)) or (0, 0))


def import_job_create(*, user, upload) -> ImportJob:
    require(user, "customer.import")
    limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
    if upload.size > limit:
        # Refused before it is stored: the message is the same as the reader's.
        raise DomainError(
            _("The file is %(size).1f MB; the limit is %(limit)d MB.")
            % {"size": upload.size / 1024 / 1024, "limit": settings.IMPORT_MAX_UPLOAD_MB}
        )
    # The whole file is checked before it is stored: a refused upload is never kept (issue 10).
    data = upload.read()
    upload.seek(0)
    try:
        check_file(data)
    except ImportFileError as error:
        raise DomainError(str(error)) from None
    original_name = upload.name
    upload.name = app_name("xlsx")
    return ImportJob.objects.create(
        file=upload,
        original_name=original_name[:255],
        created_by=user,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


def import_job_send(job) -> None:
    """Queue the job's next step: recorded first (common.jobs), so a queue that cannot be reached delays it
    until the queue is back, never loses it."""
    from common.jobs import enqueue_recorded
    from customers import tasks

    enqueue_recorded(tasks.customer_import_job, job.pk)


def import_job_confirm(*, user, job) -> ImportJob:
    require(user, "customer.import")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.PREVIEWED or job.confirmed_at is not None:
            raise DomainError(_("This import was already confirmed or cannot be imported."))
        if not ImportReport.from_dict(job.report).ok:
            raise DomainError(_("The file has errors; correct it and upload it again."))
        job.status = ImportJob.Status.QUEUED
        job.confirmed_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "confirmed_at", "heartbeat_at"])
    return job


def import_job_run(*, job_id: int) -> None:
    """Run the job's current step: the preview, or (once confirmed) the import. Called by the task.

    The worker claims the job with a conditional UPDATE (queued -> checking/importing): a task delivered twice
    runs once. It then holds the job's row lock while it works, and the import writes the customers and the
    job's "done" in one transaction: a worker that dies mid-import leaves nothing behind (the job is failed by
    the stale sweep and can be tried again), and a second run finds the job done. Any error fails the job with
    its reason, never leaving it "in progress"."""
    queued = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED)
    commit = queued.filter(confirmed_at__isnull=False).exists()
    step = ImportJob.Status.IMPORTING if commit else ImportJob.Status.PREVIEWING
    if not queued.update(status=step, heartbeat_at=timezone.now(), error=""):
        return  # already run or being run: a task delivered twice does nothing
    job = ImportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        cache.set(progress_key(job.pk), (done, total), timeout=3600)

    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        with transaction.atomic():
            locked = ImportJob.objects.select_for_update().get(pk=job_id)
            if locked.status != step:
                return  # failed by the stale sweep meanwhile (and perhaps queued again): not this worker's any more
            with translation.override(job.language):
                report = customer_import(data=data, user=job.created_by, dry_run=not commit, progress=progress)
            if commit:
                pause_point("customer-import")  # tests/faults: the rows are written, the job is not done yet
                status = ImportJob.Status.DONE if report.committed else ImportJob.Status.FAILED
            else:
                status = ImportJob.Status.PREVIEWED if report.ok else ImportJob.Status.FAILED
            ImportJob.objects.filter(pk=job.pk).update(
                report=report.as_dict(), status=status, finished_at=timezone.now(), heartbeat_at=timezone.now()
            )
    except Exception as exc:
        logger.exception("customer import job %s failed", job_id)
        with translation.override(job.language):
            reason = _("The import stopped with an error; nothing was imported. Try again. (%(error)s)") % {
                "error": f"{exc.__class__.__name__}: {exc}"
            }
        ImportJob.objects.filter(pk=job_id, status=step).update(
            status=ImportJob.Status.FAILED, error=reason[:2000], finished_at=timezone.now()
        )


IMPORT_STOPPED = gettext_lazy(
    "The import stopped (the worker stopped or the job queue was down); nothing was imported. Try again."
)


def import_jobs_fail_stale() -> list[int]:
    """Imports still waiting or running long after their last sign of life are failed (common.stale)."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = str(IMPORT_STOPPED)
    return stale.fail_stale(
        ImportJob,
        kind="import",
        statuses=tuple(ImportJob.RUNNING),
        task="customers.tasks.customer_import_job",
        status=ImportJob.Status.FAILED,
        error=reason,
        finished_at=timezone.now(),
    )


def import_job_can_retry(job: ImportJob) -> bool:
    # A job failed by its file (rows with errors) is corrected and uploaded again; one that stopped is retried.
    return job.status == ImportJob.Status.FAILED and bool(job.error)


def import_job_retry(*, user, job: ImportJob) -> ImportJob:
    """Try a job that stopped again: the same step (the preview, or the confirmed import) on the same job."""
    require(user, "customer.import")
    retried = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.FAILED).exclude(error="")
    if not retried.update(status=ImportJob.Status.QUEUED, error="", finished_at=None, heartbeat_at=timezone.now()):
        raise DomainError(_("Only an import that stopped can be tried again; correct the file and upload it again."))
    cache.delete(progress_key(job.pk))
    job.refresh_from_db()
    return job
