"""The plain statements that every post runs, as PostgreSQL prepared statements: planned
when first run on a database connection, then run from that plan.

Under a load of one entry per request, PostgreSQL spent most of its CPU planning a post's
dozen small statements (a four-table join of a member's teams: ≈ 0.4 ms planned each
time, ≈ 0.05 ms run from a prepared plan; bench/findings.md). The statements are the
same ones, with the same locks and results: `PREPARE` and the first `EXECUTE` go in one
round trip, so a statement counts once in a query budget whether or not it was prepared
on this connection before, and the `EXECUTE` carries the statement's text as a comment,
for pg_stat_activity, a query log and the tests that read what was run.

Only where the connection keeps its server session from one transaction to the next:
behind pgbouncer in transaction mode a prepared statement would be missing on the next
server connection, so `DB_PREPARED_STATEMENTS=0` there (settings: off by default when
`DB_DISABLE_SERVER_SIDE_CURSORS=1`, which says the same). SQLite runs them as they are.
"""

import hashlib
import re

# A statement of a large batch is planned each time: its planning is a small share of its
# work, and its text (a row of placeholders per entry) is rarely seen twice.
MOST_PARAMETERS = 300
# Batches of other sizes are statements of other texts: a session prepares this many at
# most (PostgreSQL keeps each plan in the server process's memory), the rest are planned
# each time.
MOST_PREPARED = 100
PLACEHOLDER = re.compile(r"%s|%%")


def _numbered(sql):
    """Django's `%s` placeholders as PostgreSQL's `$1`, `$2`…; `%%` as `%`."""
    count = 0

    def number(match):
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return PLACEHOLDER.sub(number, sql)


_NAMED = {}  # sql: (its name, the text it is prepared with), for the few texts run on every post


def _named(sql):
    """The prepared statement's name (a digest of its text) and its text with PostgreSQL's
    placeholders, `%` escaped for the EXECUTE's own interpolation."""
    try:
        return _NAMED[sql]
    except KeyError:
        pass
    numbered = _numbered(sql)
    named = ("w_" + hashlib.sha1(numbered.encode()).hexdigest()[:24], numbered.replace("%", "%%"))
    if len(_NAMED) >= 10 * MOST_PREPARED:  # texts of every batch size, in a long-running process
        _NAMED.clear()
    _NAMED[sql] = named
    return named


def _prepared_on(connection):
    """The names prepared on the connection's current database session."""
    session = connection.connection
    known = getattr(connection, "_prepared_statements", None)
    if known is None or known[0] is not session:
        known = connection._prepared_statements = (session, set())
    return known[1]


def execute(cursor, sql, params=()):
    """cursor.execute(sql, params), as a prepared statement where the connection allows
    (above). `sql` takes positional `%s` parameters."""
    connection = cursor.db
    params = list(params)
    if (connection.vendor != "postgresql" or len(params) > MOST_PARAMETERS
            or not connection.settings_dict.get("PREPARED_STATEMENTS", True)):
        cursor.execute(sql, params)
        return
    name, text = _named(sql)
    arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
    run = f"EXECUTE {name}{arguments} /* {text} */"
    prepared = _prepared_on(connection)
    if name in prepared:
        cursor.execute(run, params)
        return
    if len(prepared) >= MOST_PREPARED:
        cursor.execute(sql, params)
        return
    # Prepared statements outlive the transaction, even one that fails: counted as
    # prepared before the EXECUTE, which may fail for reasons of its own.
    prepared.add(name)
    cursor.execute(f"PREPARE {name} AS {text}; {run}", params)
