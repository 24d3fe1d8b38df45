"""Uploads cannot take the site down, and cells are read as the program that wrote them
meant (issue 11, points 1, 4 and 5): limits while reading, text through the one rule for
incoming text, spreadsheet error values refused, house numbers that lost their zeros.
"""

import io
import os
import time
import tracemalloc
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from teams.models import Household
from tests import upload_bombs
from tests.factories import ActivityFactory, HouseholdFactory
from tests.test_import import HOUSEHOLD_COLUMNS, csv_file, row, xlsx_file
from worklog.imports import ENTRY_COLUMNS, read_sheet
from worklog.models import Entry
from worklog.views.imports import MAX_ROWS, PENDING

pytestmark = pytest.mark.django_db

SECONDS = 2  # an oversized file is refused within this much processor time
MEGABYTES = 200  # ... and this much memory (Python's allocations while reading it)
NUL_MESSAGE = "The text contains a NUL character (\\0), which cannot be stored. Remove it and try again."


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.IMPORT_PENDING_DIR = tmp_path / "pending"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def leader(client, world):
    ActivityFactory(code="policy_visit", name_en="Policy visit", uses_households=True,
                    uses_participants=True)
    HouseholdFactory(village=world.village_a, house_number="1")
    client.force_login(world.leader_a)
    return world.leader_a


def upload(client, content, name="entries.xlsx", url_name="import_entries"):
    file = io.BytesIO(content)
    file.name = name
    return client.post(reverse(url_name), {"file": file})


def problems(response):
    return [str(problem) for problem in response.context["problems"]]


TOO_MANY_ROWS = f"file: The file has more than {MAX_ROWS:,} rows; import it in parts."
BOMBS = [
    # (file, what the page says about it)
    (lambda: upload_bombs.huge_shared_string(60), "file: The workbook unpacks to 60 MB, more than"),
    (lambda: upload_bombs.many_columns(rows=300), "file: The workbook unpacks to 69 MB, more than"),
    (upload_bombs.long_cell, "row 2: notes: More than 5,000 characters (“长长长"),
    (upload_bombs.wide_row, "row 1: AG: A value beyond column AF; the import reads at most 32 columns."),
    (upload_bombs.many_rows, TOO_MANY_ROWS),
    (upload_bombs.many_empty_cells, "file: The sheet has 1,200,004 cells, more than 50,000 rows of 16 columns hold"),
    (lambda: b"date,team,activity\r\n" + b"\r\n" * (2**20 - 100), TOO_MANY_ROWS),
    (lambda: csv_file([row(notes="注" * 20_000)]), "row 2: notes: More than 5,000 characters (“注注注"),
]


@pytest.mark.parametrize(("build", "message"), BOMBS)
def test_an_oversized_file_is_refused_quickly_with_a_clear_message(client, leader, build, message):
    content = build()
    name = "bomb.csv" if content.startswith(b"date") else "bomb.xlsx"
    assert len(content) < 2 * 2**20  # what the page takes

    started = time.process_time()
    response = upload(client, content, name)
    seconds = time.process_time() - started

    assert response.status_code == 422
    assert problems(response)[0].startswith(message)
    assert seconds < SECONDS
    # a bad cell is quoted, never copied into the page whole
    assert all(len(problem.message) < 300 for problem in response.context["problems"])
    assert len(response.content) < 100_000
    assert not Entry.objects.exists()


