"""Dashboards, the year's report and `/api/totals` (issue 4, DESIGN §6)."""

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
    TeamFactory,
    UserFactory,
)
from worklog.totals import resolve_scope, totals_document

pytestmark = pytest.mark.django_db

# DESIGN §5: the demo's 2017 totals for 8th-division (ranges where the article says 余).
SEEDED_2017 = {
    "funds_invested": "19350000.00", "benefit_projects": 25, "cooperatives": 13,
    "courtyard_households": 72, "deeds": range(460, 470), "condolence_visits": 2322,
    "committee_trainees": 1028, "member_trainees": 6316, "education_sessions": 1095,
    "education_participants": 82376, "activists": 206, "new_members": 40,
    "jobs": range(1800, 1900), "policy_visits": 12028, "policy_beneficiaries": 40395,
    "skills_sessions": 130, "skills_trainees": 7102,
}


def card_values(html):
    return dict(re.findall(r'class="card h-100 indicator-card" data-indicator="([^"]+)" data-value="([^"]+)"', html))


def card_links(html):
    return dict(re.findall(r'data-indicator="([^"]+)" data-value="[^"]+">.*?<a class="figure[^"]*" href="([^"]+)"', html, re.S))


@pytest.fixture
def seeded(db):
    call_command("seed", demo_password="demo-pass-123", stdout=io.StringIO())


@pytest.fixture
def small(world):
    visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
    project = ActivityFactory(code="project", uses_funds=True)
    IndicatorFactory(code="visits", measure="household_visits", unit="户次", activities=[visit])
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    IndicatorFactory(code="funds", measure="funds", unit="元", activities=[project])
    homes = [HouseholdFactory(village=world.village_a) for _ in range(4)]
    EntryFactory(team=world.team_a, activity=visit, households=homes[:2], date=date(2017, 3, 4))
    EntryFactory(team=world.team_a, activity=visit, households=homes[:1], date=date(2017, 5, 4))
    EntryFactory(team=world.team_b, activity=project, funds=Decimal("12345.67"), date=date(2017, 5, 4))
    world.team_a.starts_on = date(2016, 1, 1)  # the previous year's figure: deployed then too
    world.team_a.save()
    EntryFactory(team=world.team_a, activity=project, funds=Decimal("100"), date=date(2016, 5, 4))
    return {"visit": visit, "project": project, "homes": homes}


class TestSeededDashboard:
    def test_shows_the_design_table_and_drill_downs_match(self, client, seeded):
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(username="coordinator"))

        html = client.get(reverse("dashboard"), {"year": 2017, "org": "8th-division"}).content.decode()

        values = card_values(html)
        assert list(values) == list(SEEDED_2017)
        for code, expected in SEEDED_2017.items():
            shown = Decimal(values[code]) if code == "funds_invested" else int(values[code])
            assert shown in expected if isinstance(expected, range) else shown == Decimal(expected) if code == "funds_invested" else shown == expected
        assert "1935万元" in html

        for code in ("condolence_visits", "courtyard_households", "deeds", "funds_invested"):
            url = card_links(html)[code].replace("&amp;", "&")
            listing = client.get(url).content.decode()
            assert f'data-indicator="{code}" data-value="{values[code]}"' in listing

    def test_report_writes_each_figure_linked(self, client, seeded):
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(username="coordinator"))

        html = client.get(reverse("year_report", args=[2017]), {"org": "8th-division"}).content.decode()

        text = re.search(r'<p class="report-text[^"]*">(.*?)</p>', html, re.S).group(1)
        assert text.startswith("2017")
        for code in SEEDED_2017:
            assert f'data-indicator="{code}"' in text
        assert "1935万元" in text and "2322户次" in text

    def test_one_teams_report_names_the_team_not_several_teams(self, client, seeded):
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(username="coordinator"))
        url = reverse("year_report", args=[2017])

        def report_text(**headers):
            html = client.get(url, {"team": "kaiganqi"}, **headers).content.decode()
            return re.sub(r"<[^>]+>", "", re.search(r'<p class="report-text[^"]*">(.*?)</p>', html, re.S).group(1))

        chinese = report_text()
        assert chinese.startswith("2017年，八师石河子市驻开干齐队工作队投入资金") and "各工作队" not in chinese
        client.post(reverse("set_language"), {"language": "en", "next": url})
        english = report_text()
        assert english.startswith("In 2017, 8th Division work team at Kaiganqi Brigade invested")
        assert "work teams" not in english


