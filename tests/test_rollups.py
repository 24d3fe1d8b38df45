"""The roll-ups (OrgTally, OrgReach, AreaTally, AreaReach) follow the changes that move
figures between organisations or areas without any entry changing: a team or village
moving, a node of either tree moving, an indicator counting other activities. They are
recounted as the change is saved (its concurrency: tests/test_structure_races.py)."""

import datetime
import uuid
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ActivityFactory, HouseholdFactory, IndicatorFactory, World
from worklog import tallies
from worklog.models import AreaReach, AreaTally, OrgReach, OrgTally
from worklog.services import entry_create
from worklog.totals import Scope, year_totals

pytestmark = pytest.mark.django_db


def totals(scope):
    return {t.code: t.value for t in year_totals(scope, 2017)}


@contextmanager
def recounting():
    """The roll-up tables that the statements of the block wrote: a recount rewrites them,
    and holds off the posts that write the same rows while it runs."""
    written = set()
    with CaptureQueriesContext(connection) as queries:
        yield written
    tables = {model._meta.db_table for model in (OrgTally, OrgReach, AreaTally, AreaReach)}
    written.update(table for table in tables for query in queries if table in query["sql"])


@pytest.fixture
def logged(db):
    world = World.build()
    visit = ActivityFactory(code="policy_visit", uses_households=True)
    training = ActivityFactory(code="training", uses_households=True)
    IndicatorFactory(code="visits", measure="household_visits", activities=[visit])
    IndicatorFactory(code="reached", measure="households", activities=[visit])
    homes = [HouseholdFactory(village=world.village_b) for _ in range(3)]
    for activity, households in ((visit, homes[:2]), (training, homes)):
        entry_create(uuid=uuid.uuid4(), team=world.team_b, author=None, date=datetime.date(2017, 6, 1),
                     activity=activity, households=households)
    return world, visit, training


def test_a_team_moving_to_another_organisation_takes_its_figures_along(logged):
    world, _visit, _training = logged
    regiment = Scope("org", world.team_b.organisation)
    assert totals(regiment) == {"visits": 2, "reached": 2}

    world.team_b.organisation = world.other_org
    world.team_b.save()

    assert totals(regiment) == {"visits": 0, "reached": 0}
    assert totals(Scope("org", world.org)) == {"visits": 0, "reached": 0}
    assert totals(Scope("org", world.other_org)) == {"visits": 2, "reached": 2}
    assert tallies.differences() == []


def test_an_indicator_counting_another_activity_is_recounted(logged):
    world, _visit, training = logged
    from worklog.models import Indicator

    Indicator.objects.get(code="reached").activities.set([training])

    assert totals(Scope("org", world.org)) == {"visits": 2, "reached": 3}
    assert tallies.differences() == []


def test_a_sub_organisation_moving_under_another_takes_its_households_along(logged):
    world, _visit, _training = logged
    regiment = world.team_b.organisation
    assert totals(Scope("org", world.org)) == {"visits": 2, "reached": 2}

    regiment.parent = world.other_org
    regiment.save()

    assert totals(Scope("org", world.org)) == {"visits": 0, "reached": 0}
    assert totals(Scope("org", world.other_org)) == {"visits": 2, "reached": 2}
    assert tallies.differences() == []


def test_a_village_moving_to_another_area_takes_its_figures_along(logged):
    from tests.factories import AreaFactory

    world, _visit, _training = logged
    village = world.village_b
    old_area = village.area
    new_area = AreaFactory(slug="new-county")
    assert totals(Scope("area", old_area)) == {"visits": 2, "reached": 2}

    village.area = new_area
    village.save()

    assert totals(Scope("area", old_area)) == {"visits": 0, "reached": 0}
    assert totals(Scope("area", new_area)) == {"visits": 2, "reached": 2}
    assert tallies.differences() == []


def test_an_area_moving_under_another_takes_its_households_along(logged):
    from tests.factories import AreaFactory

    world, _visit, _training = logged
    county = world.village_b.area
    region, other_region = AreaFactory(slug="region-1"), AreaFactory(slug="region-2")
    county.parent = region
    county.save()
    assert totals(Scope("area", region)) == {"visits": 2, "reached": 2}

    county.parent = other_region
    county.save()

    assert totals(Scope("area", region)) == {"visits": 0, "reached": 0}
    assert totals(Scope("area", other_region)) == {"visits": 2, "reached": 2}
    assert tallies.differences() == []


def test_reordering_a_distinct_households_indicator_recounts_nothing(logged):
    """Editing an indicator's display order (or label) changes no figure: it must not
    recount every household reached. Saved as the admin saves it: the row, then its
    activities set again, unchanged."""
    from worklog.models import Indicator

    reached = Indicator.objects.get(code="reached")
    with recounting() as recounted:
        reached.order += 10
        reached.label_zh = "户数（改名）"
        reached.save()
        reached.activities.set(list(reached.activities.all()))

    assert recounted == set()


def test_a_new_distinct_households_indicator_is_counted_at_once(logged):
    world, _visit, training = logged
    IndicatorFactory(code="trained", measure="households", activities=[training])

    assert totals(Scope("org", world.org))["trained"] == 3
    assert tallies.differences() == []


def test_deleting_a_distinct_households_indicator_leaves_the_roll_ups_exact(logged):
    world, _visit, training = logged
    from worklog.models import Indicator

    IndicatorFactory(code="trained", measure="households", activities=[training])
    Indicator.objects.get(code="trained").delete()

    assert totals(Scope("org", world.org)) == {"visits": 2, "reached": 2}
    assert tallies.differences() == []


def test_saving_places_that_do_not_move_recounts_nothing(logged):
    """Renaming a team, village, organisation or area moves no figure: nothing is recounted."""
    world, _visit, _training = logged
    team, village = world.team_b, world.village_b
    with recounting() as recounted:
        for place in (team, village, team.organisation, village.area):
            place.name = f"{place.name} (renamed)"
            place.save()

    assert recounted == set()


def test_links_that_change_no_distinct_households_recount_nothing(logged):
    """Links of an indicator of another measure, made from the activity's side, and a link
    made again change no households reached: nothing is recounted."""
    from worklog.models import Indicator

    _world, visit, training = logged
    with recounting() as recounted:
        training.indicators.add(Indicator.objects.get(code="visits"))
        Indicator.objects.get(code="reached").activities.add(visit)
        IndicatorFactory(code="trained", measure="households")  # no activities yet

    assert recounted == set()


def test_an_activity_joining_a_distinct_households_indicator_from_its_side_is_counted(logged):
    from worklog.models import Indicator

    world, _visit, training = logged
    training.indicators.add(Indicator.objects.get(code="reached"))

    assert totals(Scope("org", world.org)) == {"visits": 2, "reached": 3}
    assert tallies.differences() == []
