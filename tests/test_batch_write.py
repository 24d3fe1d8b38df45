"""Writing a batch of new entries (services.entries_create, the phones' sync): the tallies
and roll-ups equal a recount whatever keys the entries share, a batch costs the same
statements whatever its size, and a batch sent twice adds nothing."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ActivityFactory, HouseholdFactory, IndicatorFactory
from worklog import services, tallies
from worklog.locking import MonthLocked, lock_month
from worklog.models import Entry, OrgReach, Tally

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted(visit):
    """The visit's households are counted once each (a distinct-households indicator)."""
    IndicatorFactory(measure="households", activities=[visit])
    return visit


@pytest.fixture
def meeting():
    return ActivityFactory(code="meeting", uses_participants=True, uses_funds=True)


def batch(world, visit, meeting, villages_homes, count, *, start=0):
    """`count` entries of both teams over two months and two activities, many sharing a
    tally key, a household or both."""
    today = timezone.localdate()
    days = [today, today.replace(day=1) - datetime.timedelta(days=1)]
    entries = []
    for number in range(start, start + count):
        team = world.team_a if number % 3 else world.team_b
        if number % 2:
            values = {"activity": meeting, "participants": number, "funds": Decimal(f"{number}.25")}
        else:
            here = villages_homes[1] if team == world.team_b else villages_homes[0]
            values = {"activity": visit, "participants": 2,
                      "households": here[number % 3:number % 3 + 2]}
        entries.append({"uuid": uuid.uuid4(), "team": team, "date": days[number // 2 % 2], **values})
    return entries


@pytest.fixture
def two_villages(world):
    """Households of both teams' villages: [[team_a's], [team_b's]]."""
    return [[HouseholdFactory(village=village, house_number=str(n)) for n in (1, 2, 3)]
            for village in (world.village_a, world.village_b)]


def test_a_batch_of_twenty_sharing_keys_gives_tallies_equal_to_a_recount(
    world, counted, meeting, two_villages
):
    entries = batch(world, counted, meeting, two_villages, 20)

    outcomes = services.entries_create(author=world.member_a, entries=entries)

    assert [(outcome.created, outcome.refused) for outcome in outcomes] == [(True, None)] * 20
    assert Entry.objects.count() == 20
    assert tallies.differences() == []
    assert sum(Tally.objects.values_list("entries", flat=True)) == 20
    # Each household reached counts once in the organisation's year, however many entries
    # visited it.
    year = timezone.localdate().year
    reached = {household for values in entries if values["date"].year == year
               for household in values.get("households", ())}
    assert len(reached) > 2
    assert OrgReach.objects.get(year=year, month=0, organisation=world.org, activity=counted).households == len(reached)


def test_each_new_entry_has_one_audit_row_with_its_households(world, counted, meeting, two_villages):
    entries = batch(world, counted, meeting, two_villages, 6)

    services.entries_create(author=world.member_a, entries=entries)

    for values in entries:
        entry = Entry.objects.get(uuid=values["uuid"])
        [record] = entry.history.all()
        assert record.history_type == "+"
        assert sorted(record.households.values_list("household_id", flat=True)) == sorted(
            household.pk for household in values.get("households", ()))


def test_the_statements_of_a_batch_do_not_grow_with_its_entries(world, counted, meeting, two_villages):
    services.entries_create(author=world.member_a, entries=batch(world, counted, meeting, two_villages, 4))

    with CaptureQueriesContext(connection) as two:
        services.entries_create(author=world.member_a,
                                entries=batch(world, counted, meeting, two_villages, 2, start=100))
    with CaptureQueriesContext(connection) as twenty:
        services.entries_create(author=world.member_a,
                                entries=batch(world, counted, meeting, two_villages, 20, start=200))

    assert len(twenty.captured_queries) == len(two.captured_queries)
    assert tallies.differences() == []


def test_one_entry_with_households_stays_within_its_statements(world, counted, two_villages):
    """The teams held, the locks and amendments read, the entry, its links, its audit row
    and theirs, the counted activities with the trees' chains, the households locked and
    their rows read, and every tally and roll-up added to in one statement (PostgreSQL;
    SQLite runs one statement a table, and does not hold anything)."""
    entry = {"uuid": uuid.uuid4(), "team": world.team_a, "date": timezone.localdate(),
             "activity": counted, "participants": 1, "households": two_villages[0][:2]}

    with CaptureQueriesContext(connection) as queries:
        services.entries_create(author=world.member_a, entries=[entry])

    assert len(queries.captured_queries) <= (8 if connection.vendor == "postgresql" else 13)
    assert tallies.differences() == []


def test_a_batch_sent_twice_duplicates_nothing(world, counted, meeting, two_villages):
    entries = batch(world, counted, meeting, two_villages, 20)
    services.entries_create(author=world.member_a, entries=entries)
    stored = list(Tally.objects.order_by("pk").values())

    again = services.entries_create(author=world.member_a, entries=entries)

    assert [outcome.created for outcome in again] == [False] * 20
    assert [outcome.entry.uuid for outcome in again] == [values["uuid"] for values in entries]
    assert Entry.objects.count() == 20
    assert Entry.history.count() == 20
    assert list(Tally.objects.order_by("pk").values()) == stored
    assert tallies.differences() == []


def test_a_uuid_given_twice_in_one_batch_makes_one_entry(world, counted, meeting, two_villages):
    [first, second] = batch(world, counted, meeting, two_villages, 2)
    second["uuid"] = first["uuid"]
    second["team"] = first["team"]

    outcomes = services.entries_create(author=world.member_a, entries=[first, second])

    assert [outcome.created for outcome in outcomes] == [True, False]
    assert outcomes[1].entry.pk == outcomes[0].entry.pk
    assert Entry.objects.count() == 1
    assert tallies.differences() == []


def test_refused_entries_leave_the_others_written(world, counted, meeting, two_villages):
    today = timezone.localdate()
    theirs = services.entry_create(uuid=uuid.uuid4(), team=world.team_b, author=world.member_b,
                                   date=today, activity=meeting, participants=1)[0]
    lock_month(organisation=world.org, year=today.year, month=today.month, user=world.coordinator)
    earlier = today.replace(day=1) - datetime.timedelta(days=1)
    entries = [
        {"uuid": uuid.uuid4(), "team": world.team_a, "date": earlier, "activity": meeting, "participants": 3},
        {"uuid": uuid.uuid4(), "team": world.team_a, "date": today, "activity": meeting, "participants": 3},
        {"uuid": theirs.uuid, "team": world.team_a, "date": earlier, "activity": meeting, "participants": 3},
        {"uuid": uuid.uuid4(), "team": world.team_a, "date": earlier, "activity": meeting, "participants": -1},
    ]

    outcomes = services.entries_create(author=world.member_a, entries=entries)

    assert outcomes[0].created
    assert isinstance(outcomes[1].refused, MonthLocked)
    assert isinstance(outcomes[2].refused, services.UuidTakenByAnotherTeam)
    assert outcomes[3].refused is not None
    assert Entry.objects.count() == 2
    assert tallies.differences() == []
