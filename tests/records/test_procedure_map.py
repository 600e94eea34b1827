"""The procedure map (issue 11): every clause once, with its pages, commands and tests; `procedure_map --check`
fails on a marker naming a clause that does not exist, a clause without tests or features, or a page or command
that does not exist; the real tree passes. The auditors' page shows the map with links and test counts."""

import io
import textwrap

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from records import mapcheck, markers
from records.procedure import BY_ID, PROCEDURE, Clause

pytestmark = [pytest.mark.clause("7")]

# Ids the app's tests (and those being written beside this) name: each must be a clause of the map.
NAMED = ["4.0.2", "5.2.4.3", "5.8.1", "5.9", "5.10.3", "5.12", "7", "5.12.8", "5.11.2.1"]


def write(root, name, body):
    path = root / "tests" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_every_clause_is_listed_once_with_chinese_and_english():
    ids = [c.id for c in PROCEDURE]
    assert len(ids) == len(set(ids))
    assert set(NAMED) <= set(ids)
    for number in range(1, 13):
        assert f"5.{number}" in BY_ID
    assert all(c.zh and str(c.en) for c in PROCEDURE)


def test_markers_are_read_from_modules_classes_and_single_tests(tmp_path):
    write(
        tmp_path,
        "app/test_one.py",
        """
        import pytest

        pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.6.1", "7.1")]

        def test_a():
            pass

        @pytest.mark.clause("5.8.1")
        def test_b():
            pass

        def helper():
            pass

        @pytest.mark.clause("5.5.2")
        class TestRate:
            def test_c(self):
                pass
        """,
    )
    write(tmp_path, "app/test_two.py", "import pytest\n\n@pytest.mark.clause('5.9')\ndef test_d():\n    pass\n")
    found = markers.collect(tmp_path / "tests")
    assert found["5.6.1"] == [
        "tests/app/test_one.py::test_a",
        "tests/app/test_one.py::test_b",
        "tests/app/test_one.py::TestRate::test_c",
    ]
    assert found["7.1"] == found["5.6.1"]
    assert found["5.8.1"] == ["tests/app/test_one.py::test_b"]
    assert found["5.5.2"] == ["tests/app/test_one.py::TestRate::test_c"]
    assert found["5.9"] == ["tests/app/test_two.py::test_d"]


def real():
    return markers.collect(mapcheck.tests_root())


@pytest.mark.django_db
def test_the_real_tree_passes_the_check():
    assert mapcheck.check() == []
    out = io.StringIO()
    call_command("procedure_map", "--check", stdout=out)
    assert "The procedure map holds" in out.getvalue()


def test_a_marker_naming_a_clause_that_does_not_exist_fails(tmp_path, monkeypatch):
    found = real()
    found["5.99"] = ["tests/app/test_fake.py::test_it"]
    problems = mapcheck.check(found)
    assert problems == [
        "A test marker names §5.99, which is not a clause of the procedure map (tests/app/test_fake.py)."
    ]
    # And through the command, on a test tree holding such a marker.
    write(tmp_path, "app/test_fake.py", "import pytest\n\npytestmark = [pytest.mark.clause('5.99')]\n")
    monkeypatch.setattr(mapcheck, "tests_root", lambda: tmp_path / "tests")
    err = io.StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("procedure_map", "--check", stderr=err)
    assert "§5.99" in err.getvalue()


def test_a_clause_without_tests_fails():
    found = {k: v for k, v in real().items() if k != "5.5.3"}
    assert mapcheck.check(found) == ["§5.5.3 has no test (no test carries its clause marker)."]


def test_a_heading_is_proved_by_its_sub_clauses():
    found = {k: v for k, v in real().items() if k not in ("5.7", "5.7.1")}
    assert "§5.7 has no test (no test carries its clause marker)." in mapcheck.check(found)
    found["5.7.1"] = ["tests/x.py::test_it"]
    assert not [p for p in mapcheck.check(found) if "§5.7 " in p]


def test_a_clause_without_a_feature_or_naming_what_does_not_exist_fails(monkeypatch):
    from records import procedure

    extra = (
        Clause("5.13", "虚构", "made up", pages=("orders:nothing",), commands=("no_such_command",)),
        Clause("5.14", "虚构", "made up"),
    )
    monkeypatch.setattr(mapcheck, "PROCEDURE", procedure.PROCEDURE + extra)
    found = {**real(), "5.13": ["tests/x.py::test_a"], "5.14": ["tests/x.py::test_b"]}
    assert mapcheck.check(found) == [
        "§5.13 names the page orders:nothing, which does not exist.",
        "§5.13 names the command no_such_command, which does not exist.",
        "§5.14 has no feature (no page or command).",
    ]


def test_url_names_are_checked_whatever_their_arguments():
    assert mapcheck.url_name_exists("orders:list")
    assert mapcheck.url_name_exists("orders:memo")  # takes a pk
    assert not mapcheck.url_name_exists("orders:nothing")
    assert not mapcheck.url_name_exists("nowhere:list")


def test_the_table_lists_each_clause_with_its_features_and_test_count():
    out = io.StringIO()
    call_command("procedure_map", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(PROCEDURE) + 1
    row = next(line for line in lines if line.strip().startswith("5.5.2 "))
    count = len(real()["5.5.2"])
    assert "delivery:ontime" in row and "manage.py on_time_rate" in row and f" {count} " in row


@pytest.mark.django_db
def test_the_auditors_page_links_each_clause_to_its_pages_and_records(client_for):
    response = client_for("qa").get(reverse("records:procedure_map"))
    assert response.status_code == 200
    page = response.content.decode()
    for clause in PROCEDURE:
        assert f'id="clause-{clause.id}"' in page
    row = page.split('id="clause-5.5.2"', 1)[1].split("</tr>", 1)[0]
    assert f'href="{reverse("delivery:ontime")}"' in row and "manage.py on_time_rate" in row
    assert f'data-testid="tests">{len(real()["5.5.2"])}<' in row
    row = page.split('id="clause-7.3"', 1)[1].split("</tr>", 1)[0]
    assert f'href="{reverse("orders:memos")}"' in row and "#kind-memo" in row
