"""Exports in people's terms: the notebook, the household list and the dashboard's breakdown
as people open them in Excel or LibreOffice, and the import's format one link away."""

import csv
import datetime
import io
import os
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from teams.models import HouseholdTag
from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, IndicatorFactory
from worklog.services import entry_soft_delete
from worklog.tables import EXPORT_COLUMNS

pytestmark = pytest.mark.django_db

NOTEBOOK = reverse("notebook")
HOUSEHOLDS = reverse("household_list")
DASHBOARD = reverse("dashboard")

NOTEBOOK_HEADERS_ZH = ["日期", "工作队", "村", "工作类别", "标题", "农户", "户次", "参与人次", "场次",
                       "数量", "资金（元）", "记录人", "备注"]
NOTEBOOK_HEADERS_EN = ["Date", "Team", "Village", "Activity", "Title", "Households",
                       "Household visits", "Participants", "Sessions", "Quantity",
                       "Funds (yuan)", "Author", "Notes"]


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def csv_rows(response):
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def by_header(sheet):
    """{header: [cells of that column below it]}."""
    columns = {}
    for column in sheet.iter_cols():
        columns[column[0].value] = list(column[1:])
    return columns


@pytest.fixture
def visit():
    return ActivityFactory(code="policy_visit", name="入户宣讲", name_en="Policy visit",
                           uses_households=True, uses_participants=True)


@pytest.fixture
def project():
    return ActivityFactory(code="project", name="惠民项目", name_en="Benefit project", uses_funds=True)


@pytest.fixture
def notebook(world, visit, project):
    """Two entries of team_a in 2017 the member sees, one of 2018 and one of team_b."""
    world.member_a.first_name, world.member_a.last_name = "古丽", "阿依"
    world.member_a.save()
    homes = [HouseholdFactory(village=world.village_a, house_number=number, head_name=name)
             for number, name in (("12", "李四"), ("3", "张三"))]
    return [
        EntryFactory(team=world.team_a, activity=visit, households=homes, participants=7,
                     title="=1+1", notes="-2 households", date=datetime.date(2017, 5, 4),
                     author=world.member_a),
        EntryFactory(team=world.team_a, activity=project, funds=Decimal("1234.50"),
                     title="饮水管道维修", date=datetime.date(2017, 3, 2)),
        EntryFactory(team=world.team_a, activity=project, funds=Decimal("99.00"),
                     date=datetime.date(2018, 1, 1)),
        EntryFactory(team=world.team_b, activity=visit, participants=50,
                     date=datetime.date(2017, 5, 4)),
    ]


@pytest.fixture
def indicators(visit, project):
    return [
        IndicatorFactory(code="policy_visits", label_zh="入户宣讲", unit="户次",
                         measure="household_visits", activities=[visit]),
        IndicatorFactory(code="funds", label_zh="投入资金", unit="元", measure="funds",
                         activities=[project]),
    ]


