"""Who hears about a delivery note: the warehouse and Quality inside (and Customs for an export or a transfer),
the customer's contact outside (§5.6). Staff read it in their own language."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.mail import department_users, mail_each, mail_to
from delivery.models import DeliveryNote


def note_issued(note_id: int) -> int:
    note = DeliveryNote.objects.select_related("customer", "address", "carrier", "vehicle", "customs_work").get(
        pk=note_id
    )
    url = settings.SITE_URL.rstrip("/") + reverse("delivery:note", args=[note.number])
    work = getattr(note, "customs_work", None)

    def compose():
        subject = _("Delivery note %(number)s issued for %(date)s") % {
            "number": note.number,
            "date": note.delivery_date.isoformat(),
        }
        lines = [subject, f"{note.customer.code} {note.customer.display_name}"]
        if work is not None:
            # §5.6.2, §5.9.2: Customs has paperwork on it (My work lists it until it is done).
            lines.append(_("Customs work: %(kind)s.") % {"kind": work.get_kind_display()})
        return subject, "\n".join([*lines, url])

    departments = ["warehouse", "quality"] + (["customs"] if work is not None else [])
    sent = mail_each(department_users(departments), compose)
    contact_email = note.customer.mail_contact()
    if contact_email:
        arrival = note.expected_arrival
        arrival_text = timezone.localtime(arrival).strftime("%Y-%m-%d %H:%M") if arrival else "—"
        # The customer's mail is bilingual, like the printed documents. It states the note's own shipping date,
        # which need not be the day the note is issued (a note made today for tomorrow's truck).
        shipping = note.delivery_date.isoformat()
        subject = f"发货通知 Shipping notice {note.number} ({shipping})"
        body = "\n".join(
            [
                f"{note.customer.name_zh or note.customer.name_en}:",
                f"我司安排于 {shipping} 发货,送货单号 {note.number},预计到达 {arrival_text},送至 {note.address_text}。",
                f"We ship delivery note {note.number} on {shipping}; expected arrival "
                f"{arrival_text} at {note.address_text}.",
            ]
        )
        sent += mail_to(contact_email, subject, body)
    return sent


def announce_not_ready(day=None) -> int:
    """E-mail the order lines with something due tomorrow that the stock does not cover (the same lines as My
    work's "Due tomorrow and not ready", see delivery.selectors); nothing is sent when all are ready."""
    from datetime import timedelta

    from common.templatetags.numbers import num
    from delivery.selectors import lines_not_ready

    day = day or timezone.localdate() + timedelta(days=1)
    lines = list(lines_not_ready(day))
    if not lines:
        return 0
    url = settings.SITE_URL.rstrip("/") + reverse("accounts:my_work")

    def compose():
        subject = ngettext(
            "%(n)s order line due %(date)s is not ready", "%(n)s order lines due %(date)s are not ready", len(lines)
        ) % {"n": len(lines), "date": day.isoformat()}
        rows = [
            f"{line.order.number}/{line.position} {line.order.customer.display_name} · {line.product.code} · "
            + _("%(qty)s due, %(stock)s in stock") % {"qty": num(line.due_on_day), "stock": num(max(line.stock, 0))}
            for line in lines
        ]
        return subject, "\n".join([subject, "", *rows, "", url])

    return mail_each(department_users(["customer_service", "pmc", "warehouse"]), compose)