@pytest.mark.parametrize(("build", "message"), BOMBS[:6])
def test_reading_an_oversized_file_takes_little_memory(build, message):
    content = build()
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as refused:
            read_sheet("bomb.xlsx", content, MAX_ROWS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(refused.value.problems[0]).startswith(message)
    assert peak < MEGABYTES * 2**20


def test_a_long_cell_is_quoted_in_80_characters(client, leader):
    response = upload(client, csv_file([row(title="标" * 6000)]), "entries.csv")

    [problem] = response.context["problems"]
    quoted = problem.message.split("“")[1].split("”")[0]
    assert quoted == "标" * 79 + "…"


def test_a_value_too_long_for_its_column_is_quoted_in_80_characters(client, leader):
    response = upload(client, csv_file([row(team="t" * 4000)]), "entries.csv")

    assert problems(response) == [f"row 2: team: Unknown team “{'t' * 79}…”."]


def test_many_problems_are_counted_and_the_first_shown(client, leader):
    response = upload(client, csv_file([row(team="nowhere")] * 1000), "entries.csv")

    page = response.content.decode()
    assert "1000 problems: nothing was imported." in page
    assert page.count("Unknown team") == 200
    assert "… and 800 more problems" in page


class TestPendingUpload:
    """The file waits on disk between preview and confirmation; the session holds a key."""

    def test_the_session_holds_no_file_and_the_folder_is_emptied(self, client, leader, settings):
        content = csv_file([row(title="走访" * 50)])
        preview = upload(client, content, "my entries.csv")

        waiting = client.session[PENDING]
        assert set(waiting) == {"token", "kind", "name", "file"}
        assert "走访" not in str(client.session.items()) and len(str(waiting)) < 200
        [parked] = settings.IMPORT_PENDING_DIR.iterdir()
        assert parked.read_bytes() == content
        assert "entries" not in parked.name and parked.name == waiting["file"]
        assert parked.stat().st_mode & 0o077 == 0  # private
        assert settings.IMPORT_PENDING_DIR.stat().st_mode & 0o077 == 0

        client.post(reverse("import_entries"), {"token": preview.context["token"], "confirm": "1"})

        assert Entry.objects.get().title == "走访" * 50
        assert list(settings.IMPORT_PENDING_DIR.iterdir()) == []
        assert PENDING not in client.session

    def test_cancel_and_a_second_upload_remove_the_waiting_file(self, client, leader, settings):
        upload(client, csv_file([row()]), "a.csv")
        preview = upload(client, csv_file([row(participants="4")]), "b.csv")
        assert len(list(settings.IMPORT_PENDING_DIR.iterdir())) == 1

        client.post(reverse("import_entries"), {"token": preview.context["token"], "cancel": "1"})

        assert list(settings.IMPORT_PENDING_DIR.iterdir()) == []
        assert not Entry.objects.exists()

    def test_files_older_than_a_day_go_when_a_new_one_arrives(self, client, leader, settings):
        upload(client, csv_file([row()]), "a.csv")
        [old] = settings.IMPORT_PENDING_DIR.iterdir()
        two_days_ago = time.time() - 2 * 24 * 3600
        os.utime(old, (two_days_ago, two_days_ago))
        client.logout()  # another user's upload, say: the old file is not theirs to discard
        client.force_login(leader)

        upload(client, csv_file([row(participants="4")]), "b.csv")

        assert old not in list(settings.IMPORT_PENDING_DIR.iterdir())
        assert len(list(settings.IMPORT_PENDING_DIR.iterdir())) == 1


class TestText:
    """Every text cell goes through teams.text.clean_text, on either database."""

    def test_a_nul_is_refused_at_the_preview(self, client, leader):
        response = upload(client, csv_file([row(), row(title="走访\x00户")]), "entries.csv")

        assert response.status_code == 422
        assert problems(response) == [f"row 3: title: {NUL_MESSAGE}"]
        assert response.context["token"] is None
        assert not Entry.objects.exists()

    def test_a_nul_in_a_household_is_refused_at_the_preview(self, client, leader, world):
        rows = [{"village": "village-a", "house_number": "7", "head_name": "户主\x00七"}]
        response = upload(client, csv_file(rows, HOUSEHOLD_COLUMNS), "households.csv",
                          url_name="import_households")

        assert problems(response) == [f"row 2: head_name: {NUL_MESSAGE}"]
        assert not Household.objects.filter(house_number="7").exists()

    def test_other_control_characters_are_removed(self, client, leader):
        content = csv_file([row(title="入户\x0b宣讲", notes="第一行\n第二\x1b行")])
        preview = upload(client, content, "entries.csv")
        client.post(reverse("import_entries"), {"token": preview.context["token"], "confirm": "1"})

        entry = Entry.objects.get()
        assert (entry.title, entry.notes) == ("入户宣讲", "第一行\n第二行")


ERRORS = ["#VALUE!", "#REF!", "#N/A", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"]


class TestSpreadsheetErrors:
    """A formula's error value is refused in every column, never stored as text."""

    @pytest.mark.parametrize("make", [csv_file, xlsx_file])
    def test_error_values_are_refused_in_every_column(self, client, leader, make):
        rows = [row(title=ERRORS[0], notes=ERRORS[1]), row(households=ERRORS[2]),
                row(participants=ERRORS[3], funds=ERRORS[4]), row(date=ERRORS[5]),
                row(uuid=ERRORS[6]), row(notes=" Err:502")]
        name = "entries.csv" if make is csv_file else "entries.xlsx"

        response = upload(client, make(rows), name)

        error = "The cell shows the spreadsheet error {}, not a value: correct the formula or type the value."
        assert problems(response) == [
            f"row 2: title: {error.format('#VALUE!')}", f"row 2: notes: {error.format('#REF!')}",
            f"row 3: households: {error.format('#N/A')}",
            f"row 4: participants: {error.format('#DIV/0!')}", f"row 4: funds: {error.format('#NAME?')}",
            f"row 5: date: {error.format('#NUM!')}", f"row 6: uuid: {error.format('#NULL!')}",
            f"row 7: notes: {error.format('Err:502')}",
        ]
        assert not Entry.objects.exists()

    def test_the_file_an_error_cell_comes_in_is_an_error_typed_xlsx_cell(self):
        content = xlsx_file([row(title="#DIV/0!")])
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        assert sheet.cell(row=2, column=ENTRY_COLUMNS.index("title") + 1).data_type == "e"


class TestHouseNumbersThatWereNumbers:
    """LibreOffice and Excel turn the house number "0099" into the number 99."""

    def numbers(self, world, *numbers):
        return {number: HouseholdFactory(village=world.village_a, house_number=number)
                for number in numbers}

    def test_a_number_matching_several_house_numbers_is_an_error_naming_them(
            self, client, leader, world):
        self.numbers(world, "99", "0099", "099", "100")

        response = upload(client, xlsx_file([row(households=99)]))

        assert problems(response) == [
            "row 2: households: 99 was a number in the file, which matches the house numbers "
            "“99”、“099”、“0099”; write the house number as text (in a text cell, or after an "
            "apostrophe)."]

    def test_a_number_matching_one_house_number_is_that_household(self, client, leader, world):
        homes = self.numbers(world, "0099", "100")
        preview = upload(client, xlsx_file([row(households=99), row(households=100.0)]))
        client.post(reverse("import_entries"), {"token": preview.context["token"], "confirm": "1"})

        assert sorted(Entry.objects.values_list("households__house_number", flat=True)) == [
            "0099", "100"]
        assert homes["0099"].entries.count() == 1

    def test_text_means_exactly_that_house_number(self, client, leader, world):
        self.numbers(world, "99", "0099")
        preview = upload(client, csv_file([row(households="0099")]), "entries.csv")

        assert problems(preview) == []
        assert [row.house_numbers for row in preview.context["plan"].rows] == ["0099"]

    def test_a_households_file_updates_the_one_house_number_or_names_the_candidates(
            self, client, leader, world):
        self.numbers(world, "0099", "7", "07")
        rows = [{"village": "village-a", "house_number": 99, "head_name": "新户主"}]
        preview = upload(client, xlsx_file(rows, HOUSEHOLD_COLUMNS), url_name="import_households")
        assert [row.status for row in preview.context["plan"].rows] == ["updated"]

        rows = [{"village": "village-a", "house_number": 7, "head_name": "新户主"}]
        refused = upload(client, xlsx_file(rows, HOUSEHOLD_COLUMNS), url_name="import_households")
        assert problems(refused) == [
            "row 2: house_number: 7 was a number in the file, which matches the house numbers "
            "“7”、“07”; write the house number as text (in a text cell, or after an apostrophe)."]


class TestFilesLibreOfficeMade:
    """tests/data/libreoffice_*.xlsx: the .csv files beside them, converted by LibreOffice
    (`soffice --headless --infilter=CSV:44,34,76,1 --convert-to xlsx FILE.csv`), which turned
    the house numbers 0099 and 0007 into numbers and =1/0 into an error-typed cell."""

    DATA = Path(__file__).parent / "data"

    def test_lost_zeros_find_their_household_or_name_the_candidates(self, client, leader, world):
        for number in ("99", "0099", "0007"):
            HouseholdFactory(village=world.village_a, house_number=number)
        content = (self.DATA / "libreoffice_house_numbers.xlsx").read_bytes()

        response = upload(client, content)

        assert problems(response) == [
            "row 2: households: 99 was a number in the file, which matches the house numbers "
            "“99”、“0099”; write the house number as text (in a text cell, or after an apostrophe)."]
        Household.objects.filter(house_number="99").delete()
        preview = upload(client, content)
        assert [row.house_numbers for row in preview.context["plan"].rows] == ["0099", "0007"]

    def test_error_cells_are_refused(self, client, leader):
        response = upload(client, (self.DATA / "libreoffice_errors.xlsx").read_bytes())

        error = "The cell shows the spreadsheet error {}, not a value: correct the formula or type the value."
        assert problems(response) == [f"row 2: title: {error.format('#N/A')}",
                                      f"row 3: notes: {error.format('#DIV/0!')}"]