class TestDashboardAccess:
    def test_coordinator_of_another_organisation_gets_403(self, client, world, small):
        client.force_login(world.outsider_coordinator)

        assert client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug}).status_code == 403
        assert client.get(reverse("year_report", args=[2017]), {"org": world.org.slug}).status_code == 403

    def test_member_sees_own_team_by_default_and_not_the_organisation(self, client, world, small):
        client.force_login(world.member_a)

        own = client.get(reverse("dashboard"), {"year": 2017})
        assert own.status_code == 200
        assert own.context["scope"].obj == world.team_a
        assert card_values(own.content.decode())["visits"] == "3"
        assert client.get(reverse("dashboard"), {"org": world.org.slug}).status_code == 403
        assert client.get(reverse("dashboard"), {"team": world.team_b.slug}).status_code == 403

    def test_unknown_slug_404_bad_year_400_anonymous_to_login_post_405(self, client, world, small):
        assert client.get(reverse("dashboard")).status_code == 302
        client.force_login(world.coordinator)
        assert client.get(reverse("dashboard"), {"org": "nope"}).status_code == 404
        assert client.get(reverse("dashboard"), {"year": "20x7"}).status_code == 400
        assert client.post(reverse("dashboard")).status_code == 405

    def test_picker_redirects_to_the_canonical_url(self, client, world, small):
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"scope": f"team:{world.team_b.slug}", "year": 2017})

        assert response.status_code == 302
        assert response["Location"] == f"/dashboard/?year=2017&team={world.team_b.slug}"


class TestDashboardFigures:
    def test_without_a_year_the_latest_year_with_entries_in_the_scope_is_shown(self, client, world, small):
        from django.utils import timezone

        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"org": world.org.slug})
        empty = client.get(reverse("dashboard"), {"org": world.org.slug, "year": timezone.localdate().year})

        assert response.context["year"] == 2017
        assert card_values(response.content.decode())["funds"] == "12345.67"
        assert f'href="{reverse("year_report", args=[2017])}?' in response.content.decode()
        # the current year stays in the picker, and a scope with nothing recorded opens on it
        assert timezone.localdate().year in response.context["years"]
        assert set(card_values(empty.content.decode()).values()) == {"0", "0.00"}
        other = TeamFactory(organisation=world.org)
        assert client.get(reverse("dashboard"), {"team": other.slug}).context["year"] == timezone.localdate().year
        client.force_login(world.member_b)
        assert client.get(reverse("dashboard")).context["year"] == 2017  # team B's project

    def test_values_previous_year_and_breakdown(self, client, world, small):
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug})

        html = response.content.decode()
        assert card_values(html) == {"visits": "3", "households": "2", "funds": "12345.67"}
        funds = response.context["cards"][2]
        assert funds["previous"].value == Decimal("100.00")
        assert funds["figure"].exact.startswith("12,345.67")
        assert html.count("<svg") == 3 and html.count("<rect") == 36
        # the division has a sub-organisation: its breakdown is by its children, and a row
        # for the teams sent by the division itself
        rows = {row["place"]: row["record"] for row in response.context["breakdown"]["rows"]}
        funds_column = f"i{funds['figure'].indicator.pk}"
        assert rows[world.org.label][funds_column] == Decimal("0.00")
        assert rows["某团"][funds_column] == Decimal("12345.67")
        assert rows["某团"]["place_url"] == "/dashboard/?year=2017&org=regiment"
        # the table writes yuan to the fen with thousands separated, in Chinese too
        table = html[html.index('class="table table-sm table-striped breakdown-table"'):]
        assert '<td class="text-end">12,345.67</td>' in table
        assert '<td class="text-end">0.00</td>' in table

    def test_leaf_organisation_breaks_down_by_team(self, client, world, small):
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"year": 2017, "org": "regiment"})

        assert [row["place"] for row in response.context["breakdown"]["rows"]] == [world.team_b.label]

    def test_breakdown_exports_csv(self, client, world, small):
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug, "_export": "csv"})

        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 4  # header, the division's own teams, the regiment, the total
        assert sorted(row[0] for row in rows[1:3]) == sorted([world.org.label, "某团"])
        assert rows[3] == ["合计", "3", "2", "12345.67"]

    def test_breakdown_headers_give_units_in_english(self, client, world, small):
        client.force_login(world.coordinator)
        client.post(reverse("set_language"), {"language": "en", "next": reverse("dashboard")})
        query = {"year": 2017, "org": world.org.slug}

        page = client.get(reverse("dashboard"), query)
        exported = client.get(reverse("dashboard"), {**query, "_export": "csv"})

        headers = [column["header"] for column in page.context["breakdown"]["columns"]][1:]
        csv_headers = next(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))[1:]
        for shown in (headers, csv_headers):
            units = [header.rsplit("(", 1)[1].rstrip(")") for header in shown]
            assert units == ["household visits", "households", "yuan"]

    def test_village_dashboard_shows_household_coverage(self, client, world, small):
        client.force_login(world.leader_a)

        response = client.get(reverse("dashboard"), {"year": 2017, "village": world.village_a.slug})

        coverage = response.context["coverage"]
        assert (coverage["visited"], coverage["total"]) == (2, 4)
        assert set(coverage["unvisited"]) == set(small["homes"][2:])

    def test_coverage_names_the_chosen_year_and_is_not_rounded_up_to_all(self, client, world, small):
        more = HouseholdFactory.create_batch(243, village=world.village_a)  # 247 households in all
        EntryFactory(team=world.team_a, activity=small["visit"], households=more + small["homes"][2:3],
                     date=date(2017, 7, 1))  # 246 reached
        client.force_login(world.leader_a)
        query = {"year": 2017, "village": world.village_a.slug}

        def coverage_section():
            html = client.get(reverse("dashboard"), query).content.decode()
            start = html.index('class="mt-4 coverage"')
            return html[start:html.index("</section>", start)]

        chinese = coverage_section()
        assert "<strong>246</strong> / 247" in chinese and "99.6%" in chinese and "100%" not in chinese
        assert "本年度" in chinese and "今年" not in chinese
        client.post(reverse("set_language"), {"language": "en"})
        english = coverage_section()
        assert "reached in 2017" in english and "this year" not in english

    def test_query_count_does_not_grow_with_entries_or_teams(self, client, world, small):
        client.force_login(world.coordinator)
        url = reverse("dashboard") + f"?year=2017&org={world.org.slug}"
        with CaptureQueriesContext(connection) as before:
            client.get(url)
        for _ in range(5):
            team = TeamFactory(organisation=world.org)
            for _ in range(8):
                EntryFactory(team=team, activity=small["project"], funds=Decimal("1.00"), date=date(2017, 7, 7))
        with CaptureQueriesContext(connection) as after:
            response = client.get(url)

        assert response.context["cards"][2]["figure"].value == Decimal("12345.67") + 40
        assert len(after) == len(before)


