"""Keeping `Tally`, `HouseholdTally` and `OrgTally` exact: applied in the transaction of
every entry change, rebuilt from raw entries in bulk, and verified against a recount.

An entry counts in the tallies while it is live. A change is "take the old values out,
put the new ones in": `apply_entry(snapshot, -1)` then `apply_entry(snapshot, +1)`.
Each step is one `INSERT … ON CONFLICT DO UPDATE` adding to the row, which is atomic on
PostgreSQL and SQLite alike, so concurrent writers never lose an increment. `OrgTally`
adds the same amounts up per organisation (of the team): one more upsert per change.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from teams.models import Household, Organisation, Team
from worklog.models import Entry, HouseholdTally, Indicator, Measure, OrgReach, OrgTally, Tally

BATCH_SIZE = 20000  # rows per statement of a bulk upsert on PostgreSQL

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
ORG_KEY = ["year", "month", "organisation_id", "activity_id"]
TALLY_UPSERT = _upsert_sql(Tally, TALLY_KEY, list(TALLY_SUMS))
HOUSEHOLD_UPSERT = _upsert_sql(HouseholdTally, HOUSEHOLD_KEY, ["visits"])


def _org_upsert_sql(rows):
    """Tally rows (TALLY_KEY + TALLY_SUMS) added up per organisation of their team, in key
    order (so concurrent writers take the row locks in one order), into `OrgTally`."""
    table = OrgTally._meta.db_table
    columns = TALLY_KEY + list(TALLY_SUMS)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    sums = ", ".join(f"SUM(v.{name})" for name in TALLY_SUMS)
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in TALLY_SUMS)
    return (
        f"WITH v ({', '.join(columns)}) AS (VALUES {values}) "
        f"INSERT INTO {table} ({', '.join(ORG_KEY + list(TALLY_SUMS))}) "
        f"SELECT v.year, v.month, team.organisation_id, v.activity_id, {sums} "
        f"FROM v JOIN teams_team team ON team.id = v.team_id WHERE 1 = 1 "
        f"GROUP BY v.year, v.month, team.organisation_id, v.activity_id "
        f"ORDER BY v.year, v.month, team.organisation_id, v.activity_id "
        f"ON CONFLICT ({', '.join(ORG_KEY)}) DO UPDATE SET {updates}"
    )


ORG_ROWS_PER_STATEMENT = 500


def _unnest_upsert_sql(model, key_fields, sum_fields, types):
    """PostgreSQL: the upsert of many rows given as one array per column, in key order."""
    table = model._meta.db_table
    columns = key_fields + sum_fields
    arrays = ", ".join(f"%s::{types.get(name, 'bigint')}[]" for name in columns)
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sum_fields)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({arrays}) AS v ({', '.join(columns)}) "
        f"ORDER BY {', '.join(key_fields)} "
        f"ON CONFLICT ({', '.join(key_fields)}) DO UPDATE SET {updates}"
    )


TALLY_UNNEST = _unnest_upsert_sql(Tally, TALLY_KEY, list(TALLY_SUMS), {"year": "smallint", "month": "smallint",
                                                                      "funds": "numeric"})
HOUSEHOLD_UNNEST = _unnest_upsert_sql(HouseholdTally, HOUSEHOLD_KEY, ["visits"],
                                      {"year": "smallint", "month": "smallint"})


def _summed(rows, key_length):
    """Rows with the same key added up into one, in key order, those adding nothing left
    out (one statement may then write them all: an upsert cannot touch a row twice)."""
    sums = {}
    for row in rows:
        key, amounts = tuple(row[:key_length]), row[key_length:]
        have = sums.get(key)
        sums[key] = list(amounts) if have is None else [a + b for a, b in zip(have, amounts)]
    return [[*key, *amounts] for key, amounts in sorted(sums.items()) if any(amounts)]


def add_to_tallies(tally_rows, household_rows=()):
    """Add rows of contributions to the tallies: the one way every writer (the notebook, the
    import, the scale seed) changes them.

    `tally_rows`: [year, month, team_id, village_id, activity_id, entries, participants,
    sessions, quantity, funds, household_visits] each; `household_rows`: [year, month,
    household_id, team_id, village_id, activity_id, visits] each. Amounts may be negative.
    The organisation roll-up goes last: its rows are the ones many teams share, so they
    are locked for the shortest time.
    """
    tally_rows, household_rows = _summed(tally_rows, len(TALLY_KEY)), _summed(household_rows, len(HOUSEHOLD_KEY))
    reach = Reach(household_rows)
    with connection.cursor() as cursor:
        for sql, params, unnest in ((TALLY_UPSERT, tally_rows, TALLY_UNNEST),
                                    (HOUSEHOLD_UPSERT, household_rows, HOUSEHOLD_UNNEST)):
            if len(params) > 1 and connection.vendor == "postgresql":
                # One statement per page of rows, as arrays (a round trip per row, or even
                # execute_batch's statement per row, cost the import seconds).
                for start in range(0, len(params), BATCH_SIZE):
                    cursor.execute(unnest, [list(column) for column in zip(*params[start:start + BATCH_SIZE])])
            elif len(params) > 1:
                cursor.executemany(sql, params)
            elif params:
                cursor.execute(sql, params[0])
        for start in range(0, len(tally_rows), ORG_ROWS_PER_STATEMENT):
            chunk = tally_rows[start:start + ORG_ROWS_PER_STATEMENT]
            cursor.execute(_org_upsert_sql(len(chunk)), [value for row in chunk for value in row])
        reach.write(cursor)


REACH_KEY = ["year", "month", "organisation_id", "activity_id"]
REACH_UPSERT = _upsert_sql(OrgReach, REACH_KEY, ["households"])


def reach_activity_ids():
    """The activities whose distinct households `OrgReach` keeps: those a distinct-households
    indicator counts."""
    through = Indicator.activities.through.objects
    return set(through.filter(indicator__measure=Measure.HOUSEHOLDS).values_list("activity_id", flat=True))


def ancestor_paths(path):
    """"a/b/c/" -> ["a/", "a/b/", "a/b/c/"]."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


