"""The village rule: what coordinators of two organisations see of a village both serve.

Next to the access matrix (tests/test_access_matrix.py), which fixes each URL's status per
role, this states the decision for one case the matrix cannot show: a village served by a
team of organisation A and a team of organisation B.
"""

import datetime

import pytest
from django.urls import reverse

from teams.models import CoordinatorScope
from worklog.models import Entry
from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
    OrganisationFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture
def shared_village(world):
    """village_a, served by team_a (organisation A, `world.org`) and by team_c, sent by
    organisation B; a coordinator of each; visits by both teams to the same households."""
    org_b = OrganisationFactory(name="另一个师", slug="org-b")
    team_c = TeamFactory(organisation=org_b, village=world.village_a, slug="team-c")
    coordinator_b = UserFactory(username="coordinator_b")
    CoordinatorScope.objects.create(user=coordinator_b, organisation=org_b)
    visit = ActivityFactory(code="visit", uses_households=True)
    IndicatorFactory(code="visits", measure="household_visits", activities=[visit])
    IndicatorFactory(code="visit_entries", measure="entries", activities=[visit])
    homes = [HouseholdFactory(village=world.village_a) for _ in range(2)]
    day = datetime.date(2017, 5, 5)
    by_a = EntryFactory(team=world.team_a, activity=visit, date=day, households=homes[:1],
                        title="甲单位入户走访", author=world.member_a)
    by_b = EntryFactory(team=team_c, activity=visit, date=day, households=homes,
                        title="乙单位入户走访")
    return {
        "coordinators": {"A": world.coordinator, "B": coordinator_b},
        "own": {"A": by_a, "B": by_b}, "other": {"A": by_b, "B": by_a},
        "teams": {"A": world.team_a, "B": team_c}, "other_team": {"A": team_c, "B": world.team_a},
        "homes": homes, "village": world.village_a,
    }


@pytest.mark.parametrize("side", ["A", "B"])
def test_a_village_s_figures_are_the_village_s_whichever_organisation_sent_the_team(
        client, shared_village, side):
    """The village rule. Where teams of several organisations serve one village, every
    coordinator over one of those teams (as every coordinator over the village's area)
    sees the same village: its totals count the work of all teams there, whatever
    organisation sent them, and its households show every visit in their history (the
    teams serve the same households; a household reached by either team is reached).
    What stays with an organisation is its teams' notebooks: the other organisation's
    entries are neither listed nor opened, and its team's own totals stay closed."""
    shared = shared_village
    village = shared["village"]
    client.force_login(shared["coordinators"][side])
    own, other = shared["own"][side], shared["other"][side]

    # the village's totals: both teams' entries, the same figures for either coordinator
    answer = client.get(reverse("api_totals"), {"year": 2017, "village": village.slug})
    assert answer.status_code == 200
    values = {row["code"]: row["value"] for row in answer.json()["indicators"]}
    assert values == {"visits": own.households.count() + other.households.count(),
                      "visit_entries": 2}
    dashboard = client.get(reverse("dashboard"), {"year": 2017, "village": village.slug})
    assert dashboard.status_code == 200
    assert dashboard.context["coverage"]["visited"] == len(shared["homes"])

    # the notebook of that village: only the own organisation's entries
    notebook = client.get(reverse("notebook"), {"year": 2017, "village": village.slug})
    assert notebook.status_code == 200
    assert own.title in notebook.content.decode()
    assert other.title not in notebook.content.decode()
    assert client.get(reverse("entry_detail", args=[other.pk])).status_code == 404
    other_team = {"year": 2017, "team": shared["other_team"][side].slug}
    assert client.get(reverse("api_totals"), other_team).status_code == 403

    # the village's households, each with its whole visit history; only own entries linked
    listed = client.get(reverse("household_list"))
    assert {h.pk for h in shared["homes"]} <= {h.pk for h in listed.context["table"].data}
    history = client.get(reverse("household_detail", args=[shared["homes"][0].pk]))
    page = history.content.decode()
    assert history.status_code == 200
    assert own.title in page and other.title in page
    assert reverse("entry_detail", args=[own.pk]) in page
    assert reverse("entry_detail", args=[other.pk]) not in page


def _drill_down(client, scope, code):
    """(The dashboard's figure for the indicator `code`, the notebook its link leads to)."""
    dashboard = client.get(reverse("dashboard"), {"year": 2017, **scope})
    assert dashboard.status_code == 200
    card = next(card for card in dashboard.context["cards"] if card["figure"].code == code)
    notebook = client.get(card["url"])
    assert notebook.status_code == 200
    return card["figure"].value, notebook


@pytest.mark.parametrize("side", ["A", "B"])
def test_a_shared_village_s_figure_leads_to_its_entries_and_says_how_many_are_kept_elsewhere(
        client, shared_village, side):
    """A coordinator following a figure of the shared village to the notebook sees their
    organisation's entries and a note of how many more the figure counts, logged by the
    other organisation's team there: listed and noted entries make up the figure."""
    shared = shared_village
    client.force_login(shared["coordinators"][side])
    kept_elsewhere = Entry.objects.filter(
        team=shared["other_team"][side], village=shared["village"]).count()

    figure, notebook = _drill_down(client, {"village": shared["village"].slug}, "visit_entries")

    page = notebook.content.decode()
    assert shared["own"][side].title in page and shared["other"][side].title not in page
    assert f'data-unlisted-count="{kept_elsewhere}"' in page
    assert f"另有{kept_elsewhere}条记录由在{shared['village'].label}工作的其他工作队填写" in page
    assert "仅为所列记录的合计" in page
    assert notebook.context["entry_count"] + kept_elsewhere == figure


def test_a_village_served_by_one_team_leads_to_all_its_entries_with_no_note(client, world):
    """A member of the only team of a village follows its figure to exactly its entries."""
    visit = ActivityFactory(code="visit", uses_households=True)
    IndicatorFactory(code="visit_entries", measure="entries", activities=[visit])
    EntryFactory(team=world.team_b, activity=visit, date=datetime.date(2017, 5, 5))
    client.force_login(world.member_b)

    figure, notebook = _drill_down(client, {"village": world.village_b.slug}, "visit_entries")

    page = notebook.content.decode()
    assert notebook.context["entry_count"] == figure == 1
    assert "data-unlisted-count" not in page and "另有" not in page
