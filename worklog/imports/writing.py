"""Writing an entries file's new rows in bulk, inside the import's transaction: the
entries and their household links (COPY on PostgreSQL, multi-row INSERTs elsewhere), the
audit rows of both (INSERT … SELECT from the new rows) and the tallies (each entry's
contribution summed per key, as worklog.tallies does it for every writer). Households are
few and are saved one by one through the model (worklog.imports.households).
"""

import io
import uuid as uuid_module

from django.conf import settings
from django.db import connection
from django.utils import timezone

from worklog.models import Entry
from worklog.tallies.keys import EntrySnapshot
from worklog.tallies.write import apply_entries

BATCH_SIZE = 2000
CHANGE_REASON = "import"
STORED_COLUMNS = ("uuid", "team_id", "village_id", "author_id", "date", "activity_id", "title",
                 "notes", "participants", "sessions", "quantity", "funds", "created_at",
                 "updated_at", "version")
STORED_LINK_COLUMNS = ("entry_id", "household_id")


def _write_entries(rows, author):
    """Insert the entries, their household links, the audit rows of both, and the tallies.

    Not `bulk_create` / `bulk_create_with_history`: those build a model instance per entry,
    link and audit row in Python, which took most of a 100,000-row import's time, and
    `bulk_create_with_history` leaves the household links unaudited. The audit rows are the
    ones django-simple-history writes ("+", user, date, reason).
    """
    now = timezone.now()
    author_id = author.pk if author is not None else None
    write = _copy_entries if connection.vendor == "postgresql" else _insert_entries
    entry_ids = write(rows, author_id, now)
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _audit(entry_ids, author_id, connection.ops.adapt_datetimefield_value(now))
    apply_entries((_snapshot(row), +1) for row in rows)


def _copy_entries(rows, author_id, now):
    """PostgreSQL: take the entries' ids from their sequence, then COPY the entries and
    their links: one stream each instead of a statement per 2,000 rows to parse and plan."""
    table = Entry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        # A constant regclass: naming the sequence by text would look it up once a row.
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                       [cursor.fetchone()[0], len(rows)])
        entry_ids = [pk for (pk,) in cursor.fetchall()]
        author = _copy_value(author_id)
        stamp = _copy_value(now)
        _copy(cursor, table, ("id", *STORED_COLUMNS), (
            f"{entry_id}\t{row.uuid}\t{row.team.pk}\t{row.village.pk}\t{author}\t{row.date}\t"
            f"{row.activity.pk}\t{_copy_value(row.title)}\t{_copy_value(row.notes)}\t"
            f"{row.participants}\t{row.sessions}\t{row.quantity}\t{row.funds}\t"
            f"{stamp}\t{stamp}\t1\n"
            for entry_id, row in zip(entry_ids, rows)
        ))
        _copy(cursor, Entry.households.through._meta.db_table, STORED_LINK_COLUMNS, (
            f"{entry_id}\t{household_id}\n"
            for entry_id, row in zip(entry_ids, rows) for household_id in row.household_ids
        ))
    return entry_ids


