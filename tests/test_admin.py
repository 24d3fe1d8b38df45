"""The Django admin: every page opens for a superuser, lists stay a fixed number of
queries, entries are soft-deleted and restored, trees refuse to loop, outsiders are sent
to the login page."""

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from teams.models import (
    Area,
    CoordinatorScope,
    Household,
    HouseholdTag,
    Membership,
    Organisation,
    Team,
    Village,
)
from worklog import tallies
from worklog.amendments import file_amendment
from worklog.locking import lock_month
from worklog.models import Activity, Entry, Indicator
from worklog.services import entry_create, entry_update

pytestmark = pytest.mark.django_db

# Locks are made on /locks/ and amendments filed by teams: the admin only shows them.
READ_ONLY = ["worklog.monthlock", "worklog.amendment"]
MODELS = [
    "teams.organisation",
    "teams.area",
    "teams.village",
    "teams.team",
    "teams.membership",
    "teams.householdtag",
    "teams.household",
    "teams.coordinatorscope",
    "worklog.activity",
    "worklog.indicator",
    "worklog.entry",
    "auth.user",
]


def admin_url(label, view, *args):
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_{view}", args=args)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com")


@pytest.fixture
def client_as_admin(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def world(django_user_model):
    """One of everything the admin shows, keyed by "app_label.model_name"."""
    division = Organisation.objects.create(name="第八师", name_en="8th Division", slug="div")
    regiment = Organisation.objects.create(name="一二一团", slug="r121", parent=division)
    region = Area.objects.create(name="新疆", slug="xj", kind=Area.Kind.REGION)
    county = Area.objects.create(name="玛纳斯县", slug="mns", kind=Area.Kind.COUNTY, parent=region)
    township = Area.objects.create(
        name="清水河乡", slug="qsh", kind=Area.Kind.TOWNSHIP, parent=county, code="652324100000"
    )
    village = Village.objects.create(name="芦草沟村", slug="lucaogou", area=township)
    team = Team.objects.create(
        name="芦草沟村工作队", slug="lucaogou", organisation=division, village=village,
        starts_on=date(2017, 1, 1),
    )
    member = django_user_model.objects.create_user("member-lucaogou")
    membership = Membership.objects.create(
        user=member, team=team, role=Membership.Role.LEADER, joined_on=date(2017, 1, 1)
    )
    tag = HouseholdTag.objects.create(name="建档立卡", name_en="poverty-registered")
    household = Household.objects.create(
        village=village, house_number="1", head_name="张一", size=4, phone="13800000000"
    )
    household.tags.add(tag)
    activity = Activity.objects.create(
        code="repair", name="维修", category=Activity.Category.REPAIR, uses_households=True,
        uses_funds=True,
    )
    indicator = Indicator.objects.create(
        code="deeds", label_zh="为群众办实事、好事", unit="件", measure="entries", order=5
    )
    indicator.activities.add(activity)
    entry, _created = entry_create(
        uuid=uuid4(), team=team, author=member, date=date(2017, 5, 1), activity=activity,
        title="修复饮水管道", funds=Decimal("1200.00"), households=[household],
    )
    scope = CoordinatorScope.objects.create(user=member, organisation=division)
    lock = lock_month(organisation=division, year=2016, month=12, user=member)
    amendment = file_amendment(team=team, user=member, kind="delete", reason="重复", entry=entry)
    return {
        "worklog.monthlock": lock,
        "worklog.amendment": amendment,
        "teams.organisation": regiment,
        "teams.area": township,
        "teams.village": village,
        "teams.team": team,
        "teams.membership": membership,
        "teams.householdtag": tag,
        "teams.household": household,
        "teams.coordinatorscope": scope,
        "worklog.activity": activity,
        "worklog.indicator": indicator,
        "worklog.entry": entry,
        "auth.user": member,
    }


def test_every_model_of_our_apps_is_covered_here():
    registered = {
        model._meta.label_lower
        for model in admin.site._registry
        if model._meta.app_label in {"teams", "worklog"}
    }
    assert registered | {"auth.user"} == set(MODELS) | set(READ_ONLY)


@pytest.mark.parametrize("label", READ_ONLY)
def test_read_only_pages_open_and_offer_no_add(client_as_admin, world, label):
    assert client_as_admin.get(admin_url(label, "changelist")).status_code == 200
    assert client_as_admin.get(admin_url(label, "change", world[label].pk)).status_code == 200
    assert client_as_admin.get(admin_url(label, "add")).status_code == 403


@pytest.mark.parametrize("label", MODELS)
@pytest.mark.parametrize("view", ["changelist", "add", "change"])
def test_pages_open_for_a_superuser(client_as_admin, world, label, view):
    args = [world[label].pk] if view == "change" else []
    response = client_as_admin.get(admin_url(label, view, *args))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "label", ["teams.team", "teams.membership", "teams.household", "worklog.entry"]
)
def test_history_shows_the_audit_trail(client_as_admin, world, label):
    response = client_as_admin.get(admin_url(label, "history", world[label].pk))
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) >= 1


