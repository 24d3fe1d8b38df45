"""Importing spreadsheets: `manage.py import_entries` / `import_households` and the import
pages (DESIGN §6, the import issue)."""

import csv
import datetime
import io
import re
import uuid
from decimal import Decimal
from typing import NamedTuple

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from teams.models import Household, HouseholdTag
from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
)
from worklog import tallies
from worklog.imports import ENTRY_COLUMNS, plan_entries
from worklog.locking import lock_month
from worklog.models import AreaReach, AreaTally, Entry, HouseholdTally, OrgReach, OrgTally, Tally
from worklog.services import entry_soft_delete
from worklog.totals import Scope, year_totals

pytestmark = pytest.mark.django_db

YEAR = 2017
LINE = re.compile(r"^row \d+: [a-z_]+: .+$")
UUID_TAKEN = "row 2: uuid: This uuid belongs to a different entry; leave it empty or give a new one."


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English whatever translations exist.
    with translation.override("en"):
        yield


@pytest.fixture
def activities():
    return {
        "visit": ActivityFactory(code="policy_visit", name="入户宣讲", name_en="Policy visit",
                                 uses_households=True, uses_participants=True),
        "project": ActivityFactory(code="project", name="惠民项目", name_en="Benefit project",
                                   uses_funds=True),
        "training": ActivityFactory(code="skills_training", name="技能培训", name_en="Skills training",
                                    uses_participants=True, uses_sessions=True),
        "cooperative": ActivityFactory(code="cooperative", name="合作社", name_en="Cooperative",
                                       uses_quantity=True),
    }


@pytest.fixture
def indicators(activities):
    measures = {
        "visits": ("household_visits", "visit"), "households": ("households", "visit"),
        "people": ("participants", "visit"), "funds": ("funds", "project"),
        "projects": ("entries", "project"), "sessions": ("sessions", "training"),
        "cooperatives": ("quantity", "cooperative"),
    }
    return [IndicatorFactory(code=code, measure=measure, activities=[activities[activity]])
            for code, (measure, activity) in measures.items()]


@pytest.fixture
def homes(world):
    for village in (world.village_a, world.village_b):
        for number in range(1, 6):
            HouseholdFactory(village=village, house_number=str(number))


def row(**values):
    """One entries row: a policy visit of team-a to household 1, unless told otherwise."""
    base = {"date": "2017-06-01", "team": "team-a", "activity": "policy_visit",
            "households": "1", "participants": "3"}
    base.update(values)
    return base


def csv_file(rows, columns=ENTRY_COLUMNS, encoding="utf-8"):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_file(rows, columns=ENTRY_COLUMNS):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for values in rows:
        sheet.append([values.get(name) for name in columns])
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


class Outcome(NamedTuple):
    out: str
    err: list  # the lines of stderr
    status: int


def run(tmp_path, content, name="entries.csv", command="import_entries"):
    """The command's outcome on a file with this content."""
    path = tmp_path / name
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    try:
        with translation.override("en"):  # a request before may have activated Chinese
            call_command(command, str(path), stdout=out, stderr=err)
        status = 0
    except CommandError as error:
        status = error.returncode
    return Outcome(out.getvalue().strip(), err.getvalue().splitlines(), status)


def import_rows(tmp_path, rows, **kwargs):
    return run(tmp_path, csv_file(rows), **kwargs)


def totals():
    return [(total.code, total.value) for total in year_totals(Scope("all"), YEAR)]


def assert_tallies_exact():
    assert tallies.differences() == []


