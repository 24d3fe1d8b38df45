"""SQL the harness runs itself: the naive recount of a year straight from the raw entries,
and a recount of some teams' tallies done inside PostgreSQL (what `manage.py totals
--verify` checks, for the teams a step wrote to, without loading millions of rows into
Python)."""

from decimal import Decimal


def indicators(cursor):
    """[(code, measure, [activity ids])] in the dashboards' order."""
    cursor.execute(
        "SELECT i.code, i.measure, array_agg(ia.activity_id ORDER BY ia.activity_id) "
        "FROM worklog_indicator i JOIN worklog_indicator_activities ia ON ia.indicator_id = i.id "
        "GROUP BY i.id ORDER BY i.\"order\", i.code")
    return cursor.fetchall()


ENTRY_MEASURES = {"entries": "count(*)", "quantity": "sum(e.quantity)",
                  "participants": "sum(e.participants)", "sessions": "sum(e.sessions)",
                  "funds": "sum(e.funds)"}
LINK_MEASURES = {"household_visits": "count(*)", "households": "count(DISTINCT l.household_id)"}


def naive_recount_sql(indicator_rows):
    """One statement: every indicator of an organisation subtree's year, from raw entries
    and their household links (parameters: path prefix, first day, day after)."""
    entry_parts, link_parts = [], []
    for code, measure, activities in indicator_rows:
        ids = ", ".join(str(pk) for pk in activities)
        if measure in ENTRY_MEASURES:
            entry_parts.append(f"{ENTRY_MEASURES[measure]} FILTER (WHERE e.activity_id IN ({ids})) "
                               f'AS "{code}"')
        else:
            link_parts.append(f"{LINK_MEASURES[measure]} FILTER (WHERE e.activity_id IN ({ids})) "
                              f'AS "{code}"')
    scope = (
        "SELECT e.* FROM worklog_entry e JOIN teams_team t ON t.id = e.team_id "
        "JOIN teams_organisation o ON o.id = t.organisation_id "
        "WHERE o.path LIKE %s AND e.date >= %s AND e.date < %s AND e.deleted_at IS NULL"
    )
    return (
        f"WITH e AS MATERIALIZED ({scope}), "
        f"sums AS (SELECT {', '.join(entry_parts)} FROM e), "
        f"links AS (SELECT {', '.join(link_parts)} FROM worklog_entry_households l "
        f"JOIN e ON e.id = l.entry_id) "
        "SELECT * FROM sums, links"
    )


def as_document_values(cursor, indicator_rows):
    """The naive recount's row as {code: value} in the API's JSON form."""
    row = cursor.fetchone()
    names = [column.name for column in cursor.description]
    values = dict(zip(names, row))
    result = {}
    for code, measure, _ in indicator_rows:
        value = values[code]
        if measure == "funds":
            result[code] = f"{Decimal(value or 0):.2f}"
        else:
            result[code] = int(value or 0)
    return result


TEAM_RECOUNT = """
WITH e AS MATERIALIZED (
    SELECT id, date, team_id, village_id, activity_id, participants, sessions, quantity, funds
    FROM worklog_entry WHERE team_id = ANY(%(teams)s) AND deleted_at IS NULL
),
l AS MATERIALIZED (
    SELECT e.*, h.household_id FROM worklog_entry_households h JOIN e ON e.id = h.entry_id
),
recount AS (
    SELECT EXTRACT(YEAR FROM e.date)::int AS year, EXTRACT(MONTH FROM e.date)::int AS month,
           e.team_id, e.village_id, e.activity_id, count(*)::bigint AS entries,
           sum(e.participants)::bigint AS participants, sum(e.sessions)::bigint AS sessions,
           sum(e.quantity)::bigint AS quantity, sum(e.funds)::numeric(18, 2) AS funds,
           coalesce(sum(v.visits), 0)::bigint AS household_visits
    FROM e LEFT JOIN (SELECT id, count(*) AS visits FROM l GROUP BY id) v ON v.id = e.id
    GROUP BY 1, 2, 3, 4, 5
),
stored AS (
    SELECT year::int, month::int, team_id, village_id, activity_id, entries, participants,
           sessions, quantity, funds, household_visits
    FROM worklog_tally WHERE team_id = ANY(%(teams)s)
      AND (entries, participants, sessions, quantity, funds, household_visits) <> (0, 0, 0, 0, 0, 0)
),
household_recount AS (
    SELECT EXTRACT(YEAR FROM date)::int AS year, EXTRACT(MONTH FROM date)::int AS month,
           household_id, team_id, village_id, activity_id, count(*)::bigint AS visits
    FROM l GROUP BY 1, 2, 3, 4, 5, 6
),
household_stored AS (
    SELECT year::int, month::int, household_id, team_id, village_id, activity_id, visits
    FROM worklog_householdtally WHERE team_id = ANY(%(teams)s) AND visits > 0
)
SELECT
    (SELECT count(*) FROM ((TABLE recount EXCEPT TABLE stored)
                           UNION ALL (TABLE stored EXCEPT TABLE recount)) d),
    (SELECT count(*) FROM ((TABLE household_recount EXCEPT TABLE household_stored)
                           UNION ALL (TABLE household_stored EXCEPT TABLE household_recount)) d),
    (SELECT count(*) FROM recount),
    (SELECT count(*) FROM household_recount)
"""


