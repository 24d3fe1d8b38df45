"""Indicator totals per measure, on small hand-made notebooks (DESIGN §5)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    ActivityFactory,
    AreaFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
    OrganisationFactory,
    TeamFactory,
    VillageFactory,
)
from worklog.services import entry_soft_delete
from worklog.totals import ScopeNotFound, resolve_scope, totals_document, year_totals

pytestmark = pytest.mark.django_db


def values(scope, year):
    return {total.code: total.value for total in year_totals(scope, year)}


@pytest.fixture
def notebook():
    """One organisation with a sub-organisation, two teams, and one indicator per measure."""
    region = AreaFactory(slug="region", kind="region")
    county = AreaFactory(slug="county", kind="county", parent=region)
    org = OrganisationFactory(slug="division")
    regiment = OrganisationFactory(slug="regiment", parent=org)
    team = TeamFactory(slug="north", organisation=org, village__area=county)
    other = TeamFactory(slug="south", organisation=regiment, village__area=region)
    visit = ActivityFactory(code="visit", uses_households=True)
    repair = ActivityFactory(code="repair")
    deed = ActivityFactory(code="deed", uses_quantity=True)
    training = ActivityFactory(code="training", uses_participants=True, uses_sessions=True)
    project = ActivityFactory(code="project", uses_funds=True)
    for code, measure, activities in [
        ("visits", "household_visits", [visit]),
        ("households", "households", [visit]),
        ("deeds", "entries", [repair, deed]),
        ("trainees", "participants", [training]),
        ("sessions", "sessions", [training]),
        ("placed", "quantity", [deed]),
        ("funds", "funds", [project]),
    ]:
        IndicatorFactory(code=code, measure=measure, activities=activities)
    homes = [HouseholdFactory(village=team.village) for _ in range(3)]
    return locals()


def test_household_visited_twice_is_two_household_visits_and_one_household(notebook):
    first, second, _ = notebook["homes"]
    team, visit = notebook["team"], notebook["visit"]
    EntryFactory(team=team, activity=notebook["visit"], households=[first, second])
    EntryFactory(team=team, activity=visit, households=[first], date=datetime.date(2017, 9, 2))

    totals = values(resolve_scope("team", "north"), 2017)

    assert totals["visits"] == 3
    assert totals["households"] == 2


def test_entries_on_31_december_and_1_january_fall_in_their_own_years(notebook):
    team, repair = notebook["team"], notebook["repair"]
    EntryFactory(team=team, activity=repair, date=datetime.date(2017, 12, 31))
    EntryFactory(team=team, activity=repair, date=datetime.date(2018, 1, 1))
    EntryFactory(team=team, activity=repair, date=datetime.date(2018, 1, 1))

    scope = resolve_scope("org", "division")
    assert values(scope, 2017)["deeds"] == 1
    assert values(scope, 2018)["deeds"] == 2
    assert values(scope, 2016)["deeds"] == 0


def test_soft_deleted_entry_never_counts(notebook):
    team, training = notebook["team"], notebook["training"]
    EntryFactory(team=team, activity=training, participants=30, sessions=1)
    EntryFactory(
        team=team, activity=training, participants=500, sessions=9, deleted_at=timezone.now()
    )
    visit = EntryFactory(team=team, activity=notebook["visit"], households=notebook["homes"])
    entry_soft_delete(entry=visit, user=None)

    totals = values(resolve_scope("team", "north"), 2017)

    assert (totals["trainees"], totals["sessions"]) == (30, 1)
    assert (totals["visits"], totals["households"]) == (0, 0)


def test_one_indicator_over_two_activities_adds_both(notebook):
    team = notebook["team"]
    EntryFactory(team=team, activity=notebook["repair"])
    EntryFactory(team=team, activity=notebook["deed"], quantity=4)
    EntryFactory(team=team, activity=notebook["deed"], quantity=1)
    EntryFactory(team=team, activity=notebook["visit"])  # not a deed

    totals = values(resolve_scope("team", "north"), 2017)

    assert totals["deeds"] == 3
    assert totals["placed"] == 5


def test_funds_add_up_exactly_in_decimal(notebook):
    team, project = notebook["team"], notebook["project"]
    for amount in ["0.10", "0.20", "1234567.89", "0.01"]:
        EntryFactory(team=team, activity=project, funds=Decimal(amount))

    (funds,) = [t for t in year_totals(resolve_scope("team", "north"), 2017) if t.code == "funds"]

    assert funds.value == Decimal("1234568.20")
    assert isinstance(funds.value, Decimal)
    assert funds.as_dict()["value"] == "1234568.20"


def test_scopes_cover_their_subtrees(notebook):
    EntryFactory(team=notebook["team"], activity=notebook["repair"])
    EntryFactory(team=notebook["other"], activity=notebook["repair"])
    EntryFactory(team=notebook["other"], activity=notebook["repair"])

    def deeds(kind, slug=None):
        return values(resolve_scope(kind, slug), 2017)["deeds"]

    assert deeds("org", "division") == 3  # the regiment's team is under the division
    assert deeds("org", "regiment") == 2
    assert deeds("area", "region") == 3  # the county's village is under the region
    assert deeds("area", "county") == 1
    assert deeds("village", notebook["other"].village.slug) == 2
    assert deeds("team", "north") == 1
    assert deeds(None) == 3


def test_moving_a_subtree_moves_its_totals(notebook):
    EntryFactory(team=notebook["other"], activity=notebook["repair"])
    regiment = notebook["regiment"]
    regiment.parent = None
    regiment.save()

    assert values(resolve_scope("org", "division"), 2017)["deeds"] == 0
    assert values(resolve_scope("org", "regiment"), 2017)["deeds"] == 1


def test_entry_counts_for_its_own_village_after_its_team_moved(notebook):
    """An entry is logged in its team's village and stays there when the team is later
    posted elsewhere."""
    team = notebook["team"]
    logged_in = team.village
    EntryFactory(team=team, activity=notebook["repair"])
    team.village = VillageFactory(slug="elsewhere")
    team.save()

    assert values(resolve_scope("village", logged_in.slug), 2017)["deeds"] == 1
    assert values(resolve_scope("village", "elsewhere"), 2017)["deeds"] == 0


def test_document_matches_the_json_contract(notebook):
    EntryFactory(team=notebook["team"], activity=notebook["project"], funds=Decimal("19350000"))

    document = totals_document(resolve_scope("org", "division"), 2017)

    assert document["year"] == 2017
    assert document["scope"]["kind"] == "org"
    assert document["scope"]["slug"] == "division"
    codes = [row["code"] for row in document["indicators"]]
    assert codes == ["visits", "households", "deeds", "trainees", "sessions", "placed", "funds"]
    funds = document["indicators"][-1]
    assert funds["value"] == "19350000.00"
    assert all(isinstance(row["value"], int) for row in document["indicators"][:-1])


def test_unknown_slug_is_not_found(notebook):
    with pytest.raises(ScopeNotFound):
        resolve_scope("team", "nowhere")


def test_totals_take_a_constant_number_of_queries(notebook, django_assert_num_queries):
    for _ in range(3):
        EntryFactory(team=notebook["team"], activity=notebook["visit"], households=notebook["homes"])
    scope = resolve_scope("org", "division")
    # the indicators with their activities, one aggregate over the organisations' tallies,
    # one over their households reached
    with django_assert_num_queries(3):
        year_totals(scope, 2017)
    for _ in range(20):
        EntryFactory(team=notebook["other"], activity=notebook["training"], participants=3)
    TeamFactory(organisation=notebook["org"])
    with django_assert_num_queries(3):
        year_totals(scope, 2017)
