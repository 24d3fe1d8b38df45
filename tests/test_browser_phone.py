"""In Debian's Chromium on a 390 × 844 phone (issue 13, points 4 and 7): the notebook and
the household lists fit the screen, pager included, with headers on one line; at 1280 × 800
the notebook keeps every column; a visit is logged from the household's page."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ActivityFactory, EntryFactory, HouseholdFactory, World
from worklog.models import Activity, Entry

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ROWS = 110  # three pages of 50


@pytest.fixture
def busy(transactional_db):
    """Two teams' notebooks of three pages, with long titles and names, and the
    households they visited (three pages of them in village A)."""
    world = World.build()
    visit = ActivityFactory(code="policy_visit", name="入户宣讲惠民政策", name_en="Door-to-door policy talk",
                            category=Activity.Category.VISIT, uses_households=True,
                            uses_participants=True)
    training = ActivityFactory(code="committee_training", name="培训村“两委”班子成员",
                               uses_participants=True, uses_sessions=True, uses_funds=True)
    for n in range(ROWS):
        team = world.team_a if n % 2 else world.team_b
        if n % 3:
            EntryFactory(team=team, activity=visit, participants=12,
                         title=f"入户宣讲农业补贴政策和医疗保险政策第{n}次走访记录")
        else:
            EntryFactory(team=team, activity=training, participants=236, sessions=3,
                         funds=Decimal("1033000.00"), title="村“两委”班子党务知识培训")
    for n in range(ROWS):
        HouseholdFactory(village=world.village_a, head_name=f"阿依古丽·吐尔逊{n}")
    return world, visit


def log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()


def overflow(page):
    """(The page's scroll width, the table's and its box's widths)."""
    return page.evaluate("""() => {
        const table = document.querySelector('table');
        return [document.documentElement.scrollWidth, table.scrollWidth, table.parentElement.clientWidth];
    }""")


def headers_on_more_than_one_line(page):
    """The visible headers whose text takes more than one line (the browser reads Chinese,
    whose headers would break between any two characters)."""
    return page.evaluate("""() => [...document.querySelectorAll('thead th')]
        .filter(th => th.offsetParent !== null)
        .filter(th => {
            const range = document.createRange();
            range.selectNodeContents(th);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
        })
        .map(th => th.textContent.trim())""")


def assert_fits(page):
    width = page.viewport_size["width"]
    page_width, table_width, box_width = overflow(page)
    assert page_width <= width
    assert table_width <= box_width  # nothing scrolls sideways inside the table's box either
    assert headers_on_more_than_one_line(page) == []
    pager = page.locator(".table-pager")
    pager.scroll_into_view_if_needed()
    box = pager.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    next_page = pager.locator("a[rel=next]")
    expect(next_page).to_be_visible()
    link = next_page.bounding_box()
    assert link["x"] + link["width"] <= width


def test_the_lists_fit_a_phone_and_keep_every_column_on_a_desktop(page, live_server, busy):
    world, visit = busy
    log_in(page, live_server, world.coordinator)  # sees both teams: the team column too

    page.goto(live_server.url + "/notebook/")
    assert_fits(page)
    # the row is the date and the title, which links to the entry with all its figures
    first = Entry.objects.order_by("-date", "-id").first()
    row = page.locator(f"tr[data-entry='{first.pk}']")
    expect(row.locator(f"a[href='/notebook/{first.pk}/']")).to_be_visible()
    expect(row.get_by_text(first.activity.name).last).to_be_visible()
    page.locator(".table-pager a[rel=next]").click()
    expect(page.locator(".table-pager").get_by_text("第 2 / 3 页")).to_be_visible()
    assert_fits(page)

    page.goto(live_server.url + "/households/")
    assert_fits(page)

    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/notebook/")
    headers = page.locator("thead th")
    for index in range(headers.count()):
        expect(headers.nth(index)).to_be_visible()
    assert headers.count() == 10
    assert_fits(page)
    expect(page.locator(".table-pager li:not(.d-sm-none) a", has_text="3")).to_be_visible()

    # the coordinator's households span two villages: each row names its village
    page.goto(live_server.url + "/households/")
    expect(page.locator("tbody tr").first.locator("td").first).to_have_text(world.village_a.label)
    assert_fits(page)


def test_a_visit_logged_from_the_household_page(page, live_server, busy):
    world, visit = busy
    household = HouseholdFactory(village=world.village_a, house_number="12", head_name="王建华")
    log_in(page, live_server, world.member_a)

    page.goto(f"{live_server.url}/households/{household.pk}/")
    page.locator("a.log-visit", has_text="记录走访").click()

    page.wait_for_url(re.compile(r".*/notebook/new/\?.*"))
    expect(page.locator(".household-chip")).to_have_count(1)
    expect(page.locator(".household-chip")).to_contain_text("王建华")
    assert page.input_value("#id_activity") == str(visit.pk)
    page.fill("#id_participants", "3")
    page.click("button[name=next][value=detail]")

    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    entry = Entry.objects.get(households=household)
    assert (entry.activity, entry.participants, entry.author) == (visit, 3, world.member_a)
