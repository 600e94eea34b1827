"""Telling departments that something waits for them: "My work" shows it, and an e-mail is sent after the
transaction commits (as a background job when a queue is configured)."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from common.jobs import enqueue_on_commit
from common.mail import department_users, mail_each


def notify_departments(order, departments, *, kind: str) -> None:
    from orders import tasks

    enqueue_on_commit(tasks.notify_departments, order.pk, list(departments), kind)


SUBJECTS = {
    "step": lambda o: _("Order %(number)s waits for your review") % {"number": o.number},
    "objection": lambda o: _("Objection on order %(number)s: settle it with the customer") % {"number": o.number},
    "signoff": lambda o: _("Order %(number)s is ready for your sign-off") % {"number": o.number},
    "change": lambda o: (
        _("A change of order %(number)s asked by the customer waits for your confirmation") % {"number": o.number}
    ),
    "delay": lambda o: (
        _("Production of order %(number)s is delayed: settle it with the customer") % {"number": o.number}
    ),
    "memo": lambda o: _("Internal memo on order %(number)s") % {"number": o.number},
}


def send_notifications(order_id: int, departments: list[str], kind: str) -> int:
    """One e-mail per recipient, in the recipient's language. Returns how many were sent."""
    from orders.models import Order

    order = Order.objects.select_related("customer").get(pk=order_id)
    url = settings.SITE_URL.rstrip("/") + reverse("orders:detail", args=[order.number])

    def compose():
        subject = SUBJECTS[kind](order)
        return subject, "\n".join([subject, f"{order.customer.code} {order.customer.display_name}", url])

    return mail_each(department_users(departments), compose)