def test_household_history_shows_what_changed(client_as_admin, world):
    household = world["teams.household"]
    response = client_as_admin.post(
        admin_url("teams.household", "change", household.pk),
        {"village": household.village_id, "house_number": "1", "head_name": "张二", "size": 4,
         "phone": household.phone, "notes": "", "tags": [world["teams.householdtag"].pk]},
    )
    assert response.status_code == 302
    history = client_as_admin.get(admin_url("teams.household", "history", household.pk))
    latest = history.context["page_obj"].object_list[0]
    assert latest.history_user.username == "root"
    html = history.content.decode()
    assert "张一" in html and "张二" in html


def test_admin_speaks_chinese_by_default(client_as_admin, world):
    response = client_as_admin.get(admin_url("teams.household", "changelist"))
    assert 'lang="zh-hans"' in response.content.decode()
    assert "增加" in response.content.decode()


def test_outsider_is_sent_to_the_admin_login(client, world):
    client.force_login(world["auth.user"])  # a team leader, not staff
    url = admin_url("teams.household", "changelist")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- trees --------------------------------------------------------------------------------


def test_tree_changelist_is_in_path_order_and_indented(client_as_admin, world):
    response = client_as_admin.get(admin_url("teams.area", "changelist"))
    rows = list(response.context["cl"].result_list)
    assert [area.slug for area in rows] == ["xj", "mns", "qsh"]
    assert "— — 清水河乡" in response.content.decode()


