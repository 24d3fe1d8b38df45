"""The plain statements that copy access rules for the pages' every request offer what the
rules of teams/access.py, their one home, give, for every kind of user: the dashboard's
scope picker (`teams.picker.visible_scopes`: the organisations and areas a user
coordinates, the teams and villages they see) and the coordinated teams whose pending
amendments the menu counts (`coordinated_teams_sql`)."""

import datetime
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from teams.access import (
    coordinated_areas,
    coordinated_organisations,
    coordinator_scopes,
    visible_teams,
    visible_teams_coordinated,
    visible_villages,
)
from teams.models import CoordinatorScope, Team
from teams.picker import PICKER_PLACES, coordinated_teams_sql, visible_scopes
from tests.factories import (
    ActivityFactory,
    AreaFactory,
    EntryFactory,
    MembershipFactory,
    OrganisationFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
)
from worklog.models import Amendment

pytestmark = pytest.mark.django_db


def picker_by_the_rules(user):
    """The picker's options as the ORM's access rules give them, by (kind, id, slug, name)."""
    teams = list(visible_teams(user).order_by("name", "pk"))
    villages = list(visible_villages(user).order_by("name", "pk"))
    if user.is_superuser or coordinator_scopes(user):  # a coordinator's long lists are left out
        teams = teams if len(teams) <= PICKER_PLACES else []
        villages = villages if len(villages) <= PICKER_PLACES else []
    options = (
        [("org", org) for org in coordinated_organisations(user)]
        + [("area", area) for area in coordinated_areas(user)]
        + [("team", team) for team in teams]
        + [("village", village) for village in villages]
    )
    return [(kind, obj.pk, obj.slug, obj.label) for kind, obj in options]


def offered(user):
    return [(kind, obj.pk, obj.slug, obj.label) for kind, obj in visible_scopes(user)]


@pytest.fixture
def people(world):
    """Coordinators of organisations, areas and both, members who left, join later or
    whose team ended, a member of several teams, a superuser and a user of nothing."""
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    # An area tree: a region, a township in it, their villages; a team of another
    # organisation works in the township.
    region = AreaFactory(name="区", slug="region", kind="region")
    township = AreaFactory(name="乡", slug="township", parent=region)
    elsewhere = AreaFactory(name="别乡", slug="elsewhere")
    in_township = VillageFactory(name="乡村", area=township)
    VillageFactory(name="空村", area=region)  # no team: still the area's
    TeamFactory(organisation=world.other_org, village=in_township)
    TeamFactory(organisation=world.org, village=VillageFactory(area=elsewhere), ends_on=today - day)
    # Slugs whose LIKE pattern would also match another's path were it not escaped.
    under_score = OrganisationFactory(name="下划线", slug="div_1")
    TeamFactory(organisation=under_score)
    TeamFactory(organisation=OrganisationFactory(name="不相干", slug="divx1"))

    area_coordinator = UserFactory(username="area_coordinator")
    CoordinatorScope.objects.create(user=area_coordinator, area=township)
    both = UserFactory(username="both")
    CoordinatorScope.objects.create(user=both, organisation=world.other_org)
    CoordinatorScope.objects.create(user=both, area=region)
    escaped = UserFactory(username="escaped")
    CoordinatorScope.objects.create(user=escaped, organisation=under_score)
    member_coordinator = UserFactory(username="member_coordinator")
    CoordinatorScope.objects.create(user=member_coordinator, area=elsewhere)
    MembershipFactory(user=member_coordinator, team=world.team_b)
    left = MembershipFactory(team=world.team_a, left_on=today - day).user
    leaves_today = MembershipFactory(team=world.team_a, left_on=today).user
    not_yet = MembershipFactory(team=world.team_a, joined_on=today + day).user
    ended = MembershipFactory(team=TeamFactory(ends_on=today - day)).user
    busy = UserFactory(username="busy")
    for team in (world.team_a, world.team_b, TeamFactory(name="阿工作队")):
        MembershipFactory(user=busy, team=team)
    superuser = UserFactory(username="root", is_superuser=True)

    people = [superuser, world.coordinator, world.outsider_coordinator, area_coordinator, both, escaped,
              member_coordinator, world.leader_a, world.member_a, world.member_b, left, leaves_today,
              not_yet, ended, busy, UserFactory(username="nobody")]
    return {person.username: person for person in people}


def test_the_picker_offers_what_the_access_rules_give(people):
    for person in people.values():
        assert offered(person) == picker_by_the_rules(person), person.username
    assert [kind for kind, *_rest in offered(people["escaped"])] == ["org", "team", "village"]
    assert [slug for kind, _pk, slug, _name in offered(people["both"]) if kind == "area"] == ["region", "township"]
    assert visible_scopes(AnonymousUser()) == []


def test_the_sql_of_the_coordinated_teams_selects_visible_teams_coordinated(people):
    for person in people.values():
        joins, condition, params = coordinated_teams_sql(person, connection)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT t.id FROM {Team._meta.db_table} t{joins} WHERE {condition} ORDER BY t.id", params)
            selected = [pk for (pk,) in cursor.fetchall()]
        assert selected == list(visible_teams_coordinated(person).order_by("pk").values_list("pk", flat=True)), (
            person.username)


def test_the_menu_counts_the_amendments_waiting_for_the_coordinator(client, world, people):
    entry = EntryFactory(team=world.team_b, author=world.member_b,
                         activity=ActivityFactory(uses_participants=True), participants=1)
    for status in (Amendment.Status.PENDING, Amendment.Status.PENDING, Amendment.Status.REJECTED):
        Amendment.objects.create(team=world.team_b, entry=entry, kind=Amendment.Kind.DELETE,
                                 filed_by=world.member_b, reason="重复", values={}, status=status)
    elsewhere = TeamFactory(organisation=world.other_org)
    Amendment.objects.create(team=elsewhere, kind=Amendment.Kind.CREATE, filed_by=world.member_b,
                             reason="补录", values={})

    def badge(user):
        client.force_login(user)
        header = client.get(reverse("notebook")).content.decode().split("</header>")[0]
        found = re.search(r'href="/amendments/">[^<]*(?:<span class="badge[^>]*>(\d+)</span>)?', header)
        return found and (found.group(1) or "0")

    assert badge(world.coordinator) == "2"  # the sub-organisation's team_b; not the decided one
    assert badge(world.outsider_coordinator) == "1"
    assert badge(people["root"]) == "3"
    assert badge(people["area_coordinator"]) == "0"  # a link, nothing waiting
    assert badge(world.member_b) is None  # no link


def test_a_coordinators_long_lists_are_left_to_the_breakdown_a_members_are_not(world):
    many = OrganisationFactory(name="大单位", slug="many")
    teams = [TeamFactory(organisation=many) for _ in range(PICKER_PLACES + 1)]
    coordinator = UserFactory(username="many_coordinator")
    CoordinatorScope.objects.create(user=coordinator, organisation=many)
    member = UserFactory(username="many_member")
    for team in teams:
        MembershipFactory(user=member, team=team)

    assert [kind for kind, _obj in visible_scopes(coordinator)] == ["org"]
    assert offered(coordinator) == picker_by_the_rules(coordinator)
    assert len([kind for kind, _obj in visible_scopes(member) if kind == "team"]) == PICKER_PLACES + 1
    assert offered(member) == picker_by_the_rules(member)
