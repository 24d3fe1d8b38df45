"""The entries template (`/import/entries/?template=xlsx`, worklog.imports.template): what it
holds for whom, the activity by any of its names, and a template filled and saved by
LibreOffice going through the import page."""

import datetime
import io
import os
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import ActivityFactory, HouseholdFactory, IndicatorFactory, TeamFactory
from worklog import tallies
from worklog.imports import ENTRY_COLUMNS, plan_entries
from worklog.imports import template as template_module
from worklog.models import Entry
from worklog.totals import Scope, year_totals

pytestmark = pytest.mark.django_db

SOFFICE = "/usr/bin/soffice"
QUERIES = 8  # session, user, scopes, teams, activities, house numbers, count, households
SHEETS_ZH = ["录入", "示例", "填写说明", "活动说明", "队伍", "户籍"]
SHEETS_EN = ["Entries", "Examples", "Columns", "Activities", "Teams", "Households"]


@pytest.fixture
def activities():
    return {
        "visit": ActivityFactory(code="policy_visit", name="入户宣讲", name_en="Policy visit",
                                 uses_households=True, uses_participants=True, order=1),
        "project": ActivityFactory(code="project", name="惠民项目", name_en="Benefit project",
                                   uses_funds=True, order=2),
        "training": ActivityFactory(code="skills_training", name="技能培训",
                                    name_en="Skills training", uses_participants=True,
                                    uses_sessions=True, order=3),
        "retired": ActivityFactory(code="retired", name="停用的活动", is_active=False),
    }


@pytest.fixture
def households(world):
    """Village a: 1, 2, 10 and 0099 (zeros kept); village b: 1."""
    for number in ("10", "2", "1", "0099"):
        HouseholdFactory(village=world.village_a, house_number=number, head_name=f"户主{number}")
    HouseholdFactory(village=world.village_b, house_number="1", head_name="别村户主")


def download(client, user, language="zh-hans"):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(reverse("import_entries"), {"template": "xlsx"})


def workbook(response):
    return openpyxl.load_workbook(io.BytesIO(response.content))


def rows(sheet, min_row=2):
    return [list(values) for values in sheet.iter_rows(min_row=min_row, values_only=True)]