class TestEntriesCommand:
    def test_imports_rows_with_links_tallies_and_audit(self, tmp_path, world, activities, homes,
                                                      indicators):
        result = import_rows(tmp_path, [
            row(households="1;2", participants="7", title="入户宣讲惠民政策"),
            row(activity="project", households="", participants="", funds="1200.50"),
            row(team="team-b", village="village-b", activity="skills_training", households="",
                participants="40", sessions="2"),
        ])

        assert (result.status, result.err, result.out) == (0, [], "3 new, 0 already present")
        visit = Entry.objects.get(activity=activities["visit"])
        assert (visit.team, visit.village, visit.author) == (world.team_a, world.village_a, None)
        assert sorted(visit.households.values_list("house_number", flat=True)) == ["1", "2"]
        assert Entry.objects.get(activity=activities["project"]).funds == Decimal("1200.50")
        assert dict(totals())["visits"] == 2
        assert dict(totals())["funds"] == Decimal("1200.50")
        assert_tallies_exact()
        history = visit.history.get()
        assert (history.history_type, history.history_change_reason) == ("+", "import")
        assert history.households.count() == 2

    def test_a_thousand_rows_all_or_nothing_and_idempotent(self, tmp_path, world, activities, homes):
        rows = [row(date=f"2017-{1 + n % 12:02d}-{1 + n % 28:02d}", households=str(1 + n % 5),
                    participants=str(n % 9), uuid=str(uuid.uuid4())) for n in range(1000)]
        bad = [*rows[:499], {**rows[499], "participants": "-3"}, *rows[500:]]

        result = import_rows(tmp_path, bad)

        assert result.status == 1
        assert result.err == ["row 501: participants: Must be 0 or more."]
        assert Entry.objects.count() == 0
        assert not Tally.objects.exists() and not HouseholdTally.objects.exists()

        assert import_rows(tmp_path, rows).out == "1000 new, 0 already present"
        assert import_rows(tmp_path, rows).out == "0 new, 1000 already present"
        assert Entry.objects.count() == 1000
        assert_tallies_exact()

    def test_every_problem_of_every_row_goes_to_stderr(self, tmp_path, world, activities, homes):
        result = import_rows(tmp_path, [
            row(),
            row(date="someday", team="nowhere"),
            row(),
            row(participants="many", funds="-1"),
        ])

        assert result.status == 1
        assert result.out == ""
        assert result.err == [
            "row 3: date: “someday” is not a date (YYYY-MM-DD).",
            "row 3: team: Unknown team “nowhere”.",
            "row 5: participants: “many” is not a whole number.",
            "row 5: funds: Must be 0 or more.",
        ]
        assert all(LINE.match(line) for line in result.err)
        assert Entry.objects.count() == 0

    def test_a_problem_repeated_in_many_rows_is_reported_for_each(self, tmp_path, world,
                                                                   activities, homes):
        result = import_rows(tmp_path, [
            row(participants="many"), row(), row(participants="many", households="9"),
            row(team="team-b", households="9"),
        ])

        assert result.err == [
            "row 2: participants: “many” is not a whole number.",
            "row 4: households: No household “9” in village “village-a”.",
            "row 4: participants: “many” is not a whole number.",
            "row 5: households: No household “9” in village “village-b”.",
        ]

    def test_the_same_house_number_is_each_teams_own_village_household(self, tmp_path, world,
                                                                        activities, homes):
        import_rows(tmp_path, [row(households="2"), row(team="team-b", households="2")])

        assert sorted(Entry.objects.values_list("team__slug", "households__village__slug")) == [
            ("team-a", "village-a"), ("team-b", "village-b")]
        assert_tallies_exact()

    def test_text_with_tabs_backslashes_and_line_breaks_is_stored_as_written(
            self, tmp_path, world, activities, homes):
        title, notes = "a\tb \\N\tc\\", "第一行\n\\N\t第二行 \\."

        assert import_rows(tmp_path, [row(title=title, notes=notes)]).out == "1 new, 0 already present"

        entry = Entry.objects.get()
        assert (entry.title, entry.notes) == (title, notes)
        assert (entry.history.get().title, entry.history.get().notes) == (title, notes)
        assert import_rows(tmp_path, [row(title=title, notes=notes)]).out == "0 new, 1 already present"

    def test_identical_rows_stay_two_entries_and_reimport_adds_nothing(self, tmp_path, world,
                                                                      activities, homes):
        rows = [row(), row(), row(households="2")]

        assert import_rows(tmp_path, rows).out == "3 new, 0 already present"
        assert import_rows(tmp_path, rows).out == "0 new, 3 already present"
        assert Entry.objects.count() == 3
        assert len(set(Entry.objects.values_list("uuid", flat=True))) == 3
        # one more identical visit in the file is one more entry
        assert import_rows(tmp_path, [*rows, row()]).out == "1 new, 3 already present"
        assert_tallies_exact()

    def test_derived_uuid_ignores_how_the_village_and_households_are_written(
            self, tmp_path, world, activities, homes):
        import_rows(tmp_path, [row(households="1;2")])

        result = import_rows(tmp_path, [row(village="village-a", households=" 2 ；1 ")])

        assert (result.out, result.status) == ("0 new, 1 already present", 0)

    def test_absent_optional_columns_are_empty(self, tmp_path, world, activities):
        content = csv_file([{"date": "2017-03-01", "team": "team-a", "activity": "cooperative"}],
                           columns=("activity", "team", "date"))

        result = run(tmp_path, content)

        assert result == ("1 new, 0 already present", [], 0)
        entry = Entry.objects.get()
        assert (entry.village, entry.quantity, entry.funds, entry.title) == (
            world.village_a, 0, Decimal(0), "")

    def test_unknown_columns_are_named_and_nothing_is_read(self, tmp_path, world, activities):
        content = csv_file([row()], columns=(*ENTRY_COLUMNS, "remarks", "Weather"))

        result = run(tmp_path, content)

        assert result.status == 1
        assert result.err == [
            f"row 1: remarks: Unknown column; the columns are: {', '.join(ENTRY_COLUMNS)}.",
            f"row 1: Weather: Unknown column; the columns are: {', '.join(ENTRY_COLUMNS)}.",
        ]

    def test_missing_required_column(self, tmp_path, world, activities):
        content = csv_file([{"date": "2017-03-01", "team": "team-a"}], columns=("date", "team"))

        assert run(tmp_path, content) == Outcome(
            "", ["row 1: activity: This required column is missing."], 1)

    def test_other_file_kinds_and_missing_files_are_refused(self, tmp_path, world):
        assert run(tmp_path, b"date,team", name="entries.txt") == Outcome(
            "", ["file: Choose a .csv or .xlsx file."], 1)
        assert run(tmp_path, b"not a zip", name="entries.xlsx") == Outcome(
            "", ["file: This is not a readable .xlsx file."], 1)
        with pytest.raises(CommandError, match="cannot read"):
            call_command("import_entries", str(tmp_path / "missing.csv"))

    def test_dry_run_writes_nothing(self, tmp_path, world, activities, homes):
        path = tmp_path / "entries.csv"
        path.write_bytes(csv_file([row()]))
        out = io.StringIO()

        call_command("import_entries", str(path), "--dry-run", stdout=out)

        assert out.getvalue().strip() == "1 new, 0 already present"
        assert not Entry.objects.exists()


