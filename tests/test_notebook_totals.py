"""The notebook's totals read the tallies when its filters allow: they must equal a recount
of exactly the listed entries, whichever way they are taken."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, IndicatorFactory
from worklog.totals import indicator_totals, load_indicators

pytestmark = pytest.mark.django_db


@pytest.fixture
def notebook(world):
    visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
    project = ActivityFactory(code="project", uses_funds=True)
    IndicatorFactory(code="visits", measure="household_visits", unit="户次", activities=[visit])
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    IndicatorFactory(code="people", measure="participants", unit="人次", activities=[visit])
    IndicatorFactory(code="funds", measure="funds", unit="元", activities=[project])
    homes_a = [HouseholdFactory(village=world.village_a) for _ in range(3)]
    homes_b = [HouseholdFactory(village=world.village_b) for _ in range(2)]
    for year, month, team, homes in [(2017, 3, world.team_a, homes_a[:2]), (2017, 4, world.team_a, homes_a[1:]),
                                     (2018, 1, world.team_a, homes_a[:1]), (2017, 5, world.team_b, homes_b)]:
        EntryFactory(team=team, activity=visit, households=homes, participants=len(homes) * 3,
                     date=datetime.date(year, month, 2))
        EntryFactory(team=team, activity=project, funds=Decimal("100.10") * month, date=datetime.date(year, month, 3))
    EntryFactory(team=world.team_a, activity=visit, households=homes_a, participants=9,
                 date=datetime.date(2017, 6, 1), deleted_at=datetime.datetime(2017, 6, 2, tzinfo=datetime.timezone.utc))


@pytest.mark.parametrize("params", [
    {}, {"year": "2017"}, {"year": "2017", "org": "division", "indicator": "households"},
    {"activity": "visit"}, {"team": "team-b", "year": "2017"}, {"village": "village-a"},
    {"q": "x"},  # a filter the tallies cannot answer: recounted
])
@pytest.mark.parametrize("who", ["member_a", "coordinator"])
def test_totals_equal_a_recount_of_the_listed_entries(client, world, notebook, params, who):
    client.force_login(getattr(world, who))

    response = client.get(reverse("notebook"), params)

    listed = response.context["filter"].qs
    recounted = {t.code: t.value for t in indicator_totals(listed, load_indicators())}
    shown = {figure.code: figure.value for figure in response.context["totals"]}
    assert shown == {code: value for code, value in recounted.items() if code in shown}
    if "indicator" in params:
        assert list(shown) == [params["indicator"]]
    else:
        assert not [code for code, value in recounted.items() if value and code not in shown]
