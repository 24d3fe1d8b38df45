"""Recounting the roll-ups from the tallies: after a bulk load, and for the nodes a team,
village or tree node moved between (worklog.tallies.receivers).

(The module is not called `recount`: that is the name of the entries' recount in
worklog.tallies.verify, which the package exports.)
"""

from django.db import connection, transaction

from worklog.tallies.keys import HOUSEHOLD_TALLY, ROLLUPS, TALLY, TallySums
from worklog.tallies.reach import ancestor_paths, reach_activity_ids


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
    then those of `condition` (which may name `ancestor`)."""
    tree = rollup.tree._meta.db_table
    month, group = ("reached.month", "reached.month, ") if by_month else ("0", "")
    return f"""
WITH reached AS MATERIALIZED (
    SELECT ht.year, ht.month, ht.household_id, ht.activity_id, via.{rollup.node_column} AS node_id
    FROM {HOUSEHOLD_TALLY.db_table} ht JOIN {rollup.via_table} via ON via.id = ht.{rollup.via_column}
    WHERE ht.visits > 0 AND ht.activity_id {_in(activity_ids)}
)
SELECT reached.year, {month}, ancestor.id, reached.activity_id, COUNT(DISTINCT reached.household_id)
FROM reached
JOIN {tree} node ON node.id = reached.node_id
JOIN {tree} ancestor ON substr(node.path, 1, length(ancestor.path)) = ancestor.path
{_where(condition)}GROUP BY reached.year, {group}ancestor.id, reached.activity_id
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
            condition, params = "", []
            if node_ids is not None:
                params = sorted(set(node_ids))
                stale = stale.filter(**{f"{rollup.node_field}__in": params})
                condition = f"ancestor.id {_in(params)}"
            stale.delete()
            if not activity_ids or (node_ids is not None and not params):
                continue
            table = rollup.reach_table
            for by_month in (True, False):
                cursor.execute(
                    f"INSERT INTO {table.db_table} ({', '.join(table.columns)}) "
                    + reach_select(rollup, activity_ids, by_month=by_month, condition=condition),
                    [*activity_ids, *params],
                )


def recount_rollups():
    """Recompute every roll-up from the tallies (after a bulk load)."""
    for rollup in ROLLUPS:
        recount_rollup_sums(rollup)
    recount_reach()


def chain_ids(rollup, *node_ids):
    """The ids of these nodes and of all their ancestors."""
    paths = rollup.tree.objects.filter(pk__in=node_ids).values_list("path", flat=True)
    prefixes = {prefix for path in paths for prefix in ancestor_paths(path)}
    return list(rollup.tree.objects.filter(path__in=prefixes).values_list("pk", flat=True))
