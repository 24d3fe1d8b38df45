"""Writing the bench's entries for `seed --scale N` (worklog/demo/scale.py), month by
month in date order as a real notebook fills: on PostgreSQL by COPY (households, entries,
household links and the month's tallies, which worklog/demo/scale_notebook.py adds up as
it draws), elsewhere by executemany and tally upserts. A big load on PostgreSQL rebuilds
indexes instead of updating them row by row (see CopyWriter), then ANALYZEs.
"""

import io
import queue
import threading

from django.db import connection

from teams.models import Household
from worklog.demo.scale_notebook import ENTRY_COLUMNS, LINK_COLUMNS
from worklog.models import Entry, HouseholdTally, Tally
from worklog.tallies.keys import HOUSEHOLD_TALLY, TALLY, in_key_order
from worklog.tallies.write import add_rows, adding_sql

# From this many new entries on, a PostgreSQL load rebuilds indexes instead of updating them.
BULK_LOAD_MIN = 100_000
LOAD_SETTINGS = {"work_mem": "256MB", "maintenance_work_mem": "1GB",
                 "max_parallel_maintenance_workers": "2"}


def _parse(rows, columns, model):
    """COPY text rows as database parameters (for the plain INSERT path)."""
    fields = [model._meta.get_field(column) for column in columns]
    return [
        [field.get_db_prep_save(field.to_python(value), connection)
         for field, value in zip(fields, row.split("\t"))]
        for chunk in rows for row in chunk.rstrip("\n").split("\n")
    ]


class InsertWriter:
    """Any database (SQLite in tests): executemany, tallies by upsert."""

    def __init__(self, bench):
        self.bench = bench

    def write(self, plan, *, first_index, number):
        first_id = (Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        Link = Entry.households.through
        entries = links = 0
        with connection.cursor() as cursor:
            for month in plan.months(first_index, number, first_id):
                cursor.executemany(_insert_sql(Entry, ENTRY_COLUMNS), _parse(month.entries, ENTRY_COLUMNS, Entry))
                link_rows = _parse(month.links, LINK_COLUMNS, Link)
                cursor.executemany(_insert_sql(Link, LINK_COLUMNS), link_rows)
                add_rows(cursor, TALLY, in_key_order(month.tally_rows()))
                household_rows = _parse(month.household_tally_text(), HOUSEHOLD_TALLY.columns, HouseholdTally)
                add_rows(cursor, HOUSEHOLD_TALLY, in_key_order(dict(map(HOUSEHOLD_TALLY.row, household_rows))))
                entries += len(month.entries)
                links += len(link_rows)
        return entries, links


def _insert_sql(model, columns):
    return (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})")


