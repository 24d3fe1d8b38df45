"""Recounting the roll-ups from the tallies: after a bulk load, and for the nodes or
activities whose figures a change of structure moved (worklog.tallies.receivers, which
holds them against writers meanwhile: worklog.tallies.structure).

(The module is not called `recount`: that is the name of the entries' recount in
worklog.tallies.verify, which the package exports.)
"""

from django.db import connection, transaction

from worklog.tallies.keys import HOUSEHOLD_TALLY, ROLLUPS, TALLY, TallySums
from worklog.tallies.reach import reach_activity_ids


def _where(condition):
    return f"WHERE {condition} " if condition else ""


def _in(ids):
    return f"IN ({', '.join(['%s'] * len(ids))})"


def _sums_recount(rollup, condition=""):
    key = rollup.key_sql("tally", "via")
    return (
        f"INSERT INTO {rollup.sums_table.db_table} ({', '.join(rollup.sums_table.columns)}) "
        f"SELECT {key}, {', '.join(f'SUM(tally.{name})' for name in TallySums._fields)} "
        f"FROM {TALLY.db_table} tally JOIN {rollup.via_table} via ON via.id = tally.{rollup.via_column} "
        f"{_where(condition)}GROUP BY {key}"
    )


def _lock(cursor, model):
    """On PostgreSQL, hold every writer of a roll-up off while all of it is recounted (after
    a bulk load): changes in flight finish first, later ones wait and then add to the
    recounted rows."""
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {model._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def recount_rollup_sums(rollup, node_ids=None):
    """Recompute a roll-up's sums from `Tally`, for some nodes (after a team or village
    moved between them; the caller holds them) or all."""
    with transaction.atomic(), connection.cursor() as cursor:
        if node_ids is None:
            _lock(cursor, rollup.sums)
            cursor.execute(f"DELETE FROM {rollup.sums_table.db_table}")
            cursor.execute(_sums_recount(rollup))
        else:
            ids = sorted(set(node_ids))
            rollup.sums.objects.filter(**{f"{rollup.node_field}__in": ids}).delete()
            cursor.execute(_sums_recount(rollup, f"via.{rollup.node_column} {_in(ids)}"), ids)


def reach_select(rollup, activity_ids, *, by_month, condition=""):
    """Households reached per (year, month or 0, node, activity), from `HouseholdTally`:
    the rows of the activities filtered first, then joined to every ancestor of their
    node; per month (`by_month`) or per year (month 0). The parameters: the activity ids,
    then those of `condition` (which may name `ancestry.ancestor_id`).

    Ancestors by parent, not by path: a recount after a node moved runs before its
    descendants' paths are rewritten (worklog.tallies.receivers)."""
    tree = rollup.tree._meta.db_table
    month, group = ("reached.month", "reached.month, ") if by_month else ("0", "")
    return f"""
WITH RECURSIVE ancestry (node_id, ancestor_id) AS (
    SELECT id, id FROM {tree}
    UNION
    SELECT ancestry.node_id, node.parent_id FROM ancestry JOIN {tree} node ON node.id = ancestry.ancestor_id
    WHERE node.parent_id IS NOT NULL
), reached AS MATERIALIZED (
    SELECT ht.year, ht.month, ht.household_id, ht.activity_id, via.{rollup.node_column} AS node_id
    FROM {HOUSEHOLD_TALLY.db_table} ht JOIN {rollup.via_table} via ON via.id = ht.{rollup.via_column}
    WHERE ht.visits > 0 AND ht.activity_id {_in(activity_ids)}
)
SELECT reached.year, {month}, ancestry.ancestor_id, reached.activity_id, COUNT(DISTINCT reached.household_id)
FROM reached
JOIN ancestry ON ancestry.node_id = reached.node_id
{_where(condition)}GROUP BY reached.year, {group}ancestry.ancestor_id, reached.activity_id
"""


def recount_reach(rollups=ROLLUPS, node_ids=None, activity_ids=None):
    """Recompute the households reached from `HouseholdTally` for some roll-ups, nodes and
    activities (the caller holds them), or all of them (every writer held off meanwhile
    on PostgreSQL). The rows of activities no longer counted go."""
    counted = reach_activity_ids()
    everything = node_ids is None and activity_ids is None
    for rollup in rollups:
        stale = rollup.reach.objects.all()
        if activity_ids is not None:
            stale = stale.filter(activity_id__in=activity_ids)
        if node_ids is not None:
            stale = stale.filter(**{f"{rollup.node_field}__in": node_ids})
        recounted = sorted(counted if activity_ids is None else counted & set(activity_ids))
        with transaction.atomic(), connection.cursor() as cursor:
            if everything:
                _lock(cursor, rollup.reach)
            stale.delete()
            if not recounted or (node_ids is not None and not node_ids):
                continue
            condition, params = "", []
            if node_ids is not None:
                params = sorted(set(node_ids))
                condition = f"ancestry.ancestor_id {_in(params)}"
            table = rollup.reach_table
            for by_month in (True, False):
                cursor.execute(
                    f"INSERT INTO {table.db_table} ({', '.join(table.columns)}) "
                    + reach_select(rollup, recounted, by_month=by_month, condition=condition),
                    [*recounted, *params],
                )


def recount_rollups():
    """Recompute every roll-up from the tallies (after a bulk load)."""
    for rollup in ROLLUPS:
        recount_rollup_sums(rollup)
    recount_reach()