TODAY = timezone.localdate()


@pytest.mark.parametrize("values, column, message", [
    ({"date": (TODAY + datetime.timedelta(days=1)).isoformat()}, "date",
     "The date cannot be in the future."),
    ({"date": "2016-12-31"}, "date", "The team was not deployed on 2016-12-31."),
    ({"date": "2017-02-30"}, "date", "“2017-02-30” is not a date (YYYY-MM-DD)."),
    ({"date": ""}, "date", "This value is required."),
    ({"team": "team-z"}, "team", "Unknown team “team-z”."),
    ({"village": "village-b"}, "village",
     "“village-b” is not the village of team “team-a”; leave it empty or write “village-a”."),
    ({"village": "atlantis"}, "village", "“atlantis” is not the village of team “team-a”"),
    ({"activity": "juggling"}, "activity", "Unknown activity “juggling”."),
    ({"households": "1;99"}, "households", "No household “99” in village “village-a”."),
    ({"households": "1;2;1"}, "households", "Household “1” is given twice."),
    ({"households": ""}, "households", "Give at least one house number"),
    ({"participants": "-1"}, "participants", "Must be 0 or more."),
    ({"participants": "2.5"}, "participants", "“2.5” is not a whole number."),
    ({"participants": "1000001"}, "participants", "Must be at most 1,000,000."),
    ({"sessions": "x"}, "sessions", "“x” is not a whole number."),
    ({"sessions": "2"}, "sessions", "Policy visit does not record sessions."),
    ({"funds": "10.005"}, "funds", "At most 2 decimal places."),
    ({"funds": "lots"}, "funds", "“lots” is not an amount of yuan."),
    ({"activity": "project", "participants": "0"}, "households",
     "Benefit project does not record households."),
    ({"uuid": "not-a-uuid"}, "uuid", "“not-a-uuid” is not a uuid."),
    ({"title": "标" * 201}, "title", "At most 200 characters."),
])
def test_each_rule_of_the_notebook_form(tmp_path, world, activities, homes, values, column, message):
    result = import_rows(tmp_path, [row(), row(**values)])

    assert result.status == 1
    assert len(result.err) == 1 and result.err[0].startswith(f"row 3: {column}: {message}")
    assert not Entry.objects.exists()


