"""Keeping the tallies exact: applied in the transaction of every entry change, rebuilt
from raw entries in bulk, and verified against a recount.

An entry counts in the tallies while it is live. A change is "take the old values out,
put the new ones in": `apply_entry(snapshot, -1)` then `apply_entry(snapshot, +1)`.
Each step is one `INSERT … ON CONFLICT DO UPDATE` adding to the row, which is atomic on
PostgreSQL and SQLite alike, so concurrent writers never lose an increment.

The roll-ups add the same amounts up per node of the two trees: `OrgTally` per
organisation of the team and `AreaTally` per area of the village (one more upsert each
per change), and `OrgReach` / `AreaReach` count the distinct households reached at every
ancestor.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from teams.models import Area, Household, Organisation, Team, Village
from worklog.models import (
    AreaReach,
    AreaTally,
    Entry,
    HouseholdTally,
    Indicator,
    Measure,
    OrgReach,
    OrgTally,
    Tally,
)

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
TALLY_UPSERT = _upsert_sql(Tally, TALLY_KEY, list(TALLY_SUMS))
HOUSEHOLD_UPSERT = _upsert_sql(HouseholdTally, HOUSEHOLD_KEY, ["visits"])


@dataclass(frozen=True)
class Rollup:
    """One tree the tallies are rolled up along: organisations (through the team) or areas
    (through the village)."""

    sums: type  # OrgTally / AreaTally
    reach: type  # OrgReach / AreaReach
    node: str  # their node column
    tree: type  # Organisation / Area
    via: type  # Team / Village: what a tally row names, and which belongs to a node
    via_column: str  # that column in Tally and HouseholdTally rows

    @property
    def key(self):
        return ["year", "month", self.node, "activity_id"]

    @property
    def via_table(self):
        return self.via._meta.db_table

    @property
    def node_field(self):
        return self.node.removesuffix("_id")

    @property
    def via_path(self):
        """The node's path, from the roll-up's rows or from a team or village."""
        return f"{self.node_field}__path"

    @property
    def via_field(self):
        """The team or village, from `Tally` and `HouseholdTally` rows."""
        return self.via_column.removesuffix("_id")


ORG = Rollup(OrgTally, OrgReach, "organisation_id", Organisation, Team, "team_id")
AREA = Rollup(AreaTally, AreaReach, "area_id", Area, Village, "village_id")
ROLLUPS = (ORG, AREA)


def _rollup_upsert_sql(rollup, rows):
    """Tally rows (TALLY_KEY + TALLY_SUMS) added up per node of their team or village, in
    key order (so concurrent writers take the row locks in one order), into the roll-up."""
    table = rollup.sums._meta.db_table
    columns = TALLY_KEY + list(TALLY_SUMS)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    sums = ", ".join(f"SUM(v.{name})" for name in TALLY_SUMS)
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in TALLY_SUMS)
    node = f"via.{rollup.node}"
    return (
        f"WITH v ({', '.join(columns)}) AS (VALUES {values}) "
        f"INSERT INTO {table} ({', '.join(rollup.key + list(TALLY_SUMS))}) "
        f"SELECT v.year, v.month, {node}, v.activity_id, {sums} "
        f"FROM v JOIN {rollup.via_table} via ON via.id = v.{rollup.via_column} WHERE 1 = 1 "
        f"GROUP BY v.year, v.month, {node}, v.activity_id "
        f"ORDER BY v.year, v.month, {node}, v.activity_id "
        f"ON CONFLICT ({', '.join(rollup.key)}) DO UPDATE SET {updates}"
    )


def _unnest_upsert_sql(model, key_fields, sum_fields):
    """PostgreSQL: the upsert of many rows given as one array per column, in key order."""
    table = model._meta.db_table
    columns = key_fields + sum_fields
    types = {"year": "smallint", "month": "smallint", "funds": "numeric"}
    arrays = ", ".join(f"%s::{types.get(name, 'bigint')}[]" for name in columns)
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sum_fields)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({arrays}) AS v ({', '.join(columns)}) "
        f"ORDER BY {', '.join(key_fields)} "
        f"ON CONFLICT ({', '.join(key_fields)}) DO UPDATE SET {updates}"
    )


def _upsert(cursor, model, key_fields, sum_fields, rows):
    """Add rows (key + amounts, one per key, in key order) to a tally table: one statement
    per page of rows on PostgreSQL, as arrays (a round trip per row, or even
    execute_batch's statement per row, cost the import seconds)."""
    if len(rows) > 1 and connection.vendor == "postgresql":
        sql = _unnest_upsert_sql(model, key_fields, sum_fields)
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.execute(sql, [list(column) for column in zip(*rows[start:start + BATCH_SIZE])])
    elif len(rows) > 1:
        cursor.executemany(_upsert_sql(model, key_fields, sum_fields), rows)
    elif rows:
        cursor.execute(_upsert_sql(model, key_fields, sum_fields), rows[0])


def _summed(rows, key_length):
    """Rows with the same key added up into one, in key order, those adding nothing left
    out (one statement may then write them all: an upsert cannot touch a row twice)."""
    sums = {}
    for row in rows:
        key, amounts = tuple(row[:key_length]), row[key_length:]
        have = sums.get(key)
        sums[key] = list(amounts) if have is None else [a + b for a, b in zip(have, amounts)]
    return [[*key, *amounts] for key, amounts in sorted(sums.items()) if any(amounts)]


ROLLUP_ROWS_PER_STATEMENT = 500


def add_to_tallies(tally_rows, household_rows=()):
    """Add rows of contributions to the tallies: the one way every writer (the notebook, the
    import, the scale seed) changes them.

    `tally_rows`: [year, month, team_id, village_id, activity_id, entries, participants,
    sessions, quantity, funds, household_visits] each; `household_rows`: [year, month,
    household_id, team_id, village_id, activity_id, visits] each. Amounts may be negative.
    The roll-ups go last: their rows are the ones many teams share, so they are locked for
    the shortest time.
    """
    tally_rows, household_rows = _summed(tally_rows, len(TALLY_KEY)), _summed(household_rows, len(HOUSEHOLD_KEY))
    reach = Reach(household_rows)
    with connection.cursor() as cursor:
        _upsert(cursor, Tally, TALLY_KEY, list(TALLY_SUMS), tally_rows)
        _upsert(cursor, HouseholdTally, HOUSEHOLD_KEY, ["visits"], household_rows)
        for rollup in ROLLUPS:
            for start in range(0, len(tally_rows), ROLLUP_ROWS_PER_STATEMENT):
                chunk = tally_rows[start:start + ROLLUP_ROWS_PER_STATEMENT]
                cursor.execute(_rollup_upsert_sql(rollup, len(chunk)), [value for row in chunk for value in row])
        reach.write(cursor)


def reach_activity_ids():
    """The activities whose distinct households the roll-ups keep: those a
    distinct-households indicator counts."""
    through = Indicator.activities.through.objects
    return set(through.filter(indicator__measure=Measure.HOUSEHOLDS).values_list("activity_id", flat=True))


def ancestor_paths(path):
    """"a/b/c/" -> ["a/", "a/b/", "a/b/c/"]."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


def _chains(rollup, via_ids):
    """{team or village id: [ids of its node and the node's ancestors]}."""
    paths = dict(rollup.via.objects.filter(pk__in=via_ids).values_list("pk", rollup.via_path))
    prefixes = {via: ancestor_paths(path) for via, path in paths.items()}
    node_ids = dict(rollup.tree.objects.filter(
        path__in={p for chain in prefixes.values() for p in chain}).values_list("path", "pk"))
    return {via: [node_ids[p] for p in chain] for via, chain in prefixes.items()}


class Reach:
    """The change that household rows make to `OrgReach` and `AreaReach`: which (year,
    month or 0, node, activity) gain or lose a distinct household.

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
        groups = {(row[0], row[2], row[5]) for row in rows}
        for rollup in ROLLUPS:
            via = HOUSEHOLD_KEY.index(rollup.via_column)
            chains = _chains(rollup, {key[via] for key in after})

            def reached(state):
                keys = set()
                for key, visits in state.items():
                    year, month, household, activity = key[0], key[1], key[2], key[5]
                    if visits > 0 and (year, household, activity) in groups:
                        for node in chains[key[via]]:
                            keys.add((year, month, node, activity, household))
                            keys.add((year, 0, node, activity, household))
                return keys

            was, now = reached(before), reached(after)
            changes = defaultdict(int)
            for keys, sign in ((now - was, 1), (was - now, -1)):
                for *reach_key, _household in keys:
                    changes[tuple(reach_key)] += sign
            self.changes[rollup] = [[*key, n] for key, n in sorted(changes.items()) if n]

    def write(self, cursor):
        for rollup, rows in self.changes.items():
            _upsert(cursor, rollup.reach, rollup.key, ["households"], rows)


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


def _add_rollup_sums(rollup_tallies, tallies, node_of, via):
    """Add tally rows ({TALLY_KEY: sums}) to per-node sums, as a roll-up keeps them."""
    for key, values in tallies.items():
        sums = rollup_tallies.setdefault((key[0], key[1], node_of[key[via]], key[4]), dict.fromkeys(TALLY_SUMS, 0))
        for name in TALLY_SUMS:
            sums[name] += values[name]


def _rollup_stored(rollup):
    rollup_tallies = {}
    for row in rollup.sums.objects.values(*rollup.key, *TALLY_SUMS):
        values = {name: row[name] for name in TALLY_SUMS}
        if any(values.values()):
            values["funds"] = Decimal(values["funds"]).quantize(Decimal("0.01"))
            rollup_tallies[tuple(row[name] for name in rollup.key)] = values
    return rollup_tallies


def _reach_stored(rollup):
    return {tuple(row[:4]): row[4] for row in rollup.reach.objects.filter(households__gt=0)
            .values_list(*rollup.key, "households")}


def _reach_from_household_tallies(rollup):
    """A roll-up's households reached as the household tallies give them, counted by the
    database."""
    activity_ids = sorted(reach_activity_ids())
    if not activity_ids:
        return {}
    counts = {}
    with connection.cursor() as cursor:
        for month, group in (("reached.month", "reached.month, "), ("0", "")):
            cursor.execute(_reach_select(rollup, month=month, group=group, where="1 = 1",
                                         activities=len(activity_ids)), activity_ids)
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
    memory stays flat at millions of entries), the roll-ups' sums from those recounts,
    and their households reached by the database from the household tallies checked
    that way.
    """
    lines = []
    rollup_expected = {rollup: {} for rollup in ROLLUPS}
    node_of = {rollup: dict(rollup.via.objects.values_list("pk", rollup.node)) for rollup in ROLLUPS}
    team_ids = sorted(node_of[ORG])
    for start in range(0, len(team_ids), VERIFY_TEAMS_AT_ONCE):
        chunk = team_ids[start:start + VERIFY_TEAMS_AT_ONCE]
        expected_tallies, expected_households = recount(Entry.objects.filter(team_id__in=chunk))
        actual_tallies, actual_households = stored(chunk)
        _compare(lines, "tally", TALLY_KEY, expected_tallies, actual_tallies, None)
        _compare(lines, "household tally", HOUSEHOLD_KEY, expected_households, actual_households, 0)
        for rollup in ROLLUPS:
            _add_rollup_sums(rollup_expected[rollup], expected_tallies, node_of[rollup],
                             TALLY_KEY.index(rollup.via_column))
    for rollup in ROLLUPS:
        label = rollup.tree._meta.model_name
        expected = {key: sums for key, sums in rollup_expected[rollup].items() if any(sums.values())}
        _compare(lines, f"{label} tally", rollup.key, expected, _rollup_stored(rollup), None)
        _compare(lines, f"households reached by {label}", rollup.key,
                 _reach_from_household_tallies(rollup), _reach_stored(rollup), 0)
    return lines


def _sums_recount(rollup, where):
    table = rollup.sums._meta.db_table
    return (
        f"INSERT INTO {table} ({', '.join(rollup.key + list(TALLY_SUMS))}) "
        f"SELECT tally.year, tally.month, via.{rollup.node}, tally.activity_id, "
        f"{', '.join(f'SUM(tally.{name})' for name in TALLY_SUMS)} "
        f"FROM {Tally._meta.db_table} tally JOIN {rollup.via_table} via ON via.id = tally.{rollup.via_column} "
        f"WHERE {where} GROUP BY tally.year, tally.month, via.{rollup.node}, tally.activity_id"
    )


def _lock(cursor, model):
    """On PostgreSQL, hold writers of a roll-up off while it is recounted: changes in
    flight finish first, later ones wait and then add to the recounted rows."""
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {model._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def recount_rollup_sums(rollup, node_ids=None):
    """Recompute a roll-up's sums from `Tally`, for some nodes (after a team or village
    moved between them) or all."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, rollup.sums)
        if node_ids is None:
            cursor.execute(f"DELETE FROM {rollup.sums._meta.db_table}")
            cursor.execute(_sums_recount(rollup, "1 = 1"))
        else:
            ids = sorted(set(node_ids))
            rollup.sums.objects.filter(**{f"{rollup.node}__in": ids}).delete()
            cursor.execute(_sums_recount(rollup, f"via.{rollup.node} IN ({', '.join(['%s'] * len(ids))})"), ids)


def _reach_select(rollup, *, month, group, where, activities):
    """Households reached per (year, month or 0, node, activity), from `HouseholdTally`:
    the rows filtered first, then joined to every ancestor of their node."""
    tree = rollup.tree._meta.db_table
    return f"""
WITH reached AS MATERIALIZED (
    SELECT ht.year, ht.month, ht.household_id, ht.activity_id, via.{rollup.node} AS node_id
    FROM {HouseholdTally._meta.db_table} ht JOIN {rollup.via_table} via ON via.id = ht.{rollup.via_column}
    WHERE ht.visits > 0 AND ht.activity_id IN ({", ".join(["%s"] * activities)})
)
SELECT reached.year, {month}, ancestor.id, reached.activity_id, COUNT(DISTINCT reached.household_id)
FROM reached
JOIN {tree} node ON node.id = reached.node_id
JOIN {tree} ancestor ON substr(node.path, 1, length(ancestor.path)) = ancestor.path
WHERE {where}
GROUP BY reached.year, {group}ancestor.id, reached.activity_id
"""


def recount_reach(rollups=ROLLUPS, node_ids=None, activity_ids=None):
    """Recompute the households reached from `HouseholdTally` for some roll-ups, nodes and
    activities, or all of them (locked against writers meanwhile on PostgreSQL)."""
    every_activity = activity_ids is None
    activity_ids = sorted(reach_activity_ids() if every_activity else activity_ids)
    for rollup in rollups:
        # Every activity's rows go when all are recounted: those no longer counted too.
        stale = rollup.reach.objects.all() if every_activity else rollup.reach.objects.filter(
            activity_id__in=activity_ids)
        with transaction.atomic(), connection.cursor() as cursor:
            _lock(cursor, rollup.reach)
            where, params = "1 = 1", []
            if node_ids is not None:
                ids = sorted(set(node_ids))
                stale = stale.filter(**{f"{rollup.node}__in": ids})
                where, params = f"ancestor.id IN ({', '.join(['%s'] * len(ids))})", ids
            stale.delete()
            if not activity_ids or (node_ids is not None and not params):
                continue
            table = rollup.reach._meta.db_table
            for month, group in (("reached.month", "reached.month, "), ("0", "")):
                select = _reach_select(rollup, month=month, group=group, where=where, activities=len(activity_ids))
                cursor.execute(f"INSERT INTO {table} ({', '.join(rollup.key)}, households) {select}",
                               [*activity_ids, *params])


def recount_rollups():
    """Recompute every roll-up from the tallies (after a bulk load)."""
    for rollup in ROLLUPS:
        recount_rollup_sums(rollup)
    recount_reach()


def _chain_ids(rollup, *node_ids):
    paths = rollup.tree.objects.filter(pk__in=node_ids).values_list("path", flat=True)
    prefixes = {prefix for path in paths for prefix in ancestor_paths(path)}
    return list(rollup.tree.objects.filter(path__in=prefixes).values_list("pk", flat=True))


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
    recount_rollups()
    return tuple(made)


def _moving(instance, field):
    """Before a team, village or tree node is saved: remember where it hangs now."""
    instance._before = (
        type(instance).objects.filter(pk=instance.pk).values_list(field, flat=True).first()
        if instance.pk else None
    )


def _moved(instance, field):
    """(where it hung, where it hangs) if a saved team, village or node moved, else None."""
    before, now = getattr(instance, "_before", None), getattr(instance, field)
    return (before, now) if instance.pk and before is not None and before != now else None


def via_moving(instance):
    _moving(instance, "organisation_id" if isinstance(instance, Team) else "area_id")


def via_moved(instance):
    """A team moved to another organisation, or a village to another area: once that is
    committed, recount both nodes' roll-ups (its tallies now add up under the new one)."""
    rollup = ORG if isinstance(instance, Team) else AREA
    moved = _moved(instance, rollup.node)
    if moved:

        def recount():
            recount_rollup_sums(rollup, moved)
            recount_reach([rollup], _chain_ids(rollup, *moved))

        transaction.on_commit(recount)


def node_moving(node):
    _moving(node, "parent_id")


def node_moved(node):
    """An organisation or area moved under another parent: its subtree's households now
    count towards other ancestors, so recount that tree's households reached once
    committed. (Sums are kept per node and read by path: they need nothing.)"""
    if getattr(node, "_before", None) != node.parent_id and node.pk:
        rollup = ORG if isinstance(node, Organisation) else AREA
        transaction.on_commit(lambda: recount_reach([rollup]))


def indicator_changing(indicator):
    """Before an indicator is saved: remember whether it counted distinct households."""
    indicator._measure_before = (
        Indicator.objects.filter(pk=indicator.pk).values_list("measure", flat=True).first()
        if indicator.pk else None
    )


def indicator_saved(indicator):
    """After an indicator is saved: when it starts or stops counting distinct households,
    recount the households reached once committed. Its label or order changes no figure,
    and a new indicator's activities arrive afterwards (indicator_activities_changed)."""
    before = getattr(indicator, "_measure_before", None)
    if before != indicator.measure and Measure.HOUSEHOLDS in {before, indicator.measure}:
        transaction.on_commit(recount_reach)


def indicator_activities_changed(instance):
    """A distinct-households indicator counts other activities (`instance` is the indicator,
    or an activity when the link was changed from its side): recount once committed."""
    if getattr(instance, "measure", Measure.HOUSEHOLDS) == Measure.HOUSEHOLDS:
        transaction.on_commit(recount_reach)


def indicator_deleted(indicator):
    """A distinct-households indicator is gone: its activities may no longer be counted."""
    if indicator.measure == Measure.HOUSEHOLDS:
        transaction.on_commit(recount_reach)
