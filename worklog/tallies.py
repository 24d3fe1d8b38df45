"""Keeping `Tally` and `HouseholdTally` exact: applied in the transaction of every entry
change, rebuilt from raw entries in bulk, and verified against a recount.

An entry counts in the tallies while it is live. A change is "take the old values out,
put the new ones in": `apply_entry(snapshot, -1)` then `apply_entry(snapshot, +1)`.
Each step is one `INSERT … ON CONFLICT DO UPDATE` adding to the row, which is atomic on
PostgreSQL and SQLite alike, so concurrent writers never lose an increment.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from psycopg2.extras import execute_batch

from worklog.models import Entry, HouseholdTally, Tally

BATCH_SIZE = 2000

TALLY_SUMS = ("entries", "participants", "sessions", "quantity", "funds", "household_visits")


@dataclass(frozen=True)
class EntrySnapshot:
    """What of an entry the tallies depend on, as it was at one moment."""

    date: object
    team_id: int
    village_id: int
    activity_id: int
    participants: int
    sessions: int
    quantity: int
    funds: Decimal
    household_ids: tuple
    live: bool

    @classmethod
    def of(cls, entry, household_ids=None):
        if household_ids is None:
            household_ids = entry.households.values_list("pk", flat=True)
        return cls(
            date=entry.date, team_id=entry.team_id, village_id=entry.village_id,
            activity_id=entry.activity_id, participants=entry.participants,
            sessions=entry.sessions, quantity=entry.quantity, funds=Decimal(entry.funds),
            household_ids=tuple(sorted(household_ids)), live=entry.deleted_at is None,
        )


def _upsert_sql(model, key_fields, sum_fields):
    table = model._meta.db_table
    columns = key_fields + sum_fields
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sum_fields)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(key_fields)}) DO UPDATE SET {updates}"
    )


TALLY_KEY = ["year", "month", "team_id", "village_id", "activity_id"]
HOUSEHOLD_KEY = ["year", "month", "household_id", "team_id", "village_id", "activity_id"]
TALLY_UPSERT = _upsert_sql(Tally, TALLY_KEY, list(TALLY_SUMS))
HOUSEHOLD_UPSERT = _upsert_sql(HouseholdTally, HOUSEHOLD_KEY, ["visits"])


def add_to_tallies(tally_rows, household_rows=()):
    """Add rows of contributions to the tallies: the one way every writer (the notebook, the
    import, the scale seed) changes them.

    `tally_rows`: [year, month, team_id, village_id, activity_id, entries, participants,
    sessions, quantity, funds, household_visits] each; `household_rows`: [year, month,
    household_id, team_id, village_id, activity_id, visits] each. Amounts may be negative.
    """
    with connection.cursor() as cursor:
        for sql, params in ((TALLY_UPSERT, tally_rows), (HOUSEHOLD_UPSERT, household_rows)):
            params = list(params)
            if not params:
                continue
            if len(params) > 1 and connection.vendor == "postgresql":
                # psycopg2's executemany makes a round trip per row; this sends pages of them.
                execute_batch(cursor.cursor, sql, params, page_size=BATCH_SIZE)
            elif len(params) > 1:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params[0])


def apply_entry(snapshot, sign):
    """Add (sign=+1) or take out (sign=-1) one entry's contribution, if it counts."""
    if not snapshot.live:
        return
    s = snapshot
    year, month = s.date.year, s.date.month
    add_to_tallies(
        [[year, month, s.team_id, s.village_id, s.activity_id,
          sign, sign * s.participants, sign * s.sessions, sign * s.quantity,
          sign * s.funds, sign * len(s.household_ids)]],
        [[year, month, household_id, s.team_id, s.village_id, s.activity_id, sign]
         for household_id in s.household_ids],
    )


def apply_change(before, after):
    """Move the tallies from an entry's old state to its new one."""
    if before == after:
        return
    apply_entry(before, -1)
    apply_entry(after, +1)


