"""Reading orders: the list, the system's own checks shown beside each checklist, the timeline, My work."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.roles import Dept, departments_of, in_dept
from accounts.work import WorkItem, WorkSection, work_limit
from common.workdays import working_days_between
from customers.models import Customer, Quotation
from orders.models import (
    REVIEW_DEPARTMENTS,
    Acknowledgement,
    ChangeRequest,
    Memo,
    MemoReceipt,
    Objection,
    Order,
    OrderRevision,
    ReviewStep,
    SignOff,
)

WORK_LIMIT = 20


def order_list(*, status: str = "", q: str = "", customer: str = ""):
    # A correlated subquery, evaluated for the page's rows only (a COUNT over a join would group every order).
    open_steps = (
        ReviewStep.objects.filter(order=OuterRef("pk"), status=ReviewStep.Status.OPEN)
        .order_by()
        .values("order")
        .annotate(n=Count("pk"))
        .values("n")
    )
    orders = Order.objects.select_related("customer").annotate(open_steps=Subquery(open_steps))
    if status:
        orders = orders.filter(status=status)
    if customer:
        orders = orders.filter(customer__code=customer)
    q = q.strip()
    if q:
        orders = orders.filter(
            Q(number__icontains=q)
            | Q(customer_po__icontains=q)
            | Q(erp_number__icontains=q)
            | Q(customer__code__icontains=q)
            | Q(customer__name_zh__icontains=q)
            | Q(customer__name_en__icontains=q)
        )
    return orders.order_by("-created_at", "-pk")


def order_for_page(number: str) -> Order:
    return (
        Order.objects.select_related("customer", "delivery_address", "created_by")
        .prefetch_related(
            "lines__product",
            "verbal_requirements",
            "customer__environmental_requirements",
            "customer__quality_problems",
            Prefetch(
                "steps",
                queryset=ReviewStep.objects.select_related("signed_by", "checklist", "objection__settled_by").order_by(
                    "revision", "pk"
                ),
            ),
            Prefetch("signoffs", queryset=SignOff.objects.select_related("signed_by")),
            Prefetch("revisions", queryset=OrderRevision.objects.select_related("created_by")),
            Prefetch("acknowledgements", queryset=Acknowledgement.objects.select_related("requested_by")),
            Prefetch("change_requests", queryset=ChangeRequest.objects.select_related("requested_by", "decided_by")),
            Prefetch("memos", queryset=Memo.objects.prefetch_related("receipts")),
        )
        .get(number=number)
    )


# --- The system's own checks (§5.2.4: what the signer sees beside the checklist) -----------------------


@dataclass
class Check:
    ok: bool
    text: str


def line_price_checks(order: Order) -> dict[int, Check]:
    from common.templatetags.numbers import num

    """Each line's price against the customer's quotation valid on the order date."""
    on = timezone.localdate(order.created_at) if order.created_at else timezone.localdate()
    quotations = {
        q.product_id: q
        for q in Quotation.objects.filter(customer_id=order.customer_id, valid_from__lte=on).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on)
        )
    }
    checks = {}
    for line in order.lines.all():
        quotation = quotations.get(line.product_id)
        if quotation is None:
            checks[line.position] = Check(False, _("no valid quotation"))
        elif quotation.unit_price != line.unit_price or quotation.currency != order.currency:
            checks[line.position] = Check(
                False,
                _("quoted %(price)s %(currency)s")
                % {"price": num(quotation.unit_price), "currency": quotation.currency},
            )
        else:
            checks[line.position] = Check(True, _("matches the quotation"))
    return checks


def order_date(order: Order) -> date:
    return timezone.localdate(order.created_at) if order.created_at else timezone.localdate()


def requirements_in_force(customer: Customer, on: date) -> list:
    """The customer's environmental requirements in force on ``on`` (the order date): the packaging note written
    when the order is entered and the system's check on the order page read the same list (§5.2.2)."""
    return [
        r
        for r in customer.environmental_requirements.all()
        if (r.effective_from is None or r.effective_from <= on) and (r.expires_on is None or r.expires_on >= on)
    ]


def approved_evaluation(customer: Customer):
    from customers.models import CustomerEvaluation

    return customer.evaluations.filter(status=CustomerEvaluation.Status.APPROVED).first()


