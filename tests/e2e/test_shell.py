import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_logs_in_and_switches_to_chinese_and_back(page, login, users):
    login("cs")
    assert page.locator("h1").inner_text() == "My work"
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "我的工作"
    # Remembered on the user: a fresh browser context (no cookie) still gets Chinese after logging in.
    page.context.clear_cookies()
    login("cs")
    assert page.locator("h1").inner_text() == "我的工作"
