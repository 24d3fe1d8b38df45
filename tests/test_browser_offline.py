"""The notebook with no signal, in Debian's Chromium on a phone (issue 13, point 1): after
one online visit the entry form opens offline, entries wait in the phone's outbox and are
sent once when the connection returns; the outbox and the kept pages belong to one user."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Error as BrowserError
from playwright.sync_api import expect

from teams.models import Membership
from tests.factories import (
    PASSWORD,
    ActivityFactory,
    HouseholdFactory,
    IndicatorFactory,
    World,
)
from worklog.locking import lock_month
from worklog.models import Amendment, Entry
from worklog.tallies import differences
from worklog.totals import resolve_scope, year_totals

pytestmark = pytest.mark.browser


@pytest.fixture
def field(transactional_db):
    world = World.build()
    visit = ActivityFactory(code="policy_visit", name="入户宣讲惠民政策", name_en="Policy visit",
                            uses_households=True, uses_participants=True)
    project = ActivityFactory(code="project", name="惠民项目", name_en="Project", uses_funds=True)
    for code, measure, activity in [("visits", "household_visits", visit),
                                    ("households", "households", visit),
                                    ("participants", "participants", visit),
                                    ("funds", "funds", project)]:
        IndicatorFactory(code=code, measure=measure, activities=[activity])
    homes = [
        HouseholdFactory(village=world.village_a, house_number=str(n), head_name=name)
        for n, name in [(1, "阿依古丽"), (2, "ئابدۇرېھىم"), (12, "Әсел"), (112, "王建华")]
    ]
    return world, visit, project, homes


def figures(world):
    """The organisation's totals of this year, as its dashboard shows them."""
    scope = resolve_scope("org", world.org.slug)
    return {total.indicator.code: total.value for total in year_totals(scope, timezone.localdate().year)}


def log_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(re.compile(r".*/notebook/$"))


def log_out(page):
    page.click("form.logout-form button")
    page.wait_for_url(re.compile(r".*/accounts/login/$"))


def open_form_offline(page, context, live_server):
    """Visit the form online until the phone keeps it, then open it again with no connection."""
    page.goto(live_server.url + "/notebook/new/")
    page.locator("html[data-offline-ready=true]").wait_for(state="attached")
    context.set_offline(True)
    page.reload()
    expect(page.locator(".offline-badge")).to_be_visible()


def log_visit(page, visit, number, name, participants, *, then="add"):
    page.select_option("#id_activity", str(visit.pk))
    page.locator(".household-search").fill(number)
    page.locator(".household-option", has_text=name).click()
    page.fill("#id_participants", str(participants))
    save(page, then)


def save(page, then):
    """Save, and wait for the page that follows: the outbox, or a new form."""
    uuid = page.locator("input[name=uuid]").input_value()
    page.click(f"button[name=next][value={then}]")
    if then == "add":
        expect(page.locator("input[name=uuid]")).not_to_have_value(uuid)
    else:
        page.wait_for_url(re.compile(r".*/notebook/outbox/$"))


def waiting(page):
    return page.locator(".outbox-link")


