"""Changing the notebook: create, edit, soft-delete and restore entries.

Every change of an entry goes through these functions so that idempotency (one uuid, one
entry), optimistic locking (the entry's version), the notebook's rules (worklog.rules,
checked on every value as it will be saved: the last line of defence whoever writes) and
the audit trail hold everywhere: forms, the admin and amendments alike. (The import checks
the same rules over its distinct values and writes in bulk, worklog.imports.)
"""

from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import get_change_reason_from_object

from teams import statements
from worklog.locking import MonthLocked, UuidHeldByAmendment, ensure_open, open_check
from worklog.models import Entry, household_links_changing
from worklog.rules import AMOUNTS, validate_entry
from worklog.tallies import EntrySnapshot, apply_change, apply_entries
from worklog.tallies.keys import TallyKey
from worklog.tallies.structure import hold_for_writing

Link = Entry.households.through
# The history manager without an instance: `Entry.history` builds a manager class on every
# access, which is a measurable share of a notebook post.
ENTRY_HISTORY = Entry.history
HistoricalLink = ENTRY_HISTORY.model.households.model


class UuidTakenByAnotherTeam(Exception):
    """The uuid belongs to an entry of another team; its details must not be revealed."""


class StaleEntry(Exception):
    """Someone saved the entry after the version the editor started from."""

    def __init__(self, current):
        super().__init__(f"entry {current.pk} is at version {current.version}")
        self.current = current


def _validate(entry, households):
    """Raise ValidationError({field: [errors]}) when the entry, as it is about to be saved
    with these households, breaks a rule of worklog.rules. The form and the admin call the
    same rules first to show each message on its field; here they hold whoever writes."""
    validate_entry(
        team=entry.team, village=entry.village, date=entry.date, activity=entry.activity,
        households=households, amounts={name: getattr(entry, name) for name in AMOUNTS},
    )


def _reuse_loaded(entry, current):
    """Give the freshly read `current` the team, village and activity the caller's `entry`
    has loaded already (when still the same), so that checking the rules does not read
    them again."""
    for name in ("team", "village", "activity"):
        field = Entry._meta.get_field(name)
        if field.is_cached(entry) and getattr(entry, field.attname) == getattr(current, field.attname):
            setattr(current, name, getattr(entry, name))


def entry_create(*, uuid, team, author, date, activity, households=(), title="", notes="",
                 participants=0, sessions=0, quantity=0, funds=0, village=None,
                 through_amendment=False):
    """Create the entry, or return the one this uuid already made: (entry, created).

    A double tap, a browser retry or a replay of the same form carries the same uuid and
    lands on the first entry. The unique index on the uuid decides, so that the common
    case — a new uuid — costs no lookup: the INSERT of a repeated uuid does nothing
    (ON CONFLICT DO NOTHING) and only then is the entry already there read. Two concurrent
    requests race on the same index: the loser waits for the winner's commit and then
    finds its entry.

    Raises ValidationError for values the rules refuse (worklog.rules), then
    MonthLocked in a locked month (unless through an amendment), then
    UuidHeldByAmendment when the uuid was filed with an amendment (its form was used), and
    UuidTakenByAnotherTeam when the uuid is another team's entry. A refusal is raised
    after nothing was written (the caller's transaction goes on).
    """
    [outcome] = _entries_create(author=author, through_amendment=through_amendment, entries=[{
        "uuid": uuid, "team": team, "date": date, "activity": activity, "households": households,
        "title": title, "notes": notes, "participants": participants, "sessions": sessions,
        "quantity": quantity, "funds": funds, "village": village,
    }])
    if outcome.refused is not None:
        raise outcome.refused
    return outcome.entry, outcome.created


class Outcome(NamedTuple):
    """What became of one entry of a batch: the entry (new, or the one its uuid made
    before), or why it was refused."""

    entry: Entry | None
    created: bool
    refused: Exception | None


