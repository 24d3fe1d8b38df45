"""Round trips of the coordinators' reads (issue 14): the organisation and area dashboards,
the year report and `/api/totals` keep to a budget of queries whatever the numbers of
teams, villages, entries and years; speed itself is measured in bench/."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from teams.models import Area, Village
from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, IndicatorFactory, TeamFactory, UserFactory
from tests.test_dashboards import card_values
from worklog.models import Activity

pytestmark = pytest.mark.django_db

# Session, user, the scope, the coordinator's scopes, the indicators with their activities
# (1), the children (1), the sums of both years per month and child (1), the teams right at
# the node and their households (2), the households reached (1), locks or reported rows (1),
# the years (1), the picker (1; 4 before its plain statement), the menu's count (1). Before
# issue 14: 22, and the area's 27 grew by two per year of entries. (The area's years take
# one query on PostgreSQL, two on SQLite.)
ORG_DASHBOARD = 14
AREA_DASHBOARD = 15
REPORT = 9
API = 7


@pytest.fixture
def region(world):
    """An area with two sub-areas, each a village of a team of the organisation, and
    entries of a summed and a distinct-households indicator in two years."""
    visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
    project = ActivityFactory(code="project", uses_funds=True)
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    IndicatorFactory(code="funds", measure="funds", unit="元", activities=[project])
    region = Area.objects.create(name="区", slug="region", kind="region")
    for n in range(2):
        township = Area.objects.create(name=f"乡{n}", slug=f"township-{n}", kind="township", parent=region)
        village = Village.objects.create(name=f"村{n}", slug=f"village-{n}", area=township)
        team = TeamFactory(organisation=world.org, village=village, starts_on=date(2015, 1, 1))
        homes = [HouseholdFactory(village=village) for _ in range(2)]
        for year in (2015, 2017):
            EntryFactory(team=team, activity=visit, households=homes, date=date(year, 3, 4))
            EntryFactory(team=team, activity=project, funds=Decimal("10.50"), date=date(year, 5, 4))
    return region


def test_organisation_dashboard_keeps_its_budget_as_teams_and_entries_grow(
        client, world, region, django_assert_max_num_queries):
    client.force_login(world.coordinator)
    url = reverse("dashboard") + f"?year=2017&org={world.org.slug}"
    with django_assert_max_num_queries(ORG_DASHBOARD):
        response = client.get(url)
    assert card_values(response.content.decode()) == {"households": "4", "funds": "21.00"}
    for _ in range(3):
        team = TeamFactory(organisation=world.org, starts_on=date(2015, 1, 1))
        EntryFactory(team=team, activity=Activity.objects.get(code="project"), funds=Decimal("1.00"),
                     date=date(2017, 7, 7))
    with django_assert_max_num_queries(ORG_DASHBOARD):
        response = client.get(url)
    assert card_values(response.content.decode())["funds"] == "24.00"


def test_area_dashboard_keeps_its_budget_and_lists_the_years_with_entries(
        client, region, django_assert_max_num_queries):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    with django_assert_max_num_queries(AREA_DASHBOARD):
        response = client.get(reverse("dashboard"), {"year": 2017, "area": "region"})
    html = response.content.decode()
    assert card_values(html) == {"households": "4", "funds": "21.00"}
    # The year picker offers the years with entries in the area, not the one between.
    assert response.context["years"] == [date.today().year, 2017, 2015]
    assert [row["place"] for row in response.context["breakdown"]["rows"]] == ["乡0", "乡1"]


def test_report_and_api_keep_their_budgets(client, world, region, django_assert_max_num_queries):
    client.force_login(world.coordinator)
    with django_assert_max_num_queries(REPORT):
        report = client.get(reverse("year_report", args=[2017]), {"org": world.org.slug})
    assert 'data-indicator="funds"' in report.content.decode()
    with django_assert_max_num_queries(API):
        document = client.get(reverse("api_totals"), {"year": 2017, "org": world.org.slug}).json()
    assert {row["code"]: row["value"] for row in document["indicators"]} == {"households": 4, "funds": "21.00"}


def test_the_year_picker_offers_the_years_of_the_subtree_and_no_other(world, region):
    """The years offered for an area or organisation (on PostgreSQL one statement of index
    probes, year by year, written out) are the years of its subtree's roll-up rows, as the
    ORM reads them: not the year between, nor a year with entries only outside it."""
    from worklog.totals import Scope
    from worklog.views.dashboards import _years_with_data

    outside = Area.objects.create(name="外区", slug="outside", kind="region")
    village = Village.objects.create(name="外村", slug="outside-village", area=outside)
    team = TeamFactory(organisation=world.other_org, village=village, starts_on=date(2015, 1, 1))
    EntryFactory(team=team, activity=Activity.objects.get(code="project"), funds=Decimal("1.00"),
                 date=date(2016, 6, 6))
    this_year = date.today().year
    scopes = [Scope("area", area) for area in Area.objects.all()]
    scopes += [Scope("org", org) for org in (world.org, world.other_org)]
    for scope in scopes:
        expected = set(scope.sum_rows().values_list("year", flat=True)) | {this_year}
        assert _years_with_data(scope) == sorted(expected, reverse=True), scope.slug
    assert _years_with_data(Scope("area", region)) == [this_year, 2017, 2015]
    assert _years_with_data(Scope("area", outside)) == [this_year, 2016]
