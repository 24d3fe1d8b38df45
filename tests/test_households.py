"""Household pages: the list (visits, filters, exports), a household's visit history, and
the leader's form to add and edit households. Who may do what follows DESIGN §2 and §11."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from teams.models import Household, HouseholdTag
from tests.factories import (
    EntryFactory,
    HouseholdFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
    World,
)
from worklog.models import Entry
from worklog.services import entry_soft_delete

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
UYGHUR_NAME = "ئابدۇرېھىم"
KAZAKH_NAME = "Әбдірахман Нұрланұлы"


def this_year():
    return timezone.localdate().year


def jan_1(year):
    """A day of the given year that is never in the future."""
    return datetime.date(year, 1, 1)


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def household_a(world):
    return HouseholdFactory(village=world.village_a, house_number="7", head_name=UYGHUR_NAME)


@pytest.fixture
def household_b(world):
    return HouseholdFactory(village=world.village_b, house_number="7", head_name=KAZAKH_NAME)


def visit(world, *households, day, **kwargs):
    return EntryFactory(team=world.team_a, date=day, households=list(households), **kwargs)


def soft_delete(entry):
    entry_soft_delete(entry=entry, user=None)


def list_rows(response):
    """{household: (visits this year, last visit)} as the table shows them."""
    return {
        row.record: (row.record.visits_this_year, row.record.last_visit)
        for row in response.context["table"].paginated_rows
    }


def login_url_for(path):
    return f"{reverse('login')}?next={path}"


# --- /households/ -----------------------------------------------------------------------


def test_member_sees_the_households_of_the_team_village(world, household_a, household_b):
    response = client_for(world.member_a).get(reverse("household_list"))

    assert response.status_code == 200
    assert list_rows(response).keys() == {household_a}
    content = response.content.decode()
    assert UYGHUR_NAME in content
    assert KAZAKH_NAME not in content
    assert world.village_a.name in content
    assert reverse("household_detail", args=[household_a.pk]) in content
    assert reverse("household_new") not in content  # members do not add households


def test_leader_gets_the_new_household_button(world, household_a):
    response = client_for(world.leader_a).get(reverse("household_list"))

    assert reverse("household_new") in response.content.decode()


def test_coordinator_sees_both_villages_and_can_filter_by_village(world, household_a, household_b):
    client = client_for(world.coordinator)

    everything = client.get(reverse("household_list"))
    only_b = client.get(reverse("household_list"), {"village": world.village_b.slug})

    assert list_rows(everything).keys() == {household_a, household_b}
    assert 'name="village"' in everything.content.decode()
    assert list_rows(only_b).keys() == {household_b}
    assert reverse("household_new") not in everything.content.decode()


def table_rows(response):
    """Each body row's cells as text, tags stripped, after the header's texts."""
    table = re.search(r"<table.*?</table>", response.content.decode(), re.S).group(0)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def test_a_list_of_several_villages_names_each_household_s_village(world, household_a, household_b):
    header, *rows = table_rows(client_for(world.coordinator).get(reverse("household_list")))

    assert header[:3] == ["村", "门牌号", "户主"]
    assert sorted(row[:3] for row in rows) == sorted([
        [world.village_a.name, "7", UYGHUR_NAME], [world.village_b.name, "7", KAZAKH_NAME],
    ])


def test_a_list_of_one_village_has_no_village_column(world, household_a):
    header, row = table_rows(client_for(world.member_a).get(reverse("household_list")))

    assert header[:2] == ["门牌号", "户主"] and row[:2] == ["7", UYGHUR_NAME]


def test_a_leader_without_households_is_offered_to_add_or_import_them(world):
    content = client_for(world.leader_a).get(reverse("household_list")).content.decode()

    assert "还没有农户：可逐户新增，也可从表格导入。" in content
    assert f'href="{reverse("household_new")}">新增农户</a>' in content
    assert f'href="{reverse("import_households")}">导入农户</a>' in content


def test_a_member_without_households_is_told_who_adds_them(world):
    client = client_for(world.member_a)
    client.post(reverse("set_language"), {"language": "en"})

    content = client.get(reverse("household_list")).content.decode()

    assert "No households yet: the team leader adds or imports them." in content
    assert reverse("import_households") not in content


def test_filters_that_match_no_household_offer_to_clear_them(world, household_a):
    client = client_for(world.leader_a)
    client.post(reverse("set_language"), {"language": "en"})

    content = client.get(reverse("household_list"), {"q": "no such name"}).content.decode()

    assert "No households match these filters." in content
    assert f'href="{reverse("household_list")}">Clear the filters</a>' in content
    assert "import them from a spreadsheet" not in content


@pytest.mark.parametrize("name", ["member_b", "outsider_coordinator"])
def test_outsiders_do_not_see_the_village_households(world, household_a, name):
    response = client_for(getattr(world, name)).get(reverse("household_list"))

    assert response.status_code == 200
    assert household_a not in list_rows(response)
    assert UYGHUR_NAME not in response.content.decode()


def test_list_asks_anonymous_to_log_in(world):
    response = Client().get(reverse("household_list"))

    assert response.status_code == 302
    assert response.url == login_url_for(reverse("household_list"))


def test_list_refuses_post(world):
    assert client_for(world.member_a).post(reverse("household_list")).status_code == 405


def test_visits_this_year_and_last_visit_equal_a_recount(world, household_a):
    year = this_year()
    twice = HouseholdFactory(village=world.village_a, house_number="1")
    last_year_only = HouseholdFactory(village=world.village_a, house_number="2")
    never = HouseholdFactory(village=world.village_a, house_number="3")
    visit(world, twice, household_a, day=jan_1(year))
    visit(world, twice, day=jan_1(year))
    soft_delete(visit(world, twice, household_a, day=jan_1(year)))
    visit(world, twice, last_year_only, day=datetime.date(year - 1, 12, 31))
    soft_delete(visit(world, last_year_only, day=jan_1(year)))  # newer but deleted

    rows = list_rows(client_for(world.member_a).get(reverse("household_list")))

    assert rows[twice] == (2, jan_1(year))
    assert rows[household_a] == (1, jan_1(year))
    assert rows[last_year_only] == (0, datetime.date(year - 1, 12, 31))
    assert rows[never] == (0, None)
    for household, shown in rows.items():
        live = Entry.objects.live().filter(households=household)
        recount = (
            live.filter(date__year=year).count(),
            live.aggregate(last=Max("date"))["last"],
        )
        assert shown == recount


def test_filters_by_text_tag_and_visits(world):
    poor = HouseholdTag.objects.create(name="建档立卡", name_en="poverty-registered")
    first = HouseholdFactory(village=world.village_a, house_number="12", head_name="王芳")
    second = HouseholdFactory(village=world.village_a, house_number="30", head_name=KAZAKH_NAME)
    second.tags.add(poor)
    visit(world, first, day=jan_1(this_year()))
    visit(world, second, day=jan_1(this_year() - 1))
    client = client_for(world.member_a)

    def shown(**query):
        return set(list_rows(client.get(reverse("household_list"), query)))

    assert shown(q="12") == {first}
    assert shown(q="王") == {first}
    assert shown(q="Нұрлан") == {second}
    assert shown(tag=poor.pk) == {second}
    assert shown(visited="yes") == {first}
    assert shown(visited="no") == {second}
    assert shown(visited="no", tag=poor.pk, q="30") == {second}


def test_list_is_paginated_by_50_and_sorts_house_numbers_naturally(world):
    for number in range(1, 56):
        HouseholdFactory(village=world.village_a, house_number=str(number))
    client = client_for(world.member_a)

    first_page = client.get(reverse("household_list"))
    second_page = client.get(reverse("household_list"), {"page": 2})

    numbers = [row.record.house_number for row in first_page.context["table"].paginated_rows]
    assert numbers == [str(number) for number in range(1, 51)]
    assert len(second_page.context["table"].paginated_rows) == 5


def test_list_sorts_by_visits(world):
    quiet = HouseholdFactory(village=world.village_a, house_number="1")
    busy = HouseholdFactory(village=world.village_a, house_number="2")
    visit(world, busy, day=jan_1(this_year()))

    response = client_for(world.member_a).get(reverse("household_list"), {"sort": "-visits_this_year"})

    assert [row.record for row in response.context["table"].paginated_rows] == [busy, quiet]


def add_households(world, count, start, tag):
    for number in range(start, start + count):
        household = HouseholdFactory(village=world.village_a, house_number=str(number))
        household.tags.add(tag)
        visit(world, household, day=jan_1(this_year()))


def queries_of(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_households(world):
    tag = HouseholdTag.objects.create(name="低保户")
    client = client_for(world.member_a)
    add_households(world, 5, 1, tag)
    with_5 = queries_of(client, reverse("household_list"))

    add_households(world, 45, 6, tag)
    with_50 = queries_of(client, reverse("household_list"))

    assert with_50 == with_5


def test_names_in_uyghur_and_kazakh_display_and_html_is_escaped(world, household_a):
    HouseholdFactory(village=world.village_a, house_number="8", head_name=KAZAKH_NAME)
    HouseholdFactory(village=world.village_a, house_number="9", head_name="<b>bold</b>")

    content = client_for(world.member_a).get(reverse("household_list")).content.decode()

    assert UYGHUR_NAME in content
    assert KAZAKH_NAME in content
    assert "&lt;b&gt;bold&lt;/b&gt;" in content
    assert "<b>bold</b>" not in content


@pytest.fixture
def exportable(world):
    tag_1 = HouseholdTag.objects.create(name="建档立卡")
    tag_2 = HouseholdTag.objects.create(name="低保户")
    household = HouseholdFactory(
        village=world.village_a, house_number="3", head_name=UYGHUR_NAME, size=5,
        phone="13800000000", notes="=cmd|' /C calc'!A0",
    )
    household.tags.add(tag_1, tag_2)
    HouseholdFactory(village=world.village_a, house_number="4", head_name="@SUM(A1)", size=2)
    HouseholdFactory(village=world.village_b, house_number="5", head_name=KAZAKH_NAME)
    return household


EXPECTED_ROWS = [
    ["village", "house_number", "head_name", "size", "phone", "tags", "notes"],
    ["village-a", "3", UYGHUR_NAME, "5", "13800000000", "低保户;建档立卡", "'=cmd|' /C calc'!A0"],
    ["village-a", "4", "'@SUM(A1)", "2", "", "", ""],
]


def test_csv_export_has_the_import_columns_and_neutralises_formulas(world, exportable):
    response = client_for(world.member_a).get(reverse("household_list"), {"_export": "csv", "format": "import"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == EXPECTED_ROWS  # village_b's household is not the member's to see


def test_xlsx_export_has_the_import_columns_and_neutralises_formulas(world, exportable):
    response = client_for(world.member_a).get(reverse("household_list"), {"_export": "xlsx", "format": "import"})

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [
        ["" if value is None else str(value) for value in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    assert rows == EXPECTED_ROWS
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_export_follows_the_filters(world, exportable):
    response = client_for(world.coordinator).get(
        reverse("household_list"), {"_export": "csv", "format": "import", "village": "village-b"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[:3] for row in rows[1:]] == [["village-b", "5", KAZAKH_NAME]]


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_export_reads_back_through_the_import_unchanged(world, exportable, tmp_path, export_format):
    response = client_for(world.leader_a).get(reverse("household_list"), {"_export": export_format, "format": "import"})
    exported = tmp_path / f"households.{export_format}"
    exported.write_bytes(response.content)
    before = list(Household.objects.order_by("pk").values())
    tags_before = sorted(exportable.tags.values_list("name", flat=True))
    Household.objects.filter(pk=exportable.pk).update(head_name="改过的名字", notes="")

    call_command("import_households", str(exported), stdout=io.StringIO())

    assert list(Household.objects.order_by("pk").values()) == before
    assert sorted(exportable.tags.values_list("name", flat=True)) == tags_before


# --- /households/<pk>/ ------------------------------------------------------------------


def test_detail_shows_the_household(world, household_a):
    tag = HouseholdTag.objects.create(name="建档立卡")
    household_a.tags.add(tag)
    Household.objects.filter(pk=household_a.pk).update(
        phone="13900000000", size=6, notes="<script>alert(1)</script>\nneeds a new roof"
    )

    response = client_for(world.member_a).get(reverse("household_detail", args=[household_a.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    for shown in (UYGHUR_NAME, "13900000000", "建档立卡", world.village_a.name, "needs a new roof"):
        assert shown in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content
    assert reverse("household_edit", args=[household_a.pk]) not in content


def test_detail_shows_kazakh_names(world, household_b):
    response = client_for(world.member_b).get(reverse("household_detail", args=[household_b.pk]))

    assert KAZAKH_NAME in response.content.decode()


def test_leader_and_coordinator_see_the_detail_only_the_leader_may_edit(world, household_a):
    url = reverse("household_detail", args=[household_a.pk])
    edit_url = reverse("household_edit", args=[household_a.pk])

    as_leader = client_for(world.leader_a).get(url)
    as_coordinator = client_for(world.coordinator).get(url)

    assert edit_url in as_leader.content.decode()
    assert as_coordinator.status_code == 200
    assert edit_url not in as_coordinator.content.decode()


@pytest.mark.parametrize("name", ["member_b", "outsider_coordinator"])
def test_detail_is_404_for_outsiders(world, household_a, name):
    response = client_for(getattr(world, name)).get(reverse("household_detail", args=[household_a.pk]))

    assert response.status_code == 404


def test_detail_asks_anonymous_to_log_in(world, household_a):
    url = reverse("household_detail", args=[household_a.pk])

    response = Client().get(url)

    assert response.status_code == 302
    assert response.url == login_url_for(url)


def test_detail_refuses_post(world, household_a):
    url = reverse("household_detail", args=[household_a.pk])

    assert client_for(world.member_a).post(url).status_code == 405


def test_timeline_lists_the_live_entries_that_linked_the_household_newest_first(world, household_a):
    other = HouseholdFactory(village=world.village_a, house_number="8")
    older = visit(world, household_a, day=datetime.date(2018, 3, 1), title="送温暖慰问")
    newer = visit(world, household_a, other, day=datetime.date(2018, 5, 1), title="宣讲惠民政策",
                  author=world.member_a)
    visit(world, other, day=datetime.date(2018, 4, 1), title="别家的走访")
    soft_delete(visit(world, household_a, day=datetime.date(2018, 6, 1), title="已删除的走访"))

    response = client_for(world.member_a).get(reverse("household_detail", args=[household_a.pk]))

    assert list(response.context["timeline"]) == [newer, older]
    content = response.content.decode()
    assert content.index("宣讲惠民政策") < content.index("送温暖慰问")
    assert "别家的走访" not in content
    assert "已删除的走访" not in content
    assert reverse("entry_detail", args=[newer.pk]) in content
    assert world.team_a.name in content
    assert "member_a" in content
    assert newer.activity.name in content


def test_timeline_links_only_the_entries_the_user_may_open(world, household_a):
    earlier_team = TeamFactory(
        organisation=world.other_org, village=world.village_a,
        starts_on=datetime.date(2015, 1, 1), ends_on=datetime.date(2016, 12, 31),
    )
    theirs = EntryFactory(team=earlier_team, date=datetime.date(2016, 5, 1), title="上一批的走访",
                          households=[household_a])

    response = client_for(world.member_a).get(reverse("household_detail", args=[household_a.pk]))

    content = response.content.decode()
    assert "上一批的走访" in content  # the household's history stays whole
    assert reverse("entry_detail", args=[theirs.pk]) not in content


def add_visits(world, household, count):
    for _ in range(count):
        visit(world, household, day=jan_1(this_year()), author=world.member_a)


def test_detail_query_count_does_not_grow_with_entries(world, household_a):
    household_a.tags.add(HouseholdTag.objects.create(name="建档立卡"))
    client = client_for(world.member_a)
    url = reverse("household_detail", args=[household_a.pk])
    add_visits(world, household_a, 5)
    with_5 = queries_of(client, url)

    add_visits(world, household_a, 45)
    with_50 = queries_of(client, url)

    assert with_50 == with_5


# --- /households/new/ -------------------------------------------------------------------


def new_household(**overrides):
    return {"house_number": "101", "head_name": UYGHUR_NAME, "size": "3", "phone": "",
            "notes": "", **overrides}


def test_leader_adds_a_household_to_the_team_village(world):
    tag = HouseholdTag.objects.create(name="建档立卡")
    client = client_for(world.leader_a)

    form_page = client.get(reverse("household_new"))
    response = client.post(
        reverse("household_new"),
        # a village in the form data is ignored: the leader's village is fixed
        new_household(tags=[tag.pk], village=world.village_b.pk, notes="needs work"),
        **ENGLISH,
    )

    assert form_page.status_code == 200
    assert 'name="village"' not in form_page.content.decode()
    household = Household.objects.get(head_name=UYGHUR_NAME)
    assert response.status_code == 302
    assert response.url == reverse("household_detail", args=[household.pk])
    assert household.village == world.village_a
    assert (household.house_number, household.size, household.notes) == ("101", 3, "needs work")
    assert list(household.tags.all()) == [tag]
    assert {record.history_user for record in household.history.all()} == {world.leader_a}
    detail = client.get(response.url, **ENGLISH)
    assert "Saved." in detail.content.decode()


def test_duplicate_house_number_is_refused_with_a_message(world, household_a):
    client = client_for(world.leader_a)

    response = client.post(reverse("household_new"), new_household(house_number="7"), **ENGLISH)

    assert response.status_code == 422
    assert "This village already has a household with this number." in response.content.decode()
    assert Household.objects.filter(village=world.village_a).count() == 1


def test_the_same_house_number_in_another_village_is_fine(world, household_b):
    response = client_for(world.leader_a).post(reverse("household_new"), new_household(house_number="7"))

    assert response.status_code == 302
    assert Household.objects.filter(house_number="7").count() == 2


def test_invalid_size_is_refused(world):
    response = client_for(world.leader_a).post(reverse("household_new"), new_household(size="-1"))

    assert response.status_code == 422
    assert not Household.objects.exists()


def test_leader_of_two_villages_chooses_one_of_them(world):
    second = TeamFactory(organisation=world.org)
    MembershipFactory(user=world.leader_a, team=second, role="leader")
    client = client_for(world.leader_a)

    form_page = client.get(reverse("household_new"))
    not_led = client.post(reverse("household_new"), new_household(village=world.village_b.pk))
    chosen = client.post(reverse("household_new"), new_household(village=second.village.pk))

    assert 'name="village"' in form_page.content.decode()
    assert not_led.status_code == 422
    assert chosen.status_code == 302
    assert Household.objects.get().village == second.village


@pytest.mark.parametrize("name", ["member_a", "member_b", "coordinator", "outsider_coordinator"])
def test_only_leaders_add_households(world, name):
    client = client_for(getattr(world, name))

    assert client.get(reverse("household_new")).status_code == 403
    assert client.post(reverse("household_new"), new_household()).status_code == 403
    assert not Household.objects.exists()


def test_new_asks_anonymous_to_log_in(world):
    response = Client().post(reverse("household_new"), new_household())

    assert response.status_code == 302
    assert response.url == login_url_for(reverse("household_new"))
    assert not Household.objects.exists()


def test_new_refuses_put(world):
    assert client_for(world.leader_a).put(reverse("household_new")).status_code == 405


# --- /households/<pk>/edit/ -------------------------------------------------------------


def test_leader_edits_a_household(world, household_a):
    tag = HouseholdTag.objects.create(name="建档立卡")
    client = client_for(world.leader_a)
    url = reverse("household_edit", args=[household_a.pk])

    form_page = client.get(url)
    response = client.post(url, new_household(
        house_number="7A", head_name=KAZAKH_NAME, size="2", phone="13700000000", tags=[tag.pk],
    ))

    assert form_page.status_code == 200
    assert UYGHUR_NAME in form_page.content.decode()
    assert response.status_code == 302
    assert response.url == reverse("household_detail", args=[household_a.pk])
    household_a.refresh_from_db()
    assert (household_a.house_number, household_a.head_name, household_a.size, household_a.phone) == (
        "7A", KAZAKH_NAME, 2, "13700000000"
    )
    assert household_a.village == world.village_a
    assert list(household_a.tags.all()) == [tag]
    assert household_a.history.first().history_user == world.leader_a  # the audit trail


def test_editing_to_a_taken_house_number_is_refused(world, household_a):
    HouseholdFactory(village=world.village_a, house_number="8")
    url = reverse("household_edit", args=[household_a.pk])

    response = client_for(world.leader_a).post(url, new_household(house_number="8"), **ENGLISH)

    assert response.status_code == 422
    assert "This village already has a household with this number." in response.content.decode()
    household_a.refresh_from_db()
    assert household_a.house_number == "7"


def test_keeping_the_own_house_number_is_fine(world, household_a):
    url = reverse("household_edit", args=[household_a.pk])

    response = client_for(world.leader_a).post(url, new_household(house_number="7", size="9"))

    assert response.status_code == 302
    household_a.refresh_from_db()
    assert household_a.size == 9


@pytest.mark.parametrize("name, status", [
    ("member_a", 403),
    ("coordinator", 403),
    ("member_b", 404),
    ("outsider_coordinator", 404),
])
def test_only_the_village_leader_edits(world, household_a, name, status):
    client = client_for(getattr(world, name))
    url = reverse("household_edit", args=[household_a.pk])

    assert client.get(url).status_code == status
    assert client.post(url, new_household(house_number="99")).status_code == status
    household_a.refresh_from_db()
    assert household_a.house_number == "7"


def test_a_former_leader_no_longer_edits(world, household_a):
    former = UserFactory(username="former_leader")
    MembershipFactory(user=former, team=world.team_a, role="leader",
                      left_on=datetime.date(2017, 12, 31))

    response = client_for(former).get(reverse("household_edit", args=[household_a.pk]))

    assert response.status_code == 404


def test_edit_asks_anonymous_to_log_in(world, household_a):
    url = reverse("household_edit", args=[household_a.pk])

    response = Client().get(url)

    assert response.status_code == 302
    assert response.url == login_url_for(url)


def test_edit_refuses_delete(world, household_a):
    url = reverse("household_edit", args=[household_a.pk])

    assert client_for(world.leader_a).delete(url).status_code == 405


# --- on a phone -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_household_pages_fit_a_phone_screen(page, live_server):
    world = World.build()
    tag = HouseholdTag.objects.create(name="建档立卡贫困户", name_en="poverty-registered")
    for number in range(1, 61):
        household = HouseholdFactory(
            village=world.village_a, house_number=f"{number}-{number}",
            head_name=f"{UYGHUR_NAME} {KAZAKH_NAME}", phone="+86 13800000000",
            notes="很长的备注" * 40,
        )
        household.tags.add(tag)
        visit(world, household, day=jan_1(this_year()), title="入户宣讲惠民政策" * 5)
    # a name with nowhere to break a line must not push the page wider either
    Household.objects.filter(house_number="1-1").update(head_name="Ә" * 60)
    first = Household.objects.get(house_number="1-1")
    client = client_for(world.leader_a)
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])

    for path in (reverse("household_list"), reverse("household_detail", args=[first.pk]),
                 reverse("household_edit", args=[first.pk])):
        page.goto(live_server.url + path)
        assert page.locator("h1").is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        if path == reverse("household_list"):
            # nor does the table need to scroll inside its box
            box = page.locator(".table-responsive")
            assert box.evaluate("box => box.scrollWidth - box.clientWidth") <= 0


def test_household_history_is_shown_to_leader_and_coordinator_only(client, world):
    household = HouseholdFactory(village=world.village_a, head_name="旧名")
    household.head_name = "新名"
    household._history_user = world.leader_a
    household.save()

    for user in (world.leader_a, world.coordinator):
        client.force_login(user)
        revisions = client.get(reverse("household_detail", args=[household.pk])).context["revisions"]
        assert revisions[0].who == world.leader_a
        assert [(c.old, c.new) for c in revisions[0].changes] == [("旧名", "新名")]
    client.force_login(world.member_a)
    assert client.get(reverse("household_detail", args=[household.pk])).context["revisions"] is None
