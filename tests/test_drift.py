"""The tallies cannot drift: each write that used to leave them behind (issue 12, point 3)
is refused with a message saying which way to take, before it touches the database, or
goes the way that keeps them exact. Each test runs the former hole and then checks the
stored tallies against a recount (`totals --verify`)."""

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation

from teams.guards import ChangeRefused
from teams.models import Area, Household, Organisation, Team, Village
from tests.factories import ActivityFactory, HouseholdFactory, IndicatorFactory, OrganisationFactory, World
from worklog import tallies
from worklog.models import (
    AreaReach,
    AreaTally,
    Entry,
    EntryHousehold,
    HouseholdTally,
    Indicator,
    OrgReach,
    OrgTally,
    Tally,
)
from worklog.services import entry_create, entry_update

pytestmark = pytest.mark.django_db

TALLY_MODELS = (Tally, HouseholdTally, OrgTally, AreaTally, OrgReach, AreaReach)


@pytest.fixture
def logged(db):
    """team_b's entry visiting two of three households of village_b, counted by a
    household-visits and a distinct-households indicator."""
    world = World.build()
    visit = ActivityFactory(code="policy_visit", uses_households=True, uses_participants=True)
    IndicatorFactory(code="visits", measure="household_visits", activities=[visit])
    IndicatorFactory(code="reached", measure="households", activities=[visit])
    homes = [HouseholdFactory(village=world.village_b) for _ in range(3)]
    entry, _created = entry_create(
        uuid=uuid.uuid4(), team=world.team_b, author=None, date=datetime.date(2017, 6, 1),
        activity=visit, households=homes[:2], participants=4,
    )
    assert tallies.differences() == []
    return world, entry, homes


def stored_tallies():
    return {model.__name__: sorted(model.objects.values_list()) for model in TALLY_MODELS}


def assert_refused(operation, message, error=ChangeRefused):
    """The operation raises `error` whose message (in English) contains `message`, and the
    tallies are as they were, and exact."""
    before = stored_tallies()
    with translation.override("en"), pytest.raises(error, match=re.escape(message)), transaction.atomic():
        operation()
    assert stored_tallies() == before
    assert tallies.differences() == []


# --- households -----------------------------------------------------------------------------

@pytest.mark.parametrize("delete", [
    lambda household: Household.objects.filter(pk=household.pk).delete(),
    lambda household: household.delete(),
], ids=["queryset", "instance"])
def test_a_household_an_entry_visited_is_not_deleted(logged, delete):
    _world, entry, homes = logged

    assert_refused(lambda: delete(homes[0]), "protected foreign keys", error=ProtectedError)

    assert Household.objects.filter(pk=homes[0].pk).exists()
    assert list(entry.households.order_by("pk")) == homes[:2]


def test_a_household_no_entry_visited_is_deleted(logged):
    _world, _entry, homes = logged

    Household.objects.filter(pk=homes[2].pk).delete()

    assert not Household.objects.filter(pk=homes[2].pk).exists()
    assert tallies.differences() == []


LINK_CHANGES = {
    "entry.households.remove": lambda entry, homes: entry.households.remove(homes[0]),
    "entry.households.add": lambda entry, homes: entry.households.add(homes[2]),
    "entry.households.clear": lambda entry, homes: entry.households.clear(),
    "entry.households.set": lambda entry, homes: entry.households.set(homes[1:]),
    "household.entries.remove": lambda entry, homes: homes[0].entries.remove(entry),
    "household.entries.add": lambda entry, homes: homes[2].entries.add(entry),
    "household.entries.clear": lambda entry, homes: homes[0].entries.clear(),
    "links.delete": lambda entry, homes: EntryHousehold.objects.filter(entry=entry).delete(),
    "links.update": lambda entry, homes: EntryHousehold.objects.filter(household=homes[0]).update(
        household=homes[2]),
    "link.delete": lambda entry, homes: EntryHousehold.objects.filter(entry=entry).first().delete(),
    "link.save": lambda entry, homes: EntryHousehold.objects.create(entry=entry, household=homes[2]),
}


@pytest.mark.parametrize("change", LINK_CHANGES.values(), ids=LINK_CHANGES.keys())
def test_an_entrys_households_change_only_through_the_services(logged, change):
    _world, entry, homes = logged

    assert_refused(lambda: change(entry, homes), "through the notebook's services")

    assert list(entry.households.order_by("pk")) == homes[:2]


def test_the_services_still_change_an_entrys_households(logged):
    world, entry, homes = logged

    entry_update(entry=entry, version=entry.version, editor=world.member_b, households=homes[1:])

    assert list(entry.households.order_by("pk")) == homes[1:]
    assert tallies.differences() == []


# --- teams, villages and the trees ----------------------------------------------------------

TEAM_MOVES = {
    "update": lambda team, org: Team.objects.filter(pk=team.pk).update(organisation=org),
    "update by id": lambda team, org: Team.objects.filter(pk=team.pk).update(organisation_id=org.pk),
    "related manager": lambda team, org: team.organisation.teams.update(organisation=org),
    "bulk_update": lambda team, org: Team.objects.bulk_update(
        [Team(pk=team.pk, organisation=org)], ["organisation"]),
}


@pytest.mark.parametrize("move", TEAM_MOVES.values(), ids=TEAM_MOVES.keys())
def test_a_team_moves_to_another_organisation_only_by_saving(logged, move):
    world, _entry, _homes = logged
    regiment = world.team_b.organisation

    assert_refused(lambda: move(world.team_b, world.other_org), "by saving the team")

    assert Team.objects.get(pk=world.team_b.pk).organisation == regiment


