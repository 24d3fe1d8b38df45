"""`manage.py seed`: the demo adds up to the 2017 table of DESIGN §5, a rerun changes
nothing, the demo accounts of DESIGN §6 can log in, and demo people are synthetic."""

import random
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from teams.models import CoordinatorScope, Household, Membership, Village
from worklog import tallies
from worklog.models import Entry
from worklog.demo.notebook import exact_partition
from worklog.demo.targets import SeedError
from worklog.totals import resolve_scope, totals_document

PASSWORD = "demo-Pass-2017!"
MD5_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
TEAMS = ["kaiganqi", "shayibake", "lucaogou", "dawanzi"]

# DESIGN §5, in indicator order; the two "…余" figures are ranges.
EXPECTED_2017 = {
    "funds_invested": "19350000.00",
    "benefit_projects": 25,
    "cooperatives": 13,
    "courtyard_households": 72,
    "deeds": range(460, 470),
    "condolence_visits": 2322,
    "committee_trainees": 1028,
    "member_trainees": 6316,
    "education_sessions": 1095,
    "education_participants": 82376,
    "activists": 206,
    "new_members": 40,
    "jobs": range(1800, 1900),
    "policy_visits": 12028,
    "policy_beneficiaries": 40395,
    "skills_sessions": 130,
    "skills_trainees": 7102,
}

# Everyone the source report names: reporter, editor, officials and villagers.
ARTICLE_PEOPLE = [
    "姜小薇", "梁劲松", "古丽努尔·加开", "白克力·赛买提", "木合亚提·比散拜克", "马维林",
    "胡马尔汗·苏徕曼", "马合赞·俄拉孜哈孜", "张志方", "加乘",
]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction that is rolled back at its end, so
    other modules start from an empty database. Each test runs in a savepoint within it.

    Hashes with the tests' fast hasher (conftest sets it for each test), or the accounts
    could not log in inside the tests.
    """
    fast_hashing = override_settings(PASSWORD_HASHERS=[MD5_HASHER])
    with fast_hashing, django_db_blocker.unblock(), transaction.atomic():
        output = StringIO()
        call_command("seed", "--demo-password", PASSWORD, stdout=output)
        # Fire PostgreSQL's deferred foreign-key checks now, in the outer transaction;
        # otherwise every test's teardown re-checks all seeded rows (about a second each).
        connection.check_constraints()
        yield output.getvalue()
        transaction.set_rollback(True)


def year_2017():
    document = totals_document(resolve_scope("org", "8th-division"), 2017)
    return {row["code"]: row["value"] for row in document["indicators"]}


def row_counts():
    models = apps.get_models(include_auto_created=True)
    return {model._meta.label: model.objects.count() for model in models}


def assert_is_design_table(values):
    assert list(values) == list(EXPECTED_2017)
    for code, expected in EXPECTED_2017.items():
        if isinstance(expected, range):
            assert values[code] in expected, code
        else:
            assert values[code] == expected, code


@pytest.mark.django_db
def test_2017_totals_are_the_design_table(demo):
    assert_is_design_table(year_2017())
    assert tallies.differences() == []


@pytest.mark.django_db
def test_seeding_again_changes_no_row(demo):
    before = row_counts()
    output = StringIO()
    call_command("seed", "--demo-password", PASSWORD, stdout=output)
    assert row_counts() == before
    assert "0 entries" in output.getvalue()


@pytest.mark.django_db
def test_the_summary_never_shows_the_password(demo):
    assert "entries" in demo
    assert PASSWORD not in demo


@pytest.mark.django_db
def test_each_village_has_at_least_100_households_numbered_from_1(demo):
    for slug in TEAMS:
        village = Village.objects.get(slug=slug)
        numbers = sorted(village.households.values_list("house_number", flat=True), key=int)
        assert len(numbers) >= 100
        assert numbers == [str(n) for n in range(1, len(numbers) + 1)]
        assert village.teams.filter(slug=slug).exists()


@pytest.mark.django_db
def test_demo_accounts_can_log_in(demo):
    backend = ModelBackend()
    roles = ("leader", "member")
    team_accounts = [(f"{role}-{team}", team, role) for team in TEAMS for role in roles]
    for username in ["admin", "coordinator", "coordinator-manas"] + [username for username, _, _ in team_accounts]:
        assert backend.authenticate(None, username=username, password=PASSWORD), username
    assert backend.authenticate(None, username="admin", password=PASSWORD).is_superuser
    assert CoordinatorScope.objects.filter(
        user__username="coordinator", organisation__slug="8th-division"
    ).exists()
    for username, team, role in team_accounts:
        assert Membership.objects.get(user__username=username, team__slug=team).role == role


@pytest.mark.django_db
def test_demo_area_coordinator_sees_manas_county_and_not_the_other_villages(demo, client):
    client.force_login(get_user_model().objects.get(username="coordinator-manas"))
    page = client.get("/dashboard/").content.decode()
    assert "玛纳斯县" in page
    assert "芦草沟村" in page and "大湾子村" in page
    assert "开干齐队" not in page
    assert client.get("/dashboard/?village=kaiganqi&year=2017").status_code == 403


@pytest.mark.django_db
def test_no_head_of_household_bears_a_name_from_the_article(demo):
    parts = {part for name in ARTICLE_PEOPLE for part in name_parts(name)}
    head_names = list(Household.objects.values_list("head_name", flat=True))
    assert len(set(head_names)) > 100
    assert [name for name in head_names if any(part in name for part in parts)] == []


def name_parts(name):
    """The whole name, each part of a "given·father" name, and a Han name's given name."""
    if "·" in name:
        return [name, *name.split("·")]
    return [name, name[1:]] if len(name) == 3 else [name]


