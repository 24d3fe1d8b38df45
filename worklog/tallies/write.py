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

from functools import lru_cache
from typing import NamedTuple

from django.db import connection

from teams import statements as prepared
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


def _typed_placeholders(table):
    """A row of placeholders for the table's columns, typed as the columns on PostgreSQL:
    a VALUES list without a table to go in says its types by its first row, which a
    prepared statement (teams.statements) must know when it is planned."""
    if connection.vendor != "postgresql":
        return _placeholders(len(table.columns))
    fields = table.model._meta
    return "(" + ", ".join(f"%s::{fields.get_field(column).db_type(connection)}" for column in table.columns) + ")"


def _unnest_sql(table):
    """PostgreSQL: the rows as one array per column (typed as the columns are), in key order."""
    fields = table.model._meta
    arrays = ", ".join(f"%s::{fields.get_field(column).db_type(connection)}[]" for column in table.columns)
    return (
        f"SELECT * FROM unnest({arrays}) AS v ({', '.join(table.columns)}) "
        f"ORDER BY {', '.join(table.key_columns)}"
    )


class Statement(NamedTuple):
    table: str
    sql: str
    params: list
    many: bool = False  # params is a list of rows, for executemany (SQLite)


def adding_statements(table, rows):
    """The statements adding rows ([(key, sums)], one per key, in key order) to a table of
    running sums: one per page of rows on PostgreSQL, as arrays (a round trip per row, or
    even execute_batch's statement per row, cost the import seconds)."""
    values = [key + sums for key, sums in rows]
    if len(values) > 1 and connection.vendor == "postgresql":
        sql = adding_sql(table, _unnest_sql(table))
        return [Statement(table.db_table, sql, [list(column) for column in zip(*values[start:start + BATCH_SIZE])])
                for start in range(0, len(values), BATCH_SIZE)]
    if len(values) > 1:
        return [Statement(table.db_table, adding_sql(table, "VALUES " + _placeholders(len(table.columns))),
                          values, many=True)]
    if values:
        return [Statement(table.db_table, adding_sql(table, "VALUES " + _placeholders(len(table.columns))),
                          list(values[0]))]
    return []


def execute(cursor, statements):
    """Run the statements in their order. On PostgreSQL, consecutive ones on different
    tables go as one statement, each in a data-modifying CTE: one round trip instead of one
    per table. They run in the order given (the main query reads them in that order), so
    rows are still locked table by table as before. (Two on the same table stay apart: one
    statement must not change a row twice.)"""
    group = []

    def flush():
        if len(group) == 1:
            prepared.execute(cursor, group[0].sql, group[0].params)
        elif group:
            ctes = ", ".join(f"s{index} AS ({statement.sql} RETURNING 1)" for index, statement in enumerate(group))
            reads = ", ".join(f"(SELECT COUNT(*) FROM s{index})" for index in range(len(group)))
            prepared.execute(cursor, f"WITH {ctes} SELECT {reads}",
                             [value for statement in group for value in statement.params])
        group.clear()

    for statement in statements:
        if statement.many:
            flush()
            cursor.executemany(statement.sql, statement.params)
        elif connection.vendor != "postgresql":
            cursor.execute(statement.sql, statement.params)
        else:
            if any(other.table == statement.table for other in group):
                flush()
            group.append(statement)
    flush()


def add_rows(cursor, table, rows):
    """Add rows ([(key, sums)], one per key, in key order) to a table of running sums."""
    execute(cursor, adding_statements(table, rows))


def _rolled_up_sql(rollup, count):
    """`count` tally rows added up per node of their team or village into the roll-up, in
    key order (so concurrent writers take the row locks in one order). The GROUP BY
    between the join and ON CONFLICT also keeps SQLite from reading that ON as the join's
    (the "parsing ambiguity" of its upsert documentation)."""
    return _rolled_up_sql_of(rollup, count, connection.vendor)


@lru_cache(maxsize=64)  # the same few texts on every post: building them was a tenth of its CPU
def _rolled_up_sql_of(rollup, count, vendor):
    key = rollup.key_sql("v", "via")
    sums = ", ".join(f"SUM(v.{name})" for name in TallySums._fields)
    values = ", ".join([_typed_placeholders(TALLY)] + [_placeholders(len(TALLY.columns))] * (count - 1))
    return adding_sql(
        rollup.sums_table,
        f"WITH v ({', '.join(TALLY.columns)}) AS (VALUES {values}) "
        f"SELECT {key}, {sums} FROM v JOIN {rollup.via_table} via ON via.id = v.{rollup.via_column} "
        f"GROUP BY {key} ORDER BY {key}",
    )


def rolled_up_statements(rollup, tally_rows):
    """The statements adding tally rows ([(TallyKey, TallySums)] in key order) to a
    roll-up's sums."""
    return [
        Statement(rollup.sums_table.db_table, _rolled_up_sql(rollup, len(chunk)),
                  [value for key, sums in chunk for value in key + sums])
        for chunk in (tally_rows[start:start + ROLLUP_ROWS_PER_STATEMENT]
                      for start in range(0, len(tally_rows), ROLLUP_ROWS_PER_STATEMENT))
    ]


def add_rolled_up(cursor, rollup, tally_rows):
    """Add tally rows ([(TallyKey, TallySums)] in key order) to a roll-up's sums."""
    execute(cursor, rolled_up_statements(rollup, tally_rows))


def add_to_tallies(tallies, households, *, held=False):
    """Add rows of contributions ({TallyKey: TallySums} and {HouseholdKey: Visits}; amounts
    may be negative) to the tallies and their roll-ups: how the services and the import
    change them. (The scale seed writes its months' rows with `add_rows` or COPY and then
    recounts the roll-ups.)

    The structure the roll-ups follow is held first, against a change of it till the
    transaction ends (worklog.tallies.structure), unless the caller `held` it already.
    The roll-ups go last: their rows are the
    ones many teams share, so they are locked for the shortest time.
    """
    tally_rows, household_rows = in_key_order(tallies), in_key_order(households)
    if not held:
        hold_for_writing([key for key, _sums in tally_rows + household_rows])
    reached = reach_changes(household_rows)
    statements = adding_statements(TALLY, tally_rows) + adding_statements(HOUSEHOLD_TALLY, household_rows)
    for rollup in ROLLUPS:
        statements += rolled_up_statements(rollup, tally_rows)
    for rollup, rows in reached.items():
        statements += adding_statements(rollup.reach_table, rows)
    with connection.cursor() as cursor:
        execute(cursor, statements)


def apply_entries(changes, *, held=False):
    """Add (sign +1) or take out (sign -1) the contributions of entries, given as
    (EntrySnapshot, sign) pairs, summed per key first. `held`: the caller holds their
    teams, villages and activities already (hold_for_writing)."""
    add_to_tallies(*contributions(changes), held=held)


def apply_entry(snapshot, sign):
    """Add (sign=+1) or take out (sign=-1) one entry's contribution, if it counts."""
    apply_entries([(snapshot, sign)])


def apply_change(before, after):
    """Move the tallies from an entry's old state to its new one, in one go (rows in key
    order, so two changes never wait for each other's locks in a circle)."""
    if before != after:
        apply_entries([(before, -1), (after, +1)])
