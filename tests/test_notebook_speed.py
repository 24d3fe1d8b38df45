"""`/notebook/`: what the faster page must still show (the filter form's lists written in
Python, the rows written in one pass) and its query budget."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ActivityFactory, EntryFactory, IndicatorFactory, TeamFactory

pytestmark = pytest.mark.django_db

URL = reverse("notebook")


def options(response, name):
    """[(value, label, selected)] of the filter form's <select name=…>."""
    html = response.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={name}>"
    return [
        (value, label, " selected" in attrs)
        for value, attrs, label in re.findall(
            r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select.group(1))
    ]


@pytest.fixture
def visit():
    return ActivityFactory(code="policy_visit", name="入户宣讲 <b>", uses_households=True)


@pytest.fixture
def project():
    return ActivityFactory(code="project", name="惠民项目", uses_funds=True)


class TestFilterForm:
    def test_chosen_activities_and_indicator_stay_chosen(self, client, world, visit, project):
        IndicatorFactory(code="funds_invested", measure="funds", activities=[project])
        client.force_login(world.member_a)

        response = client.get(URL, {"activity": ["policy_visit", "project"], "indicator": "funds_invested"})

        chosen = {value for value, _label, selected in options(response, "activity") if selected}
        assert chosen == {"policy_visit", "project"}
        assert ("funds_invested", True) in {
            (value, selected) for value, _label, selected in options(response, "indicator")}
        assert options(response, "indicator")[0][0] == ""  # "any indicator" first

    def test_names_are_escaped(self, client, world, visit):
        client.force_login(world.member_a)

        html = client.get(URL).content.decode()

        assert "入户宣讲 &lt;b&gt;" in html
        assert "入户宣讲 <b>" not in html

    def test_a_coordinator_picks_among_the_teams_and_the_chosen_one_is_shown(
        self, client, world, visit
    ):
        client.force_login(world.coordinator)

        response = client.get(URL, {"team": world.team_b.slug})

        teams = options(response, "team")
        assert teams[0][0] == ""
        assert {value for value, _label, _selected in teams[1:]} >= {world.team_a.slug, world.team_b.slug}
        assert [value for value, _label, selected in teams if selected] == [world.team_b.slug]


class TestIndicatorDrillDown:
    def test_lists_the_entries_of_every_activity_of_the_indicator(self, client, world, visit, project):
        IndicatorFactory(code="reach", measure="entries", activities=[visit, project])
        other = ActivityFactory(code="other")
        shown = {EntryFactory(team=world.team_a, activity=activity).pk for activity in (visit, project)}
        EntryFactory(team=world.team_a, activity=other)
        client.force_login(world.coordinator)

        html = client.get(URL, {"indicator": "reach"}).content.decode()

        assert {int(pk) for pk in re.findall(r'<tr data-entry="(\d+)"', html)} == shown


class TestQueryBudget:
    def test_a_members_page(self, client, world, visit):
        for _ in range(3):
            EntryFactory(team=world.team_a, activity=visit, author=world.member_a)
        client.force_login(world.member_a)
        client.get(URL)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)

        assert response.status_code == 200
        assert len(queries) <= 11

    def test_a_coordinators_drill_down(self, client, world, visit):
        IndicatorFactory(code="policy_visits", measure="household_visits", activities=[visit])
        for team in (world.team_a, world.team_b, TeamFactory(organisation=world.team_a.organisation)):
            EntryFactory(team=team, activity=visit)
        client.force_login(world.coordinator)
        params = {"org": world.team_a.organisation.slug, "indicator": "policy_visits"}
        client.get(URL, params)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, params)

        assert response.status_code == 200
        assert len(queries) <= 15


class TestButtons:
    @pytest.mark.parametrize("who, logs, imports", [
        ("leader_a", True, True), ("member_a", True, False), ("coordinator", False, True),
    ])
    def test_new_entry_and_import_for_those_who_may(self, client, world, who, logs, imports):
        client.force_login(getattr(world, who))

        html = client.get(URL).content.decode()

        assert (f'href="{reverse("entry_new")}"' in html) is logs
        assert (f'href="{reverse("import_entries")}"' in html) is imports

    def test_a_member_who_left_may_do_neither(self, client, world):
        membership = world.member_a.memberships.get(team=world.team_a)
        membership.left_on = membership.joined_on
        membership.save()
        client.force_login(world.member_a)

        html = client.get(URL).content.decode()

        assert f'href="{reverse("entry_new")}"' not in html
        assert f'href="{reverse("import_entries")}"' not in html