class Reach:
    """The change that household rows make to `OrgReach`: which (year, month or 0,
    organisation, activity) gain or lose a distinct household.

    Made before the household rows are added (it reads the households' rows as they stand,
    with the households locked against concurrent changes on PostgreSQL), written after.
    The lock is FOR NO KEY UPDATE: it keeps two such changes apart but lets other
    transactions' foreign-key checks on the households through.
    """

    def __init__(self, household_rows):
        self.changes = {}
        activity_ids = {row[5] for row in household_rows}
        counted = reach_activity_ids() & activity_ids if activity_ids else set()
        rows = [row for row in household_rows if row[5] in counted]
        if not rows:
            return
        household_ids = sorted({row[2] for row in rows})
        list(Household.objects.select_for_update(no_key=True).filter(pk__in=household_ids).order_by("pk")
             .values_list("pk", flat=True))
        before = Counter({
            (year, month, household, team, village, activity): visits
            for year, month, household, team, village, activity, visits in HouseholdTally.objects.filter(
                household_id__in=household_ids, year__in={row[0] for row in rows},
                activity_id__in=counted, visits__gt=0,
            ).values_list(*HOUSEHOLD_KEY, "visits")
        })
        after = before.copy()
        for *key, visits in rows:
            after[tuple(key)] += visits
        team_ids = {key[3] for key in after}
        paths = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "organisation__path"))
        ancestors = {team: ancestor_paths(path) for team, path in paths.items()}
        org_ids = dict(Organisation.objects.filter(
            path__in={p for chain in ancestors.values() for p in chain}).values_list("path", "pk"))
        groups = {(row[0], row[2], row[5]) for row in rows}

        def reached(state):
            keys = set()
            for (year, month, household, team, _village, activity), visits in state.items():
                if visits > 0 and (year, household, activity) in groups:
                    for path in ancestors[team]:
                        keys.add((year, month, org_ids[path], activity, household))
                        keys.add((year, 0, org_ids[path], activity, household))
            return keys

        was, now = reached(before), reached(after)
        changes = defaultdict(int)
        for keys, sign in ((now - was, 1), (was - now, -1)):
            for *reach_key, _household in keys:
                changes[tuple(reach_key)] += sign
        self.changes = {key: n for key, n in changes.items() if n}

    def write(self, cursor):
        if self.changes:
            cursor.executemany(REACH_UPSERT, [[*key, n] for key, n in sorted(self.changes.items())])


