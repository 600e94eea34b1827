import pytest
from django.core.management import call_command

from customers.models import Customer
from tests.customers.workbooks import row, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.clause("5.1")]


def run(*args):
    """call_command, returning (exit code, stdout, stderr)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_customers", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_it_imports_a_good_file_and_exits_0(tmp_path):
    path = tmp_path / "good.xlsx"
    path.write_bytes(xlsx([row("C-0001"), row("C-0002")]))
    code, out, _ = run(str(path))
    assert code == 0 and "Imported: 2 new" in out
    assert Customer.objects.count() == 2


def test_a_dry_run_exits_0_and_writes_nothing(tmp_path):
    path = tmp_path / "good.xlsx"
    path.write_bytes(xlsx([row("C-0001")]))
    code, out, _ = run(str(path), "--dry-run")
    assert code == 0 and "dry run" in out
    assert Customer.objects.count() == 0


def test_a_bad_file_exits_1_with_a_report_per_row(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx([row("C-0001"), row("C-0002", kind="wholesale")]))
    code, _, err = run(str(path))
    assert code == 1
    assert "line 3: error" in err and "wholesale" in err and "Nothing imported" in err
    assert Customer.objects.count() == 0


def test_a_file_that_is_not_excel_exits_1(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("code,name\n")
    code, _, err = run(str(path))
    assert code == 1 and "not an Excel workbook" in err


def test_it_writes_the_template_which_then_imports(tmp_path):
    path = tmp_path / "template.xlsx"
    code, out, _ = run("--template", str(path))
    assert code == 0 and path.exists()
    assert run(str(path))[0] == 0
    assert Customer.objects.count() == 1
