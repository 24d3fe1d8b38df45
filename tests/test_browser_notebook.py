"""In Debian's Chromium on a phone-sized screen: logging a visit, copying it, following a
dashboard figure to its entries."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import (
    PASSWORD,
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
    World,
)
from worklog.models import Entry

pytestmark = pytest.mark.browser


@pytest.fixture
def field(transactional_db):
    world = World.build()
    visit = ActivityFactory(code="policy_visit", name="入户宣讲惠民政策", name_en="Policy visit",
                            uses_households=True, uses_participants=True)
    ActivityFactory(code="project", name="惠民项目", uses_funds=True)
    IndicatorFactory(code="policy_visits", label_zh="入户宣讲", measure="household_visits",
                     unit="户次", activities=[visit])
    homes = [
        HouseholdFactory(village=world.village_a, house_number=str(n), head_name=name)
        for n, name in [(1, "阿依古丽"), (2, "ئابدۇرېھىم"), (3, "王建华"), (12, "Әсел")]
    ]
    return world, visit, homes


def log_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")


def assert_no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_member_logs_a_visit_to_two_households_and_sees_it_everywhere(page, live_server, field):
    world, visit, homes = field
    log_in(page, live_server, "member_a")
    page.wait_for_url(re.compile(r".*/notebook/$"))
    assert_no_horizontal_scroll(page)

    page.goto(live_server.url + "/notebook/new/")
    assert_no_horizontal_scroll(page)
    page.select_option("#id_activity", str(visit.pk))
    assert page.is_hidden("#id_funds")  # the visit does not record funds
    search = page.locator(".household-search")
    search.fill("阿依")
    page.locator(".household-option", has_text="阿依古丽").click()
    search.fill("2")
    page.locator(".household-option", has_text="ئابدۇرېھىم").click()
    expect(page.locator(".household-chip")).to_have_count(2)
    page.fill("#id_participants", "5")
    page.fill("#id_title", "宣讲惠民政策")
    page.click("button[name=next][value=detail]")

    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    entry = Entry.objects.get()
    assert set(entry.households.all()) == {homes[0], homes[1]}
    assert entry.participants == 5 and entry.date == timezone.localdate()

    page.goto(live_server.url + "/notebook/")
    assert page.locator("text=宣讲惠民政策").count() >= 1
    assert_no_horizontal_scroll(page)
    for home in homes[:2]:
        page.goto(f"{live_server.url}/households/{home.pk}/")
        assert page.locator("text=宣讲惠民政策").count() >= 1
        assert_no_horizontal_scroll(page)


def test_copy_an_entry(page, live_server, field):
    world, visit, homes = field
    original = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                            households=homes[:2], participants=4, title="走访两户")
    log_in(page, live_server, "member_a")
    page.wait_for_url(re.compile(r".*/notebook/$"))

    page.goto(f"{live_server.url}/notebook/{original.pk}/")
    page.click("a[href$='/copy/']")
    expect(page.locator(".household-chip")).to_have_count(2)
    assert page.input_value("#id_date") == timezone.localdate().isoformat()
    page.click("button[name=next][value=detail]")

    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    copy = Entry.objects.exclude(pk=original.pk).get()
    assert (copy.title, copy.participants, copy.date) == ("走访两户", 4, timezone.localdate())
    assert set(copy.households.all()) == set(homes[:2])


def test_coordinator_follows_a_dashboard_figure_to_its_entries(page, live_server, field):
    world, visit, homes = field
    year = timezone.localdate().year
    EntryFactory(team=world.team_a, activity=visit, households=homes[:2], date=timezone.localdate())
    EntryFactory(team=world.team_b, activity=visit, date=timezone.localdate())  # one household
    log_in(page, live_server, "coordinator")
    page.wait_for_url(re.compile(r".*/dashboard/.*"))

    page.goto(f"{live_server.url}/dashboard/?year={year}&org={world.org.slug}")
    card = page.locator("[data-indicator=policy_visits]").first
    assert card.get_attribute("data-value") == "3"
    assert page.locator("svg title").count() >= 1  # the chart is there without scripts
    assert_no_horizontal_scroll(page)
    card.locator("a.figure").click()

    page.wait_for_url(re.compile(r".*/notebook/\?.*indicator=policy_visits.*"))
    total = page.locator("[data-indicator=policy_visits][data-value]").first
    assert total.get_attribute("data-value") == "3"
    assert_no_horizontal_scroll(page)
