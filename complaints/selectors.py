"""Reads of complaints (being written)."""


def my_work(user):
    return []
