"""Readable numbers per year (orders, delivery notes) that never skip or repeat."""


def next_in_year(counter_model, year: int) -> int:
    """The next number of ``year`` from a counter model (fields ``year`` primary key, ``last``).

    The counter row stays locked until the caller's transaction ends, so two callers at once get consecutive
    numbers, and a rolled-back caller gives its number back. Call inside a transaction.
    """
    counter_model.objects.get_or_create(year=year)
    counter = counter_model.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last
