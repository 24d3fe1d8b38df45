"""Starting from the household (issue 13, point 4): the work list of households not
visited this month, quarter or year; house numbers in numeric order; "log a visit" on the
household's page, for those who write for its village's team; the form it opens."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from teams.models import Household
from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
)
from worklog.models import Activity, Entry

pytestmark = pytest.mark.django_db

LIST = reverse("household_list")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def month_start(today):
    return today.replace(day=1)


def quarter_start(today):
    return datetime.date(today.year, today.month - (today.month - 1) % 3, 1)


def year_start(today):
    return datetime.date(today.year, 1, 1)


def listed(response):
    assert response.status_code == 200
    return [row.record for row in response.context["table"].paginated_rows]


# A day in the middle of a quarter's second month: its month, quarter and year all start
# on different days (on a 1 January they would be one day).
MID_QUARTER = datetime.date(2025, 8, 20)


@pytest.fixture(params=[MID_QUARTER, None], ids=["mid-quarter", "today"])
def today(request, monkeypatch):
    """The day the work list counts from: the middle of a quarter, and the real today."""
    if request.param is None:
        return timezone.localdate()
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return request.param if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return request.param


@pytest.fixture
def home_visit():
    return ActivityFactory(code="policy_visit", name="入户宣讲惠民政策", name_en="Policy visit",
                           category=Activity.Category.VISIT, uses_households=True, order=20)


# --- the work list ----------------------------------------------------------------------


@pytest.mark.parametrize("value, start", [
    ("no-month", month_start), ("no-quarter", quarter_start), ("no", year_start),
])
def test_work_list_keeps_the_households_with_no_live_visit_in_the_period(
    world, home_visit, today, value, start
):
    first_day = start(today)
    inside = HouseholdFactory(village=world.village_a, house_number="1")
    outside = HouseholdFactory(village=world.village_a, house_number="2")
    deleted_only = HouseholdFactory(village=world.village_a, house_number="3")
    never = HouseholdFactory(village=world.village_a, house_number="4")
    EntryFactory(team=world.team_a, activity=home_visit, date=first_day, households=[inside])
    EntryFactory(team=world.team_a, activity=home_visit, date=first_day - datetime.timedelta(days=1),
                 households=[outside])
    EntryFactory(team=world.team_a, activity=home_visit, date=first_day, households=[deleted_only],
                 deleted_at=True)

    shown = listed(client_for(world.member_a).get(LIST, {"visited": value}))

    assert shown == [outside, deleted_only, never]
    # the same as a recount from the entries: no live entry linked and dated in the period
    visited = Entry.objects.live().filter(date__gte=first_day, date__lte=today).values("households")
    assert set(shown) == set(Household.objects.filter(village=world.village_a).exclude(pk__in=visited))


def test_visited_this_year_lists_the_others(world, home_visit, today):
    visited = HouseholdFactory(village=world.village_a, house_number="1")
    last_year = HouseholdFactory(village=world.village_a, house_number="2")
    EntryFactory(team=world.team_a, activity=home_visit, date=year_start(today), households=[visited])
    EntryFactory(team=world.team_a, activity=home_visit, date=year_start(today) - datetime.timedelta(days=1),
                 households=[last_year])

    assert listed(client_for(world.member_a).get(LIST, {"visited": "yes"})) == [visited]


def test_work_list_is_offered_in_chinese_and_refuses_an_unknown_period(world):
    client = client_for(world.member_a)

    page = client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    unknown = client.get(LIST, {"visited": "no-week"})

    for option in ("本月未走访", "本季度未走访", "今年未走访"):
        assert option in page
    assert listed(unknown) == []
    assert "visited" in unknown.context["filterset"].errors


# --- numeric order ----------------------------------------------------------------------

NUMBERS_IN_ORDER = ["1", "2", "3", "10", "12", "100", "112"]


def test_household_list_is_in_numeric_order_and_sorts_both_ways(world):
    for number in reversed(NUMBERS_IN_ORDER):
        HouseholdFactory(village=world.village_a, house_number=number)
    client = client_for(world.member_a)

    def numbers(**query):
        return [household.house_number for household in listed(client.get(LIST, query))]

    assert numbers() == NUMBERS_IN_ORDER
    assert numbers(sort="house_number") == NUMBERS_IN_ORDER
    assert numbers(sort="-house_number") == NUMBERS_IN_ORDER[::-1]


def test_coordinator_list_is_by_village_then_number(world):
    for village in (world.village_b, world.village_a):
        for number in ("10", "9"):
            HouseholdFactory(village=village, house_number=number)
    first, second = sorted([world.village_a, world.village_b], key=lambda village: village.name)

    shown = listed(client_for(world.coordinator).get(LIST))

    assert [(h.village, h.house_number) for h in shown] == [
        (first, "9"), (first, "10"), (second, "9"), (second, "10"),
    ]


# --- "log a visit" on the household's page ---------------------------------------------


@pytest.fixture
def activities(home_visit):
    """The visit, two more activities that take households, and two that do not show."""
    return {
        "visit": home_visit,
        "condolence": ActivityFactory(code="condolence_visit", name="慰问群众家庭",
                                      category=Activity.Category.VISIT, uses_households=True, order=10),
        "deed": ActivityFactory(code="deed", name="为群众办实事好事", uses_households=True, order=30),
        "training": ActivityFactory(code="training", name="党员培训", uses_participants=True, order=40),
        "retired": ActivityFactory(code="retired", name="停用的活动", uses_households=True,
                                   is_active=False, order=50),
    }


def log_links(response):
    """{activity code: link} of the page's "log" buttons, the leading one under "visit"."""
    assert response.status_code == 200
    context = response.context
    links = {activity.code: url for activity, url in context["log_other"]}
    if context["log_visit"]:
        links["visit"] = context["log_visit"][1]
    return links