def _contribution(snapshot, sign):
    """(tally rows, household rows) adding (+1) or taking out (-1) one entry, if it counts."""
    s = snapshot
    if not s.live:
        return [], []
    year, month = s.date.year, s.date.month
    return (
        [[year, month, s.team_id, s.village_id, s.activity_id,
          sign, sign * s.participants, sign * s.sessions, sign * s.quantity,
          sign * s.funds, sign * len(s.household_ids)]],
        [[year, month, household_id, s.team_id, s.village_id, s.activity_id, sign]
         for household_id in s.household_ids],
    )


def apply_entry(snapshot, sign):
    """Add (sign=+1) or take out (sign=-1) one entry's contribution, if it counts."""
    add_to_tallies(*_contribution(snapshot, sign))


def apply_change(before, after):
    """Move the tallies from an entry's old state to its new one, in one go (rows in key
    order, so two changes never wait for each other's locks in a circle)."""
    if before == after:
        return
    (out_rows, out_households), (in_rows, in_households) = _contribution(before, -1), _contribution(after, +1)
    add_to_tallies(out_rows + in_rows, out_households + in_households)


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


def stored(team_ids=None):
    """The tallies as stored (of some teams, or all), keyed like `recount()` (zero rows
    left out)."""
    tally_rows, household_rows = Tally.objects.all(), HouseholdTally.objects.all()
    if team_ids is not None:
        tally_rows, household_rows = tally_rows.filter(team_id__in=team_ids), household_rows.filter(team_id__in=team_ids)
    tallies = {}
    for row in tally_rows.values(*TALLY_KEY, *TALLY_SUMS):
        values = {name: row[name] for name in TALLY_SUMS}
        if any(values.values()):
            values["funds"] = Decimal(values["funds"]).quantize(Decimal("0.01"))
            tallies[tuple(row[name] for name in TALLY_KEY)] = values
    households = {
        tuple(row[name] for name in HOUSEHOLD_KEY): row["visits"]
        for row in household_rows.filter(visits__gt=0).values(*HOUSEHOLD_KEY, "visits")
    }
    return tallies, households


def _add_org_sums(org_tallies, tallies, organisation_of):
    """Add tally rows ({TALLY_KEY: sums}) to per-organisation sums, as OrgTally keeps them."""
    for (year, month, team_id, _village_id, activity_id), values in tallies.items():
        sums = org_tallies.setdefault((year, month, organisation_of[team_id], activity_id),
                                      dict.fromkeys(TALLY_SUMS, 0))
        for name in TALLY_SUMS:
            sums[name] += values[name]


def _org_stored():
    org_tallies = {}
    for row in OrgTally.objects.values(*ORG_KEY, *TALLY_SUMS):
        values = {name: row[name] for name in TALLY_SUMS}
        if any(values.values()):
            values["funds"] = Decimal(values["funds"]).quantize(Decimal("0.01"))
            org_tallies[tuple(row[name] for name in ORG_KEY)] = values
    return org_tallies


def _reach_stored():
    return {tuple(row[:4]): row[4] for row in OrgReach.objects.filter(households__gt=0)
            .values_list(*REACH_KEY, "households")}


def _reach_from_household_tallies():
    """OrgReach as the household tallies give it, counted by the database."""
    activity_ids = sorted(reach_activity_ids())
    if not activity_ids:
        return {}
    counts = {}
    with connection.cursor() as cursor:
        for month, group in (("reached.month", "reached.month, "), ("0", "")):
            cursor.execute(REACH_SELECT.format(month=month, group=group, where="1 = 1",
                                               activities=", ".join(["%s"] * len(activity_ids))),
                           activity_ids)
            counts.update({tuple(row[:4]): row[4] for row in cursor.fetchall() if row[4]})
    return counts


