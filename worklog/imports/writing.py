"""Writing an entries file's new rows in bulk, inside the import's transaction: the
entries, their household links and the audit rows of both by plain multi-row INSERTs, and
the tallies by one upsert per tally key (worklog.tallies' own SQL). Households are few and
are saved one by one through the model (worklog.imports.households).
"""

import uuid as uuid_module
from collections import Counter, defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from worklog.models import Entry
from worklog.tallies import add_to_tallies as add_tally_rows

BATCH_SIZE = 2000
CHANGE_REASON = "import"


def _write_entries(rows, author):
    """Insert the entries, their household links, the audit rows of both, and the tallies.

    Plain multi-row INSERTs rather than `bulk_create` / `bulk_create_with_history`: those
    build a model instance per entry, link and audit row in Python, which took most of a
    100,000-row import's time, and `bulk_create_with_history` leaves the household links
    unaudited. The audit rows are the ones django-simple-history writes ("+", user, date,
    reason), copied from the new rows by INSERT … SELECT.
    """
    now = timezone.now()
    ops = connection.ops
    uuid_field = Entry._meta.get_field("uuid")
    columns = ("uuid", "team_id", "village_id", "author_id", "date", "activity_id", "title",
               "notes", "participants", "sessions", "quantity", "funds", "created_at",
               "updated_at", "version")
    stamp = ops.adapt_datetimefield_value(now)
    author_id = author.pk if author is not None else None
    returned = _insert(Entry, columns, [
        (uuid_field.get_db_prep_value(row.uuid, connection), row.team.pk, row.village.pk,
         author_id, ops.adapt_datefield_value(row.date), row.activity.pk, row.title, row.notes,
         row.participants, row.sessions, row.quantity,
         ops.adapt_decimalfield_value(row.funds, 14, 2), stamp, stamp, 1)
        for row in rows
    ], returning=("id", "uuid"))
    ids = {uuid_module.UUID(str(key)): pk for pk, key in returned}
    entry_ids = [ids[row.uuid] for row in rows]
    _insert(Entry.households.through, ("entry_id", "household_id"), [
        (entry_id, household_id)
        for entry_id, row in zip(entry_ids, rows) for household_id in row.household_ids
    ])
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _audit(entry_ids, author_id, stamp)
    add_to_tallies(rows)


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
    per_statement = _max_params() - 5
    with connection.cursor() as cursor:
        for start in range(0, len(entry_ids), per_statement):
            batch = entry_ids[start:start + per_statement]
            among = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"INSERT INTO {history} ({tracked}, {extra}) SELECT {tracked}, %s, %s, %s, %s "
                f"FROM {entries} WHERE id IN ({among})",
                [stamp, CHANGE_REASON, "+", author_id, *batch],
            )
            cursor.execute(
                f"INSERT INTO {quote(HistoricalLink._meta.db_table)} ({link_columns}, "
                f"{quote(HistoricalLink._meta.get_field('history').column)}) "
                f"SELECT {copied_links}, h.history_id FROM {quote(Link._meta.db_table)} l "
                f"JOIN {history} h ON h.id = l.entry_id AND h.history_type = %s "
                f"WHERE l.entry_id IN ({among})",
                ["+", *batch],
            )


def add_to_tallies(rows):
    """Add new live entries to the tallies: their contributions summed per tally key and
    per household key in Python, then one upsert per key."""
    sums = defaultdict(lambda: [0, 0, 0, 0, Decimal("0.00"), 0])
    visits = Counter()
    for row in rows:
        key = (row.date.year, row.date.month, row.team.pk, row.village.pk, row.activity.pk)
        for index, amount in enumerate((1, row.participants, row.sessions, row.quantity,
                                        row.funds, len(row.households))):
            sums[key][index] += amount
        for household_id in row.household_ids:
            visits[(*key[:2], household_id, *key[2:])] += 1
    add_tally_rows([[*key, *values] for key, values in sums.items()],
                   [[*key, count] for key, count in visits.items()])