def recount_teams(cursor, team_ids):
    """{"tally_differences", "household_tally_differences", "tally_rows",
    "household_tally_rows"} for the teams: zero differences when the tallies are exact."""
    cursor.execute(TEAM_RECOUNT, {"teams": list(team_ids)})
    tally, household, rows, household_rows = cursor.fetchone()
    return {"tally_differences": tally, "household_tally_differences": household,
            "tally_rows": rows, "household_tally_rows": household_rows}


# Capacity (issue 14, point 6): the tables that grow with the entries, then the roll-ups.
CAPACITY_TABLES = (
    "worklog_entry", "worklog_entry_households",
    "worklog_historicalentry", "worklog_historicalentryhousehold",  # django-simple-history
    "worklog_tally", "worklog_householdtally",
    "worklog_orgtally", "worklog_orgreach", "worklog_areatally", "worklog_areareach",
)
# Below this many rows (by the planner's estimate) a table is counted exactly.
EXACT_COUNT_BELOW = 2_000_000


def counted_exactly(estimate):
    """Whether a table of about `estimate` rows is counted with count(*): the roll-ups and
    other small tables are; the entries, their links and the household tallies (millions of
    rows) keep the estimate of the VACUUM (ANALYZE) just run. A table never analysed
    (estimate -1 since PostgreSQL 14) is counted."""
    return estimate < EXACT_COUNT_BELOW


def per_million(value, entries):
    """`value` (bytes or rows) for each million entries; None without entries."""
    if not entries or value is None:
        return None
    return value * 1_000_000 / entries


def table_sizes(cursor, tables=CAPACITY_TABLES):
    """{table: {"rows", "rows_exact", "total_bytes", "heap_bytes", "index_bytes"}}: heap is
    pg_table_size (the table with its TOAST, free-space and visibility maps), index the sum
    of its indexes, total pg_total_relation_size. Tables that do not exist are left out."""
    cursor.execute(
        "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid), "
        "pg_table_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname = ANY(%s)",
        [list(tables)])
    found = {}
    for name, estimate, total, heap, index in cursor.fetchall():
        exact = counted_exactly(estimate)
        if exact:
            cursor.execute(f'SELECT count(*) FROM "{name}"')
            rows = cursor.fetchone()[0]
        else:
            rows = estimate
        found[name] = {"rows": rows, "rows_exact": exact, "total_bytes": total,
                       "heap_bytes": heap, "index_bytes": index}
    return {name: found[name] for name in tables if name in found}


def capacity(cursor):
    """The sizes of CAPACITY_TABLES with each one's MB per million entries and bytes per
    row, and what the roll-ups grow with (teams, organisations, areas, years of tallies)."""
    tables = table_sizes(cursor)
    entries = tables.get("worklog_entry", {}).get("rows")
    for found in tables.values():
        found["total_mb"] = round(found["total_bytes"] / 2**20, 1)
        per = per_million(found["total_bytes"], entries)
        found["total_mb_per_million_entries"] = None if per is None else round(per / 2**20, 1)
        found["rows_per_million_entries"] = (None if per_million(found["rows"], entries) is None
                                             else round(per_million(found["rows"], entries)))
        found["bytes_per_row"] = round(found["total_bytes"] / found["rows"]) if found["rows"] > 0 else None
    cursor.execute(
        "SELECT (SELECT count(*) FROM teams_team), (SELECT count(*) FROM teams_organisation), "
        "(SELECT count(*) FROM teams_area), (SELECT count(DISTINCT year) FROM worklog_tally)")
    teams, organisations, areas, years = cursor.fetchone()
    return {"entries": entries, "teams": teams, "organisations": organisations, "areas": areas,
            "tally_years": years, "tables": tables}