class TestNotebook:
    def test_headers_names_and_typed_cells_in_chinese(self, client, world, notebook):
        client.force_login(world.member_a)

        sheet = workbook(client.get(NOTEBOOK, {"year": 2017, "_export": "xlsx"}))

        assert sheet.title == "工作日志 2017"
        assert [cell.value for cell in sheet[1]] == NOTEBOOK_HEADERS_ZH
        row = {header: cell for header, cell in zip(NOTEBOOK_HEADERS_ZH, sheet[2])}
        assert row["日期"].is_date and row["日期"].value.date() == datetime.date(2017, 5, 4)
        assert row["日期"].number_format == "yyyy-mm-dd"
        assert (row["工作队"].value, row["村"].value) == (world.team_a.name, world.village_a.name)
        assert row["工作类别"].value == "入户宣讲"
        assert row["农户"].value == "3 张三; 12 李四"  # house numbers as people count, with names
        assert row["记录人"].value == "古丽 阿依"  # the author's full name, not the user name
        assert (row["户次"].value, row["参与人次"].value) == (2, 7)
        assert row["参与人次"].data_type == "n"
        funds = by_header(sheet)["资金（元）"][1]
        assert funds.data_type == "n" and funds.value == 1234.5
        assert funds.number_format == "#,##0.00"

    def test_formula_looking_text_is_a_text_cell_with_no_apostrophe(self, client, world, notebook):
        client.force_login(world.member_a)

        sheet = workbook(client.get(NOTEBOOK, {"year": 2017, "_export": "xlsx"}))

        title, notes = by_header(sheet)["标题"][0], by_header(sheet)["备注"][0]
        assert (title.value, title.data_type) == ("=1+1", "s")
        assert (notes.value, notes.data_type) == ("-2 households", "s")
        assert "f" not in {cell.data_type for row in sheet.iter_rows() for cell in row}

    def test_totals_row_sums_the_filtered_rows_and_the_figures_follow(
            self, client, world, notebook, indicators):
        client.force_login(world.member_a)

        sheet = workbook(client.get(NOTEBOOK, {"year": 2017, "_export": "xlsx"}))

        rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
        entries, total = rows[:2], dict(zip(NOTEBOOK_HEADERS_ZH, rows[2]))
        assert total["日期"] == "合计（2条记录）"
        for header in ("户次", "参与人次", "场次", "数量", "资金（元）"):
            column = NOTEBOOK_HEADERS_ZH.index(header)
            assert total[header] == sum(row[column] for row in entries), header
        assert (total["户次"], total["参与人次"], total["资金（元）"]) == (2, 7, 1234.5)
        assert sheet.cell(row=4, column=1).font.bold
        # the notebook's figures for these entries, in their units: funds in 万元
        assert not any(rows[3])
        assert rows[4][0] == "这些记录的合计"
        figures = {row[0]: (row[1], row[2]) for row in rows[5:]}
        assert figures == {"入户宣讲": (2, "户次"), "投入资金": (0.12345, "万元")}
        wan = sheet.cell(row=len(rows) + 1, column=2)
        assert wan.number_format == "0.00"

    def test_deleted_entries_download_without_totals(self, client, world, notebook):
        entry_soft_delete(entry=notebook[1], user=world.leader_a)
        client.force_login(world.leader_a)

        sheet = workbook(client.get(NOTEBOOK, {"year": 2017, "deleted": "1", "_export": "xlsx"}))

        assert sheet.title == "已删除的记录 2017"
        assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["饮水管道维修"]

    def test_headers_and_title_in_english(self, client, world, notebook):
        client.force_login(world.member_a)
        client.post(reverse("set_language"), {"language": "en", "next": NOTEBOOK})

        sheet = workbook(client.get(NOTEBOOK, {"year": 2017, "_export": "xlsx"}))

        assert sheet.title == "Notebook 2017"
        assert [cell.value for cell in sheet[1]] == NOTEBOOK_HEADERS_EN
        assert sheet["D2"].value == "Policy visit"
        assert sheet["A4"].value == "Total of 2 entries"

    def test_csv_is_neutralised_with_the_same_headers_and_totals(self, client, world, notebook):
        client.force_login(world.member_a)

        rows = csv_rows(client.get(NOTEBOOK, {"year": 2017, "_export": "csv"}))

        assert rows[0] == NOTEBOOK_HEADERS_ZH
        first = dict(zip(rows[0], rows[1]))
        assert (first["日期"], first["标题"], first["备注"]) == ("2017-05-04", "'=1+1", "'-2 households")
        assert dict(zip(rows[0], rows[2]))["资金（元）"] == "1234.50"
        assert rows[3][:1] + rows[3][6:11] == ["合计（2条记录）", "2", "7", "0", "0", "1234.50"]

    def test_csv_gives_the_figures_exactly(self, client, world, notebook, indicators):
        client.force_login(world.member_a)

        rows = csv_rows(client.get(NOTEBOOK, {"year": 2017, "_export": "csv"}))

        assert rows[5:] == [["这些记录的合计"], ["入户宣讲", "2", "户次"], ["投入资金", "0.12345", "万元"]]

    @pytest.mark.parametrize("export_format", ["csv", "xlsx"])
    def test_import_format_keeps_the_import_columns(self, client, world, notebook, export_format):
        client.force_login(world.member_a)

        response = client.get(NOTEBOOK, {"year": 2017, "_export": export_format, "format": "import"})

        if export_format == "csv":
            rows = csv_rows(response)
        else:
            rows = [list(row) for row in workbook(response).iter_rows(values_only=True)]
        assert rows[0] == list(EXPORT_COLUMNS)
        assert len(rows) == 3  # the two entries, no totals: every row goes back in
        assert rows[1][EXPORT_COLUMNS.index("team")] == "team-a"

    def test_page_offers_peoples_files_and_the_import_format(self, client, world, notebook):
        client.force_login(world.member_a)

        html = client.get(NOTEBOOK, {"year": 2017, "page": 1}).content.decode()

        assert "?year=2017&amp;_export=xlsx" in html
        assert "?year=2017&amp;_export=csv&amp;format=import" in html
        assert "用于重新导入" in html


@pytest.fixture
def register(world):
    poor = HouseholdTag.objects.create(name="建档立卡", name_en="registered poor")
    first = HouseholdFactory(village=world.village_a, house_number="3", head_name="张三", size=5,
                             phone="13800000000", notes="=cmd|' /C calc'!A0")
    first.tags.add(poor)
    HouseholdFactory(village=world.village_a, house_number="10", head_name="@SUM(A1)", size=2)
    HouseholdFactory(village=world.village_b, house_number="5", head_name="王五", size=9)
    return first