def test_entries_logged_offline_are_sent_once_when_the_connection_returns(page, context, live_server, field):
    world, visit, project, homes = field
    before = figures(world)
    log_in(page, live_server, "member_a")
    open_form_offline(page, context, live_server)

    log_visit(page, visit, "12", "Әсел", 4)  # 12 from the kept list, not 112
    expect(page.locator(".offline-note")).to_contain_text("已保存在本机")
    expect(page.locator("#id_activity")).to_have_value(str(visit.pk))  # carried over
    log_visit(page, visit, "1", "阿依古丽", 2)
    page.select_option("#id_activity", str(project.pk))
    page.fill("#id_funds", "1200.50")
    page.fill("#id_title", "离线记录的项目")
    save(page, "detail")

    expect(waiting(page)).to_have_text(re.compile(r"待同步\s*3"))
    expect(page.locator(".outbox-entry")).to_have_count(3)
    expect(page.locator(".outbox-entry").first).to_contain_text("12 · Әсел")
    outbox = page.evaluate("WorklogOutbox.list()")
    assert Entry.objects.count() == 0

    context.set_offline(False)  # the connection returns: the outbox goes out by itself

    expect(page.locator(".outbox-result.outbox-created")).to_have_count(3)
    expect(page.locator(".outbox-result").first).to_contain_text("已保存")
    expect(waiting(page)).to_be_hidden()
    expect(page.locator(".outbox-empty")).to_be_visible()
    entries = Entry.objects.order_by("date", "participants")
    assert [(e.activity, e.participants, e.funds, list(e.households.all())) for e in entries] == [
        (project, 0, Decimal("1200.50"), []),
        (visit, 2, 0, [homes[0]]),
        (visit, 4, 0, [homes[2]]),
    ]
    assert {str(e.uuid) for e in entries} == {record["uuid"] for record in outbox}
    after = figures(world)
    assert {code: after[code] - before[code] for code in after} == {
        "visits": 2, "households": 2, "participants": 6, "funds": Decimal("1200.50")}
    assert differences() == []

    # The answer was lost on the way: the phone sends the same outbox again.
    page.evaluate("records => Promise.all(records.map(WorklogOutbox.put))", outbox)
    expect(waiting(page)).to_have_text(re.compile(r"待同步\s*3"))
    page.click(".sync-now")

    expect(page.locator(".outbox-result.outbox-present")).to_have_count(3)
    expect(page.locator(".outbox-result.outbox-present").first).to_contain_text("此前已保存")
    expect(waiting(page)).to_be_hidden()
    assert Entry.objects.count() == 3
    assert figures(world) == after
    assert differences() == []


def test_an_entry_of_a_month_locked_meanwhile_becomes_an_amendment(page, context, live_server, field):
    world, visit, _project, homes = field
    log_in(page, live_server, "member_a")
    open_form_offline(page, context, live_server)
    log_visit(page, visit, "2", "ئابدۇرېھىم", 3, then="detail")
    today = timezone.localdate()
    lock_month(organisation=world.org, year=today.year, month=today.month, user=world.coordinator)

    context.set_offline(False)

    result = page.locator(".outbox-result.outbox-amendment")
    expect(result).to_contain_text("已转为更正申请（该月已锁定）")
    expect(waiting(page)).to_be_hidden()
    assert not Entry.objects.exists()
    amendment = Amendment.objects.get()
    assert (amendment.kind, amendment.team, amendment.filed_by) == (
        Amendment.Kind.CREATE, world.team_a, world.member_a)
    result.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/amendments/$"))


def test_a_refused_entry_stays_to_be_corrected_or_deleted(page, context, live_server, field):
    world, visit, _project, homes = field
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    log_in(page, live_server, "member_a")
    open_form_offline(page, context, live_server)
    page.fill("#id_date", tomorrow)
    log_visit(page, visit, "1", "阿依古丽", 6)
    expect(page.locator("#id_date")).to_have_value(tomorrow)  # carried over
    log_visit(page, visit, "2", "ئابدۇرېھىم", 7, then="detail")

    context.set_offline(False)

    refused = page.locator(".outbox-entry", has_text="被拒")
    expect(refused).to_have_count(2)
    expect(refused.first.locator(".outbox-reasons")).to_have_text("日期不能晚于今天。")
    expect(waiting(page)).to_have_text(re.compile(r"待同步\s*2"))
    refused.filter(has_text="阿依古丽").get_by_role("button", name="编辑").click()
    page.wait_for_url(re.compile(r".*/notebook/new/\?outbox="))
    expect(page.locator(".household-chip")).to_have_text("1 · 阿依古丽 ×")
    expect(page.locator("#id_participants")).to_have_value("6")
    page.fill("#id_date", timezone.localdate().isoformat())
    save(page, "detail")

    expect(page.locator(".outbox-result.outbox-created")).to_have_count(1)
    other = page.locator(".outbox-entry", has_text="ئابدۇرېھىم")
    other.get_by_role("button", name="删除").click()
    other.get_by_role("button", name="确认删除").click()
    expect(page.locator(".outbox-empty")).to_be_visible()
    expect(waiting(page)).to_be_hidden()
    entry = Entry.objects.get()
    assert (entry.participants, list(entry.households.all())) == (6, [homes[0]])