def _copy(cursor, table, columns, lines):
    """COPY lines of text-format values into `table`; errors come out as Django's, so a
    uuid stored meanwhile is an IntegrityError like with an INSERT."""
    quote = connection.ops.quote_name
    data = io.StringIO("".join(lines))
    with connection.wrap_database_errors:
        cursor.cursor.copy_expert(
            f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN", data)


def _copy_value(value):
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def _insert_entries(rows, author_id, now):
    """Other databases (SQLite for the tests): multi-row INSERTs; returns the new ids."""
    ops = connection.ops
    uuid_field = Entry._meta.get_field("uuid")
    stamp = ops.adapt_datetimefield_value(now)
    returned = _insert(Entry, STORED_COLUMNS, [
        (uuid_field.get_db_prep_value(row.uuid, connection), row.team.pk, row.village.pk,
         author_id, ops.adapt_datefield_value(row.date), row.activity.pk, row.title, row.notes,
         row.participants, row.sessions, row.quantity,
         ops.adapt_decimalfield_value(row.funds, 14, 2), stamp, stamp, 1)
        for row in rows
    ], returning=("id", "uuid"))
    ids = {uuid_module.UUID(str(key)): pk for pk, key in returned}
    entry_ids = [ids[row.uuid] for row in rows]
    _insert(Entry.households.through, STORED_LINK_COLUMNS, [
        (entry_id, household_id)
        for entry_id, row in zip(entry_ids, rows) for household_id in row.household_ids
    ])
    return entry_ids


def _insert(model, columns, rows, returning=()):
    """INSERT plain tuples, as many a statement as the database takes; returns the rows of
    the `returning` columns."""
    quote = connection.ops.quote_name
    per_statement = max(1, min(BATCH_SIZE, _max_params() // len(columns)))
    head = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
            f"VALUES ")
    values = "(" + ", ".join(["%s"] * len(columns)) + ")"
    tail = f" RETURNING {', '.join(map(quote, returning))}" if returning else ""
    returned = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start:start + per_statement]
            cursor.execute(head + ", ".join([values] * len(batch)) + tail,
                           [value for row in batch for value in row])
            if returning:
                returned += cursor.fetchall()
    return returned


def _max_params():
    return connection.features.max_query_params or 2 ** 15  # PostgreSQL: no set limit


def _audit(entry_ids, author_id, stamp):
    """The audit rows of new entries and of their household links."""
    History = Entry.history.model
    HistoricalLink = History.households.model
    Link = Entry.households.through
    quote = connection.ops.quote_name
    history, entries = quote(History._meta.db_table), quote(Entry._meta.db_table)
    tracked = ", ".join(quote(field.column) for field in History.tracked_fields)
    extra = ", ".join(quote(History._meta.get_field(name).column) for name in (
        "history_date", "history_change_reason", "history_type", "history_user"))
    link_columns = ", ".join(quote(field.column) for field in Link._meta.concrete_fields)
    copied_links = ", ".join(f"l.{quote(field.column)}" for field in Link._meta.concrete_fields)
    with connection.cursor() as cursor:
        for among, ids in _among(entry_ids):
            cursor.execute(
                f"INSERT INTO {history} ({tracked}, {extra}) SELECT {tracked}, %s, %s, %s, %s "
                f"FROM {entries} WHERE id {among}",
                [stamp, CHANGE_REASON, "+", author_id, *ids],
            )
            cursor.execute(
                f"INSERT INTO {quote(HistoricalLink._meta.db_table)} ({link_columns}, "
                f"{quote(HistoricalLink._meta.get_field('history').column)}) "
                f"SELECT {copied_links}, h.history_id FROM {quote(Link._meta.db_table)} l "
                # The new entries have no audit rows but these.
                f"JOIN {history} h ON h.id = l.entry_id "
                f"WHERE l.entry_id {among} AND h.id {among}",
                [*ids, *ids],
            )


def _among(ids):
    """(SQL condition, parameters) pairs that together pick out `ids`: one array on
    PostgreSQL, lists of placeholders elsewhere, short enough to be given twice."""
    if connection.vendor == "postgresql":
        yield "= ANY(%s::bigint[])", [ids]
        return
    per_statement = _max_params() // 2 - 5  # a statement may name them twice
    for start in range(0, len(ids), per_statement):
        batch = ids[start:start + per_statement]
        yield f"IN ({', '.join(['%s'] * len(batch))})", batch


def _snapshot(row):
    """A new entry of the file as the tallies see it."""
    return EntrySnapshot(
        date=row.date, team_id=row.team.pk, village_id=row.village.pk, activity_id=row.activity.pk,
        participants=row.participants, sessions=row.sessions, quantity=row.quantity, funds=row.funds,
        household_ids=row.household_ids, live=True,
    )