class TestWhatTheTemplateHolds:
    def test_a_leader_gets_the_header_the_import_reads_and_nothing_to_import(
            self, client, world, activities, households):
        response = download(client, world.leader_a)

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert response["Content-Disposition"].startswith('attachment; filename="entries-template-')
        book = workbook(response)
        assert book.sheetnames == SHEETS_ZH
        entries = book["录入"]
        assert [cell.value for cell in entries[1]] == list(ENTRY_COLUMNS)
        assert entries.max_row == 1  # nothing below the header to delete or to import
        assert "必填" in entries["A1"].comment.text and "YYYY-MM-DD" in entries["A1"].comment.text
        assert entries.column_dimensions["A"].number_format == "yyyy-mm-dd"
        assert entries.column_dimensions["E"].number_format == "@"  # "0099" stays "0099"
        # The untouched template imports nothing and finds nothing wrong.
        plan = plan_entries(name="t.xlsx", content=response.content)
        assert plan.problems == [] and plan.rows == []

    def test_activity_and_team_columns_offer_lists(self, client, world, activities):
        book = workbook(download(client, world.leader_a))

        lists = {str(v.sqref): v.formula1 for v in book["录入"].data_validations.dataValidation
                 if v.type == "list"}
        assert lists == {"D2:D1001": "'活动说明'!$A$2:$A$4", "B2:B1001": "'队伍'!$A$2:$A$2"}
        assert [row[0] for row in rows(book["活动说明"])] == ["入户宣讲", "惠民项目", "技能培训"]
        assert [row[0] for row in rows(book["队伍"])] == ["team-a"]

    def test_activities_sheet_says_which_columns_each_records(self, client, world, activities):
        sheet = workbook(download(client, world.leader_a))["活动说明"]

        header = [cell.value for cell in sheet[1]]
        ticked = {row[2]: [header[i] for i, value in enumerate(row) if value == "✓"]
                  for row in rows(sheet)}
        assert ticked == {"policy_visit": ["households", "participants"], "project": ["funds"],
                          "skills_training": ["participants", "sessions"]}
        assert rows(sheet)[0][:3] == ["入户宣讲", "Policy visit", "policy_visit"]

    def test_examples_one_per_activity_import_when_copied_to_the_first_sheet(
            self, client, world, activities, households):
        book = workbook(download(client, world.leader_a))
        examples = rows(book["示例"])

        assert [row[3] for row in examples] == ["入户宣讲", "惠民项目", "技能培训"]
        assert examples[0][4] == "1;2" and examples[0][5] == 20 and examples[1][8] == 50000
        assert "不会导入" in book["示例"].cell(row=1, column=len(ENTRY_COLUMNS) + 2).value
        # Left on their sheet, they are not imported; copied to the first, they are good rows.
        for row in examples:
            book["录入"].append(row[:len(ENTRY_COLUMNS)])
        content = io.BytesIO()
        book.save(content)
        plan = plan_entries(name="t.xlsx", content=content.getvalue())
        assert plan.problems == []
        assert [row.activity.code for row in plan.rows] == ["policy_visit", "project",
                                                            "skills_training"]

    def test_households_of_the_leaders_village_only_in_house_number_order(
            self, client, world, activities, households):
        sheet = workbook(download(client, world.leader_a))["户籍"]

        assert rows(sheet) == [["village-a", world.village_a.name, number, f"户主{number}"]
                               for number in ("1", "2", "10", "0099")]

    def test_a_coordinator_gets_the_teams_and_households_of_the_scope(
            self, client, world, activities, households):
        book = workbook(download(client, world.coordinator))

        assert sorted(row[0] for row in rows(book["队伍"])) == ["team-a", "team-b"]
        assert sorted((row[0], row[2]) for row in rows(book["户籍"])) == [
            ("village-a", "0099"), ("village-a", "1"), ("village-a", "10"), ("village-a", "2"),
            ("village-b", "1")]

    def test_too_many_households_are_not_listed(self, client, world, activities, households,
                                                monkeypatch):
        monkeypatch.setattr(template_module, "MAX_HOUSEHOLDS", 4)

        sheet = workbook(download(client, world.coordinator, "en"))["Households"]

        assert [row for row in rows(sheet) if row[0]] == [[
            "The villages of your teams have 5 households, too many to list here; the "
            "households page lists them by village.", None, None, None]]

    def test_an_outside_coordinator_sees_no_team_and_no_household(
            self, client, world, activities, households):
        book = workbook(download(client, world.outsider_coordinator))

        assert rows(book["队伍"]) == [] and rows(book["户籍"]) == []
        assert {row[1] for row in rows(book["示例"])} == {"（您所在工作队的代码）"}

    def test_queries_do_not_grow_with_households_or_teams(
            self, client, world, activities, households, django_assert_num_queries):
        url = reverse("import_entries")
        download(client, world.coordinator)  # logged in, the session settled
        with django_assert_num_queries(QUERIES):
            client.get(url, {"template": "xlsx"})
        for number in range(100, 150):
            HouseholdFactory(village=world.village_b, house_number=str(number))
        TeamFactory(organisation=world.org)
        with django_assert_num_queries(QUERIES):
            response = client.get(url, {"template": "xlsx"})
        assert len(rows(workbook(response)["户籍"])) == 55

    def test_a_member_is_refused_and_the_anonymous_go_to_log_in(self, client, world):
        url = reverse("import_entries")
        assert client.get(url, {"template": "xlsx"})["Location"].startswith(reverse("login"))
        assert download(client, world.member_a).status_code == 403

    def test_in_english_sheets_and_lists_are_english(self, client, world, activities):
        book = workbook(download(client, world.leader_a, "en"))

        assert book.sheetnames == SHEETS_EN
        assert [cell.value for cell in book["Entries"][1]] == list(ENTRY_COLUMNS)
        assert [row[0] for row in rows(book["Activities"])] == [
            "Policy visit", "Benefit project", "Skills training"]

    def test_the_import_page_links_to_it(self, client, world):
        client.force_login(world.leader_a)
        page = client.get(reverse("import_entries")).content.decode()
        assert 'href="?template=xlsx"' in page and "下载模板" in page