def _standard_named(requirement, text: str) -> bool:
    """The requirement's standard is named in ``text``, in whichever language the note was written."""
    from django.utils import translation

    names = set()
    for language in ("zh-hans", "en"):
        with translation.override(language):
            names.add(str(requirement.get_standard_display()))
    return any(name in text for name in names)


def prechecks(order: Order) -> list[Check]:
    customer: Customer = order.customer
    checks = []
    prices = line_price_checks(order)
    bad = [str(position) for position, check in prices.items() if not check.ok]
    checks.append(
        Check(
            not bad,
            _("Prices match the valid quotations.")
            if not bad
            else _("Price to check on line %(lines)s.") % {"lines": ", ".join(bad)},
        )
    )
    evaluation = approved_evaluation(customer)
    if evaluation is None:
        checks.append(Check(False, _("The customer has no approved evaluation form (《客户资料评估表》).")))
    elif evaluation.proposed_payment_terms and evaluation.proposed_payment_terms.strip() != order.payment_terms.strip():
        checks.append(
            Check(
                False,
                _("Payment terms differ from the approved evaluation form (v%(version)s): %(terms)s.")
                % {"version": evaluation.version, "terms": evaluation.proposed_payment_terms},
            )
        )
    else:
        checks.append(
            Check(True, _("Terms match the approved evaluation form (v%(version)s).") % {"version": evaluation.version})
        )
    differences = []
    if order.payment_terms != customer.payment_terms:
        differences.append(_("payment terms"))
    if order.currency != customer.currency:
        differences.append(_("currency"))
    if (order.incoterm or "") != (customer.incoterm or ""):
        differences.append("Incoterms")
    checks.append(
        Check(
            not differences,
            _("Terms match the customer profile.")
            if not differences
            else _("Differs from the customer profile: %(what)s.") % {"what": ", ".join(str(d) for d in differences)},
        )
    )
    checks.append(
        Check(
            order.delivery_address_id is not None,
            _("Delivery address given.") if order.delivery_address_id else _("No delivery address."),
        )
    )
    requirements = requirements_in_force(customer, order_date(order))
    if requirements:
        noted = all(_standard_named(r, order.packaging) for r in requirements)
        checks.append(
            Check(
                noted,
                _("Environmental requirements noted in the packaging requirements.")
                if noted
                else _("The customer's environmental requirements are not all in the packaging requirements."),
            )
        )
    unconfirmed = [v for v in order.verbal_requirements.all() if v.confirmed_at is None]
    if unconfirmed:
        checks.append(
            Check(
                False,
                ngettext(
                    "%(n)s verbal requirement not yet confirmed in writing by the customer.",
                    "%(n)s verbal requirements not yet confirmed in writing by the customer.",
                    len(unconfirmed),
                )
                % {"n": len(unconfirmed)},
            )
        )
    problems = list(customer.quality_problems.all())
    if problems:
        still_open = [p for p in problems if p.status == p.Status.OPEN]
        if still_open:
            text = _("For Quality: %(n)s earlier quality problem(s) still open: %(list)s") % {
                "n": len(still_open),
                "list": "; ".join(p.description[:60] for p in still_open[:3]),
            }
        else:
            text = _("For Quality: all %(n)s earlier quality problem(s) are fixed.") % {"n": len(problems)}
        checks.append(Check(not still_open, text))
    if customer.trade != Customer.Trade.DOMESTIC:
        present = bool(customer.customs_code) and (
            customer.trade != Customer.Trade.TRANSFER or bool(customer.customs_handbook)
        )
        checks.append(
            Check(
                present,
                _("Customs data present for this export customer.")
                if present
                else _("Customs data missing for this export customer."),
            )
        )
    # The apps standing on orders add their own checks (orders/hooks.py: samples, customer property).
    from orders import hooks

    for provider in hooks.prechecks:
        checks.extend(provider(order))
    return checks


def review_panels(order: Order, department: str) -> list[tuple[str, dict]]:
    """What the apps standing on orders show in a department's review card beside its checklist (orders/hooks.py)."""
    from orders import hooks

    panels = []
    for provider in hooks.review_panels:
        panels.extend(provider(order, department))
    return panels


# --- Whether an order may ship (§5.3, §5.5) -------------------------------------------------------------------

