"""The audit history on the entry and household pages (issue 11, points 10 and 13): its
queries do not grow with the number of revisions, and it stays in the page's body — not in
the <title> or the navigation."""

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.models import Household, HouseholdTag
from tests.factories import EntryFactory
from worklog.models import Entry
from worklog.services import entry_update

pytestmark = pytest.mark.django_db


def revise_entry(entry, editor, homes, times):
    """Each revision changes a figure and the households, as members' edits do."""
    for n in range(times):
        entry = entry_update(
            entry=entry, version=entry.version, editor=editor, participants=entry.participants + 1,
            title=f"第{n}次修改", households=homes[: 1 + n % len(homes)],
        )
    return entry


def revise_household(household, editor, tags, times):
    for n in range(times):
        household.head_name = f"户主{n}"
        household.size = n + 1
        household._history_user = editor
        household.save()
        household.tags.set(tags[: n % (len(tags) + 1)])
    return household


def page_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["revisions"]  # the history is shown
    return len(queries)


def test_entry_page_queries_do_not_grow_with_revisions(client, world, visit, homes):
    client.force_login(world.leader_a)
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=1)
    url = reverse("entry_detail", args=[entry.pk])
    client.get(url)  # the session is warm

    entry = revise_entry(entry, world.leader_a, homes, 4)  # 5 revisions
    few = page_queries(client, url)
    revise_entry(entry, world.leader_a, homes, 35)  # 40 revisions
    many = page_queries(client, url)

    assert many == few, f"{few} queries with 5 revisions, {many} with 40"


def test_household_page_queries_do_not_grow_with_revisions(client, world, homes):
    client.force_login(world.leader_a)
    household = homes[0]
    tags = [HouseholdTag.objects.create(name=name) for name in ("建档立卡", "低保", "五保")]
    url = reverse("household_detail", args=[household.pk])
    client.get(url)

    revise_household(household, world.leader_a, tags, 4)
    few = page_queries(client, url)
    revise_household(household, world.leader_a, tags, 35)
    many = page_queries(client, url)

    assert many == few, f"{few} queries with 5 revisions, {many} with 40"


def test_the_history_still_shows_what_changed(client, world, visit, homes):
    client.force_login(world.leader_a)
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=1)
    revise_entry(entry, world.leader_a, homes, 2)

    revisions = client.get(reverse("entry_detail", args=[entry.pk])).context["revisions"]

    fields = Entry._meta
    label = {name: str(fields.get_field(name).verbose_name)
             for name in ("participants", "title", "households")}
    shown = [{str(c.field): (str(c.old), str(c.new)) for c in r.changes} for r in revisions]
    # newest first; a change of households is a record of its own
    assert shown == [
        {label["households"]: (str(homes[0].pk), f"{homes[0].pk}, {homes[1].pk}")},
        {label["participants"]: ("2", "3"), label["title"]: ("第0次修改", "第1次修改")},
        {label["participants"]: ("1", "2"), label["title"]: ("—", "第0次修改")},
        {label["households"]: ("—", str(homes[0].pk))},
    ]
    assert [r.who for r in revisions] == [world.leader_a] * 3 + [None]


def test_the_household_history_still_shows_its_tags(client, world, homes):
    client.force_login(world.leader_a)
    tags = [HouseholdTag.objects.create(name=name) for name in ("建档立卡", "低保")]
    revise_household(homes[0], world.leader_a, tags, 3)  # tags: none, one, both

    revisions = client.get(reverse("household_detail", args=[homes[0].pk])).context["revisions"]

    label = str(Household._meta.get_field("tags").verbose_name)
    tag_changes = [dict((str(c.field), (str(c.old), str(c.new))) for c in r.changes).get(label)
                   for r in revisions]
    assert [change for change in tag_changes if change] == [
        (str(tags[0].pk), f"{tags[0].pk}, {tags[1].pk}"), ("—", str(tags[0].pk)),
    ]


class Landmarks(HTMLParser):
    """The text inside <title> and inside <nav> elements of a page."""

    def __init__(self):
        super().__init__()
        self.title, self.nav = [], []
        self._open = []

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "nav"):
            self._open.append(tag)

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        if "title" in self._open:
            self.title.append(data)
        if "nav" in self._open:
            self.nav.append(data)


def test_entry_history_stays_out_of_the_title_and_navigation(client, world, visit, homes):
    client.force_login(world.leader_a)
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], title="入户")
    revise_entry(entry, world.leader_a, homes, 1)
    response = client.get(reverse("entry_detail", args=[entry.pk]), HTTP_ACCEPT_LANGUAGE="en")
    page = Landmarks()
    page.feed(response.content.decode())

    title, nav = " ".join(page.title), " ".join(page.nav)
    assert "第0次修改" in title  # the entry's own title is there
    for history_text in ("History", "入户 →", "changed", "leader_a ·"):
        assert history_text not in title
        assert history_text not in nav
    # ... and the history is on the page, once
    assert response.content.decode().count('class="history') == 1