class TestCellsAsPeopleWriteThem:
    @pytest.fixture(autouse=True)
    def english(self):
        with translation.override("en"):
            yield

    def plan(self, *names):
        book = openpyxl.Workbook()
        book.active.append(["date", "team", "activity", "participants", "sessions"])
        for name in names:
            book.active.append(["2017-06-01", "team-a", name, 5, 1])
        content = io.BytesIO()
        book.save(content)
        return plan_entries(name="names.xlsx", content=content.getvalue())

    def test_code_chinese_name_and_english_name_in_any_case(self, world, activities):
        plan = self.plan("skills_training", "技能培训", "Skills training", " skills TRAINING ")

        assert plan.problems == []
        assert [row.activity.code for row in plan.rows] == ["skills_training"] * 4
        # Written either way, the same row derives the same uuid: a re-import adds nothing.
        assert len({row.uuid for row in plan.rows}) == 4  # four identical rows stay four

    def test_a_name_two_activities_share_asks_for_the_code(self, world, activities):
        ActivityFactory(code="skills_training_2", name="技能培训", uses_participants=True,
                        uses_sessions=True)

        plan = self.plan("技能培训", "skills_training_2")

        assert [str(problem) for problem in plan.problems] == [
            "row 2: activity: “技能培训” names several activities; write the code of the one "
            "meant: “skills_training”、“skills_training_2”."]

    def test_unknown_name(self, world, activities):
        plan = self.plan("培训")
        assert [str(problem) for problem in plan.problems] == [
            "row 2: activity: Unknown activity “培训”."]

    def test_dates_typed_as_text_the_chinese_way(self, world, activities):
        plan = plan_entries(name="dates.csv", content=(
            "date,team,activity,participants,sessions\n"
            "2017年6月1日,team-a,技能培训,5,1\n2017.6.2,team-a,技能培训,5,1\n"
            "2017/6/3,team-a,技能培训,5,1\n2017-6,team-a,技能培训,5,1\n").encode())

        assert [row.date.day for row in plan.rows] == [1, 2, 3]
        assert [str(problem) for problem in plan.problems] == [
            "row 5: date: “2017-6” is not a date (YYYY-MM-DD)."]

    def test_numbers_as_a_spreadsheet_stores_them(self, world, activities):
        """Floats: 3.0 is 3, and a sum a formula made is the cents it shows."""
        book = openpyxl.Workbook()
        book.active.append(["date", "team", "activity", "participants", "funds"])
        book.active.append([datetime.datetime(2017, 6, 1), "team-a", "惠民项目", None, 0.1 + 0.2])
        book.active.append([datetime.date(2017, 6, 2), "team-a", "Policy visit", 3.0, None])
        content = io.BytesIO()
        book.save(content)

        plan = plan_entries(name="floats.xlsx", content=content.getvalue())

        assert [str(problem) for problem in plan.problems] == [
            "row 3: households: Give at least one house number (separated by “;”)."]
        assert plan.rows[0].funds == Decimal("0.30") and plan.rows[0].date == datetime.date(2017, 6, 1)


# --- LibreOffice -----------------------------------------------------------------------------


def libreoffice_saves(path, tmp_path, infilter=()):
    """The file as LibreOffice saves it in .xlsx, converted headless with a profile of its
    own (parallel runs would share one otherwise)."""
    if not shutil.which(SOFFICE):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{SOFFICE} is missing; install Debian's libreoffice-calc-nogui")
        pytest.skip(f"{SOFFICE} is not installed (apt-get install libreoffice-calc-nogui)")
    outdir = tmp_path / "saved"
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", *infilter,
         "--convert-to", "xlsx", "--outdir", str(outdir), str(path)],
        check=True, capture_output=True, timeout=180,
    )
    return (outdir / f"{path.stem}.xlsx").read_bytes()


