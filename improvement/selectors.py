"""Reads of improvement (being written)."""


def my_work(user):
    return []
