"""The audit history on the entry and household pages and in the admin (issue 11, points 10
and 13; issue 15, point 5): its queries do not grow with the number of revisions, it stays in
the page's body — not in the <title> or the navigation — and it reads as people speak:
deletions and restorations called so, people by their full names, households, tags,
activities and villages by name, choices by label, money in yuan with two decimals; a demo
household's first change shows what it changed."""

from decimal import Decimal
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.history import revisions as history_of
from teams.models import Household, HouseholdTag, Membership
from tests.factories import ActivityFactory, EntryFactory
from worklog.models import Entry
from worklog.services import entry_restore, entry_soft_delete, entry_update

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
    one, two = called(homes[0]), called(homes[1])
    assert shown == [
        {label["households"]: (one, f"{one}，{two}")},
        {label["participants"]: ("2", "3"), label["title"]: ("第0次修改", "第1次修改")},
        {label["participants"]: ("1", "2"), label["title"]: ("—", "第0次修改")},
        {label["households"]: ("—", one)},
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
        ("建档立卡", "建档立卡，低保"), ("—", "建档立卡"),
    ]


def called(household):
    """A household as the Chinese history names it."""
    return f"{household.house_number}号 {household.head_name}"


def named(user, name):
    """A user with a full name, written as Chinese names are: whole, in first_name."""
    user.first_name = name
    user.save()
    return user


def changes_of(revision):
    return {str(change.field): (change.old, change.new) for change in revision.changes}


def test_an_entry_deleted_and_restored_reads_so_with_full_names(client, world, homes):
    leader, member = named(world.leader_a, "王芳"), named(world.member_a, "李明")
    training, meeting = (
        ActivityFactory(code=code, name=name, uses_households=True, uses_funds=True)
        for code, name in (("training", "技能培训"), ("meeting", "政策宣讲"))
    )
    entry = EntryFactory(team=world.team_a, activity=training, households=homes[:1],
                         funds=Decimal("1200"), author=member)
    entry = entry_update(entry=entry, version=entry.version, editor=leader, activity=meeting,
                         author=leader, funds=Decimal("1234.5"), households=homes[:2])
    entry = entry_soft_delete(entry=entry, user=leader)
    entry = entry_restore(entry=entry, user=leader)

    client.force_login(leader)
    response = client.get(reverse("entry_detail", args=[entry.pk]))

    revisions = response.context["revisions"]
    assert [(r.who_name, str(r.action)) for r in revisions] == [
        ("王芳", "恢复"), ("王芳", "删除"), ("王芳", "修改"), ("王芳", "修改"), ("", "创建"),
    ]
    assert [changes_of(r) for r in revisions[:2]] == [{}, {}]  # the action says it all
    one, two = called(homes[0]), called(homes[1])
    assert changes_of(revisions[2]) == {"农户": (one, f"{one}，{two}")}
    assert changes_of(revisions[3]) == {
        "工作类别": ("技能培训", "政策宣讲"),
        "记录人": ("李明", "王芳"),
        "资金（元）": ("1,200.00元", "1,234.50元"),
    }
    page = response.content.decode()
    assert "王芳 · 删除" in page.replace("<bdi>", "").replace("</bdi>", "")
    assert "王芳 · 恢复" in page.replace("<bdi>", "").replace("</bdi>", "")
    assert "leader_a" not in page and "member_a" not in page


def test_a_household_change_shows_each_field_old_and_new_by_name(client, world, homes):
    leader = named(world.leader_a, "王芳")
    tag = HouseholdTag.objects.create(name="建档立卡")
    household = homes[0]
    head_name, size = household.head_name, household.size
    household.head_name, household.size, household.village = "马新民", 6, world.village_b
    household._history_user = leader
    household.save()
    household.tags.set([tag])

    client.force_login(world.coordinator)  # who sees both villages
    response = client.get(reverse("household_detail", args=[household.pk]))

    revisions = response.context["revisions"]
    assert [changes_of(r) for r in revisions[:2]] == [
        {"标签": ("—", "建档立卡")},
        {"户主": (head_name, "马新民"), "人口": (str(size), "6"),
         "村": (world.village_a.name, world.village_b.name)},
    ]
    assert revisions[1].who_name == "王芳"
    page = response.content.decode()
    assert f"<del>{world.village_a.name}</del> → <ins>{world.village_b.name}</ins>" in page


def test_the_admin_history_names_people_and_actions(client, django_user_model, world, visit,
                                                   homes):
    admin = django_user_model.objects.create_superuser("root", password="x", first_name="赵敏")
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=2)
    entry = entry_update(entry=entry, version=entry.version, editor=admin, participants=5)
    entry = entry_soft_delete(entry=entry, user=admin)
    entry_restore(entry=entry, user=admin)
    membership = Membership.objects.get(user=world.member_a)
    membership.role, membership._history_user = Membership.Role.LEADER, admin
    membership.save()

    client.force_login(admin)
    response = client.get(reverse("admin:worklog_entry_history", args=[entry.pk]))

    rows = [record.revision for record in response.context["page_obj"]]
    assert [(r.who_name, str(r.action)) for r in rows] == [
        ("赵敏", "恢复"), ("赵敏", "删除"), ("赵敏", "修改"), ("", "创建"),
    ]
    assert changes_of(rows[2]) == {"参与人次": ("2", "5")}
    assert changes_of(rows[3]) == {"农户": ("—", called(homes[0]))}
    page = response.content.decode()
    assert "赵敏" in page and "恢复" in page and "删除" in page
    assert ">root<" not in page

    response = client.get(reverse("admin:teams_membership_history", args=[membership.pk]))
    latest = response.context["page_obj"][0].revision
    assert changes_of(latest) == {"职务": ("队员", "队长")}
    assert "队员&nbsp;&rarr;&nbsp;队长" in response.content.decode()


def test_a_demo_households_first_change_shows_what_changed(db):
    call_command("seed", stdout=StringIO())
    household = Household.objects.filter(village__slug="kaiganqi").order_by("pk").first()
    size = household.size
    household.size = size + 1
    household.save()
    entry = Entry.objects.filter(households__isnull=False, author__isnull=False).first()
    entry_update(entry=entry, version=entry.version, editor=None, title="补记")

    revisions = history_of(household)
    assert [str(r.action) for r in revisions] == ["修改", "创建"]
    assert changes_of(revisions[0]) == {"人口": (str(size), str(size + 1))}
    entry_revisions = history_of(entry)
    assert [str(r.action) for r in entry_revisions] == ["修改", "创建"]
    assert changes_of(entry_revisions[0]) == {"标题": (entry.title or "—", "补记")}
    # the demo's entries were written by their authors, who have names
    assert entry_revisions[1].who == entry.author and entry.author.get_full_name()
    assert "农户" in changes_of(entry_revisions[1])


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


def test_an_imported_entry_says_it_came_by_import(client, world, visit, homes):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1])
    entry.history.update(history_change_reason="import")  # as worklog.imports writes it

    client.force_login(world.leader_a)
    [created] = client.get(reverse("entry_detail", args=[entry.pk])).context["revisions"]

    assert (str(created.action), str(created.reason)) == ("创建", "经导入")