def test_an_ended_deployment_takes_no_entries_after_its_end(tmp_path, world, activities, homes):
    world.team_a.ends_on = datetime.date(2017, 12, 31)
    world.team_a.save()

    err = import_rows(tmp_path, [row(date="2018-01-02")]).err

    assert err == ["row 2: date: The team was not deployed on 2018-01-02."]


def test_a_reported_month_takes_no_new_entries(tmp_path, world, activities, homes):
    import_rows(tmp_path, [row(date="2017-06-01")])
    lock_month(organisation=world.org, year=2017, month=6, user=world.coordinator)

    result = import_rows(tmp_path, [row(date="2017-06-01"), row(date="2017-06-02"),
                                              row(date="2017-07-01")])

    assert result.status == 1
    assert result.err == [
        "row 3: date: June 2017 is reported for team “team-a” and locked; file an amendment instead."
    ]
    assert Entry.objects.count() == 1


class TestUuids:
    def test_another_teams_uuid_is_refused_without_revealing_its_entry(
            self, tmp_path, world, activities, homes):
        theirs = EntryFactory(team=world.team_b, activity=activities["project"],
                              funds=Decimal(5000), title="秘密项目")

        result = import_rows(tmp_path, [row(uuid=str(theirs.uuid))])

        assert result.status == 1
        assert result.err == [UUID_TAKEN]
        assert "秘密项目" not in " ".join(result.err) and "team-b" not in " ".join(result.err)
        theirs.refresh_from_db()
        assert (theirs.team, theirs.title, theirs.funds) == (world.team_b, "秘密项目", Decimal(5000))

    def test_same_uuid_with_other_content_is_refused_never_overwritten(
            self, tmp_path, world, activities, homes):
        key = str(uuid.uuid4())
        import_rows(tmp_path, [row(uuid=key, participants="3")])

        result = import_rows(tmp_path, [row(uuid=key, participants="4")])

        assert result.status == 1
        assert result.err == [UUID_TAKEN]
        assert Entry.objects.get().participants == 3

    def test_soft_deleted_entry_with_the_same_content_is_present_and_stays_deleted(
            self, tmp_path, world, activities, homes):
        key = str(uuid.uuid4())
        import_rows(tmp_path, [row(uuid=key, notes="第一行\r\n第二行")])
        entry = Entry.objects.get()
        entry_soft_delete(entry=entry, user=None)

        result = import_rows(tmp_path, [row(uuid=key, notes="第一行\r\n第二行")])

        assert (result.out, result.status) == ("0 new, 1 already present", 0)
        entry.refresh_from_db()
        assert entry.deleted_at is not None
        assert not Tally.objects.filter(entries__gt=0).exists()
        assert_tallies_exact()

    def test_a_uuid_twice_in_the_file(self, tmp_path, world, activities, homes):
        key = str(uuid.uuid4())

        assert import_rows(tmp_path, [row(uuid=key), row(uuid=key)]).out == "1 new, 1 already present"
        err = import_rows(tmp_path, [row(uuid=key), row(uuid=key, participants="9")]).err

        assert err == ["row 3: uuid: Row 2 has the same uuid with different content."]
        assert Entry.objects.count() == 1