# An order back in review after a change was signed off before. What it may ship meanwhile is what the change did
# not touch: a line whose product, quantity and requested date are as signed off, when the delivery address and
# Incoterms are too. A change of packaging, labelling, inspection or other texts, of prices or of payment terms does
# not stop a delivery already confirmed; the lines it changed wait for the new sign-off.
UNDER_REVIEW = (Order.Status.IN_REVIEW, Order.Status.ON_HOLD, Order.Status.AWAITING_SIGNOFF)
SHIPPING_HEADER_FIELDS = ("delivery_address_id", "incoterm")
SHIPPING_LINE_FIELDS = ("product_id", "quantity", "requested_date")


def shipping_refusal(order: Order, line=None) -> str:
    """Why ``line`` of ``order`` (or, without a line, anything of it) cannot be planned or delivered now; "" when
    it can."""
    refusals = shipping_refusals(order, [line] if line is not None else [])
    return refusals[None] or (refusals[line.position] if line is not None else "")


def shipping_refusals(order: Order, lines) -> dict:
    """``shipping_refusal`` for the order (key None) and each of ``lines`` (key: position), in at most two queries."""
    refusals = {None: "", **{line.position: "" for line in lines}}
    if order.status in (Order.Status.SIGNED_OFF, Order.Status.CONFIRMED):
        return refusals
    signed = (
        SignOff.objects.filter(order=order).order_by("-revision").values_list("revision", flat=True).first()
        if order.status in UNDER_REVIEW
        else None
    )
    if signed is None:
        refusals[None] = _("Only a signed-off or confirmed order can be delivered (this one is %(status)s).") % {
            "status": order.get_status_display()
        }
        return refusals
    snapshots = dict(
        OrderRevision.objects.filter(order=order, number__in=[signed, order.revision]).values_list("number", "snapshot")
    )
    before, now = snapshots[signed], snapshots[order.revision]
    if any(before.get(name) != now.get(name) for name in SHIPPING_HEADER_FIELDS):
        refusals[None] = _(
            "Order %(number)s is in review again after a change of its delivery address or Incoterms: it ships once"
            " the change is signed off."
        ) % {"number": order.number}
        return refusals
    old_lines = {values["position"]: values for values in before["lines"]}
    new_lines = {values["position"]: values for values in now["lines"]}
    for line in lines:
        old, new = old_lines.get(line.position), new_lines.get(line.position)
        if old is None or new is None or any(old[name] != new[name] for name in SHIPPING_LINE_FIELDS):
            refusals[line.position] = _(
                "Line %(n)s of order %(number)s changed in revision %(revision)s, which is in review: it ships once"
                " the change is signed off."
            ) % {"n": line.position, "number": order.number, "revision": order.revision}
    return refusals


# --- Overdue and timeline -----------------------------------------------------------------------------


def is_overdue(step: ReviewStep, today: date | None = None) -> bool:
    if step.status != ReviewStep.Status.OPEN:
        return False
    today = today or timezone.localdate()
    return working_days_between(timezone.localdate(step.opened_at), today) > settings.REVIEW_OVERDUE_WORKING_DAYS


@dataclass
class Event:
    at: object
    who: object
    text: str


def timeline(order: Order) -> list[Event]:
    events = [Event(order.created_at, order.created_by, _("Entered"))]
    for revision in order.revisions.all():
        events.append(
            Event(revision.created_at, revision.created_by, f"{revision.get_kind_display()} (r{revision.number})")
        )
    for step in order.steps.all():
        label = Dept(step.department).label
        if step.status == ReviewStep.Status.SIGNED:
            events.append(Event(step.signed_at, step.signed_by, _("%(dept)s signed") % {"dept": label}))
        if step.status == ReviewStep.Status.OBJECTED:
            events.append(
                Event(
                    step.signed_at,
                    step.signed_by,
                    _("%(dept)s objected: %(reason)s") % {"dept": label, "reason": step.comment},
                )
            )
            objection = getattr(step, "objection", None)
            if objection and objection.settled_at:
                events.append(
                    Event(
                        objection.settled_at,
                        objection.settled_by,
                        _("Settled: %(outcome)s") % {"outcome": objection.outcome},
                    )
                )
    for signoff in order.signoffs.all():
        events.append(
            Event(
                signoff.signed_at,
                signoff.signed_by,
                _("Signed off by the marketing head (r%(rev)s)") % {"rev": signoff.revision},
            )
        )
    for ack in order.acknowledgements.all():
        if ack.sent_at:
            events.append(
                Event(
                    ack.sent_at,
                    ack.requested_by,
                    _("Acknowledgement r%(rev)s e-mailed to %(email)s") % {"rev": ack.revision, "email": ack.recipient},
                )
            )
    for requirement in order.verbal_requirements.all():
        if requirement.confirmed_at:
            events.append(
                Event(requirement.confirmed_at, requirement.confirmed_by, _("Verbal requirement confirmed in writing"))
            )
    return sorted(events, key=lambda e: e.at)