def test_a_save_lost_on_the_way_waits_in_the_outbox(page, context, live_server, field):
    world, visit, _project, homes = field
    log_in(page, live_server, "member_a")
    page.goto(live_server.url + "/notebook/new/")
    page.locator("html[data-offline-ready=true]").wait_for(state="attached")
    page.reload()  # now through the service worker
    # The signal drops: the phone believes it is online, but no post reaches the server.
    context.route("**/notebook/new/", lambda route: route.abort() if route.request.method == "POST"
                  else route.continue_())
    context.route("**/api/sync", lambda route: route.abort())

    log_visit(page, visit, "2", "ئابدۇرېھىم", 3, then="detail")

    expect(waiting(page)).to_have_text(re.compile(r"待同步\s*1"))
    assert not Entry.objects.exists()
    context.unroute_all()
    page.click(".sync-now")
    expect(page.locator(".outbox-result.outbox-created")).to_have_count(1)
    assert Entry.objects.get().participants == 3


def test_another_user_of_the_phone_neither_sees_nor_sends_the_outbox(page, context, live_server, field):
    world, visit, _project, homes = field
    log_in(page, live_server, "member_a")
    open_form_offline(page, context, live_server)
    log_visit(page, visit, "1", "阿依古丽", 5, then="detail")
    expect(waiting(page)).to_have_text(re.compile(r"待同步\s*1"))
    # The connection comes back but the server cannot be reached: the entry stays.
    context.route("**/api/sync", lambda route: route.abort())
    context.set_offline(False)
    page.reload()
    expect(waiting(page)).to_have_text(re.compile(r"待同步\s*1"))
    log_out(page)
    context.unroute("**/api/sync")

    log_in(page, live_server, "leader_a")  # the same team: the entry would be valid as theirs
    expect(waiting(page)).to_be_hidden()
    page.goto(live_server.url + "/notebook/outbox/")
    expect(page.locator(".outbox-empty")).to_be_visible()
    page.click(".sync-now")
    expect(page.locator(".sync-now")).to_be_enabled()  # again, once the sync is over
    assert not Entry.objects.exists()
    log_out(page)

    log_in(page, live_server, "member_a")  # logging out kept it for them
    expect(waiting(page)).to_be_hidden()  # sent as the page opened
    entry = Entry.objects.get()
    assert (entry.author, entry.participants) == (world.member_a, 5)


def assert_not_kept(context, url):
    """With no connection, the page cannot be opened (in a tab of its own: the browser's
    error page would hold up the next navigation)."""
    tab = context.new_page()
    with pytest.raises(BrowserError):
        tab.goto(url)
    tab.close()


def test_the_kept_form_goes_with_the_membership_and_the_login(page, context, live_server, field):
    world, visit, _project, homes = field
    log_in(page, live_server, "member_a")
    page.goto(live_server.url + "/notebook/new/")
    page.locator("html[data-offline-ready=true]").wait_for(state="attached")
    Membership.objects.filter(user=world.member_a).update(left_on=timezone.localdate() - datetime.timedelta(days=1))

    page.goto(live_server.url + "/notebook/new/")  # online: refused, and the kept form goes
    context.set_offline(True)
    assert_not_kept(context, live_server.url + "/notebook/new/")
    page.goto(live_server.url + "/notebook/")  # the notebook, without households, stays
    expect(page.locator("h1")).to_have_text("工作日志")

    context.set_offline(False)
    log_out(page)
    context.set_offline(True)
    assert_not_kept(context, live_server.url + "/notebook/")


def test_the_kept_pages_follow_the_language_switch(page, context, live_server, field):
    log_in(page, live_server, "member_a")
    page.locator("html[data-offline-ready=true]").wait_for(state="attached")
    page.click("button[lang=en]")
    page.wait_for_url(re.compile(r".*/notebook/$"))
    page.locator("html[data-offline-ready=true]").wait_for(state="attached")

    context.set_offline(True)
    page.goto(live_server.url + "/notebook/outbox/")

    expect(page.locator("h1")).to_have_text("Waiting to sync")
    expect(page.locator(".offline-badge")).to_have_text("Offline")