class TestFileFormats:
    def test_gb18030_csv_as_chinese_excel_saves_it(self, tmp_path, world, activities, homes):
        content = csv_file([row(title="入户宣讲惠民政策", notes="走访贫困户")], encoding="gb18030")
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")

        result = run(tmp_path, content)

        assert (result.out, result.status) == ("1 new, 0 already present", 0)
        assert Entry.objects.values_list("title", "notes").get() == ("入户宣讲惠民政策", "走访贫困户")

    def test_utf8_csv_with_byte_order_mark(self, tmp_path, world, activities, homes):
        content = "\ufeff".encode() + csv_file([row(title="芦草沟村")])

        assert run(tmp_path, content).out == "1 new, 0 already present"
        assert Entry.objects.get().title == "芦草沟村"

    def test_xlsx_with_real_dates_and_numbers(self, tmp_path, world, activities, homes):
        content = xlsx_file([
            {"date": datetime.datetime(2017, 6, 1), "team": "team-a", "activity": "policy_visit",
             "households": 3, "participants": 12},
            {"date": "2017-06-02", "team": "team-a", "activity": "project", "funds": 2500.5},
            {"date": datetime.date(2017, 6, 3), "team": "team-a", "activity": "skills_training",
             "participants": 30.0, "sessions": 2},
        ])

        result = run(tmp_path, content, name="Entries.XLSX")

        assert result == ("3 new, 0 already present", [], 0)
        visit = Entry.objects.get(activity=activities["visit"])
        assert (visit.date, visit.participants) == (datetime.date(2017, 6, 1), 12)
        assert list(visit.households.values_list("house_number", flat=True)) == ["3"]
        assert Entry.objects.get(activity=activities["project"]).funds == Decimal("2500.50")
        assert run(tmp_path, content, name="Entries.XLSX").out == "0 new, 3 already present"

    def test_xlsx_rows_are_numbered_as_the_sheet_shows_them(self, tmp_path, world, activities, homes):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["date", "team", "activity", "households", "participants"])
        sheet.append(["2017-06-01", "team-a", "policy_visit", "1", 1])
        sheet.append([])  # a blank row is skipped but still counted
        sheet.append(["2017-06-01", "team-a", "policy_visit", "1", -1])
        content = io.BytesIO()
        workbook.save(content)

        assert run(tmp_path, content.getvalue(), name="e.xlsx").err == [
            "row 4: participants: Must be 0 or more."]


    def test_files_longer_than_the_limit_are_refused_whole(self, world, activities, homes):
        plan = plan_entries(name="e.xlsx", content=xlsx_file([row()] * 4), max_rows=3)

        assert [str(problem) for problem in plan.problems] == [
            "file: The file has more than 3 rows; import it in parts."]
        assert plan_entries(name="e.xlsx", content=xlsx_file([row()] * 3), max_rows=3).problems == []


class TestRoundTrip:
    @pytest.mark.parametrize("export_format", ["csv", "xlsx"])
    def test_export_then_import_into_an_empty_notebook_gives_the_same_totals(
            self, client, tmp_path, world, activities, homes, indicators, export_format):
        a_homes = list(Household.objects.filter(village=world.village_a).order_by("pk"))
        b_homes = list(Household.objects.filter(village=world.village_b).order_by("pk"))
        made = [
            EntryFactory(team=world.team_a, activity=activities["visit"], households=a_homes[:3],
                         participants=9, title="=SUM(A1)", notes="入户\n第二行"),
            EntryFactory(team=world.team_a, activity=activities["visit"], households=a_homes[1:2],
                         date=datetime.date(2017, 11, 3), participants=2),
            EntryFactory(team=world.team_b, activity=activities["visit"], households=b_homes,
                         participants=5, title="-3 °C"),
            EntryFactory(team=world.team_b, activity=activities["project"],
                         funds=Decimal("1935000.05"), title="安全饮水"),
            EntryFactory(team=world.team_a, activity=activities["training"], participants=40,
                         sessions=3),
            EntryFactory(team=world.team_a, activity=activities["cooperative"], quantity=2),
        ]
        before = totals()
        client.force_login(world.coordinator)
        response = client.get(reverse("notebook"), {"_export": export_format, "format": "import"})
        assert response.status_code == 200
        uuids = {entry.uuid for entry in made}
        # An empty notebook, as in a new database: below the app, which never deletes entries.
        Entry._base_manager.all().delete()
        for model in (Tally, HouseholdTally, OrgTally, OrgReach, AreaTally, AreaReach):
            model.objects.all().delete()

        result = run(tmp_path, response.content, name=f"notebook.{export_format}")

        assert result == ("6 new, 0 already present", [], 0)
        assert totals() == before
        assert set(Entry.objects.values_list("uuid", flat=True)) == uuids
        assert Entry.objects.get(uuid=made[0].uuid).title == "=SUM(A1)"
        assert Entry.objects.get(uuid=made[2].uuid).title == "-3 °C"
        assert_tallies_exact()
        assert run(tmp_path, response.content, name=f"notebook.{export_format}").out == (
            "0 new, 6 already present")