@pytest.mark.django_db
def test_2017_entries_cover_every_month_of_every_team(demo):
    for team in TEAMS:
        days = Entry.objects.filter(team__slug=team, date__year=2017).values_list("date", flat=True)
        months = {day.month for day in days}
        assert months == set(range(1, 13)), team


@pytest.mark.django_db
def test_entries_are_plausible(demo):
    links = Entry.households.through.objects
    assert not links.exclude(household__village=F("entry__village")).exists()
    visits = Entry.objects.filter(activity__code="policy_visit")
    visits = visits.annotate(linked=Count("households"))
    assert not visits.filter(participants__lt=F("linked")).exists()
    assert not Entry.objects.exclude(village=F("team__village")).exists()
    assert Entry.objects.filter(
        team__slug="lucaogou", activity__code="repair", title__contains="饮水管道"
    ).exists()


@pytest.mark.django_db
def test_scale_adds_exactly_n_entries_outside_2017(demo):
    before = Entry.objects.count()
    call_command("seed", "--scale", "500", stdout=StringIO())
    call_command("seed", "--scale", "500", stdout=StringIO())
    added = Entry.objects.exclude(pk__in=Entry.objects.filter(date__year=2017))
    assert Entry.objects.count() - before == 500 == added.count()
    years = {day.year for day in added.values_list("date", flat=True)}
    assert years <= {2018, 2019, 2020, 2021, 2022}
    assert Entry.households.through.objects.filter(entry__in=added).exists()
    assert_is_design_table(year_2017())
    assert tallies.differences() == []


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=25),
    st.data(),
)
def test_exact_partition_hits_the_total_within_bounds(pairs, data):
    limits = [(low, low + room) for low, room in pairs]
    total = data.draw(st.integers(sum(low for low, _ in limits), sum(high for _, high in limits)))
    parts = exact_partition(total, limits, random.Random(data.draw(st.integers())))
    assert sum(parts) == total
    assert all(low <= part <= high for part, (low, high) in zip(parts, limits))


def test_exact_partition_refuses_an_unreachable_total():
    with pytest.raises(SeedError):
        exact_partition(10, [(0, 3), (0, 3)], random.Random(0))
