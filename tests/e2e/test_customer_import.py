"""An administrator imports a customer list from Excel in a real browser, in Chinese."""

import pytest

from customers.models import Customer
from tests.customers.workbooks import row, xlsx

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("5.1")]


def test_an_administrator_imports_a_customer_list_in_chinese(page, login, users, tmp_path):
    bad = tmp_path / "客户清单.xlsx"
    bad.write_bytes(xlsx([row("C-0101", name_zh="东莞宏达电子"), row("C-0102", tax_rate="十三")]))
    good = tmp_path / "客户清单-改正.xlsx"
    good.write_bytes(xlsx([row("C-0101", name_zh="东莞宏达电子"), row("C-0102", name_zh="深圳华光照明", tax_rate=13)]))

    login("admin")
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "我的工作"

    page.goto("/admin/customers/customer/import/")
    page.set_input_files("#import-form input[type=file]", str(bad))
    page.click("#import-form input[type=submit]")
    page.get_by_test_id("nothing-imported").wait_for()
    assert "未导入任何数据" in page.get_by_test_id("nothing-imported").inner_text()
    error_row = page.locator("#import-rows tr.row-error")
    assert error_row.count() == 1 and "“十三”不是数字" in error_row.inner_text()
    assert page.get_by_test_id("confirm-import").count() == 0
    assert Customer.objects.count() == 0

    page.goto("/admin/customers/customer/import/")
    page.set_input_files("#import-form input[type=file]", str(good))
    page.click("#import-form input[type=submit]")
    page.get_by_test_id("confirm-import").click()
    page.get_by_test_id("import-done").wait_for()
    assert "已导入" in page.get_by_test_id("import-done").inner_text()

    page.goto("/customers/")
    table = page.locator("table").first.inner_text()
    assert "C-0101" in table and "东莞宏达电子" in table and "深圳华光照明" in table
    assert Customer.objects.count() == 2