@pytest.fixture
def indicators(activities):
    return [IndicatorFactory(code=code, measure=measure, activities=[activities[activity]])
            for code, measure, activity in (
                ("visits", "household_visits", "visit"), ("people", "participants", "visit"),
                ("funds", "funds", "project"), ("projects", "entries", "project"))]


def upload(client, content, name):
    file = io.BytesIO(content)
    file.name = name
    preview = client.post(reverse("import_entries"), {"file": file})
    assert preview.status_code == 200, [str(p) for p in preview.context["problems"]]
    return preview


def confirm(client, preview):
    done = client.post(reverse("import_entries"), {"token": preview.context["token"], "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == reverse("notebook")


def year_figures():
    return {total.code: total.value for total in year_totals(Scope("all"), 2017)}


class TestLibreOfficeRoundTrip:
    @pytest.fixture(autouse=True)
    def pending_dir(self, settings, tmp_path):
        settings.IMPORT_PENDING_DIR = tmp_path / "pending"

    def test_template_filled_and_saved_by_libreoffice_imports(
            self, client, tmp_path, world, activities, households, indicators):
        book = workbook(download(client, world.leader_a))
        sheet = book["录入"]
        # As a person fills it: a real date, the activity from the list, house numbers in
        # the text column, a count and an amount as numbers, a sum left to a formula.
        sheet.append([datetime.date(2017, 6, 1), "team-a", None, "入户宣讲", "1;0099", 3, None,
                      None, None, "入户走访", None, None])
        sheet.append([datetime.date(2017, 6, 2), "team-a", None, "Benefit project", None, None,
                      None, None, "=1234.5+0.06", "修水渠", "第一期", None])
        filled = tmp_path / "filled.xlsx"
        book.save(filled)
        saved = libreoffice_saves(filled, tmp_path)
        # LibreOffice stored the date as a date and the numbers as numbers.
        first = openpyxl.load_workbook(io.BytesIO(saved), data_only=True).worksheets[0]
        assert isinstance(first["A2"].value, datetime.datetime) and first["I3"].value == 1234.56

        preview = upload(client, saved, "filled.xlsx")
        assert len(preview.context["plan"].new_rows) == 2
        confirm(client, preview)

        visit, project = Entry.objects.order_by("date")
        assert (visit.activity.code, visit.date, visit.participants, visit.title) == (
            "policy_visit", datetime.date(2017, 6, 1), 3, "入户走访")
        assert sorted(visit.households.values_list("house_number", flat=True)) == ["0099", "1"]
        assert (project.activity.code, project.funds, project.notes) == (
            "project", Decimal("1234.56"), "第一期")
        assert year_figures() == {"visits": 2, "people": 3, "funds": Decimal("1234.56"),
                                  "projects": 1}
        assert tallies.differences() == []

    def test_csv_opened_and_saved_by_libreoffice_imports(
            self, client, tmp_path, world, activities, households, indicators):
        client.force_login(world.leader_a)
        csv_file = tmp_path / "entries.csv"
        csv_file.write_text(
            "date,team,activity,households,participants,funds\n"
            "2017-06-01,team-a,入户宣讲,2,4,\n"
            "2017-06-02,team-a,惠民项目,,,99.9\n", encoding="utf-8")
        # As a person opens it: comma-separated, UTF-8 (76); LibreOffice turns the dates
        # into dates, the house number 2 and the amounts into numbers.
        saved = libreoffice_saves(csv_file, tmp_path, ("--infilter=CSV:44,34,76,1",))

        confirm(client, upload(client, saved, "entries.xlsx"))

        assert year_figures() == {"visits": 1, "people": 4, "funds": Decimal("99.90"),
                                  "projects": 1}
        assert tallies.differences() == []
