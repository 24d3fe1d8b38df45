"""Concurrent requests on PostgreSQL, with real threads and connections (issue 3, 5)."""

import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, World
from worklog.models import Entry

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"
    ),
]


def run_together(*actions):
    """Run each action in its own thread and connection, released at the same moment."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def worker(index, action):
        try:
            barrier.wait()
            results[index] = action()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def logged_in_client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world_with_visits():
    world = World.build()
    visit = ActivityFactory(code="policy_visit", uses_households=True, uses_participants=True)
    home = HouseholdFactory(village=world.village_a)
    return world, visit, home


def test_two_identical_submissions_at_once_make_one_entry(world_with_visits):
    world, visit, home = world_with_visits
    data = {
        "date": timezone.localdate().isoformat(), "activity": visit.pk, "households": [home.pk],
        "participants": "4", "uuid": str(uuid.uuid4()), "title": "同时提交",
    }
    clients = [logged_in_client(world.member_a) for _ in range(4)]

    responses = run_together(*[lambda c=c: c.post(reverse("entry_new"), data) for c in clients])

    entry = Entry.objects.get()
    assert [r.status_code for r in responses] == [302] * 4
    assert {r["Location"] for r in responses} == {reverse("entry_detail", args=[entry.pk])}
    assert entry.households.count() == 1


def test_two_edits_from_one_version_one_wins_one_is_told(world_with_visits):
    world, visit, home = world_with_visits
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                         households=[home], participants=1)

    def edit(user, participants):
        data = {
            "date": entry.date.isoformat(), "activity": visit.pk, "households": [home.pk],
            "participants": str(participants), "version": "1",
        }
        return logged_in_client(user).post(reverse("entry_edit", args=[entry.pk]), data)

    responses = run_together(lambda: edit(world.member_a, 5), lambda: edit(world.leader_a, 9))

    entry.refresh_from_db()
    assert sorted(r.status_code for r in responses) == [302, 409]
    winner = 5 if responses[0].status_code == 302 else 9
    assert (entry.participants, entry.version) == (winner, 2)


def test_tallies_stay_exact_under_eight_concurrent_writers(world_with_visits):
    from tests.factories import IndicatorFactory
    from worklog import tallies
    from worklog.services import entry_create
    from worklog.totals import Scope, year_totals

    world, visit, home = world_with_visits
    IndicatorFactory(code="visits", measure="household_visits", activities=[visit])
    IndicatorFactory(code="people", measure="participants", activities=[visit])

    def writer():
        for _ in range(10):
            entry_create(uuid=uuid.uuid4(), team=world.team_a, author=world.member_a,
                         date=timezone.localdate(), activity=visit, households=[home],
                         participants=3)

    run_together(*[writer] * 8)

    totals = {t.code: t.value for t in year_totals(Scope("all"), timezone.localdate().year)}
    assert Entry.objects.count() == 80
    assert totals == {"visits": 80, "people": 240}
    assert tallies.differences() == []


def test_households_reached_stay_exact_when_two_teams_visit_the_same_homes_at_once(world_with_visits):
    """Two teams of the division (one from its regiment) work the same village: each logs
    visits to the same three homes in different months at the same moment. The division
    reached three households, once each, and the roll-ups equal a recount."""
    from tests.factories import IndicatorFactory, TeamFactory
    from worklog import tallies
    from worklog.services import entry_create
    from worklog.totals import Scope, year_over_year
    from worklog.totals import load_indicators as indicators

    world, visit, home = world_with_visits
    homes = [home, HouseholdFactory(village=world.village_a), HouseholdFactory(village=world.village_a)]
    IndicatorFactory(code="visited", measure="households", activities=[visit])
    second = TeamFactory(organisation=world.team_b.organisation, village=world.village_a, slug="team-c")
    year = timezone.localdate().year

    def writer(team, month):
        def write():
            for round_ in range(6):
                entry_create(uuid=uuid.uuid4(), team=team, author=None,
                             date=timezone.localdate().replace(month=month, day=1 + round_),
                             activity=visit, households=homes[round_ % 3:] or homes, participants=1)
        return write

    run_together(writer(world.team_a, 3), writer(second, 4), writer(world.team_a, 5), writer(second, 3))

    this_year, _last, months = year_over_year(Scope("org", world.org), year, indicators())
    assert {t.code: t.value for t in this_year} == {"visited": 3}
    assert {month: totals[0].value for month, totals in months.items()} == {3: 3, 4: 3, 5: 3}
    assert tallies.differences() == []


LOCK_RACE_ROUNDS = 15


def test_posts_racing_a_month_lock_land_in_its_report_or_are_refused(world_with_visits):
    """Issue 11, point 16: while a coordinator locks a month, three writers keep posting
    entries for it. Each entry either lands before the lock (and is in what was reported)
    or is refused as locked; none lands after the lock, unreported and without an amendment.
    Many rounds, one month each, because the race is a matter of milliseconds."""
    import datetime

    from django.db.models import Sum

    from worklog.locking import MonthLocked, lock_month
    from worklog.models import ReportedTally
    from worklog.services import entry_create

    world, visit, home = world_with_visits

    def writer(day):
        def write():
            for _ in range(5):
                try:
                    entry_create(uuid=uuid.uuid4(), team=world.team_a, author=world.member_a,
                                 date=day, activity=visit, households=[home], participants=1)
                except MonthLocked:
                    return
        return write

    def locker(day):
        return lambda: lock_month(organisation=world.org, year=day.year, month=day.month,
                                  user=world.coordinator)

    world.team_a.starts_on = datetime.date(2001, 1, 1)  # the rounds' months are deployed ones
    world.team_a.save()
    unreported, written = [], 0
    for round_ in range(LOCK_RACE_ROUNDS):
        day = datetime.date(2001 + round_ // 12, 1 + round_ % 12, 1)
        run_together(writer(day), locker(day), writer(day), writer(day))
        logged = Entry.objects.filter(team=world.team_a, date=day).count()
        written += logged
        reported = ReportedTally.objects.filter(
            team=world.team_a, year=day.year, month=day.month).aggregate(n=Sum("entries"))["n"]
        unreported.append(logged - (reported or 0))

    assert written, "no round wrote an entry: the race was not run"
    slipped = sum(1 for count in unreported if count)
    assert slipped == 0, (f"entries landed after the lock, unreported, in {slipped} of "
                          f"{LOCK_RACE_ROUNDS} rounds: {unreported}")