def test_a_node_cannot_be_placed_under_its_own_child(client_as_admin, world):
    division, regiment = world["teams.organisation"].parent, world["teams.organisation"]
    response = client_as_admin.post(
        admin_url("teams.organisation", "change", division.pk),
        {"name": division.name, "name_en": division.name_en, "slug": division.slug,
         "parent": regiment.pk},
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    division.refresh_from_db()
    assert division.parent is None


def test_moving_a_node_rewrites_its_path(client_as_admin, world):
    regiment = world["teams.organisation"]
    other = Organisation.objects.create(name="第七师", slug="div7")
    response = client_as_admin.post(
        admin_url("teams.organisation", "change", regiment.pk),
        {"name": regiment.name, "name_en": "", "slug": regiment.slug, "parent": other.pk},
    )
    assert response.status_code == 302
    regiment.refresh_from_db()
    assert (regiment.path, regiment.depth) == ("div7/r121/", 1)


# --- villages, households, teams ----------------------------------------------------------


def test_village_page_links_its_households_and_teams(client_as_admin, world):
    village = world["teams.village"]
    response = client_as_admin.get(admin_url("teams.village", "change", village.pk))
    html = response.content.decode()
    assert f"?village__id__exact={village.pk}" in html
    assert "（1）" in html  # "households (1)" in Chinese
    assert reverse("admin:teams_team_change", args=[world["teams.team"].pk]) in html

    Village.objects.create(name="大湾子村", slug="dawanzi", area=world["teams.area"])
    listed = client_as_admin.get(admin_url("teams.village", "changelist")).context["cl"]
    assert {v.slug: v.household_count for v in listed.result_list} == {
        "dawanzi": 0, "lucaogou": 1,
    }


def test_household_list_paginates_and_finds_a_head(client_as_admin, world):
    village = world["teams.village"]
    Household.objects.bulk_create(
        Household(village=village, house_number=str(n), head_name="户主")
        for n in range(2, 151)
    )
    Household.objects.filter(house_number="77").update(head_name="王七十七")
    url = admin_url("teams.household", "changelist")

    page_two = client_as_admin.get(url, {"p": 2})
    assert page_two.status_code == 200
    assert len(page_two.context["cl"].result_list) == 50

    found = client_as_admin.get(url, {"q": "王七十七"})
    assert [h.house_number for h in found.context["cl"].result_list] == ["77"]
    by_number = client_as_admin.get(url, {"q": "12"})
    assert [h.house_number for h in by_number.context["cl"].result_list] == ["12"]


def test_a_visited_household_cannot_be_deleted(client_as_admin, world):
    visited = world["teams.household"]
    quiet = Household.objects.create(village=visited.village, house_number="2", head_name="赵二")

    single = client_as_admin.post(
        admin_url("teams.household", "delete", visited.pk), {"post": "yes"}
    )
    assert single.status_code == 200
    assert single.context["protected"]
    bulk = client_as_admin.post(
        admin_url("teams.household", "changelist"),
        {"action": "delete_selected", "_selected_action": [visited.pk, quiet.pk], "post": "yes"},
    )
    assert bulk.status_code == 200
    assert Household.objects.filter(pk__in=[visited.pk, quiet.pk]).count() == 2

    client_as_admin.post(admin_url("teams.household", "delete", quiet.pk), {"post": "yes"})
    assert not Household.objects.filter(pk=quiet.pk).exists()


def test_team_list_filters_current_and_ended(client_as_admin, world):
    ended = Team.objects.create(
        name="旧工作队", slug="old", organisation=world["teams.team"].organisation,
        village=world["teams.village"], starts_on=date(2015, 1, 1), ends_on=date(2015, 12, 31),
    )
    url = admin_url("teams.team", "changelist")
    current = client_as_admin.get(url, {"deployment": "current"}).context["cl"].result_list
    past = client_as_admin.get(url, {"deployment": "ended"}).context["cl"].result_list
    assert list(current) == [world["teams.team"]]
    assert list(past) == [ended]


# --- entries ------------------------------------------------------------------------------


def entry_form_data(world, **overrides):
    data = {
        "team": world["teams.team"].pk,
        "village": "",
        "date": "2017-06-01",
        "activity": world["worklog.activity"].pk,
        "author": "",
        "title": "修水渠",
        "notes": "",
        "households": [world["teams.household"].pk],
        "participants": 0,
        "sessions": 0,
        "quantity": 0,
        "funds": "300.00",
    }
    data.update(overrides)
    return data


def test_new_entry_takes_the_team_village(client_as_admin, superuser, world):
    response = client_as_admin.post(admin_url("worklog.entry", "add"), entry_form_data(world))
    assert response.status_code == 302
    entry = Entry.objects.get(title="修水渠")
    assert entry.village == world["teams.village"]
    assert list(entry.households.all()) == [world["teams.household"]]
    assert response["Location"] == admin_url("worklog.entry", "changelist")
    assert entry.history.first().history_user == superuser


def test_entry_refuses_households_of_another_village(client_as_admin, world):
    elsewhere = Village.objects.create(name="大湾子村", slug="dawanzi", area=world["teams.area"])
    stranger = Household.objects.create(village=elsewhere, house_number="1", head_name="李一")
    response = client_as_admin.post(
        admin_url("worklog.entry", "add"), entry_form_data(world, households=[stranger.pk])
    )
    assert response.status_code == 200
    assert "households" in response.context["adminform"].form.errors
    assert not Entry.objects.filter(title="修水渠").exists()


def test_entry_village_must_be_its_team_village(client_as_admin, world):
    elsewhere = Village.objects.create(name="大湾子村", slug="dawanzi", area=world["teams.area"])
    response = client_as_admin.post(
        admin_url("worklog.entry", "add"),
        entry_form_data(world, village=elsewhere.pk, households=[]),
    )
    assert response.status_code == 200
    assert "village" in response.context["adminform"].form.errors


def test_editing_an_entry_bumps_its_version(client_as_admin, superuser, world):
    entry = world["worklog.entry"]
    response = client_as_admin.post(
        admin_url("worklog.entry", "change", entry.pk),
        entry_form_data(world, title="修复饮水主管道", seen_version=1),
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.title, entry.version) == ("修复饮水主管道", 2)
    assert entry.history.first().history_user == superuser


def test_an_edit_from_a_stale_version_is_refused(client_as_admin, world):
    entry = world["worklog.entry"]
    Entry.objects.filter(pk=entry.pk).update(version=2)  # someone saved meanwhile
    response = client_as_admin.post(
        admin_url("worklog.entry", "change", entry.pk),
        entry_form_data(world, title="修复饮水主管道", seen_version=1),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    entry.refresh_from_db()
    assert (entry.title, entry.version) == ("修复饮水管道", 2)


def test_households_are_picked_by_autocomplete(client_as_admin, world):
    response = client_as_admin.get(
        reverse("admin:autocomplete"),
        {"app_label": "worklog", "model_name": "entry", "field_name": "households",
         "term": "张一"},
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(world["teams.household"].pk)]


def test_entries_are_soft_deleted_and_restored(client_as_admin, superuser, world):
    entry = world["worklog.entry"]
    url = admin_url("worklog.entry", "changelist")
    history_before = entry.history.count()

    response = client_as_admin.post(
        url, {"action": "soft_delete_selected", "_selected_action": [entry.pk]}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.deleted_at is not None
    assert entry.deleted_by == superuser
    assert entry.version == 2
    assert entry.history.count() == history_before + 1
    assert entry.history.first().history_user == superuser
    deleted = client_as_admin.get(url, {"deleted": "deleted"}).context["cl"].result_list
    assert list(deleted) == [entry]

    client_as_admin.post(url, {"action": "restore_selected", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert (entry.deleted_at, entry.deleted_by, entry.version) == (None, None, 3)


def test_admin_changes_keep_the_tallies_exact(client_as_admin, world):
    entry = world["worklog.entry"]
    other = Household.objects.create(village=world["teams.village"], house_number="2", head_name="王二")
    client_as_admin.post(admin_url("worklog.entry", "add"), entry_form_data(world))
    client_as_admin.post(
        admin_url("worklog.entry", "change", entry.pk),
        entry_form_data(world, date="2017-08-02", funds="50.00", households=[other.pk],
                        seen_version=1),
    )
    entry.refresh_from_db()
    assert (entry.date, entry.funds) == (date(2017, 8, 2), Decimal("50.00"))
    assert list(entry.households.all()) == [other]
    assert tallies.differences() == []
    url = admin_url("worklog.entry", "changelist")
    selected = list(Entry.objects.values_list("pk", flat=True))
    client_as_admin.post(url, {"action": "soft_delete_selected", "_selected_action": selected})
    assert tallies.differences() == []
    client_as_admin.post(url, {"action": "restore_selected", "_selected_action": selected[:1]})
    assert tallies.differences() == []
    assert Entry.objects.live().count() == 1


def test_entries_cannot_be_hard_deleted(client_as_admin, world):
    entry = world["worklog.entry"]
    changelist = client_as_admin.get(admin_url("worklog.entry", "changelist"))
    action_field = changelist.context["action_form"].fields["action"]
    action_names = [name for name, _label in action_field.choices]
    assert "delete_selected" not in action_names
    assert "soft_delete_selected" in action_names
    response = client_as_admin.get(admin_url("worklog.entry", "delete", entry.pk))
    assert response.status_code == 403
    assert Entry.objects.filter(pk=entry.pk).exists()


# The admin writes entries by the notebook's rules (worklog.rules): what the form refuses,
# the admin refuses with the same words.
TOMORROW = timezone.localdate() + timedelta(days=1)
REFUSED = {
    "a future date": ({"date": TOMORROW.isoformat()}, "date"),
    "a date before the deployment": ({"date": "2016-06-30"}, "date"),  # 2016-12 is locked
    "a quantity its activity does not record": ({"quantity": 5}, "quantity"),
    "sessions its activity does not record": ({"sessions": 2}, "sessions"),
    "no household for an activity that records them": ({"households": []}, "households"),
}


def notebook_errors(world, values, field):
    """What the notebook's own form says to the team's member for the same entry."""
    member = Client()
    member.force_login(world["auth.user"])
    data = {**entry_form_data(world), "uuid": str(uuid4()), **values}
    data = {name: value for name, value in data.items() if name not in ("team", "village", "author")}
    response = member.post(reverse("entry_new"), data)
    assert response.status_code == 422
    return response.context["form"].errors[field]


@pytest.mark.parametrize("case", REFUSED)
def test_admin_refuses_a_new_entry_the_notebook_refuses(client_as_admin, world, case):
    values, field = REFUSED[case]
    response = client_as_admin.post(admin_url("worklog.entry", "add"), entry_form_data(world, **values))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == notebook_errors(world, values, field)
    assert not Entry.objects.filter(title="修水渠").exists()
    assert tallies.differences() == []


@pytest.mark.parametrize("case", REFUSED)
def test_admin_refuses_a_change_the_notebook_refuses(client_as_admin, world, case):
    values, field = REFUSED[case]
    entry = world["worklog.entry"]
    response = client_as_admin.post(
        admin_url("worklog.entry", "change", entry.pk),
        entry_form_data(world, seen_version=1, **values),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == notebook_errors(world, values, field)
    entry.refresh_from_db()
    assert (entry.title, entry.date, entry.quantity, entry.version) == (
        "修复饮水管道", date(2017, 5, 1), 0, 1)
    assert list(entry.households.all()) == [world["teams.household"]]


def test_admin_keeps_counts_within_the_notebook_range(client_as_admin, world):
    training = Activity.objects.create(code="training", name="培训", uses_participants=True)
    values = {"activity": training.pk, "households": [], "funds": "0", "participants": 1_000_001}

    response = client_as_admin.post(admin_url("worklog.entry", "add"), entry_form_data(world, **values))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["participants"]
    assert errors == notebook_errors(world, values, "participants")
    assert not Entry.objects.filter(title="修水渠").exists()


def test_admin_saves_a_valid_entry_with_exact_tallies(client_as_admin, world):
    today = timezone.localdate()
    response = client_as_admin.post(
        admin_url("worklog.entry", "add"), entry_form_data(world, date=today.isoformat())
    )

    assert response.status_code == 302
    assert Entry.objects.get(title="修水渠").date == today
    assert tallies.differences() == []


# --- history: past versions are shown, never written back ---------------------------------

HISTORY_MODELS = {
    "worklog.entry": lambda obj, user: entry_update(
        entry=obj, version=obj.version, editor=user, title="改过的标题"),
    "teams.household": lambda obj, user: _saved(obj, head_name="张二"),
    "teams.team": lambda obj, user: _saved(obj, name="改名的工作队"),
    "teams.membership": lambda obj, user: _saved(obj, role=Membership.Role.MEMBER),
}


def _saved(obj, **values):
    for name, value in values.items():
        setattr(obj, name, value)
    obj.save()
    return obj


def submitted(form):
    """What a browser would send back for the form as shown."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value
    return data


@pytest.mark.parametrize("label", HISTORY_MODELS)
def test_a_past_version_is_shown_read_only_and_cannot_be_reverted(
    client_as_admin, superuser, world, label
):
    obj = world[label]
    first = obj.history.order_by("history_date", "history_id").first()
    changed = HISTORY_MODELS[label](obj, superuser)
    now = {name: getattr(changed, name) for name in ("title", "head_name", "name", "role")
           if hasattr(changed, name)}
    url = admin_url(label, "simple_history", obj.pk, first.history_id)

    page = client_as_admin.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert all(field.disabled for field in form.fields.values())
    assert 'name="_save"' not in page.content.decode()  # no "Revert" button

    response = client_as_admin.post(url, submitted(form))
    assert response.status_code == 405
    next_page = client_as_admin.get(admin_url(label, "change", obj.pk))
    assert list(next_page.context["messages"]) == []  # no "changed successfully"
    obj.refresh_from_db()
    assert {name: getattr(obj, name) for name in now} == now
    assert obj.history.count() == changed.history.count()


def test_a_past_version_shows_its_own_households(client_as_admin, superuser, world):
    entry = world["worklog.entry"]
    first = entry.history.get()
    other = Household.objects.create(village=world["teams.village"], house_number="2", head_name="王二")
    entry_update(entry=entry, version=entry.version, editor=superuser, households=[other])

    page = client_as_admin.get(admin_url("worklog.entry", "simple_history", entry.pk, first.history_id))

    assert page.context["adminform"].form["households"].value() == [world["teams.household"].pk]


# --- queries do not grow with rows --------------------------------------------------------


def add_entry(world, n):
    entry_create(
        uuid=uuid4(), team=world["teams.team"], author=world["auth.user"],
        date=date(2017, 7, 1 + n % 28), activity=world["worklog.activity"], title=f"记录{n}",
        households=[world["teams.household"]],
    )


def add_household(world, n):
    household = Household.objects.create(
        village=world["teams.village"], house_number=f"h{n}", head_name=f"户主{n}"
    )
    household.tags.add(world["teams.householdtag"])


def add_village(world, n):
    village = Village.objects.create(name=f"村{n}", slug=f"v{n}", area=world["teams.area"])
    Household.objects.create(village=village, house_number="1", head_name=f"户主{n}")


def add_indicator(world, n):
    indicator = Indicator.objects.create(
        code=f"i{n}", label_zh=f"指标{n}", unit="个", measure="entries", order=n
    )
    indicator.activities.add(world["worklog.activity"])


def add_team(world, n):
    Team.objects.create(
        name=f"队{n}", slug=f"t{n}", organisation=world["teams.organisation"],
        village=world["teams.village"], starts_on=date(2017, 1, 1),
    )


def add_membership(world, n):
    user = type(world["auth.user"]).objects.create_user(f"user{n}")
    Membership.objects.create(user=user, team=world["teams.team"], joined_on=date(2017, 1, 1))
    CoordinatorScope.objects.create(user=user, area=world["teams.area"])


def add_area(world, n):
    Area.objects.create(name=f"乡{n}", slug=f"a{n}", kind="township", parent=world["teams.area"])


ROW_MAKERS = {
    "worklog.entry": add_entry,
    "teams.household": add_household,
    "teams.village": add_village,
    "worklog.indicator": add_indicator,
    "teams.team": add_team,
    "teams.membership": add_membership,
    "teams.coordinatorscope": add_membership,
    "auth.user": add_membership,
    "teams.area": add_area,
}


def changelist_query_count(client, url):
    client.get(url)  # warm per-process caches (content types, site)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("label", ROW_MAKERS)
def test_changelist_queries_do_not_grow_with_rows(client_as_admin, world, label):
    make_row, url = ROW_MAKERS[label], admin_url(label, "changelist")
    for n in range(5):
        make_row(world, n)
    few = changelist_query_count(client_as_admin, url)
    for n in range(5, 30):
        make_row(world, n)
    assert changelist_query_count(client_as_admin, url) == few
