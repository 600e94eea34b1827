import pytest
from django.utils.translation import trans_real

MISSING = object()


@pytest.fixture
def zh_catalogue():
    """zh_catalogue({msgid: msgstr, (context, msgid): msgstr}) puts these Chinese translations in the running
    catalogue for the test, whatever locale/ holds yet: the tests check which message the code asks for (its
    context), not the words the translator chose."""
    catalogue = trans_real.translation("zh-hans")._catalog
    top = catalogue._catalogs[0]
    saved = {}

    def add(entries: dict):
        for key, msgstr in entries.items():
            key = f"{key[0]}\x04{key[1]}" if isinstance(key, tuple) else key
            saved.setdefault(key, top.get(key, MISSING))
            top[key] = msgstr

    yield add
    for key, previous in saved.items():
        if previous is MISSING:
            top.pop(key, None)
        else:
            top[key] = previous
