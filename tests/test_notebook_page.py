"""`/notebook/` as a page: what each row shows, and the count and pages of long lists
(counted from the tallies when the filters allow)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from teams.models import CoordinatorScope
from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("notebook")


def listed(response):
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-entry="(\d+)"', response.content.decode())]


def entry_count(response):
    return int(re.search(r'data-entry-count="(\d+)"', response.content.decode()).group(1))


def cells(response, entry):
    """The text of an entry's cells, tags stripped, as a wide screen shows them (without
    the activity repeated under the title for phones, `d-md-none`)."""
    row = re.search(rf'<tr data-entry="{entry.pk}">(.*?)</tr>', response.content.decode(), re.S)
    wide = re.sub(r'<span class="[^"]*d-md-none[^"]*">.*?</span>', "", row.group(1), flags=re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", wide, re.S)]


@pytest.fixture
def visit():
    return ActivityFactory(code="policy_visit", name="入户宣讲", name_en="Policy visit",
                           uses_households=True, uses_participants=True, uses_funds=True)


class TestRows:
    def test_each_cell_of_an_entry(self, client, world, visit):
        world.member_a.first_name, world.member_a.last_name = "芳", "李"
        world.member_a.save()
        homes = [HouseholdFactory(village=world.village_a) for _ in range(3)]
        title = "修复芦草沟村破裂的饮水管道并培训村民使用农机和种植技术以及冬季取暖"  # 33 characters
        entry = EntryFactory(team=world.team_a, activity=visit, author=world.member_a,
                             date=datetime.date(2017, 3, 9), households=homes, participants=12,
                             funds=Decimal("12345678.90"), title=title)
        client.force_login(world.member_a)

        page = client.get(URL)

        date, activity, shown_title, *numbers, author, repeat = cells(page, entry)
        assert (date, activity, author) == ("2017-03-09", "入户宣讲", world.member_a.get_full_name())
        assert repeat == "重复一条"
        assert numbers == ["3", "12", "0", "0", "12345678.90"]
        # cut to 30 characters with an ellipsis; the entry's page has it in full
        assert len(shown_title) <= 30 and title.startswith(shown_title.rstrip(".…"))
        assert len(shown_title.rstrip(".…")) >= 25
        assert f'<a href="{reverse("entry_detail", args=[entry.pk])}">' in page.content.decode()

    def test_in_english_untitled_entries_link_under_the_activity_s_english_name(
        self, client, world, visit
    ):
        entry = EntryFactory(team=world.team_a, activity=visit, author=world.member_a,
                             funds=Decimal("12345678.90"))
        client.force_login(world.member_a)
        client.post(reverse("set_language"), {"language": "en"})

        row = cells(client.get(URL), entry)

        assert row[1:3] == ["Policy visit", "Policy visit"]
        assert row[-3:] == ["12,345,678.90", "member_a", "Repeat"]  # no full name: the username

    def test_entries_without_author_and_the_team_column_for_coordinators(
        self, client, world, visit
    ):
        entry = EntryFactory(team=world.team_b, activity=visit, author=None)
        client.force_login(world.coordinator)

        row = cells(client.get(URL), entry)

        assert row[3] == world.team_b.label
        assert row[-1] == "—"


class TestCountAndPages:
    def test_deleted_entries_are_neither_counted_nor_listed(self, client, world, visit):
        live = [EntryFactory(team=world.team_a, activity=visit,
                             date=datetime.date(2017, 1, 1) + datetime.timedelta(days=day))
                for day in range(52)]
        for entry in live[10:12]:
            EntryFactory(team=world.team_a, activity=visit, date=entry.date, deleted_at=True)
        EntryFactory(team=world.team_b, activity=visit)
        client.force_login(world.member_a)

        for params in ({}, {"year": 2017}):
            first = client.get(URL, params)
            second = client.get(URL, {**params, "page": 2})

            assert entry_count(first) == 52
            assert listed(first) + listed(second) == [entry.pk for entry in reversed(live)]
        deleted = client.get(URL, {"deleted": 1})
        assert entry_count(deleted) == 2 and len(listed(deleted)) == 2

    def test_sorted_by_another_column_the_pages_still_add_up(self, client, world, visit):
        entries = [EntryFactory(team=world.team_a, activity=visit, participants=n % 7)
                   for n in range(55)]
        client.force_login(world.member_a)

        pages = [listed(client.get(URL, {"sort": "participants", "page": p})) for p in (1, 2)]

        assert sorted(pages[0] + pages[1]) == sorted(entry.pk for entry in entries)
        participants = {entry.pk: entry.participants for entry in entries}
        assert [participants[pk] for pk in pages[0] + pages[1]] == sorted(participants.values())

    def test_area_coordinator_sees_entries_for_their_villages_by_teams_outside_the_area(
        self, client, world, visit
    ):
        village = VillageFactory()  # in an area of its own, not team_b's
        home = world.team_b.village
        world.team_b.village = village  # posted there when it logged the visit,
        world.team_b.save()
        visiting = EntryFactory(team=world.team_b, activity=visit)
        world.team_b.village = home  # then back in its own village, outside that area
        world.team_b.save()
        EntryFactory(team=world.team_b, activity=visit)  # team_b's own village: not theirs
        coordinator = UserFactory(username="area_coordinator")
        CoordinatorScope.objects.create(user=coordinator, area=village.area)
        client.force_login(coordinator)

        page = client.get(URL)

        assert listed(page) == [visiting.pk] and entry_count(page) == 1

    def test_nothing_to_list(self, client, world, visit):
        EntryFactory(team=TeamFactory(organisation=world.org), activity=visit)
        client.force_login(world.member_a)

        page = client.get(URL)

        assert listed(page) == [] and entry_count(page) == 0
        content = page.content.decode()
        assert "还没有记录：点“新增记录”记下第一次走访。" in content
        assert f'href="{reverse("entry_new")}">新增记录</a>' in content

    def test_no_entry_matches_the_filters(self, client, world, visit):
        EntryFactory(team=world.team_a, activity=visit, date=datetime.date(2017, 3, 9))
        client.force_login(world.member_a)
        client.post(reverse("set_language"), {"language": "en"})

        page = client.get(URL, {"q": "no such title"})

        assert listed(page) == []
        content = page.content.decode()
        assert "No entries match these filters." in content
        assert f'href="{URL}">Clear the filters</a>' in content
        assert "record your first visit" not in content

    def test_a_coordinator_with_nothing_yet_is_not_asked_to_log(self, client, world):
        client.force_login(world.coordinator)

        content = client.get(URL).content.decode()

        assert "还没有记录：工作队记下的记录会显示在这里。" in content
        assert f'href="{reverse("entry_new")}"' not in content
