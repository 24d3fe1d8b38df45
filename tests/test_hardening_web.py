"""What outside testers sent through the web and what came back (issue 11, points 2, 4, 13):
markup in the query string, NUL and control characters in parameters and forms, exports
of stored control characters, caching of logged-in pages, formulas in export headers."""

import csv
import datetime
import io
import uuid

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, IndicatorFactory
from teams.models import Household
from worklog.models import Entry

pytestmark = pytest.mark.django_db

MARKUP = '<h1>x</h1><meta http-equiv="refresh" content="0;url=https://evil.example">'
NUL_MESSAGE_ZH = "无法保存"


@pytest.fixture
def visit():
    return ActivityFactory(code="policy_visit", name="入户宣讲", uses_households=True,
                           uses_participants=True)


def entry_post(activity, **values):
    data = {
        "date": timezone.localdate().isoformat(), "activity": activity.pk, "households": [],
        "participants": "", "sessions": "", "quantity": "", "funds": "", "title": "入户宣讲",
        "notes": "", "uuid": str(uuid.uuid4()),
    }
    data.update(values)
    return data


# Point 2: no HTML from the query string.

def test_markup_in_the_year_is_shown_as_text_on_the_sites_400_page(client, world):
    client.force_login(world.coordinator)

    response = client.get(reverse("dashboard"), {"year": MARKUP})

    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>x</h1>" not in html and "<meta http-equiv" not in html
    assert "&lt;h1&gt;x&lt;/h1&gt;" in html
    assert "工作队日志" in html and 'href="/notebook/"' in html  # the layout, its navigation


def test_two_scopes_in_the_report_answer_the_sites_400_page(client, world):
    client.force_login(world.coordinator)

    response = client.get(reverse("year_report", args=[2017]), {"org": MARKUP, "team": "x"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>x</h1>" not in html
    assert "只能选择其中一项" in html  # the message, in Chinese, inside the layout
    assert "工作队日志" in html


# Point 4: NUL refused, other control characters removed, in every request.

@pytest.mark.parametrize("url", [
    "/dashboard/?org=%00",
    "/dashboard/?year=2017&village=a%00b",
    "/report/2017/?area=%00",
    "/notebook/?org=%00",
    "/notebook/?q=%00",
    "/households/?village=%00",
])
def test_nul_in_a_query_parameter_is_a_400_page_saying_so(client, world, url):
    client.force_login(world.coordinator)

    response = client.get(url)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "NUL" in html and NUL_MESSAGE_ZH in html
    assert "工作队日志" in html


def test_nul_in_the_totals_api_is_a_json_400(client, world):
    client.force_login(world.coordinator)

    response = client.get("/api/totals?team=%00")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "NUL" in response.json()["error"]


def test_nul_in_a_form_value_is_refused_and_nothing_is_stored(client, world, visit):
    client.force_login(world.member_a)

    response = client.post(reverse("entry_new"), entry_post(visit, title="入户\x00宣讲"))

    assert response.status_code == 400
    assert NUL_MESSAGE_ZH in response.content.decode()
    assert not Entry.objects.exists()


def test_a_vertical_tab_typed_into_the_entry_form_is_not_stored(client, world):
    repair = ActivityFactory(code="repair", name="维修")
    client.force_login(world.member_a)

    response = client.post(reverse("entry_new"), entry_post(repair, title="入户\x0b宣讲",
                                                             notes="第一行\n第二行\x1b"))

    assert response.status_code == 302
    entry = Entry.objects.get()
    assert (entry.title, entry.notes) == ("入户宣讲", "第一行\n第二行")


def test_control_characters_in_a_filter_are_removed_before_the_filter_reads_it(client, world, visit):
    EntryFactory(team=world.team_a, activity=visit, title="饮水管道维修",
                 date=datetime.date(2017, 5, 1))
    client.force_login(world.member_a)

    response = client.get(reverse("notebook"), {"q": "饮水\x0b管道", "year": 2017})

    assert response.status_code == 200
    assert "饮水管道维修" in response.content.decode()


def test_stored_control_characters_do_not_break_the_notebook_export(client, world, visit):
    entry = EntryFactory(team=world.team_a, activity=visit, date=datetime.date(2017, 5, 1))
    Entry.objects.filter(pk=entry.pk).update(title="饮水\x0b管道", notes="\x0c=1+1")
    client.force_login(world.member_a)

    for export_format in ("csv", "xlsx"):
        response = client.get(reverse("notebook"), {"year": 2017, "_export": export_format, "format": "import"})
        assert response.status_code == 200, export_format

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1]))
    assert (row["title"], row["notes"]) == ("饮水管道", "'=1+1")


def test_stored_control_characters_do_not_break_the_household_export(client, world):
    household = HouseholdFactory(village=world.village_a, house_number="7")
    Household.objects.filter(pk=household.pk).update(head_name="\x1b[31m阿依古丽", notes="a\x0bb")
    client.force_login(world.member_a)

    csv_response = client.get(reverse("household_list"), {"_export": "csv", "format": "import"})
    response = client.get(reverse("household_list"), {"_export": "xlsx", "format": "import"})

    assert csv_response.status_code == 200
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert (rows[1][2], rows[1][6]) == ("[31m阿依古丽", "ab")


# Point 13: no caching of what a logged-in user sees; formulas neutralised in headers too.

@pytest.mark.parametrize("url", ["/", "/notebook/", "/households/", "/dashboard/?year=2017",
                                 "/notebook/?_export=csv", "/households/?_export=xlsx",
                                 "/no-such-page/"])
def test_logged_in_pages_and_exports_are_not_stored_by_browsers_or_proxies(client, world, url):
    client.force_login(world.leader_a)

    response = client.get(url, follow=False)

    assert "no-store" in response.get("Cache-Control", ""), url


def test_the_dashboard_export_neutralises_a_formula_in_an_indicator_label(client, world):
    visit = ActivityFactory(code="visit", uses_households=True)
    IndicatorFactory(code="trap", label_zh='=HYPERLINK("https://evil.example","点击")',
                     activities=[visit])
    EntryFactory(team=world.team_a, activity=visit, date=datetime.date(2017, 3, 4))
    client.force_login(world.coordinator)
    query = {"year": 2017, "org": world.org.slug}

    csv_rows = list(csv.reader(io.StringIO(
        client.get(reverse("dashboard"), {**query, "_export": "csv"}).content.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(
        client.get(reverse("dashboard"), {**query, "_export": "xlsx"}).content))

    assert csv_rows[0][1].startswith("'=HYPERLINK(")
    header = next(book.active.iter_rows(max_row=1))
    # a workbook keeps it as text: no apostrophe to show, nothing run
    assert header[1].value.startswith("=HYPERLINK(") and header[1].data_type == "s"