def _compare(lines, name, key_fields, expected, actual, zero):
    for key in sorted(set(expected) | set(actual), key=str):
        want, have = expected.get(key, zero), actual.get(key, zero)
        if want != have:
            lines.append(f"{name} {dict(zip(key_fields, key))}: recount {want}, stored {have}")


VERIFY_TEAMS_AT_ONCE = 50


def differences():
    """Where stored tallies and a recount disagree, as readable lines (empty when exact).

    `Tally` and `HouseholdTally` are recounted from the entries a few teams at a time (so
    memory stays flat at millions of entries), `OrgTally` from those recounts, and
    `OrgReach` by the database from the household tallies checked that way.
    """
    lines, org_expected = [], {}
    organisation_of = dict(Team.objects.values_list("pk", "organisation_id"))
    team_ids = sorted(organisation_of)
    for start in range(0, len(team_ids), VERIFY_TEAMS_AT_ONCE):
        chunk = team_ids[start:start + VERIFY_TEAMS_AT_ONCE]
        expected_tallies, expected_households = recount(Entry.objects.filter(team_id__in=chunk))
        actual_tallies, actual_households = stored(chunk)
        _compare(lines, "tally", TALLY_KEY, expected_tallies, actual_tallies, None)
        _compare(lines, "household tally", HOUSEHOLD_KEY, expected_households, actual_households, 0)
        _add_org_sums(org_expected, expected_tallies, organisation_of)
    org_expected = {key: sums for key, sums in org_expected.items() if any(sums.values())}
    _compare(lines, "organisation tally", ORG_KEY, org_expected, _org_stored(), None)
    _compare(lines, "households reached", REACH_KEY, _reach_from_household_tallies(), _reach_stored(), 0)
    return lines


ORG_RECOUNT = f"""
INSERT INTO {OrgTally._meta.db_table} ({", ".join(ORG_KEY + list(TALLY_SUMS))})
SELECT tally.year, tally.month, team.organisation_id, tally.activity_id,
       {", ".join(f"SUM(tally.{name})" for name in TALLY_SUMS)}
FROM {Tally._meta.db_table} tally JOIN teams_team team ON team.id = tally.team_id
WHERE {{where}}
GROUP BY tally.year, tally.month, team.organisation_id, tally.activity_id
"""