# What entry_create raises for one entry's own reasons; any other error fails the batch.
REFUSALS = (ValidationError, MonthLocked, UuidHeldByAmendment, UuidTakenByAnotherTeam)


def entries_create(*, author, entries):
    """entry_create for each of `entries` (dicts of its keyword arguments, the author
    aside), all in one transaction: [Outcome] in the order given.

    Each entry stands alone: one refused leaves the others be (a refusal is decided
    before anything is written). The batch costs one statement per table, not per entry:
    the locks of all its months and the amendments holding its uuids are read at once,
    the entries, their links and their audit rows inserted at once, and the tallies added
    to once, summed per key. Entries are inserted in uuid order, so that two batches
    sharing uuids (an outbox sent twice) meet on the uuid index in one order and never
    wait for each other in a circle.
    """
    return _entries_create(author=author, entries=entries)


class _New(NamedTuple):
    index: int
    entry: Entry
    household_ids: list


def _unsaved(author, *, uuid, team, date, activity, households=(), title="", notes="",
             participants=0, sessions=0, quantity=0, funds=0, village=None):
    """(the Entry, unsaved, its households) of entry_create's arguments."""
    entry = Entry(
        uuid=UUID_FIELD.to_python(uuid), team=team, village=village or team.village, author=author,
        date=date, activity=activity, title=title, notes=notes, participants=participants,
        sessions=sessions, quantity=quantity, funds=funds,
    )
    return entry, list(households)


def _entries_create(*, author, entries, through_amendment=False):
    """entries_create's work, for entry_create too: [Outcome], refusals returned, not raised."""
    outcomes = [None] * len(entries)
    valid = []
    for index, values in enumerate(entries):
        entry, households = _unsaved(author, **values)
        try:
            _validate(entry, households)
        except ValidationError as refused:
            outcomes[index] = Outcome(None, False, refused)
        else:
            valid.append(_New(index, entry, sorted({household.pk for household in households})))
    if not valid:
        return outcomes
    valid.sort(key=lambda new: str(new.entry.uuid))
    # No savepoint: nothing is written before every refusal is known, and an error of
    # the database fails the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        hold_for_writing([_key(new.entry) for new in valid])
        if through_amendment:
            check = None
        else:
            check = open_check({(new.entry.team_id, new.entry.date.year, new.entry.date.month) for new in valid},
                               [new.entry.uuid for new in valid], held=True)
        to_insert, known = [], []  # known: in a locked month, or the uuid given twice
        seen = set()
        for new in valid:
            try:
                if check is not None:
                    check(new.entry.team_id, new.entry.date, new_uuid=new.entry.uuid)
            except MonthLocked as locked:
                known.append((new, locked))  # a month locked since the first submit still answers a repeat
                continue
            except UuidHeldByAmendment as refused:
                outcomes[new.index] = Outcome(None, False, refused)
                continue
            if new.entry.uuid in seen:
                known.append((new, None))
            else:
                seen.add(new.entry.uuid)
                to_insert.append(new)
        inserted = _insert(new.entry for new in to_insert)
        created = [new for new in to_insert if new.entry.uuid in inserted]
        for new in created:
            new.entry.pk = inserted[new.entry.uuid]
            new.entry._state.adding = False
            new.entry._state.db = connection.alias
            outcomes[new.index] = Outcome(new.entry, True, None)
        known += [(new, None) for new in to_insert if new.entry.uuid not in inserted]
        _answer_known(known, outcomes)
        if created:
            _link_and_audit(created)
            apply_entries([(EntrySnapshot.of(new.entry, new.household_ids), +1) for new in created], held=True)
    return outcomes


def _key(entry):
    return TallyKey(year=entry.date.year, month=entry.date.month, team_id=entry.team_id,
                    village_id=entry.village_id, activity_id=entry.activity_id)


