"""The entry form in Debian's Chromium on a phone (issue 13): Back and reload never make a
second entry, the household picker picks the number typed, "save and add another" and
"repeat" spare re-typing."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    MembershipFactory,
    TeamFactory,
    World,
)
from tests.test_browser_notebook import log_in
from worklog.models import Entry

pytestmark = pytest.mark.browser

ALREADY_SAVED = "这条记录此前已保存，未重复添加。"


@pytest.fixture
def field(transactional_db):
    world = World.build()
    visit = ActivityFactory(code="policy_visit", name="入户宣讲惠民政策", name_en="Policy visit",
                            uses_households=True, uses_participants=True)
    homes = {
        number: HouseholdFactory(village=world.village_a, house_number=number, head_name=name)
        for number, name in [("1", "阿依古丽"), ("2", "王建华"), ("12", "Әсел"),
                             ("112", "李明"), ("120", "赵丽")]
    }
    return world, visit, homes


def open_form(page, live_server, path="/notebook/new/"):
    page.goto(live_server.url + path)
    return page.locator("input[name=uuid]").input_value()


def listed(page):
    return page.locator(".household-option").all_inner_texts()


def chips(page):
    return [chip.removesuffix(" ×") for chip in page.locator(".household-chip").all_inner_texts()]


def test_save_back_save_stores_one_entry_and_says_so(page, live_server, field):
    world, visit, homes = field
    log_in(page, live_server, "member_a")
    page.wait_for_url(re.compile(r".*/notebook/$"))
    uuid = open_form(page, live_server)
    page.reload()
    assert page.locator("input[name=uuid]").input_value() == uuid  # reload keeps it

    page.select_option("#id_activity", str(visit.pk))
    page.locator(".household-search").fill("2")
    page.keyboard.press("Enter")
    page.fill("#id_participants", "4")
    page.click("button[name=next][value=detail]")
    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    page.go_back()
    page.wait_for_url(re.compile(r".*/notebook/new/$"))

    assert page.locator("input[name=uuid]").input_value() == uuid
    assert chips(page) == ["2 · 王建华"]  # the browser refilled the form: it shows so
    page.click("button[name=next][value=detail]")
    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    expect(page.get_by_text(ALREADY_SAVED)).to_be_visible()
    entry = Entry.objects.get()
    assert str(entry.uuid) == uuid
    assert list(entry.households.all()) == [homes["2"]]


def test_the_picker_lists_the_exact_number_first_and_enter_takes_only_it(page, live_server, field):
    world, visit, homes = field
    log_in(page, live_server, "member_a")
    page.wait_for_url(re.compile(r".*/notebook/$"))
    open_form(page, live_server)
    page.select_option("#id_activity", str(visit.pk))
    search = page.locator(".household-search")

    search.fill("12")
    assert listed(page) == ["12 · Әсел", "120 · 赵丽"]  # not 112: it does not start with 12
    search.press("Enter")
    assert chips(page) == ["12 · Әсел"]

    search.fill("12")  # 12 is chosen already: Enter does not take 120 instead
    assert listed(page) == ["120 · 赵丽"]
    search.press("Enter")
    assert chips(page) == ["12 · Әсел"]

    search.fill("1")
    assert listed(page) == ["1 · 阿依古丽", "112 · 李明", "120 · 赵丽"]
    search.press("Enter")
    search.fill("11")  # the only match
    search.press("Enter")
    assert chips(page) == ["1 · 阿依古丽", "12 · Әсел", "112 · 李明"]

    page.fill("#id_participants", "3")
    page.click("button[name=next][value=detail]")
    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    assert set(Entry.objects.get().households.all()) == {homes["1"], homes["12"], homes["112"]}


def test_a_member_of_two_villages_sees_which_village(page, live_server, field):
    world, visit, homes = field
    company = TeamFactory(organisation=world.org, village__name="12连")
    MembershipFactory(user=world.member_a, team=company)
    HouseholdFactory(village=company.village, house_number="12", head_name="Айгүл")
    HouseholdFactory(village=company.village, house_number="5", head_name="张伟")
    log_in(page, live_server, "member_a")
    page.wait_for_url(re.compile(r".*/notebook/$"))
    open_form(page, live_server)
    page.select_option("#id_activity", str(visit.pk))
    search = page.locator(".household-search")

    search.fill("12")
    village = world.village_a.name
    assert listed(page) == ["12 · Айгүл · 12连", f"12 · Әсел · {village}", f"120 · 赵丽 · {village}",
                            "5 · 张伟 · 12连"]
    search.press("Enter")  # house 12 of which village? Enter does not guess
    assert chips(page) == []


def test_save_and_add_another_keeps_the_date_and_the_activity(page, live_server, field):
    world, visit, homes = field
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    log_in(page, live_server, "member_a")
    page.wait_for_url(re.compile(r".*/notebook/$"))
    first_uuid = open_form(page, live_server)
    page.fill("#id_date", yesterday.isoformat())
    page.select_option("#id_activity", str(visit.pk))
    page.locator(".household-search").fill("1")
    page.keyboard.press("Enter")
    page.click("button[name=next][value=add]")
    page.wait_for_url(re.compile(r".*/notebook/new/\?.*"))

    assert page.input_value("#id_date") == yesterday.isoformat()
    assert page.input_value("#id_activity") == str(visit.pk)
    assert page.locator("input[name=uuid]").input_value() != first_uuid
    page.locator(".household-search").fill("2")
    page.keyboard.press("Enter")
    page.click("button[name=next][value=detail]")
    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    assert [e.date for e in Entry.objects.all()] == [yesterday, yesterday]


def test_repeat_a_notebook_row_on_its_own_date(page, live_server, field):
    world, visit, homes = field
    day = datetime.date(2017, 3, 1)
    original = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                            households=[homes["2"]], participants=4, date=day, title="走访")
    log_in(page, live_server, "member_a")
    page.wait_for_url(re.compile(r".*/notebook/$"))

    page.locator(f"tr[data-entry='{original.pk}'] a.entry-repeat").click()
    assert page.input_value("#id_date") == timezone.localdate().isoformat()
    assert chips(page) == ["2 · 王建华"]
    page.click("a.copy-date")
    assert page.input_value("#id_date") == day.isoformat()
    page.click("button[name=next][value=detail]")

    page.wait_for_url(re.compile(r".*/notebook/\d+/$"))
    repeat = Entry.objects.exclude(pk=original.pk).get()
    assert (repeat.date, repeat.participants, repeat.title) == (day, 4, "走访")