class TestHouseholds:
    def test_register_in_peoples_terms_with_its_totals(self, client, world, register, visit):
        EntryFactory(team=world.team_a, activity=visit, households=[register],
                     date=datetime.date(2017, 5, 4))
        client.force_login(world.member_a)

        sheet = workbook(client.get(HOUSEHOLDS, {"_export": "xlsx"}))

        assert sheet.title == "户籍名单"
        assert [cell.value for cell in sheet[1]] == [
            "村", "门牌号", "户主", "人口", "电话", "标签", "今年走访次数", "最近走访", "备注"]
        columns = by_header(sheet)
        assert [cell.value for cell in columns["门牌号"]] == ["3", "10", None]
        assert columns["人口"][0].data_type == "n"
        assert columns["电话"][0].value == "13800000000" and columns["电话"][0].data_type == "s"
        assert columns["标签"][0].value == "建档立卡"
        assert columns["最近走访"][0].is_date
        assert columns["最近走访"][0].value.date() == datetime.date(2017, 5, 4)
        assert (columns["户主"][1].value, columns["户主"][1].data_type) == ("@SUM(A1)", "s")
        assert columns["备注"][0].value == "=cmd|' /C calc'!A0"
        assert [columns["村"][2].value, columns["人口"][2].value] == ["合计（2户）", 5 + 2]

    def test_csv_and_import_format(self, client, world, register):
        client.force_login(world.member_a)

        people = csv_rows(client.get(HOUSEHOLDS, {"_export": "csv"}))
        machine = csv_rows(client.get(HOUSEHOLDS, {"_export": "csv", "format": "import"}))

        assert people[2][2] == "'@SUM(A1)"
        assert people[-1][0] == "合计（2户）"
        assert machine[0] == ["village", "house_number", "head_name", "size", "phone", "tags", "notes"]
        assert machine[1][:2] == ["village-a", "3"]

    def test_page_offers_both_formats(self, client, world, register):
        client.force_login(world.member_a)

        html = client.get(HOUSEHOLDS).content.decode()

        assert "?_export=xlsx" in html and "?_export=xlsx&amp;format=import" in html


class TestBreakdown:
    @pytest.fixture
    def division(self, world, visit, project, indicators):
        # team_b works for the division's regiment, 某团
        EntryFactory(team=world.team_b, activity=project,
                     funds=Decimal("12345.67"), date=datetime.date(2017, 6, 1))
        EntryFactory(team=world.team_a, activity=project, funds=Decimal("0.33"),
                     date=datetime.date(2017, 6, 1))
        EntryFactory(team=world.team_a, activity=visit, date=datetime.date(2017, 6, 1))

    def test_breakdown_workbook(self, client, world, division):
        client.force_login(world.coordinator)

        sheet = workbook(client.get(DASHBOARD, {"year": 2017, "org": world.org.slug, "_export": "xlsx"}))

        assert sheet.title == "按派出单位统计 2017"
        headers = [cell.value for cell in sheet[1]]
        assert headers[1:] == ["入户宣讲 (户次)", "投入资金 (元)"]
        rows = list(sheet.iter_rows(min_row=2))
        funds = [row[2] for row in rows]
        assert all(cell.number_format == "#,##0.00" and cell.data_type == "n" for cell in funds)
        assert rows[-1][0].value == "合计" and rows[-1][0].font.bold
        assert Decimal(str(funds[-1].value)) == Decimal("12346.00")
        assert [(row[0].value, row[1].value) for row in rows] == [("某团", 0), (world.org.label, 1), ("合计", 1)]


def soffice_or_skip():
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("soffice is missing; install Debian's libreoffice-calc")
        pytest.skip("soffice is not installed (apt-get install libreoffice-calc)")
    return soffice


def test_libreoffice_opens_the_notebook_workbook(client, world, notebook, tmp_path):
    soffice = soffice_or_skip()
    client.force_login(world.member_a)
    book = tmp_path / "notebook.xlsx"
    book.write_bytes(client.get(NOTEBOOK, {"year": 2017, "_export": "xlsx"}).content)

    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(tmp_path),
         str(book)],
        check=True, capture_output=True, timeout=120,
    )

    rows = list(csv.reader(io.StringIO((tmp_path / "notebook.csv").read_text("utf-8"))))
    assert rows[0] == NOTEBOOK_HEADERS_ZH
    first, second = (dict(zip(rows[0], row)) for row in rows[1:3])
    assert (first["日期"], first["标题"], first["参与人次"]) == ("2017-05-04", "=1+1", "7")
    assert second["资金（元）"] == "1,234.50"
    assert rows[3][0] == "合计（2条记录）"
