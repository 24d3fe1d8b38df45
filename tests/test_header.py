"""The header names who is logged in and where they work, and fits a 390 × 844 phone with
everything a coordinator is offered (issue 15, point 6)."""

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import PASSWORD, ActivityFactory, EntryFactory, World
from worklog.models import Amendment

LONG_TEAM = "八师石河子市驻开干齐乡开干齐村工作队"


def header_of(client, user):
    client.force_login(user)
    return client.get(reverse("notebook")).content.decode().split("</header>")[0]


@pytest.mark.django_db
def test_the_header_names_the_user_and_their_team_or_scope(client, world):
    world.leader_a.first_name, world.leader_a.last_name = "建华", "王"
    world.leader_a.save()

    leader = header_of(client, world.leader_a)
    assert "建华 王" in leader and f"{world.team_a.name}（队长）" in leader
    member = header_of(client, world.member_a)  # no full name: the username
    assert "member_a" in member and world.team_a.name in member and "（队长）" not in member
    coordinator = header_of(client, world.coordinator)
    assert "coordinator" in coordinator and world.org.name in coordinator
    assert world.team_a.name not in coordinator


@pytest.fixture
def crowded(transactional_db):
    """A coordinator with a long name, a long scope and an amendment waiting."""
    world = World.build()
    world.org.name = LONG_TEAM.replace("工作队", "工作总队")
    world.org.save()
    world.coordinator.first_name, world.coordinator.last_name = "阿依古丽", "吐尔逊·买买提"
    world.coordinator.save()
    entry = EntryFactory(team=world.team_a, author=world.member_a,
                         activity=ActivityFactory(uses_participants=True), participants=1)
    Amendment.objects.create(team=world.team_a, entry=entry, kind=Amendment.Kind.DELETE,
                             filed_by=world.member_a, reason="重复", values={})
    return world


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_header_fits_a_phone(page, live_server, crowded, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()
    page.goto(live_server.url + "/notebook/")
    # no signal, and twelve entries waiting on the phone: the header shows both
    page.context.set_offline(True)
    page.evaluate("""() => Promise.all([...Array(12).keys()].map(n => WorklogOutbox.put(
        {uuid: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, savedAt: n})))""")
    expect(page.locator(".outbox-link")).to_have_text(re.compile(r"\s12$"))
    expect(page.locator(".offline-badge")).to_be_visible()

    expect(page.locator(".nav-user")).to_contain_text("阿依古丽")
    expect(page.locator("a[href='/amendments/'] .badge")).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    header = page.locator("header").bounding_box()
    assert header["height"] <= 844 / 3, "the header takes a third of the screen"
    for item in page.locator("header nav > *:not([hidden]), header nav .nav-link").all():
        box = item.bounding_box()
        assert box is None or box["x"] + box["width"] <= 390, item.inner_text()
    if os.environ.get("HEADER_SCREENSHOT"):
        page.screenshot(path=os.environ["HEADER_SCREENSHOT"].replace(".png", f"-{language}.png"))