def recount(entries=None):
    """The tallies as a recount of raw entries would have them: two dicts keyed like the rows."""
    entries = (entries if entries is not None else Entry.objects.all()).live().order_by()
    dated = entries.annotate(year=ExtractYear("date"), month=ExtractMonth("date"))
    tallies = {}
    for row in dated.values("year", "month", "team_id", "village_id", "activity_id").annotate(
        entries=Count("id"), participants=Sum("participants"), sessions=Sum("sessions"),
        quantity=Sum("quantity"), funds=Sum("funds"),
    ):
        key = tuple(row[name] for name in TALLY_KEY)
        tallies[key] = {name: row[name] for name in TALLY_SUMS if name != "household_visits"}
        tallies[key]["household_visits"] = 0
        tallies[key]["funds"] = Decimal(row["funds"] or 0).quantize(Decimal("0.01"))

    households = {}
    for row in _link_groups(entries):
        key = (row["year"], row["month"], row["team_id"], row["village_id"], row["activity_id"])
        tallies[key]["household_visits"] += row["visits"]
        household_key = (row["year"], row["month"], row["household_id"], row["team_id"], row["village_id"],
                         row["activity_id"])
        households[household_key] = households.get(household_key, 0) + row["visits"]
    return tallies, households


def _link_groups(entries):
    """Household links of the entries, counted per (year, month, household, team, village,
    activity)."""
    through = Entry.households.through.objects.filter(entry__in=entries.values("pk"))
    return (
        through.annotate(
            year=ExtractYear("entry__date"),
            month=ExtractMonth("entry__date"),
            team_id=F("entry__team_id"),
            village_id=F("entry__village_id"),
            activity_id=F("entry__activity_id"),
        )
        .values("year", "month", "household_id", "team_id", "village_id", "activity_id")
        .annotate(visits=Count("id"))
        .order_by()
    )


def stored():
    """The tallies as stored, keyed like `recount()` (zero rows left out)."""
    tallies = {}
    for row in Tally.objects.values(*TALLY_KEY, *TALLY_SUMS):
        values = {name: row[name] for name in TALLY_SUMS}
        if any(values.values()):
            values["funds"] = Decimal(values["funds"]).quantize(Decimal("0.01"))
            tallies[tuple(row[name] for name in TALLY_KEY)] = values
    households = {
        tuple(row[name] for name in HOUSEHOLD_KEY): row["visits"]
        for row in HouseholdTally.objects.filter(visits__gt=0).values(*HOUSEHOLD_KEY, "visits")
    }
    return tallies, households


def differences():
    """Where stored tallies and a recount disagree, as readable lines (empty when exact)."""
    expected_tallies, expected_households = recount()
    actual_tallies, actual_households = stored()
    lines = []
    for key in sorted(set(expected_tallies) | set(actual_tallies), key=str):
        want, have = expected_tallies.get(key), actual_tallies.get(key)
        if want != have:
            lines.append(f"tally {dict(zip(TALLY_KEY, key))}: recount {want}, stored {have}")
    for key in sorted(set(expected_households) | set(actual_households), key=str):
        want, have = expected_households.get(key, 0), actual_households.get(key, 0)
        if want != have:
            lines.append(f"household tally {dict(zip(HOUSEHOLD_KEY, key))}: recount {want}, stored {have}")
    return lines


@transaction.atomic
def rebuild():
    """Replace every tally with a recount of the raw entries (after bulk loads)."""
    tallies, households = recount()
    Tally.objects.all().delete()
    HouseholdTally.objects.all().delete()
    Tally.objects.bulk_create(
        (Tally(**dict(zip(TALLY_KEY, key)), **values) for key, values in tallies.items()),
        batch_size=5000,
    )
    HouseholdTally.objects.bulk_create(
        (HouseholdTally(**dict(zip(HOUSEHOLD_KEY, key)), visits=visits)
         for key, visits in households.items()),
        batch_size=5000,
    )
    return len(tallies), len(households)
