"""Writing the tallies, in the transaction of every entry change.

An entry counts in the tallies while it is live. A change is "take the old values out,
put the new ones in" (`apply_change`), each row added to by one
`INSERT … ON CONFLICT DO UPDATE` (`adding_sql`), which is atomic on PostgreSQL and SQLite
alike, so concurrent writers never lose an increment.

The roll-ups add the same amounts up per node of the two trees: `OrgTally` per
organisation of the team and `AreaTally` per area of the village, and `OrgReach` /
`AreaReach` count the distinct households reached at every ancestor
(worklog.tallies.reach).
"""

from django.db import connection

from worklog.tallies.keys import (
    HOUSEHOLD_TALLY,
    ROLLUPS,
    TALLY,
    TallySums,
    contributions,
    in_key_order,
)
from worklog.tallies.reach import reach_changes
from worklog.tallies.structure import hold_for_writing

BATCH_SIZE = 20000  # rows per statement of a bulk upsert on PostgreSQL
ROLLUP_ROWS_PER_STATEMENT = 500


def adding_sql(table, rows_sql):
    """The one "add to the row" statement: insert the rows that `rows_sql` gives (the
    table's columns, one row per key) into `table` (a `keys.Table`), adding their sums to
    those of a key already stored."""
    name = table.db_table
    updates = ", ".join(f"{column} = {name}.{column} + excluded.{column}" for column in table.sum_columns)
    return (
        f"INSERT INTO {name} ({', '.join(table.columns)}) {rows_sql} "
        f"ON CONFLICT ({', '.join(table.key_columns)}) DO UPDATE SET {updates}"
    )


def _placeholders(count):
    return "(" + ", ".join(["%s"] * count) + ")"


def _unnest_sql(table):
    """PostgreSQL: the rows as one array per column (typed as the columns are), in key order."""
    fields = table.model._meta
    arrays = ", ".join(f"%s::{fields.get_field(column).db_type(connection)}[]" for column in table.columns)
    return (
        f"SELECT * FROM unnest({arrays}) AS v ({', '.join(table.columns)}) "
        f"ORDER BY {', '.join(table.key_columns)}"
    )


def add_rows(cursor, table, rows):
    """Add rows ([(key, sums)], one per key, in key order) to a table of running sums: one
    statement per page of rows on PostgreSQL, as arrays (a round trip per row, or even
    execute_batch's statement per row, cost the import seconds)."""
    values = [key + sums for key, sums in rows]
    if len(values) > 1 and connection.vendor == "postgresql":
        sql = adding_sql(table, _unnest_sql(table))
        for start in range(0, len(values), BATCH_SIZE):
            cursor.execute(sql, [list(column) for column in zip(*values[start:start + BATCH_SIZE])])
    elif len(values) > 1:
        cursor.executemany(adding_sql(table, "VALUES " + _placeholders(len(table.columns))), values)
    elif values:
        cursor.execute(adding_sql(table, "VALUES " + _placeholders(len(table.columns))), values[0])


def _rolled_up_sql(rollup, count):
    """`count` tally rows added up per node of their team or village into the roll-up, in
    key order (so concurrent writers take the row locks in one order). The GROUP BY
    between the join and ON CONFLICT also keeps SQLite from reading that ON as the join's
    (the "parsing ambiguity" of its upsert documentation)."""
    key = rollup.key_sql("v", "via")
    sums = ", ".join(f"SUM(v.{name})" for name in TallySums._fields)
    values = ", ".join([_placeholders(len(TALLY.columns))] * count)
    return adding_sql(
        rollup.sums_table,
        f"WITH v ({', '.join(TALLY.columns)}) AS (VALUES {values}) "
        f"SELECT {key}, {sums} FROM v JOIN {rollup.via_table} via ON via.id = v.{rollup.via_column} "
        f"GROUP BY {key} ORDER BY {key}",
    )


def add_rolled_up(cursor, rollup, tally_rows):
    """Add tally rows ([(TallyKey, TallySums)] in key order) to a roll-up's sums."""
    for start in range(0, len(tally_rows), ROLLUP_ROWS_PER_STATEMENT):
        chunk = tally_rows[start:start + ROLLUP_ROWS_PER_STATEMENT]
        cursor.execute(_rolled_up_sql(rollup, len(chunk)), [value for key, sums in chunk for value in key + sums])


def add_to_tallies(tallies, households):
    """Add rows of contributions ({TallyKey: TallySums} and {HouseholdKey: Visits}; amounts
    may be negative) to the tallies and their roll-ups: how the services and the import
    change them. (The scale seed writes its months' rows with `add_rows` or COPY and then
    recounts the roll-ups.)

    The structure the roll-ups follow is held first, against a change of it till the
    transaction ends (worklog.tallies.structure). The roll-ups go last: their rows are the
    ones many teams share, so they are locked for the shortest time.
    """
    tally_rows, household_rows = in_key_order(tallies), in_key_order(households)
    hold_for_writing([key for key, _sums in tally_rows + household_rows])
    reached = reach_changes(household_rows)
    with connection.cursor() as cursor:
        add_rows(cursor, TALLY, tally_rows)
        add_rows(cursor, HOUSEHOLD_TALLY, household_rows)
        for rollup in ROLLUPS:
            add_rolled_up(cursor, rollup, tally_rows)
        for rollup, rows in reached.items():
            add_rows(cursor, rollup.reach_table, rows)


def apply_entries(changes):
    """Add (sign +1) or take out (sign -1) the contributions of entries, given as
    (EntrySnapshot, sign) pairs, summed per key first."""
    add_to_tallies(*contributions(changes))


def apply_entry(snapshot, sign):
    """Add (sign=+1) or take out (sign=-1) one entry's contribution, if it counts."""
    apply_entries([(snapshot, sign)])


def apply_change(before, after):
    """Move the tallies from an entry's old state to its new one, in one go (rows in key
    order, so two changes never wait for each other's locks in a circle)."""
    if before != after:
        apply_entries([(before, -1), (after, +1)])