def _insert(entries):
    """INSERT the entries, those whose uuid is stored already left out: {uuid: id} of
    those inserted (in the order given: uuid order). One statement (a page of rows on
    SQLite, whose statements take a limited number of parameters)."""
    entries = list(entries)
    if not entries:
        return {}
    fields = INSERTED_FIELDS
    quote = connection.ops.quote_name
    per_statement = max(1, 900 // len(fields)) if connection.vendor == "sqlite" else len(entries)
    inserted = {}
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(entries), per_statement):
            page = entries[start:start + per_statement]
            statements.execute(
                cursor,
                f"INSERT INTO {quote(Entry._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                f"VALUES {', '.join([row_sql] * len(page))} "
                f"ON CONFLICT ({quote(UUID_FIELD.column)}) DO NOTHING RETURNING {quote('id')}, {quote(UUID_FIELD.column)}",
                [field.get_db_prep_save(field.pre_save(entry, True), connection) for entry in page for field in fields],
            )
            for pk, uuid in cursor.fetchall():
                inserted[UUID_FIELD.to_python(uuid)] = pk
    return inserted


INSERTED_FIELDS = [field for field in Entry._meta.concrete_fields if not field.primary_key]
UUID_FIELD = Entry._meta.get_field("uuid")


def _answer_known(known, outcomes):
    """The entries whose uuid made an entry before (or whose month is locked): that entry,
    read in one statement, if it is the same team's."""
    if not known:
        return
    existing = Entry.objects.in_bulk([new.entry.uuid for new, _locked in known], field_name="uuid")
    for new, locked in known:
        found = existing.get(new.entry.uuid)
        if found is None:
            outcomes[new.index] = Outcome(None, False, locked)
        elif found.team_id != new.entry.team_id:
            outcomes[new.index] = Outcome(None, False, UuidTakenByAnotherTeam(new.entry.uuid))
        else:
            outcomes[new.index] = Outcome(found, False, None)


def _link_and_audit(created):
    """The new entries' household links and their audit rows (_audit_creation). On
    PostgreSQL, all in one statement: the audit rows, and the links inserted in
    data-modifying CTEs with the links' audit rows from what those return."""
    links = [(new.entry.pk, household_id) for new in created for household_id in new.household_ids]
    entries = [new.entry for new in created]
    if connection.vendor != "postgresql" or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _audit_creation(entries, Link.objects.bulk_create(
            [Link(entry_id=entry_id, household_id=household_id) for entry_id, household_id in links]))
        return
    quote = connection.ops.quote_name
    history = ENTRY_HISTORY.model
    now = timezone.now()
    # The values of the audit rows that post_save would write (same user, date and reason),
    # without building the historical instances.
    records = []
    for entry in entries:
        user = (entry._history_user if hasattr(entry, "_history_user")
                else history.get_default_history_user(entry))
        record = {field.attname: getattr(entry, field.attname) for field in history.tracked_fields}
        record.update(history_date=getattr(entry, "_history_date", now),
                      history_user_id=None if user is None else user.pk,
                      history_change_reason=get_change_reason_from_object(entry) or None,
                      history_type="+")
        records.append(record)
    record_sql = "(" + ", ".join(["%s"] * len(HISTORY_FIELDS)) + ")"
    link_columns = [quote(Link._meta.get_field(name).column) for name in ("entry", "household")]
    insert_records = (f"INSERT INTO {quote(history._meta.db_table)} "
                      f"({', '.join(quote(field.column) for field in HISTORY_FIELDS)}) "
                      f"VALUES {', '.join([record_sql] * len(records))}")
    params = [field.get_db_prep_save(record[field.attname], connection)
              for record in records for field in HISTORY_FIELDS]
    with connection.cursor() as cursor:
        if not links:
            statements.execute(cursor, insert_records, params)
            return
        statements.execute(
            cursor,
            f"WITH h AS ({insert_records} RETURNING history_id, id), "
            f"l AS (INSERT INTO {quote(Link._meta.db_table)} ({', '.join(link_columns)}) "
            f"SELECT * FROM unnest(%s::bigint[], %s::bigint[]) RETURNING id, {', '.join(link_columns)}) "
            f"INSERT INTO {quote(HistoricalLink._meta.db_table)} (id, entry_id, household_id, history_id) "
            f"SELECT l.id, l.entry_id, l.household_id, h.history_id FROM l JOIN h ON h.id = l.entry_id",
            params + [[entry_id for entry_id, _household in links], [household for _entry, household in links]],
        )