HOUSEHOLD_COLUMNS = ("village", "house_number", "head_name", "size", "phone", "tags", "notes")


class TestHouseholdsCommand:
    def test_adds_new_and_updates_stored_households(self, tmp_path, world):
        poor = HouseholdTag.objects.create(name="建档立卡", name_en="poverty-registered")
        HouseholdFactory(village=world.village_a, house_number="7", head_name="旧名字", size=2)
        content = csv_file([
            {"village": "village-a", "house_number": "7", "head_name": "新名字", "size": "5",
             "tags": "建档立卡"},
            {"village": "village-a", "house_number": "8", "head_name": "户主八", "phone": "13800000000"},
        ], columns=HOUSEHOLD_COLUMNS)

        result = run(tmp_path, content, name="h.csv", command="import_households")

        assert result == ("1 new, 1 updated, 0 unchanged", [], 0)
        seven = Household.objects.get(village=world.village_a, house_number="7")
        assert (seven.head_name, seven.size, list(seven.tags.all())) == ("新名字", 5, [poor])
        eight = Household.objects.get(village=world.village_a, house_number="8")
        assert (eight.size, eight.phone) == (1, "13800000000")
        assert Household.objects.count() == 2
        assert seven.history.count() >= 2
        assert run(tmp_path, content, name="h.csv", command="import_households").out == (
            "0 new, 0 updated, 2 unchanged")

    def test_problems_write_nothing(self, tmp_path, world):
        content = csv_file([
            {"village": "village-a", "house_number": "1", "head_name": "甲"},
            {"village": "village-a", "house_number": "2", "head_name": "乙", "tags": "贵宾"},
            {"village": "nowhere", "house_number": "3", "head_name": "丙", "size": "-2"},
            {"village": "village-a", "house_number": "1", "head_name": ""},
            {"village": "village-a", "house_number": "1", "head_name": "丁"},
        ], columns=HOUSEHOLD_COLUMNS)

        result = run(tmp_path, content, name="h.csv", command="import_households")

        assert result.status == 1
        assert result.err == [
            "row 3: tags: Unknown tag “贵宾”; tags are defined by the administrator.",
            "row 4: village: Unknown village “nowhere”.",
            "row 4: size: Must be 0 or more.",
            "row 5: house_number: Row 2 has the same household.",
            "row 5: head_name: This value is required.",
            "row 6: house_number: Row 2 has the same household.",
        ]
        assert not Household.objects.exists()


