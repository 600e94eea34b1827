"""The vehicle dispatch request (《车辆调度申请单》, §5.6.1): a numbered record of its own, opened with its
delivery note, printable on A4 and on the 241 mm continuous form like the note."""

from datetime import date

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from common.numbering import next_in_year
from common.pdf import render_pdf
from delivery.models import DeliveryNote, DispatchCounter, DispatchRequest

LAYOUTS = {
    "a4": ("A4", "delivery/pdf/dispatch_a4.html"),
    "form241": (f"241mm {settings.DELIVERY_FORM_HEIGHT_MM}mm", "delivery/pdf/dispatch_form.html"),
}


def next_dispatch_number(day: date) -> str:
    """VD-2026-00042: per year, no gaps (the counter row is locked until the note's transaction ends)."""
    return f"VD-{day.year}-{next_in_year(DispatchCounter, day.year):05d}"


def dispatch_open(*, user, note: DeliveryNote) -> DispatchRequest:
    """Called in the transaction that issues ``note``: the request says what was asked when it was made."""
    return DispatchRequest.objects.create(
        number=next_dispatch_number(timezone.localdate()),
        note=note,
        use_date=note.delivery_date,
        carrier=note.carrier,
        vehicle=note.vehicle,
        destination=note.address_text,
        expected_arrival=note.expected_arrival,
        requested_by=user,
    )


def requests_with_notes() -> QuerySet[DispatchRequest]:
    return DispatchRequest.objects.select_related(
        "note__customer", "note__address", "carrier", "vehicle", "requested_by"
    ).prefetch_related("note__lines__batch__line__product")


def dispatch_pdf(requests: list[DispatchRequest], layout: str = "a4") -> bytes:
    page_size, template = LAYOUTS[layout]
    return render_pdf(
        template,
        {
            "requests": requests,
            "page_size": page_size,
            "company_zh": settings.COMPANY_NAME_ZH,
            "company_en": settings.COMPANY_NAME_EN,
        },
    )
