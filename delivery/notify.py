"""Who hears about a delivery note: the warehouse and Quality inside, the customer's contact outside (§5.6)."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from common.mail import department_users, mail_each
from delivery.models import DeliveryNote


def note_issued(note_id: int) -> int:
    note = DeliveryNote.objects.select_related("customer", "address", "carrier", "vehicle").get(pk=note_id)
    url = settings.SITE_URL.rstrip("/") + reverse("delivery:note", args=[note.number])

    def compose():
        subject = _("Delivery note %(number)s issued for %(date)s") % {
            "number": note.number,
            "date": note.delivery_date.isoformat(),
        }
        return subject, "\n".join([subject, f"{note.customer.code} {note.customer.display_name}", url])

    sent = mail_each(department_users(["warehouse", "quality"]), compose)
    contact_email = note.customer.mail_contact()
    if contact_email:
        arrival = note.expected_arrival
        arrival_text = timezone.localtime(arrival).strftime("%Y-%m-%d %H:%M") if arrival else "—"
        # The customer's mail is bilingual, like the printed documents.
        subject = f"发货通知 Shipping notice {note.number}"
        body = "\n".join(
            [
                f"{note.customer.name_zh or note.customer.name_en}:",
                f"我司今日安排发货,送货单号 {note.number},发货日期 {note.delivery_date.isoformat()},"
                f"预计到达 {arrival_text},送至 {note.address.address}。",
                f"We ship delivery note {note.number} on {note.delivery_date.isoformat()}; expected arrival "
                f"{arrival_text} at {note.address.address}.",
            ]
        )
        sent += send_mail(subject, body, None, [contact_email])
    return sent


def announce_not_ready(day=None) -> int:
    """E-mail the batches due tomorrow that are not ready today; nothing is sent when all are ready."""
    from datetime import timedelta

    from delivery.selectors import batches_not_ready

    day = day or timezone.localdate() + timedelta(days=1)
    batches = list(batches_not_ready(day))
    if not batches:
        return 0
    url = settings.SITE_URL.rstrip("/") + reverse("accounts:my_work")

    def compose():
        subject = _("%(n)s delivery batch(es) due %(date)s are not ready") % {
            "n": len(batches),
            "date": day.isoformat(),
        }
        lines = [
            f"{b.line.order.number} {b.line.order.customer.display_name} · {b.line.product.code} · {b.quantity}"
            for b in batches
        ]
        return subject, "\n".join([subject, "", *lines, "", url])

    return mail_each(department_users(["customer_service", "pmc", "warehouse"]), compose)