def form_link(code, household):
    return f"{reverse('entry_new')}?activity={code}&amp;household={household.pk}"


@pytest.mark.parametrize("name", ["member_a", "leader_a"])
def test_team_members_get_log_buttons_for_the_activities_that_take_households(world, activities, name):
    household = HouseholdFactory(village=world.village_a)
    # the team logs policy visits most: they lead, though the condolence visit comes first
    EntryFactory(team=world.team_a, activity=activities["visit"], households=[household])

    response = client_for(getattr(world, name)).get(
        reverse("household_detail", args=[household.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    links = log_links(response)
    assert set(links) == {"visit", "condolence_visit", "deed"}
    assert "policy_visit" in links["visit"]
    content = response.content.decode()
    assert "记录走访" in content
    for code in ("policy_visit", "condolence_visit", "deed"):
        assert form_link(code, household) in content
    assert "activity=training" not in content and "activity=retired" not in content


def test_a_team_that_logged_no_visit_yet_leads_with_the_first_visit_activity(world, activities):
    household = HouseholdFactory(village=world.village_a)

    links = log_links(client_for(world.member_a).get(reverse("household_detail", args=[household.pk])))

    assert "condolence_visit" in links["visit"] and "policy_visit" in links


@pytest.mark.parametrize("name", ["coordinator", "superuser"])
def test_those_who_see_the_household_but_write_for_no_team_of_its_village_get_no_buttons(
    world, activities, name
):
    household = HouseholdFactory(village=world.village_a)
    if name == "superuser":
        user = UserFactory(username="admin", is_superuser=True, is_staff=True)
    else:
        user = world.coordinator
    MembershipFactory(user=user, team=world.team_b)  # writes for another village's team

    response = client_for(user).get(reverse("household_detail", args=[household.pk]))

    assert log_links(response) == {}
    assert f'href="{reverse("entry_new")}?' not in response.content.decode()  # no log button


# --- the form it opens ------------------------------------------------------------------


def chosen_households(response):
    assert response.status_code == 200
    return response.context["form"]["households"].value()


def test_the_form_opens_with_the_household_and_the_activity_chosen(world, home_visit):
    household = HouseholdFactory(village=world.village_a, house_number="7", head_name="阿依古丽")

    response = client_for(world.member_a).get(
        reverse("entry_new"), {"activity": home_visit.code, "household": household.pk}
    )

    assert chosen_households(response) == [household.pk]
    assert response.context["form"]["activity"].value() == home_visit.pk
    assert f'<option value="{household.pk}" selected>7 · 阿依古丽</option>' in response.content.decode()


@pytest.mark.parametrize("given", ["other_village", "abc", "٣", "99999999999999999999", ""])
def test_a_household_the_user_may_not_log_is_ignored(world, home_visit, given):
    other = HouseholdFactory(village=world.village_b)
    value = str(other.pk) if given == "other_village" else given

    response = client_for(world.member_a).get(reverse("entry_new"), {"household": value})

    assert chosen_households(response) in (None, [])
    assert 'selected>' not in response.content.decode().split('id="id_households"')[1].split("</select>")[0]


def test_a_member_of_two_teams_gets_the_household_s_team_chosen(world, home_visit):
    second = TeamFactory(organisation=world.org)
    MembershipFactory(user=world.member_a, team=second)
    household = HouseholdFactory(village=second.village)

    response = client_for(world.member_a).get(reverse("entry_new"), {"household": household.pk})

    assert chosen_households(response) == [household.pk]
    assert response.context["form"]["team"].value() == second.pk