class TestApi:
    def get(self, client, **params):
        return client.get(reverse("api_totals"), params)

    def test_document_for_a_visible_scope(self, client, world, small):
        client.force_login(world.coordinator)

        response = self.get(client, year=2017, org=world.org.slug)

        assert response.status_code == 200
        assert response.json() == json.loads(json.dumps(
            totals_document(resolve_scope("org", world.org.slug), 2017), default=str
        ))
        assert response.json()["indicators"][2]["value"] == "12345.67"

    def test_without_a_year_the_latest_year_with_entries_is_answered(self, client, world, small):
        from django.utils import timezone

        client.force_login(world.coordinator)

        document = self.get(client, org=world.org.slug).json()

        assert document["year"] == 2017
        assert document["indicators"][2]["value"] == "12345.67"
        other = TeamFactory(organisation=world.org)
        assert self.get(client, team=other.slug).json()["year"] == timezone.localdate().year

    def test_statuses(self, client, world, small):
        assert self.get(client, year=2017, org=world.org.slug).status_code in (401, 403)
        client.force_login(world.outsider_coordinator)
        assert self.get(client, year=2017, org=world.org.slug).status_code == 403
        assert self.get(client, year=2017, org="nope").status_code == 404
        assert self.get(client, year=2017).status_code == 403  # "all" is for superusers
        assert self.get(client, year="x", org=world.org.slug).status_code == 400
        assert self.get(client, year=2017, org=world.org.slug, team=world.team_a.slug).status_code == 400
        assert client.post(reverse("api_totals")).status_code == 405
        client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
        everything = self.get(client, year=2017)
        assert everything.status_code == 200 and everything.json()["scope"]["kind"] == "all"

    def test_member_sees_own_team_and_village_only(self, client, world, small):
        client.force_login(world.member_a)

        assert self.get(client, year=2017, team=world.team_a.slug).status_code == 200
        assert self.get(client, year=2017, village=world.village_a.slug).status_code == 200
        assert self.get(client, year=2017, team=world.team_b.slug).status_code == 403
        assert self.get(client, year=2017, org=world.org.slug).status_code == 403