def test_a_village_moves_to_another_area_only_by_saving(logged):
    world, _entry, _homes = logged
    county = world.village_b.area
    elsewhere = Area.objects.create(name="别的县", slug="elsewhere", kind=Area.Kind.COUNTY)

    for move in (lambda: Village.objects.filter(pk=world.village_b.pk).update(area=elsewhere),
                 lambda: Village.objects.bulk_update([Village(pk=world.village_b.pk, area=elsewhere)], ["area"])):
        assert_refused(move, "by saving the village")

    assert Village.objects.get(pk=world.village_b.pk).area == county


NODE_CHANGES = {
    "parent": lambda model, node, other: model.objects.filter(pk=node.pk).update(parent=other),
    "parent by id": lambda model, node, other: model.objects.filter(pk=node.pk).update(parent_id=other.pk),
    "path": lambda model, node, other: model.objects.filter(pk=node.pk).update(path=other.path + node.slug + "/"),
    "slug": lambda model, node, other: model.objects.filter(pk=node.pk).update(slug="renamed"),
    "children": lambda model, node, other: other.children.update(parent=node),
}


@pytest.mark.parametrize("change", NODE_CHANGES.values(), ids=NODE_CHANGES.keys())
@pytest.mark.parametrize("tree", [Organisation, Area])
def test_a_node_of_a_tree_moves_or_is_renamed_only_by_saving(logged, tree, change):
    world, _entry, _homes = logged
    node = world.team_b.organisation if tree is Organisation else world.village_b.area
    other = tree.objects.create(name="别处", slug="other-root", **(
        {} if tree is Organisation else {"kind": Area.Kind.REGION}))
    tree.objects.create(name="别处的下级", slug="other-child", parent=other,
                        **({} if tree is Organisation else {"kind": Area.Kind.COUNTY}))
    before = sorted(tree.objects.values_list("pk", "parent", "slug", "path", "depth"))

    assert_refused(lambda: change(tree, node, other), "by saving it")

    assert sorted(tree.objects.values_list("pk", "parent", "slug", "path", "depth")) == before


def test_saving_a_moved_node_carries_its_subtree_and_totals_along(logged, django_capture_on_commit_callbacks):
    world, _entry, _homes = logged
    regiment = world.team_b.organisation
    company = OrganisationFactory(slug="company", parent=regiment)

    with django_capture_on_commit_callbacks(execute=True):
        regiment.parent = world.other_org
        regiment.save()

    company.refresh_from_db()
    assert (company.path, company.depth) == ("other-division/regiment/company/", 2)
    assert tallies.differences() == []


def test_an_indicator_starts_counting_households_only_by_saving(logged):
    assert_refused(lambda: Indicator.objects.filter(code="visits").update(measure="households"),
                   "by saving it")

    assert Indicator.objects.get(code="visits").measure == "household_visits"


# --- entries --------------------------------------------------------------------------------

TALLIED_VALUES = {
    "date": lambda world: datetime.date(2017, 7, 1),
    "team": lambda world: world.team_a,
    "team_id": lambda world: world.team_a.pk,
    "village": lambda world: world.village_a,
    "activity": lambda world: ActivityFactory(code="training"),
    "participants": lambda world: 9,
    "sessions": lambda world: 2,
    "quantity": lambda world: 3,
    "funds": lambda world: Decimal("5.00"),
    "deleted_at": lambda world: timezone.now(),
}


@pytest.mark.parametrize("field", TALLIED_VALUES)
def test_what_an_entry_counts_for_changes_only_through_the_services(logged, field):
    world, entry, _homes = logged
    value = TALLIED_VALUES[field](world)
    before = Entry.objects.filter(pk=entry.pk).values().get()

    assert_refused(lambda: Entry.objects.filter(pk=entry.pk).update(**{field: value}),
                   "through the notebook's services")
    assert_refused(lambda: world.team_b.entries.update(**{field: value}), "through the notebook's services")
    assert_refused(lambda: Entry.objects.bulk_update([entry], [field.removesuffix("_id")]),
                   "through the notebook's services")

    assert Entry.objects.filter(pk=entry.pk).values().get() == before


def test_what_no_tally_reads_may_change_by_queryset(logged):
    _world, entry, _homes = logged

    Entry.objects.filter(pk=entry.pk).update(title="入户走访", notes="补记", version=entry.version + 1)

    assert Entry.objects.get(pk=entry.pk).title == "入户走访"
    assert tallies.differences() == []


@pytest.mark.parametrize("delete", [
    lambda world, entry: entry.delete(),
    lambda world, entry: Entry.objects.filter(pk=entry.pk).delete(),
    lambda world, entry: world.team_b.entries.all().delete(),
], ids=["instance", "queryset", "related manager"])
def test_entries_are_never_deleted(logged, delete):
    world, entry, _homes = logged

    assert_refused(lambda: delete(world, entry), "soft-delete them")

    assert Entry.objects.filter(pk=entry.pk, deleted_at__isnull=True).exists()


def test_a_refusal_speaks_the_users_language(logged):
    world, _entry, _homes = logged

    with translation.override("zh-hans"):
        with pytest.raises(ChangeRefused) as refused:
            Team.objects.filter(pk=world.team_b.pk).update(organisation=world.other_org)
        said = str(refused.value)  # read in the user's language, as a page would

    assert "保存" in said
