"""Households reached: what household rows change in `OrgReach` and `AreaReach`, which
count the distinct households reached at every node of the two trees and its ancestors.

`reach_changes` is read before the household rows are written (it reads the households'
rows as they stand) and written after them (worklog.tallies.write), by a writer that holds
the structure it reads (worklog.tallies.structure).
"""

from collections import Counter

from django.db import connection

from teams import statements
from teams.models import Household
from worklog.models import Indicator, Measure
from worklog.tallies.keys import HOUSEHOLD_TALLY, ROLLUPS, Reached, RollupKey
from worklog.tallies.structure import read_chains_of


def reach_activity_ids():
    """The activities whose distinct households the roll-ups keep: those a
    distinct-households indicator counts."""
    through = Indicator.activities.through.objects
    return set(through.filter(indicator__measure=Measure.HOUSEHOLDS).values_list("activity_id", flat=True))


def _in(values):
    return f"IN ({', '.join(['%s'] * len(values))})"


def _lock_households(household_ids):
    """Lock the households against a concurrent change of their reach till the transaction
    ends (PostgreSQL). FOR NO KEY UPDATE keeps two such changes apart but lets other
    transactions' foreign-key checks on the households through."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            statements.execute(cursor, f"SELECT id FROM {Household._meta.db_table} WHERE id {_in(household_ids)} "
                                       f"ORDER BY id FOR NO KEY UPDATE", household_ids)


def _stored_visits(household_ids, years, activity_ids):
    """{HouseholdKey: visits} of the household tallies of these households, years and
    activities that count a visit (raw SQL: this runs on every visit posted)."""
    years, activity_ids = sorted(years), sorted(activity_ids)
    with connection.cursor() as cursor:
        statements.execute(
            cursor, f"SELECT {', '.join(HOUSEHOLD_TALLY.columns)} FROM {HOUSEHOLD_TALLY.db_table} "
            f"WHERE household_id {_in(household_ids)} AND year {_in(years)} "
            f"AND activity_id {_in(activity_ids)} AND visits > 0",
            [*household_ids, *years, *activity_ids],
        )
        return Counter({key: sums.visits for key, sums in map(HOUSEHOLD_TALLY.row, cursor.fetchall())})


def _counted_sql(activity_ids):
    """(sql, params) of reach_activity_ids among `activity_ids`."""
    links = Indicator.activities.through._meta.db_table
    return (
        f"SELECT link.activity_id FROM {links} link JOIN {Indicator._meta.db_table} indicator "
        f"ON indicator.id = link.indicator_id WHERE indicator.measure = %s AND link.activity_id {_in(activity_ids)}",
        [Measure.HOUSEHOLDS, *activity_ids],
    )


def reach_changes(household_rows):
    """What household rows ([(HouseholdKey, Visits)] in key order, amounts summed per key)
    change in the households reached: {rollup: [(RollupKey, Reached)] in key order}, the
    (year, month or 0, node, activity)s gaining (+1) or losing (-1) a distinct household.

    Reads the counted activities with the chains of the rows' teams and villages (one
    statement; the writer holds them), then locks the households concerned and reads their
    household tallies as they stand (a statement of its own, taking its snapshot after the
    locks were granted)."""
    if not household_rows:
        return {}
    activity_ids = sorted({key.activity_id for key, _visits in household_rows})
    chains, counted = read_chains_of(
        {rollup: {getattr(key, rollup.via_column) for key, _visits in household_rows} for rollup in ROLLUPS},
        extra=_counted_sql(activity_ids),
    )
    counted = set(counted)
    rows = [(key, visits) for key, visits in household_rows if key.activity_id in counted]
    if not rows:
        return {}
    household_ids = sorted({key.household_id for key, _visits in rows})
    _lock_households(household_ids)
    before = _stored_visits(household_ids, {key.year for key, _visits in rows}, counted)
    after = before.copy()
    for key, sums in rows:
        after[key] += sums.visits
    # Rows of other teams (or villages) that reached these households too: their chains.
    others = {rollup: {getattr(key, rollup.via_column) for key in after} - set(chains[rollup]) for rollup in ROLLUPS}
    if any(others.values()):
        for rollup, more in read_chains_of(others)[0].items():
            chains[rollup].update(more)
    groups = {(key.year, key.household_id, key.activity_id) for key, _visits in rows}

    def concerned(state):
        """The rows of `state` that reach a household of the groups changing."""
        return [key for key, visits in state.items()
                if visits > 0 and (key.year, key.household_id, key.activity_id) in groups]

    was_rows, now_rows = concerned(before), concerned(after)
    changes = {}
    for rollup in ROLLUPS:
        chains_of, via = chains[rollup], rollup.via_column

        def reached(keys):
            """(year, month or 0, node, activity, household)s reached by the rows `keys`
            (plain tuples: this runs for every node and month of every row)."""
            return {(key.year, month, node_id, key.activity_id, key.household_id)
                    for key in keys for node_id in chains_of[getattr(key, via)] for month in (key.month, 0)}

        was, now = reached(was_rows), reached(now_rows)
        counts = Counter()
        for pairs, sign in ((now - was, 1), (was - now, -1)):
            for pair in pairs:
                counts[pair[:4]] += sign
        changes[rollup] = [(RollupKey._make(key), Reached(n)) for key, n in sorted(counts.items()) if n]
    return changes
