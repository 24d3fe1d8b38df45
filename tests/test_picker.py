"""The dashboard's scope picker (`teams.picker.visible_scopes`, one plain statement) offers
what the access rules of teams/access.py, their one home, give: the organisations and
areas a user coordinates, the teams and villages they see, for every kind of user."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from teams.access import (
    coordinated_areas,
    coordinated_organisations,
    coordinator_scopes,
    visible_teams,
    visible_villages,
)
from teams.models import CoordinatorScope
from teams.picker import PICKER_PLACES, visible_scopes
from tests.factories import (
    AreaFactory,
    MembershipFactory,
    OrganisationFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
)

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


def test_the_picker_offers_what_the_access_rules_give(world):
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
    for person in people:
        assert offered(person) == picker_by_the_rules(person), person.username
    assert [kind for kind, *_rest in offered(escaped)] == ["org", "team", "village"]
    assert [slug for kind, _pk, slug, _name in offered(both) if kind == "area"] == ["region", "township"]
    assert visible_scopes(AnonymousUser()) == []


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