class CopyWriter:
    """PostgreSQL: COPY month by month while a thread draws the next months.

    A big load (BULK_LOAD_MIN) drops the secondary indexes and unique constraints of the
    entries, links and tallies (keeping the tallies' unique keys when it adds to existing
    tallies: they are the ON CONFLICT targets) and builds them again at the end, which
    costs a fraction of updating nine indexes row by row. The foreign keys' per-row
    checks, which would queue tens of millions of deferred trigger events, are switched
    off for the transaction as pg_restore --disable-triggers does (every id comes from
    rows read in this transaction); without the superuser's right to, it drops the
    foreign keys and adds them again, which checks every row.
    """

    def __init__(self, bench):
        self.bench = bench
        self.entry_table = Entry._meta.db_table
        self.link_table = Entry.households.through._meta.db_table
        self.tally_table = TALLY.db_table
        self.household_tally_table = HOUSEHOLD_TALLY.db_table

    def write(self, plan, *, first_index, number):
        with connection.cursor() as cursor:
            for name, value in LOAD_SETTINGS.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
            first_id = self._reserve_ids(cursor, number)
            # Tallies of the bench teams can only come from an earlier load or from use.
            fresh = not Tally.objects.filter(team_id__in=self.bench.team_ids).exists()
            if not fresh:
                self._temporary_tallies(cursor)
            prefix = "" if fresh else "bench_new_"
            again = self._prepare_bulk(cursor, fresh=fresh) if number >= BULK_LOAD_MIN else []
            entries = links = 0
            for month in _drawn_ahead(plan.months(first_index, number, first_id)):
                _copy(cursor, self.entry_table, ENTRY_COLUMNS, month.entries)
                _copy(cursor, self.link_table, LINK_COLUMNS, month.links)
                _copy(cursor, prefix + self.tally_table, TALLY.columns, month.tally_text())
                _copy(cursor, prefix + self.household_tally_table, HOUSEHOLD_TALLY.columns,
                      month.household_tally_text())
                entries += len(month.entries)
                links += sum(running.household_visits for running in month.sums.values())
            if not fresh:
                self._merge_tallies(cursor)
            for sql in again:
                cursor.execute(sql)
            for table in (self.entry_table, self.link_table, self.tally_table,
                          self.household_tally_table, Household._meta.db_table):
                cursor.execute(f"ANALYZE {table}")
        return entries, links

    def _reserve_ids(self, cursor, number):
        """Ids first..first+number-1 for the new entries, taken from the id sequence."""
        cursor.execute(f"LOCK TABLE {self.entry_table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.entry_table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {self.entry_table}) + 1, "
                       "nextval(%s))", [sequence])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + number - 1])
        return first

    def _prepare_bulk(self, cursor, *, fresh):
        """Switch off or drop what a big load should not update row by row; returns the
        statements that restore it, in the order to run them."""
        tables = [self.entry_table, self.link_table, self.tally_table, self.household_tally_table]
        # Adding to existing tallies needs their unique keys as ON CONFLICT targets.
        keep_unique = () if fresh else (self.tally_table, self.household_tally_table)
        # Deferred checks of rows written earlier in this transaction fire now: ALTER TABLE
        # refuses a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        unique, indexes, foreign_keys = [], [], []
        for table in tables:
            cursor.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY conname", [table])
            for name, kind, definition in cursor.fetchall():
                if kind == "u" and table in keep_unique or kind == "f" and superuser:
                    continue
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                (unique if kind == "u" else foreign_keys).append(
                    f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
                "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1", [table])
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")
                indexes.append(definition)
        switch = []
        if superuser:
            cursor.execute("SELECT set_config('session_replication_role', 'replica', true)")
            switch = ["SELECT set_config('session_replication_role', 'origin', true)"]
        return switch + unique + indexes + foreign_keys + ["SET CONSTRAINTS ALL DEFERRED"]

    def _temporary_tallies(self, cursor):
        for table in (TALLY, HOUSEHOLD_TALLY):
            cursor.execute(f"CREATE TEMPORARY TABLE bench_new_{table.db_table} ON COMMIT DROP AS "
                           f"SELECT {', '.join(table.columns)} FROM {table.db_table} WITH NO DATA")

    def _merge_tallies(self, cursor):
        """Add the new months' sums to the tallies, in the unique key's order."""
        for table in (TALLY, HOUSEHOLD_TALLY):
            cursor.execute(adding_sql(
                table, f"SELECT {', '.join(table.columns)} FROM bench_new_{table.db_table} "
                       f"ORDER BY {', '.join(table.key_columns)}"))


def _copy(cursor, table, columns, chunks):
    if chunks:
        data = io.BytesIO("".join(chunks).encode())
        # One read for the lot: the drawing thread would hold the GIL between small reads.
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", data,
                           len(data.getbuffer()))


def _drawn_ahead(months, ahead=2):
    """The months, drawn by a thread up to `ahead` in advance, so that Python draws the next
    month while PostgreSQL takes in this one."""
    handoff = queue.Queue(maxsize=ahead)
    done = object()
    failure = []
    stop = threading.Event()

    def draw():
        try:
            for month in months:
                while not stop.is_set():
                    try:
                        handoff.put(month, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except Exception as error:  # noqa: BLE001 (handed to the writer, which raises it)
            failure.append(error)
        handoff.put(done)

    thread = threading.Thread(target=draw, name="scale-draw", daemon=True)
    thread.start()
    try:
        while (month := handoff.get()) is not done:
            yield month
        if failure:
            raise failure[0]
    finally:
        stop.set()
        thread.join()