# --- My work ------------------------------------------------------------------------------------------


def my_work(user) -> list[WorkSection]:
    sections: list[WorkSection] = []
    review_depts = [d for d in REVIEW_DEPARTMENTS if d in departments_of(user)]
    if review_depts:
        steps = (
            ReviewStep.objects.filter(department__in=review_depts, status=ReviewStep.Status.OPEN)
            .select_related("order__customer")
            .order_by("opened_at")
        )
        total = steps.count()
        today = timezone.localdate()
        items = [
            WorkItem(
                label=f"{s.order.number} {s.order.customer.display_name}",
                url=reverse("orders:detail", args=[s.order.number]) + f"#step-{s.pk}",
                detail=Dept(s.department).label,
                overdue=is_overdue(s, today),
            )
            for s in steps[: work_limit(WORK_LIMIT)]
        ]
        sections.append(WorkSection(title=_("Orders waiting for your review"), items=items, total=total))
    if in_dept(user, Dept.MARKETING):
        objections = (
            Objection.objects.filter(settled_at__isnull=True)
            .select_related("step__order__customer")
            .order_by("raised_at")
        )
        items = [
            WorkItem(
                label=f"{o.step.order.number} {o.step.order.customer.display_name}",
                url=reverse("orders:detail", args=[o.step.order.number]) + "#objections",
                detail=o.reason[:80],
            )
            for o in objections[: work_limit(WORK_LIMIT)]
        ]
        sections.append(
            WorkSection(title=_("Objections to settle with the customer"), items=items, total=objections.count())
        )
    if in_dept(user, Dept.MARKETING_HEAD):
        orders = (
            Order.objects.filter(status=Order.Status.AWAITING_SIGNOFF).select_related("customer").order_by("updated_at")
        )
        items = [
            WorkItem(label=f"{o.number} {o.customer.display_name}", url=reverse("orders:detail", args=[o.number]))
            for o in orders[: work_limit(WORK_LIMIT)]
        ]
        sections.append(WorkSection(title=_("Orders waiting for your sign-off"), items=items, total=orders.count()))
    if in_dept(user, Dept.MARKETING_HEAD):
        changes = (
            ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING)
            .select_related("order__customer")
            .order_by("requested_at")
        )
        items = [
            WorkItem(
                label=f"{c.order.number} {c.order.customer.display_name}",
                url=reverse("orders:detail", args=[c.order.number]) + "#revisions",
                detail=c.reason[:80],
            )
            for c in changes[: work_limit(WORK_LIMIT)]
        ]
        sections.append(
            WorkSection(title=_("Customer changes waiting for your confirmation"), items=items, total=changes.count())
        )
    mine = list(departments_of(user))
    receipts = (
        MemoReceipt.objects.filter(department__in=mine, acknowledged_at__isnull=True)
        .select_related("memo__order")
        .order_by("memo__issued_at")
    )
    total = receipts.count()
    if total or any(d in REVIEW_DEPARTMENTS for d in mine):
        items = [
            WorkItem(
                label=f"{r.memo.number} {r.memo.subject}"[:100],
                url=reverse("orders:memo", args=[r.memo_id]),
                detail=f"{Dept(r.department).label} · {r.memo.get_topic_display()}",
            )
            for r in receipts[: work_limit(WORK_LIMIT)]
        ]
        sections.append(WorkSection(title=_("Internal memos to acknowledge"), items=items, total=total))
    if in_dept(user, Dept.CS):
        orders = Order.objects.filter(status=Order.Status.SIGNED_OFF).select_related("customer").order_by("updated_at")
        items = [
            WorkItem(label=f"{o.number} {o.customer.display_name}", url=reverse("orders:detail", args=[o.number]))
            for o in orders[: work_limit(WORK_LIMIT)]
        ]
        sections.append(
            WorkSection(title=_("Signed-off orders to confirm to the customer"), items=items, total=orders.count())
        )
    return sections