class TestImportPages:
    @pytest.fixture(autouse=True)
    def urls(self, client, settings, tmp_path):
        settings.IMPORT_PENDING_DIR = tmp_path
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        self.url = reverse("import_entries")
        self.households_url = reverse("import_households")

    def upload(self, client, content, name="entries.csv", url=None):
        file = io.BytesIO(content)
        file.name = name
        return client.post(url or self.url, {"file": file})

    def test_leader_previews_then_confirms(self, client, world, activities, homes):
        client.force_login(world.leader_a)

        preview = self.upload(client, csv_file([row(households="1;2"), row(activity="cooperative",
                                                households="", participants="", quantity="2")]))

        assert preview.status_code == 200
        assert not Entry.objects.exists()
        assert preview.context["plan"].summary() == "2 new, 0 already present"
        assert [s.entries for s in preview.context["sums"]] == [1, 1]
        content = preview.content.decode()
        assert "Policy visit" in content and "1;2" in content and "Import" in content

        done = client.post(self.url, {"token": preview.context["token"], "confirm": "1"})

        assert done.status_code == 302 and done["Location"] == reverse("notebook")
        assert Entry.objects.count() == 2
        assert set(Entry.objects.values_list("author", flat=True)) == {world.leader_a.pk}
        assert_tallies_exact()
        # the file was used up: confirming again imports nothing
        again = client.post(self.url, {"token": preview.context["token"], "confirm": "1"})
        assert again.status_code == 302 and Entry.objects.count() == 2

    def test_preview_lists_every_problem_and_offers_no_confirmation(
            self, client, world, activities, homes):
        client.force_login(world.leader_a)

        response = self.upload(client, csv_file([row(), row(team="team-b", village="village-b")]))

        assert response.status_code == 422
        assert [str(p) for p in response.context["problems"]] == ["row 3: team: Unknown team “team-b”."]
        assert response.context["token"] is None
        assert "row 3: team: Unknown team “team-b”." in response.content.decode()
        assert not Entry.objects.exists()

    def test_confirm_checks_the_file_again(self, client, world, activities, homes):
        client.force_login(world.leader_a)
        key = str(uuid.uuid4())
        preview = self.upload(client, csv_file([row(uuid=key)]))
        EntryFactory(team=world.team_a, activity=activities["project"], uuid=key)

        response = client.post(self.url, {"token": preview.context["token"], "confirm": "1"})

        assert response.status_code == 422
        assert [p.column for p in response.context["problems"]] == ["uuid"]
        assert Entry.objects.count() == 1

    def test_cancel_and_a_wrong_token_import_nothing(self, client, world, activities, homes):
        client.force_login(world.leader_a)
        preview = self.upload(client, csv_file([row()]))

        wrong = client.post(self.url, {"token": "guess", "confirm": "1"})
        assert wrong.status_code == 302 and not Entry.objects.exists()
        preview = self.upload(client, csv_file([row()]))
        cancel = client.post(self.url, {"token": preview.context["token"], "cancel": "1"})
        assert cancel.status_code == 302 and not Entry.objects.exists()

    def test_coordinator_imports_for_teams_under_the_scope_only(
            self, client, world, activities, homes):
        rows = [row(), row(team="team-b", village="village-b")]
        client.force_login(world.outsider_coordinator)
        assert len(self.upload(client, csv_file(rows)).context["problems"]) == 2

        client.force_login(world.coordinator)
        preview = self.upload(client, csv_file(rows))
        assert preview.context["problems"] == []
        client.post(self.url, {"token": preview.context["token"], "confirm": "1"})
        assert Entry.objects.count() == 2

    def test_member_is_forbidden_and_anonymous_goes_to_login(self, client, world):
        assert client.get(self.url).status_code == 302
        assert client.get(self.url)["Location"].startswith(reverse("login"))
        client.force_login(world.member_a)
        assert client.get(self.url).status_code == 403
        assert client.get(self.households_url).status_code == 403
        assert self.upload(client, b"date,team,activity").status_code == 403

    def test_wrong_method_and_bad_uploads(self, client, world):
        client.force_login(world.leader_a)
        assert client.get(self.url).status_code == 200
        assert client.put(self.url).status_code == 405
        assert self.upload(client, b"x", name="entries.txt").status_code == 422
        assert self.upload(client, b"x" * (2 * 1024 * 1024 + 1)).status_code == 422

    def test_leader_imports_households_of_the_own_village_only(self, client, world):
        client.force_login(world.leader_a)
        rows = [{"village": "village-a", "house_number": "9", "head_name": "户主九"},
                {"village": "village-b", "house_number": "9", "head_name": "户主九"}]

        refused = self.upload(client, csv_file(rows, HOUSEHOLD_COLUMNS), url=self.households_url)
        assert [str(p) for p in refused.context["problems"]] == [
            "row 3: village: Unknown village “village-b”."]

        preview = self.upload(client, csv_file(rows[:1], HOUSEHOLD_COLUMNS), url=self.households_url)
        done = client.post(self.households_url, {"token": preview.context["token"], "confirm": "1"})
        assert done.status_code == 302 and done["Location"] == reverse("household_list")
        household = Household.objects.get()
        assert (household.village, household.head_name) == (world.village_a, "户主九")
        assert household.history.get().history_user == world.leader_a


    def test_households_change_by_the_household_forms_rule(self, client, world):
        """A coordinator, whom the household form refuses, changes no household by import."""
        household = HouseholdFactory(village=world.village_a, house_number="9", head_name="户主九")
        rows = [{"village": "village-a", "house_number": "9", "head_name": "改名"}]
        for user in (world.coordinator, world.outsider_coordinator, world.member_a):
            client.force_login(user)
            form = client.get(reverse("household_edit", args=[household.pk]))
            assert form.status_code in (403, 404)

            response = self.upload(client, csv_file(rows, HOUSEHOLD_COLUMNS), url=self.households_url)

            assert response.status_code == 403
            assert client.post(self.households_url, {"token": "x", "confirm": "1"}).status_code == 403
        household.refresh_from_db()
        assert household.head_name == "户主九"