def recount_org_tallies(organisation_ids=None):
    """Recompute `OrgTally` from `Tally`, for some organisations (after a team moved between
    them) or all. On PostgreSQL the roll-up is locked against writers meanwhile: entry
    changes still in flight finish first, later ones wait and then add to the new rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {OrgTally._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        rows = OrgTally.objects.all()
        if organisation_ids is None:
            cursor.execute(f"DELETE FROM {OrgTally._meta.db_table}")
            cursor.execute(ORG_RECOUNT.format(where="1 = 1"))
        else:
            ids = sorted(set(organisation_ids))
            rows.filter(organisation_id__in=ids).delete()
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(ORG_RECOUNT.format(where=f"team.organisation_id IN ({marks})"), ids)


REACH_SELECT = f"""
WITH reached AS MATERIALIZED (
    SELECT ht.year, ht.month, ht.household_id, ht.activity_id, team.organisation_id
    FROM {HouseholdTally._meta.db_table} ht JOIN teams_team team ON team.id = ht.team_id
    WHERE ht.visits > 0 AND ht.activity_id IN ({{activities}})
)
SELECT reached.year, {{month}}, ancestor.id, reached.activity_id, COUNT(DISTINCT reached.household_id)
FROM reached
JOIN teams_organisation org ON org.id = reached.organisation_id
JOIN teams_organisation ancestor ON substr(org.path, 1, length(ancestor.path)) = ancestor.path
WHERE {{where}}
GROUP BY reached.year, {{group}}ancestor.id, reached.activity_id
"""
REACH_RECOUNT = (
    f"INSERT INTO {OrgReach._meta.db_table} (year, month, organisation_id, activity_id, households) "
    + REACH_SELECT
)


def recount_reach(organisation_ids=None, activity_ids=None):
    """Recompute `OrgReach` from `HouseholdTally` for some organisations and activities, or
    all of them (locked against writers meanwhile on PostgreSQL, like recount_org_tallies)."""
    stale = OrgReach.objects.all()  # all activities: those no longer counted go too
    if activity_ids is None:
        activity_ids = reach_activity_ids()
    else:
        stale = stale.filter(activity_id__in=activity_ids)
    activity_ids = sorted(activity_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {OrgReach._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        where, params = "1 = 1", []
        if organisation_ids is not None:
            ids = sorted(set(organisation_ids))
            stale = stale.filter(organisation_id__in=ids)
            where, params = f"ancestor.id IN ({', '.join(['%s'] * len(ids))})", ids
        stale.delete()
        if not activity_ids or (organisation_ids is not None and not params):
            return
        activities = ", ".join(["%s"] * len(activity_ids))
        for month, group in (("reached.month", "reached.month, "), ("0", "")):
            cursor.execute(REACH_RECOUNT.format(month=month, group=group, activities=activities,
                                                where=where), [*activity_ids, *params])


def _organisation_chain_ids(*organisation_ids):
    paths = Organisation.objects.filter(pk__in=organisation_ids).values_list("path", flat=True)
    prefixes = {prefix for path in paths for prefix in ancestor_paths(path)}
    return list(Organisation.objects.filter(path__in=prefixes).values_list("pk", flat=True))


@transaction.atomic
def rebuild():
    """Replace every tally with a recount of the raw entries (after bulk loads), a few
    teams at a time; returns the numbers of tally and household tally rows."""
    Tally.objects.all().delete()
    HouseholdTally.objects.all().delete()
    team_ids = sorted(Team.objects.values_list("pk", flat=True))
    made = [0, 0]
    for start in range(0, len(team_ids), VERIFY_TEAMS_AT_ONCE):
        tallies, households = recount(Entry.objects.filter(team_id__in=team_ids[start:start + VERIFY_TEAMS_AT_ONCE]))
        Tally.objects.bulk_create(
            (Tally(**dict(zip(TALLY_KEY, key)), **values) for key, values in tallies.items()),
            batch_size=5000,
        )
        HouseholdTally.objects.bulk_create(
            (HouseholdTally(**dict(zip(HOUSEHOLD_KEY, key)), visits=visits)
             for key, visits in households.items()),
            batch_size=5000,
        )
        made[0], made[1] = made[0] + len(tallies), made[1] + len(households)
    recount_org_tallies()
    recount_reach()
    return tuple(made)


def team_moving(team):
    """Before a team is saved: remember the organisation it belongs to now."""
    team._organisation_before = (
        Team.objects.filter(pk=team.pk).values_list("organisation_id", flat=True).first()
        if team.pk else None
    )


def team_moved(team):
    """After a team is saved: if it changed organisation, recount both organisations'
    roll-ups once the move is committed (its tallies now add up under the new one)."""
    before = getattr(team, "_organisation_before", None)
    if before is not None and before != team.organisation_id:
        moved = (before, team.organisation_id)

        def recount():
            recount_org_tallies(moved)
            recount_reach(_organisation_chain_ids(*moved))

        transaction.on_commit(recount)


def organisation_moving(organisation):
    """Before an organisation is saved: remember its parent."""
    organisation._parent_before = (
        Organisation.objects.filter(pk=organisation.pk).values_list("parent_id", flat=True).first()
        if organisation.pk else None
    )


def organisation_moved(organisation):
    """After an organisation moved under another parent: its subtree's households now
    count towards other ancestors, so recount the households reached once committed."""
    if organisation.pk and getattr(organisation, "_parent_before", None) != organisation.parent_id:
        transaction.on_commit(recount_reach)


def indicator_changing(indicator):
    """Before an indicator is saved: remember whether it counted distinct households."""
    indicator._measure_before = (
        Indicator.objects.filter(pk=indicator.pk).values_list("measure", flat=True).first()
        if indicator.pk else None
    )


def indicator_changed(indicator):
    """After a distinct-households indicator changed (its measure or activities): once
    committed, recount the households reached for the activities now counted."""
    measures = {getattr(indicator, "measure", Measure.HOUSEHOLDS),  # an Activity, from its side
                getattr(indicator, "_measure_before", None)}
    if Measure.HOUSEHOLDS in measures:
        transaction.on_commit(recount_reach)