def memos_for(departments, *, topic: str = "") -> "models.QuerySet[Memo]":
    """Memos sent to any of ``departments`` (all memos for the others: everyone may read them), optionally of one
    topic, with what each concerns loaded for ``memo_concerns``."""
    pending = MemoReceipt.objects.filter(memo=OuterRef("pk"), acknowledged_at__isnull=True)
    memos = Memo.objects.select_related("order__customer", "issued_by").annotate(
        waiting=Count("receipts", filter=Q(receipts__acknowledged_at__isnull=True)),
        mine_waiting=Exists(pending.filter(department__in=list(departments))),
    )
    if topic:
        memos = memos.filter(topic=topic)
    return with_concerns(memos).order_by("-issued_at", "-pk")


def memo_for_page(pk: int) -> Memo:
    return with_concerns(Memo.objects.select_related("order__customer", "issued_by")).get(pk=pk)


# --- What a memo concerns ------------------------------------------------------------------------------------
# Apps that stand on orders point at a memo: delivery's returns (Return.memos, reverse "returns") and
# improvement's meeting minutes (Meeting.memo, reverse "meeting"). Orders must not import them, so it reads those
# relations by name, and only when the app that adds them is installed.


@dataclass
class Concern:
    key: str  # "order", "return", "meeting"
    kind: str
    text: str
    url: str = ""


def _memo_back_relations() -> set[str]:
    return {f.name for f in Memo._meta.get_fields() if f.auto_created and not f.concrete}


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the page's app is not built (or not installed)
        return ""


def with_concerns(memos: "models.QuerySet[Memo]") -> "models.QuerySet[Memo]":
    """``memos`` with what ``memo_concerns`` reads loaded in a fixed number of queries."""
    related = _memo_back_relations()
    if "meeting" in related:
        memos = memos.select_related("meeting")
    if "returns" in related:
        returns = Memo._meta.get_field("returns").related_model.objects.select_related(
            "note_line__note", "note_line__batch__line__product"
        )
        memos = memos.prefetch_related(Prefetch("returns", queryset=returns))
    return memos


def memo_concerns(memo: Memo) -> list[Concern]:
    """What ``memo`` is about, for its page, the list and the printed memo: its order (and revision), the returns
    it writes up, the improvement meeting whose minutes it carries."""
    from common.templatetags.numbers import num

    concerns = []
    related = _memo_back_relations()
    if "returns" in related:
        for ret in memo.returns.all():
            note, product = ret.note_line.note, ret.note_line.batch.line.product
            concerns.append(
                Concern(
                    "return",
                    _("Return"),
                    f"{note.number} · {product.code} {product.name} −{num(ret.quantity)} · {ret.reason[:60]}",
                    _url("delivery:return", ret.pk),
                )
            )
    meeting = getattr(memo, "meeting", None) if "meeting" in related else None
    if meeting is not None:
        url = meeting.get_absolute_url() if hasattr(meeting, "get_absolute_url") else ""
        concerns.append(Concern("meeting", _("Improvement meeting"), str(meeting), url))
    if memo.order_id:
        order = memo.order
        text = f"{order.number} {order.customer.display_name}"
        if memo.topic == Memo.Topic.ORDER_CHANGE:
            text = _("%(order)s, revision %(revision)s") % {"order": text, "revision": memo.revision}
        concerns.append(Concern("order", _("Order"), text, order.get_absolute_url()))
    return concerns


def change_rows(revision: OrderRevision, language: str) -> list[dict]:
    """A revision's changes for display: field label in the reader's language, old and new values."""
    return rows_for_changes(revision.changes, language)


def rows_for_changes(changes: list[dict], language: str) -> list[dict]:
    from orders.memos import FIELD_LABELS, value_text

    rows = []
    for change in changes:
        zh, en = FIELD_LABELS.get(change["field"], (change["field"], change["field"]))
        rows.append(
            {
                "line": change["line"],
                "label": zh if (language or "").startswith("zh") else en,
                "old": value_text(change["field"], change["old"]),
                "new": value_text(change["field"], change["new"]),
            }
        )
    return rows
