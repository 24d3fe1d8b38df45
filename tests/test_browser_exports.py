"""In Debian's Chromium on a phone: the notebook's downloads, for people and for re-import."""

import datetime
import io
import re

import openpyxl
import pytest

from tests.factories import PASSWORD, ActivityFactory, EntryFactory, World
from worklog.tables import EXPORT_COLUMNS

pytestmark = pytest.mark.browser


@pytest.fixture
def field(transactional_db):
    world = World.build()
    visit = ActivityFactory(code="policy_visit", name="入户宣讲", uses_households=True,
                            uses_participants=True)
    EntryFactory(team=world.team_a, activity=visit, participants=6, title="=1+1",
                 date=datetime.date(2017, 5, 4))
    return world


def test_member_downloads_the_notebook_as_a_workbook_and_for_re_import(page, live_server, field):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "member_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(re.compile(r".*/notebook/$"))
    page.goto(live_server.url + "/notebook/?year=2017")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    with page.expect_download() as people:
        page.get_by_role("link", name="Excel（XLSX）").click()
    with page.expect_download() as machine:
        page.locator(".downloads a", has_text="XLSX").last.click()

    assert people.value.suggested_filename == "notebook-2017.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(open(people.value.path(), "rb").read())).active
    assert (sheet.title, sheet["A1"].value, sheet["E2"].value, sheet["H2"].value) == (
        "工作日志 2017", "日期", "=1+1", 6)
    assert machine.value.suggested_filename == "notebook-2017-for-import.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(open(machine.value.path(), "rb").read())).active
    assert [cell.value for cell in sheet[1]] == list(EXPORT_COLUMNS)
