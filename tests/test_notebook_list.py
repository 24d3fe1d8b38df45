"""`/notebook/`: who sees which entries, the filters, the totals and the exports."""

import csv
import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    PASSWORD,
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
    TeamFactory,
)
from worklog.services import entry_soft_delete
from worklog.tables import EXPORT_COLUMNS
from worklog.totals import resolve_scope, year_totals

pytestmark = pytest.mark.django_db

URL = reverse("notebook")


def listed(response):
    """Primary keys of the entries the page lists, in order."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-entry="(\d+)"', response.content.decode())]


def shown_totals(response):
    """{indicator code: raw value} of the totals the page shows."""
    html = response.content.decode()
    return dict(re.findall(r'data-indicator="([^"]+)" data-value="([^"]+)"', html))


def pks(*entries):
    return {entry.pk for entry in entries}


def export_rows(response):
    """The rows of a CSV or XLSX export as dicts, header checked."""
    assert response.status_code == 200
    if response["Content-Type"].startswith("text/csv"):
        content = response.content.decode("utf-8")
        assert content.startswith("\ufeff"), "Excel needs the BOM to read UTF-8"
        rows = list(csv.reader(io.StringIO(content[1:])))
    else:
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert rows[0] == list(EXPORT_COLUMNS)
    return [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.fixture
def visit():
    return ActivityFactory(code="policy_visit", name="入户宣讲", uses_households=True,
                           uses_participants=True)


@pytest.fixture
def project():
    return ActivityFactory(code="project", name="惠民项目", uses_funds=True)


@pytest.fixture
def training():
    return ActivityFactory(code="skills_training", name="技能培训", uses_participants=True,
                           uses_sessions=True)


@pytest.fixture
def indicators(visit, project, training):
    return {
        "policy_visits": IndicatorFactory(code="policy_visits", unit="户次",
                                          measure="household_visits", activities=[visit]),
        "funds_invested": IndicatorFactory(code="funds_invested", unit="元", measure="funds",
                                           activities=[project]),
        "skills_trainees": IndicatorFactory(code="skills_trainees", unit="人次",
                                            measure="participants", activities=[training]),
        "benefit_projects": IndicatorFactory(code="benefit_projects", unit="个",
                                             measure="entries", activities=[project]),
    }


class TestWhoSeesWhat:
    def test_member_sees_own_teams_entries_only(self, client, world, visit):
        own = EntryFactory(team=world.team_a, activity=visit)
        EntryFactory(team=world.team_b, activity=visit)
        client.force_login(world.member_a)

        response = client.get(URL)

        assert set(listed(response)) == pks(own)
        assert 'sort=team"' not in response.content.decode()  # one team: no team column

    def test_coordinator_sees_both_teams_with_a_team_column(self, client, world, visit):
        entries = [EntryFactory(team=world.team_a, activity=visit),
                   EntryFactory(team=world.team_b, activity=visit)]
        client.force_login(world.coordinator)

        response = client.get(URL)

        assert set(listed(response)) == pks(*entries)
        assert 'sort=team"' in response.content.decode()

    def test_outsider_coordinator_sees_none(self, client, world, visit):
        EntryFactory(team=world.team_a, activity=visit)
        EntryFactory(team=world.team_b, activity=visit)
        client.force_login(world.outsider_coordinator)

        assert listed(client.get(URL)) == []

    def test_outsider_asking_for_a_scope_gets_nothing_extra(self, client, world, visit):
        EntryFactory(team=world.team_a, activity=visit)
        client.force_login(world.outsider_coordinator)

        assert listed(client.get(URL, {"org": "division", "team": "team-a"})) == []

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(URL)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_post_is_not_allowed(self, client, world):
        client.force_login(world.member_a)

        assert client.post(URL).status_code == 405

    def test_new_entry_button_only_for_members_of_a_current_team(self, client, world):
        new_entry = f'href="{reverse("entry_new")}"'
        client.force_login(world.member_a)
        assert new_entry in client.get(URL).content.decode()

        client.force_login(world.coordinator)
        assert new_entry not in client.get(URL).content.decode()

    def test_newest_first_and_paginated_by_50(self, client, world, visit):
        for day in range(1, 52):
            EntryFactory(team=world.team_a, activity=visit,
                         date=datetime.date(2017, 1, 1) + datetime.timedelta(days=day))
        client.force_login(world.member_a)

        first, second = listed(client.get(URL)), listed(client.get(URL, {"page": 2}))

        assert len(first) == 50 and len(second) == 1
        dates = {entry.pk: entry.date for entry in world.team_a.entries.all()}
        ordered = [dates[pk] for pk in first + second]
        assert ordered == sorted(ordered, reverse=True)

    def test_sorting_by_a_column(self, client, world, visit, training):
        homes = [HouseholdFactory(village=world.village_a) for _ in range(3)]
        entries = [EntryFactory(team=world.team_a, activity=visit if h else training,
                                participants=n, households=homes[:h])
                   for n, h in ((5, 1), (30, 0), (12, 3))]
        client.force_login(world.member_a)

        by_participants = client.get(URL, {"sort": "-participants"})
        by_households = client.get(URL, {"sort": "households_count"})

        assert listed(by_participants) == [entries[1].pk, entries[2].pk, entries[0].pk]
        assert listed(by_households) == [entries[1].pk, entries[0].pk, entries[2].pk]

    def test_title_is_escaped_and_links_to_the_entry(self, client, world, visit):
        entry = EntryFactory(team=world.team_a, activity=visit, title="<script>alert(1)</script>")
        client.force_login(world.member_a)

        html = client.get(URL).content.decode()

        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert f'href="{reverse("entry_detail", args=[entry.pk])}"' in html


class TestFilters:
    def test_date_range_is_inclusive(self, client, world, visit):
        march, june, september = (
            EntryFactory(team=world.team_a, activity=visit, date=datetime.date(2017, month, 1))
            for month in (3, 6, 9)
        )
        client.force_login(world.member_a)

        response = client.get(URL, {"date_from": "2017-06-01", "date_to": "2017-06-01"})
        wider = client.get(URL, {"date_from": "2017-03-02", "date_to": "2017-12-31"})

        assert set(listed(response)) == pks(june)
        assert set(listed(wider)) == pks(june, september)

    def test_activity_may_repeat(self, client, world, visit, project, training):
        entries = {activity.code: EntryFactory(team=world.team_a, activity=activity)
                   for activity in (visit, project, training)}
        client.force_login(world.member_a)

        response = client.get(URL, {"activity": ["policy_visit", "project"]})

        assert set(listed(response)) == pks(entries["policy_visit"], entries["project"])

    def test_author(self, client, world, visit):
        mine = EntryFactory(team=world.team_a, activity=visit, author=world.member_a)
        EntryFactory(team=world.team_a, activity=visit, author=world.leader_a)
        client.force_login(world.leader_a)

        assert set(listed(client.get(URL, {"author": world.member_a.pk}))) == pks(mine)

    def test_author_the_user_cannot_see_is_refused_without_naming_them(self, client, world, visit):
        EntryFactory(team=world.team_b, activity=visit, author=world.member_b)
        EntryFactory(team=world.team_a, activity=visit, author=world.member_a)
        client.force_login(world.member_a)

        response = client.get(URL, {"author": world.member_b.pk})

        assert listed(response) == []
        assert "member_b" not in response.content.decode()

    def test_household(self, client, world, visit):
        first, second = (HouseholdFactory(village=world.village_a) for _ in range(2))
        visited = EntryFactory(team=world.team_a, activity=visit, households=[first, second])
        EntryFactory(team=world.team_a, activity=visit, households=[second])
        client.force_login(world.member_a)

        assert listed(client.get(URL, {"household": first.pk})) == [visited.pk]

    def test_text_in_title_or_notes(self, client, world, visit):
        by_title = EntryFactory(team=world.team_a, activity=visit, title="Water pipe repaired")
        by_notes = EntryFactory(team=world.team_a, activity=visit, notes="the WATER tank")
        EntryFactory(team=world.team_a, activity=visit, title="Training", notes="tractors")
        client.force_login(world.member_a)

        assert set(listed(client.get(URL, {"q": "water"}))) == pks(by_title, by_notes)

    def test_year(self, client, world, visit):
        in_2017 = EntryFactory(team=world.team_a, activity=visit, date=datetime.date(2017, 12, 31))
        EntryFactory(team=world.team_a, activity=visit, date=datetime.date(2018, 1, 1))
        client.force_login(world.member_a)

        assert listed(client.get(URL, {"year": 2017})) == [in_2017.pk]

    @pytest.mark.parametrize(
        "params, expected",
        [
            ({"org": "division"}, {"a", "b"}),  # a subtree: team_b's organisation is under it
            ({"org": "regiment"}, {"b"}),
            ({"team": "team-b"}, {"b"}),
            ({"village": "village-a"}, {"a"}),
            ({"org": "division", "team": "team-a"}, {"a"}),
        ],
    )
    def test_scope(self, client, world, visit, params, expected):
        entries = {"a": EntryFactory(team=world.team_a, activity=visit),
                   "b": EntryFactory(team=world.team_b, activity=visit)}
        client.force_login(world.coordinator)

        assert set(listed(client.get(URL, params))) == {entries[key].pk for key in expected}

    def test_area_is_a_subtree(self, client, world, visit):
        area_a = world.village_a.area
        township = TeamFactory(organisation=world.org, village__area__parent=area_a)
        inside = [EntryFactory(team=world.team_a, activity=visit),
                  EntryFactory(team=township, activity=visit)]
        EntryFactory(team=world.team_b, activity=visit)
        client.force_login(world.coordinator)

        assert set(listed(client.get(URL, {"area": area_a.slug}))) == pks(*inside)

    @pytest.mark.parametrize(
        "params",
        [{"org": "no-such-org"}, {"team": "nope"}, {"village": "nope"}, {"area": "nope"},
         {"activity": "nope"}, {"indicator": "nope"}, {"year": "20x7"}, {"date_from": "1.6."}],
    )
    def test_unknown_values_list_nothing_and_say_why(self, client, world, visit, params):
        EntryFactory(team=world.team_a, activity=visit)
        client.force_login(world.coordinator)

        response = client.get(URL, params)

        assert listed(response) == []
        assert 'class="alert alert-warning"' in response.content.decode()
        assert client.get(URL, {**params, "_export": "csv"})["Content-Type"].startswith("text/html")

    def test_indicator_restricts_to_its_activities(self, client, world, indicators, visit, project):
        funded = EntryFactory(team=world.team_a, activity=project, funds=Decimal("100"))
        EntryFactory(team=world.team_a, activity=visit)
        client.force_login(world.member_a)

        assert listed(client.get(URL, {"indicator": "funds_invested"})) == [funded.pk]

    def test_deleted_entries_only_when_asked(self, client, world, visit):
        live = EntryFactory(team=world.team_a, activity=visit)
        gone = EntryFactory(team=world.team_a, activity=visit)
        entry_soft_delete(entry=gone, user=world.leader_a)
        client.force_login(world.member_a)

        assert listed(client.get(URL)) == [live.pk]
        assert listed(client.get(URL, {"deleted": "0"})) == [live.pk]
        assert listed(client.get(URL, {"deleted": "1"})) == [gone.pk]

    def test_a_filter_in_use_can_be_removed(self, client, world, visit):
        client.force_login(world.member_a)

        html = client.get(URL, {"year": 2017, "q": "pipe"}).content.decode()

        assert 'href="?q=pipe"' in html  # the year's chip drops the year only


class TestTotals:
    def test_totals_are_a_recount_of_the_filtered_rows(self, client, world, indicators, training):
        june = [EntryFactory(team=world.team_a, activity=training, participants=n,
                             date=datetime.date(2017, 6, n)) for n in (12, 30)]
        EntryFactory(team=world.team_a, activity=training, participants=99,
                     date=datetime.date(2017, 7, 1))
        client.force_login(world.member_a)

        response = client.get(URL, {"date_from": "2017-06-01", "date_to": "2017-06-30"})

        assert set(listed(response)) == pks(*june)
        assert shown_totals(response) == {"skills_trainees": str(sum(e.participants for e in june))}
        assert 'data-entry-count="2"' in response.content.decode()

    def test_funds_in_ten_thousand_yuan_with_exact_yuan_in_the_title(
        self, client, world, indicators, project
    ):
        EntryFactory(team=world.team_a, activity=project, funds=Decimal("19000000.00"))
        EntryFactory(team=world.team_a, activity=project, funds=Decimal("350000.00"))
        client.force_login(world.member_a)

        response = client.get(URL, {"indicator": "funds_invested"})
        html = response.content.decode()

        assert shown_totals(response) == {"funds_invested": "19350000.00"}
        assert 'title="19,350,000.00元">1935万元<' in html

    def test_only_non_zero_totals_unless_one_is_asked_for(self, client, world, indicators, visit):
        EntryFactory(team=world.team_a, activity=visit, households=[HouseholdFactory(
            village=world.village_a)])
        client.force_login(world.member_a)

        assert shown_totals(client.get(URL)) == {"policy_visits": "1"}
        assert shown_totals(client.get(URL, {"indicator": "funds_invested"})) == {
            "funds_invested": "0.00"
        }

    def test_deleted_entries_count_towards_nothing(self, client, world, indicators, project):
        gone = EntryFactory(team=world.team_a, activity=project, funds=Decimal("5"))
        entry_soft_delete(entry=gone, user=world.leader_a)
        client.force_login(world.member_a)

        assert shown_totals(client.get(URL, {"deleted": "1"})) == {}

    def test_drill_down_lists_exactly_the_entries_behind_a_dashboard_figure(
        self, client, world, indicators, visit, project
    ):
        homes = [HouseholdFactory(village=world.village_a) for _ in range(3)]
        behind = [
            EntryFactory(team=world.team_a, activity=visit, households=homes),
            EntryFactory(team=world.team_a, activity=visit, households=homes[:1],
                         date=datetime.date(2017, 12, 31)),
            EntryFactory(team=world.team_b, activity=visit, households=[
                HouseholdFactory(village=world.village_b)]),
        ]
        EntryFactory(team=world.team_a, activity=visit, households=homes,
                     date=datetime.date(2018, 1, 1))  # another year
        EntryFactory(team=world.team_a, activity=project, funds=Decimal("10"))  # other activity
        deleted = EntryFactory(team=world.team_a, activity=visit, households=homes)
        entry_soft_delete(entry=deleted, user=world.leader_a)
        EntryFactory(team=TeamFactory(organisation=world.other_org), activity=visit)  # another organisation
        client.force_login(world.coordinator)

        response = client.get(URL, {"year": 2017, "org": "division", "indicator": "policy_visits"})

        expected = {t.code: t.value for t in year_totals(resolve_scope("org", "division"), 2017)}
        assert set(listed(response)) == pks(*behind)
        assert shown_totals(response) == {"policy_visits": str(expected["policy_visits"])}
        assert expected["policy_visits"] == 5


class TestExport:
    @pytest.fixture
    def entries(self, world, visit, project):
        homes = [HouseholdFactory(village=world.village_a, house_number=n) for n in ("3", "12")]
        return [
            EntryFactory(team=world.team_a, activity=visit, households=homes, participants=7,
                         title="=1+1", notes="-2 households", date=datetime.date(2017, 5, 4)),
            EntryFactory(team=world.team_a, activity=project, funds=Decimal("1234.50"),
                         title="饮水管道维修", notes="@once\n第二行", date=datetime.date(2017, 3, 2)),
            EntryFactory(team=world.team_a, activity=project, date=datetime.date(2018, 1, 1)),
            EntryFactory(team=world.team_b, activity=visit, date=datetime.date(2017, 5, 4)),
        ]

    @pytest.mark.parametrize("export_format", ["csv", "xlsx"])
    def test_filtered_rows_in_the_import_columns(self, client, world, entries, export_format):
        client.force_login(world.member_a)

        response = client.get(URL, {"year": 2017, "_export": export_format, "format": "import", "page": 2})

        disposition = f'attachment; filename="notebook-2017-for-import.{export_format}"'
        assert response["Content-Disposition"] == disposition
        rows = export_rows(response)
        assert [row["uuid"] for row in rows] == [str(entries[0].uuid), str(entries[1].uuid)]
        first, second = rows
        assert first["date"] == "2017-05-04"
        assert (first["team"], first["village"]) == ("team-a", "village-a")
        assert first["activity"] == "policy_visit"
        assert sorted(first["households"].split(";")) == ["12", "3"]
        assert str(first["participants"]) == "7"
        assert Decimal(str(second["funds"])) == Decimal("1234.50")
        assert second["title"] == "饮水管道维修"
        assert second["households"] in ("", None)

    @pytest.mark.parametrize("export_format", ["csv", "xlsx"])
    def test_formula_injection_is_neutralised(self, client, world, entries, export_format):
        client.force_login(world.member_a)

        rows = export_rows(client.get(URL, {"year": 2017, "_export": export_format, "format": "import"}))

        assert rows[0]["title"] == "'=1+1"
        assert rows[0]["notes"] == "'-2 households"
        assert rows[1]["notes"] == "'@once\n第二行"

    def test_xlsx_cells_are_text_not_formulas(self, client, world, entries):
        client.force_login(world.member_a)

        response = client.get(URL, {"year": 2017, "_export": "xlsx", "format": "import"})

        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert "f" not in {cell.data_type for row in sheet.iter_rows() for cell in row}
        assert sheet["J2"].value == "'=1+1"

    def test_every_filtered_row_not_just_a_page(self, client, world, visit):
        for _ in range(55):
            EntryFactory(team=world.team_a, activity=visit)
        client.force_login(world.member_a)

        assert len(export_rows(client.get(URL, {"_export": "csv", "format": "import"}))) == 55

    def test_export_without_a_year_and_for_an_organisation(self, client, world, entries):
        client.force_login(world.coordinator)

        response = client.get(URL, {"org": "division", "_export": "csv", "format": "import"})

        assert response["Content-Disposition"] == 'attachment; filename="notebook-division-for-import.csv"'
        assert len(export_rows(response)) == 4


class TestQueryCount:
    @staticmethod
    def make_entries(world, visit, count):
        homes = {team: [HouseholdFactory(village=team.village) for _ in range(2)]
                 for team in (world.team_a, world.team_b)}
        for n in range(count):
            team = world.team_a if n % 2 else world.team_b
            EntryFactory(team=team, activity=visit, author=world.member_a, households=homes[team],
                         participants=n)

    @staticmethod
    def count_queries(client, params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, params)
        assert response.status_code == 200
        return len(queries)

    @pytest.mark.parametrize("params", [{}, {"_export": "csv"}, {"year": 2017, "org": "division",
                                                                 "indicator": "policy_visits"}])
    def test_queries_do_not_grow_with_rows(self, client, world, indicators, visit, params):
        client.force_login(world.coordinator)
        self.make_entries(world, visit, 5)
        few = self.count_queries(client, params)

        self.make_entries(world, visit, 45)
        many = self.count_queries(client, params)

        assert many == few
        assert few <= 20


class TestOnAPhone:
    def test_page_does_not_scroll_sideways_at_390px(
        self, page, live_server, world, indicators, visit
    ):
        homes = [HouseholdFactory(village=world.village_b) for _ in range(3)]
        visit.uses_funds = True  # the widest row: every figure given
        visit.save()
        for n in range(12):
            EntryFactory(team=world.team_b, activity=visit, households=homes, participants=n,
                         author=world.member_b, funds=Decimal("12345678.90"),
                         title="修复芦草沟村破裂的饮水管道并培训村民使用农机" * 2)
        page.goto(live_server.url + reverse("login"))
        page.fill("#id_username", "coordinator")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit].btn-primary")
        page.wait_for_url(live_server.url + "/**")

        page.goto(live_server.url + URL + "?org=division&year=2017&indicator=policy_visits")
        page.click("details.notebook-filters summary")

        assert page.locator("details.notebook-filters form").is_visible()
        assert page.locator("tr[data-entry]").count() == 12
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
