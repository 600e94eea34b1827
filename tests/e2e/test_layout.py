"""The page frame in a real browser: the English navigation fits one line on a 1366 px screen, and wide tables
scroll inside their box on a phone instead of widening the page (issue 9)."""

import pytest

from accounts.roles import Dept
from customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)

TOP_LEVEL = (
    "nav.navbar .navbar-brand, #mainnav > ul > li > .nav-link, [data-testid=language-switch], [data-testid=user-menu]"
)


def test_the_english_navigation_fits_one_line_at_1366_px(page, login, make_user):
    make_user("everyone", *Dept.values, is_staff=True)  # in every department: every entry of the bar
    page.set_viewport_size({"width": 1366, "height": 768})
    login("everyone")
    entries = page.locator("#mainnav > ul > li").count()
    assert entries >= 8
    boxes = page.eval_on_selector_all(
        TOP_LEVEL, "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })"
    )
    middles = [(top + bottom) / 2 for top, bottom in boxes]
    assert max(middles) - min(middles) < 8, f"the bar wraps: {boxes}"
    assert page.locator("nav.navbar").bounding_box()["height"] < 70
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_the_navigation_reaches_every_area_from_its_menus(page, login, make_user):
    make_user("everyone", *Dept.values, is_staff=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    login("everyone")
    page.locator("#mainnav").get_by_role("button", name="Delivery").click()
    page.locator("#mainnav").get_by_role("link", name="On-time rate").click()
    page.wait_for_url("**/delivery/on-time/**")
    assert page.locator("#mainnav .nav-link.active").inner_text().strip() == "Delivery"


def test_wide_tables_scroll_inside_their_box_on_a_phone(page, login, users):
    for n in range(3):
        Customer.objects.create(
            code=f"C-{n:04d}",
            name_zh="东莞宏达电子有限公司东莞宏达电子有限公司",
            name_en="Dongguan Hongda Electronics Manufacturing Company Limited",
            status="active",
        )
    page.set_viewport_size({"width": 375, "height": 740})
    login("cs")
    for url in ("/customers/", "/delivery/on-time/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, f"{url} is wider than the phone"
        scrolls = page.eval_on_selector_all(
            "main table", "els => els.map(e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX)"
        )
        assert "auto" in scrolls, f"no table of {url} scrolls in its box: {scrolls}"