HISTORY_FIELDS = [field for field in ENTRY_HISTORY.model._meta.concrete_fields if not field.primary_key]


def _audit_creation(entries, links):
    """One audit row per new entry, holding the households it was created with: one
    statement for the rows and one for their links, whatever the number of entries.

    Saving and then linking through the model would make django-simple-history write two
    rows (one on save(), one on the households' change); this writes the row its
    post_save would (same user, date and reason), after the links exist. The new rows'
    ids come back from the bulk INSERTs (PostgreSQL, SQLite ≥ 3.35).
    """
    # No reason given stays NULL, as post_save leaves it (bulk_history_create's default is "").
    created = ENTRY_HISTORY.bulk_history_create(entries, default_change_reason=None)
    if not created or not links:  # None when SIMPLE_HISTORY_ENABLED is off
        return
    records = {record.id: record for record in created}
    HistoricalLink.objects.bulk_create([
        HistoricalLink(history=records[link.entry_id], id=link.pk, entry_id=link.entry_id,
                       household_id=link.household_id)
        for link in links
    ])


def _claim(entry_pk, version):
    """Move the entry from `version` to the next one, atomically, or raise StaleEntry.

    A conditional UPDATE is the lock on both databases: of two editors starting from
    the same version exactly one matches the row.
    """
    claimed = Entry.objects.filter(pk=entry_pk, version=version).update(version=version + 1)
    current = Entry.objects.get(pk=entry_pk)
    if not claimed:
        raise StaleEntry(current)
    return current


@transaction.atomic
def entry_update(*, entry, version, editor, households=None, through_amendment=False, **fields):
    """Save new values if nobody saved since `version`; raise StaleEntry otherwise.
    `households`: the new ones, None to keep them.

    Raises MonthLocked when the entry's month, or the month it would move to, is locked,
    and ValidationError for values the rules refuse.
    """
    current = _claim(entry.pk, version)
    if not through_amendment:
        ensure_open(current.team_id, current.date, fields.get("date", current.date))
    kept = households is None
    if kept:  # read once: for the rules and for the tallies' snapshot
        households = list(current.households.all())
        before = EntrySnapshot.of(current, [household.pk for household in households])
    else:
        households = list(households)
        before = EntrySnapshot.of(current)
    _reuse_loaded(entry, current)
    for name, value in fields.items():
        setattr(current, name, value)
    _validate(current, households)
    current._history_user = editor
    current.save()
    if not kept:
        with household_links_changing():
            current.households.set(households)
    apply_change(before, EntrySnapshot.of(current))
    return current


@transaction.atomic
def entry_soft_delete(*, entry, user, version=None, through_amendment=False):
    """Mark the entry deleted: it stops counting but stays, audited and restorable."""
    current = _claim(entry.pk, entry.version if version is None else version)
    if not through_amendment:
        ensure_open(current.team_id, current.date)
    before = EntrySnapshot.of(current)
    current.deleted_at = current.deleted_at or timezone.now()
    current.deleted_by = user
    current._history_user = user
    current.save()
    apply_change(before, EntrySnapshot.of(current, before.household_ids))
    return current


@transaction.atomic
def entry_restore(*, entry, user, through_amendment=False):
    current = _claim(entry.pk, entry.version)
    if not through_amendment:
        ensure_open(current.team_id, current.date)
    households = list(current.households.all())
    before = EntrySnapshot.of(current, [household.pk for household in households])
    _reuse_loaded(entry, current)
    _validate(current, households)
    current.deleted_at = None
    current.deleted_by = None
    current._history_user = user
    current.save()
    apply_change(before, EntrySnapshot.of(current, before.household_ids))
    return current
