"""Reading the procedure map against the code base: the table and the checks of ``procedure_map --check``."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands
from django.urls import get_resolver
from django.utils.translation import gettext as _

from records import markers
from records.procedure import PROCEDURE, Clause, descendants


def tests_root() -> Path:
    return Path(settings.BASE_DIR) / "tests"


def url_name_exists(name: str) -> bool:
    """Whether ``name`` ("namespace:name") is a url name of the project, whatever arguments it takes."""
    *namespaces, leaf = name.split(":")
    resolver = get_resolver()
    for namespace in namespaces:
        entry = resolver.namespace_dict.get(namespace)
        if entry is None:
            return False
        resolver = entry[1]
    return leaf in resolver.reverse_dict


def command_exists(name: str) -> bool:
    return name in get_commands()


@dataclass
class Row:
    clause: Clause
    pages: tuple[str, ...]  # its own and its sub-clauses'
    commands: tuple[str, ...]
    tests: list[str]  # its own and its sub-clauses'
    own_tests: list[str]


def rows(found: dict[str, list[str]] | None = None) -> list[Row]:
    found = markers.collect(tests_root()) if found is None else found
    result = []
    for clause in PROCEDURE:
        family = [clause, *descendants(clause.id)]
        pages = tuple(dict.fromkeys(p for c in family for p in c.pages))
        commands = tuple(dict.fromkeys(m for c in family for m in c.commands))
        tests = list(dict.fromkeys(t for c in family for t in found.get(c.id, [])))
        result.append(Row(clause, pages, commands, tests, list(found.get(clause.id, []))))
    return result


def check(found: dict[str, list[str]] | None = None) -> list[str]:
    """Every problem of the map, as a sentence; empty when the map holds."""
    found = markers.collect(tests_root()) if found is None else found
    problems = []
    ids = [clause.id for clause in PROCEDURE]
    for clause_id in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(_("§%(id)s is listed more than once.") % {"id": clause_id})
    known = set(ids)
    for clause_id, tests in sorted(found.items()):
        if clause_id not in known:
            where = ", ".join(sorted({t.split("::")[0] for t in tests})) or "?"
            problems.append(
                _("A test marker names §%(id)s, which is not a clause of the procedure map (%(where)s).")
                % {"id": clause_id, "where": where}
            )
    for clause in PROCEDURE:
        for name in clause.pages:
            if not url_name_exists(name):
                problems.append(
                    _("§%(id)s names the page %(name)s, which does not exist.") % {"id": clause.id, "name": name}
                )
        for name in clause.commands:
            if not command_exists(name):
                problems.append(
                    _("§%(id)s names the command %(name)s, which does not exist.") % {"id": clause.id, "name": name}
                )
    for row in rows(found):
        if not row.pages and not row.commands:
            problems.append(_("§%(id)s has no feature (no page or command).") % {"id": row.clause.id})
        if not row.tests:
            problems.append(_("§%(id)s has no test (no test carries its clause marker).") % {"id": row.clause.id})
    return problems