class TestBreakdownTable:
    """The breakdown under the cards: sortable by any column, paginated, every place a link."""

    @pytest.fixture
    def regiments(self, world, small):
        """The division's regiment plus three more sub-organisations with funds of their own."""
        from tests.factories import OrganisationFactory

        for index, funds in enumerate(("300.00", "5.00", "70.00"), start=1):
            org = OrganisationFactory(name=f"分队{index}", slug=f"unit-{index}", parent=world.org)
            EntryFactory(team=TeamFactory(organisation=org, slug=f"unit-team-{index}"), activity=small["project"],
                         funds=Decimal(funds), date=date(2017, 6, 1))
        return small

    @staticmethod
    def funds_key():
        from worklog.models import Indicator

        return f"i{Indicator.objects.get(code='funds').pk}"

    def funds_column(self, response):
        keys = [column["key"] for column in response.context["breakdown"]["columns"]]
        index = keys.index(self.funds_key()) - 1  # the first column is the place
        return [(row["place"], row["values"][index]) for row in response.context["breakdown"]["rows"]]

    def test_sorting_by_a_figure_orders_the_places_by_it_both_ways(self, client, world, regiments):
        client.force_login(world.coordinator)
        funds_key = self.funds_key()

        down = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug, "sort": f"-{funds_key}"})
        up = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug, "sort": funds_key})

        values = [value for _place, value in self.funds_column(down)]
        assert values == sorted(values, reverse=True) and values[0] == Decimal("12345.67")
        assert [value for _place, value in self.funds_column(up)] == sorted(values)
        html = down.content.decode()
        assert 'aria-sort="descending"' in html
        # the header link turns the order round, and keeps the scope and year
        assert f"sort={funds_key}" in html and f"org={world.org.slug}" in html

    def test_a_sort_link_replaces_the_order_instead_of_adding_one(self, client, world, regiments):
        from urllib.parse import parse_qs

        client.force_login(world.coordinator)
        funds_key = self.funds_key()

        response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug, "sort": "place"})

        links = {column["key"]: parse_qs(column["url"].lstrip("?")) for column in response.context["breakdown"]["columns"]}
        assert links["place"]["sort"] == ["-place"]
        assert links[funds_key]["sort"] == [funds_key]
        assert all(len(query["sort"]) == 1 and query["year"] == ["2017"] for query in links.values())

    def test_a_long_breakdown_pages_with_links_that_keep_the_order(self, client, world, regiments, monkeypatch):
        from worklog.views import dashboards

        monkeypatch.setattr(dashboards, "BREAKDOWN_PER_PAGE", 2)
        client.force_login(world.coordinator)

        first = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug, "sort": "place"})
        breakdown = first.context["breakdown"]
        assert len(breakdown["rows"]) == 2 and breakdown["previous_url"] is None
        second = client.get(reverse("dashboard") + breakdown["next_url"])

        places = [row["place"] for row in breakdown["rows"] + second.context["breakdown"]["rows"]]
        assert places == sorted(places)
        assert "sort=place" in breakdown["next_url"]
        assert second.context["breakdown"]["previous_url"] is not None

    def test_every_place_links_to_its_own_dashboard(self, client, world, regiments):
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug})

        urls = {row["place"]: row["url"] for row in response.context["breakdown"]["rows"]}
        assert urls["分队1"] == "/dashboard/?year=2017&org=unit-1"
        assert 'href="/dashboard/?year=2017&amp;org=unit-1"' in response.content.decode()


def test_an_indicator_label_is_escaped_in_its_chart(client, world, small):
    from worklog.models import Indicator

    Indicator.objects.filter(code="visits").update(label_zh="<b>入户</b>", label_en="<b>visits</b>")
    client.force_login(world.coordinator)

    html = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug}).content.decode()

    assert "<b>入户</b>" not in html and "&lt;b&gt;入户&lt;/b&gt;" in html
