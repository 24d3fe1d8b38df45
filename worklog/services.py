"""Changing the notebook: create, edit, soft-delete and restore entries.

Every change of an entry goes through these functions so that idempotency (one uuid, one
entry), optimistic locking (the entry's version), the notebook's rules (worklog.rules,
checked on every value as it will be saved: the last line of defence whoever writes) and
the audit trail hold everywhere: forms, the admin and amendments alike. (The import checks
the same rules over its distinct values and writes in bulk, worklog.imports.)
"""

from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from worklog.locking import MonthLocked, UuidHeldByAmendment, ensure_open, open_check
from worklog.models import Entry, household_links_changing
from worklog.rules import AMOUNTS, validate_entry
from worklog.tallies import EntrySnapshot, apply_change, apply_entries, apply_entry

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


def _existing_for(uuid, team):
    existing = Entry.objects.filter(uuid=uuid).first()
    if existing is not None and existing.team_id != team.pk:
        raise UuidTakenByAnotherTeam(uuid)
    return existing


def entry_create(*, uuid, team, author, date, activity, households=(), title="", notes="",
                 participants=0, sessions=0, quantity=0, funds=0, village=None,
                 through_amendment=False, batch=None):
    """Create the entry, or return the one this uuid already made: (entry, created).

    A double tap, a browser retry or a replay of the same form carries the same uuid and
    lands on the first entry. The unique index on the uuid decides, so that the common
    case — a new uuid — costs no lookup: a repeated uuid makes the INSERT fail, the
    transaction (or savepoint) rolls back and the entry already there is returned. Two
    concurrent requests race on the same index: the loser waits for the winner's commit
    and then fails the same way.

    Raises ValidationError for values the rules refuse (worklog.rules), then
    MonthLocked in a locked month (unless through an amendment), then
    UuidHeldByAmendment when the uuid was filed with an amendment (its form was used), and
    UuidTakenByAnotherTeam when the uuid is another team's entry.

    `batch`: given by entries_create (a Batch), which checks the locks of all its entries
    at once and adds their contributions to the tallies up once, at the end.
    """
    households = list(households)
    entry = Entry(
        uuid=uuid, team=team, village=village or team.village, author=author, date=date,
        activity=activity, title=title, notes=notes, participants=participants,
        sessions=sessions, quantity=quantity, funds=funds,
    )
    _validate(entry, households)
    household_ids = sorted(household.pk for household in households)
    try:
        with transaction.atomic():
            if not through_amendment:
                (batch.ensure_open if batch else ensure_open)(team.pk, date, new_uuid=uuid)
            entry.save_without_historical_record()
            links = Link.objects.bulk_create(
                [Link(entry_id=entry.pk, household_id=pk) for pk in household_ids]
            )
            _audit_creation(entry, links)
            snapshot = EntrySnapshot.of(entry, household_ids)
            if batch is None:
                apply_entry(snapshot, +1)
            else:
                batch.counted.append(snapshot)
    except (IntegrityError, MonthLocked):
        # A month locked since the first submit still answers a repeat with its entry.
        existing = _existing_for(uuid, team)
        if existing is None:
            raise
        return existing, False
    return entry, True


class Outcome(NamedTuple):
    """What became of one entry of a batch: the entry (new, or the one its uuid made
    before), or why it was refused."""

    entry: Entry | None
    created: bool
    refused: Exception | None


# What entry_create raises for one entry's own reasons; any other error fails the batch.
REFUSALS = (ValidationError, MonthLocked, UuidHeldByAmendment, UuidTakenByAnotherTeam)


class Batch:
    """What the entries of entries_create share: the locks of all their months, read
    at once (worklog.locking.open_check), and their contributions to the tallies, added
    up at the end."""

    def __init__(self, entries):
        self.ensure_open = open_check(
            {(values["team"].pk, values["date"].year, values["date"].month) for values in entries},
            [values["uuid"] for values in entries],
        )
        self.counted = []


@transaction.atomic
def entries_create(*, author, entries):
    """entry_create for each of `entries` (dicts of its keyword arguments, the author
    aside), all in one transaction: [Outcome] in the order given.

    Each entry stands alone: it is written in a savepoint of its own (entry_create's), so
    one refused leaves the others be. The locks are read once for all, and the tallies
    added to once at the end, summed per key: a batch of one team's month adds to a
    handful of rows, not to each row once per entry. Entries are written in uuid order,
    so that two batches sharing uuids (an outbox sent twice) meet on the uuid index in one
    order and never wait for each other in a circle.
    """
    outcomes = [None] * len(entries)
    batch = Batch(entries)
    for index in sorted(range(len(entries)), key=lambda index: str(entries[index]["uuid"])):
        try:
            entry, created = entry_create(author=author, batch=batch, **entries[index])
        except REFUSALS as refused:
            outcomes[index] = Outcome(None, False, refused)
        else:
            outcomes[index] = Outcome(entry, created, None)
    apply_entries([(snapshot, +1) for snapshot in batch.counted])
    return outcomes


def _audit_creation(entry, links):
    """One audit row for a new entry, holding the households it was created with.

    Saving and then linking through the model would make django-simple-history write two
    rows (one on save(), one on the households' change); this writes the row its
    post_save would (same user, date and reason), after the links exist. The new rows'
    ids come back from the bulk INSERTs (PostgreSQL, SQLite ≥ 3.35).
    """
    # No reason given stays NULL, as post_save leaves it (bulk_history_create's default is "").
    created = ENTRY_HISTORY.bulk_history_create([entry], default_change_reason=None)
    if not created or not links:  # None when SIMPLE_HISTORY_ENABLED is off
        return
    HistoricalLink.objects.bulk_create([
        HistoricalLink(history=created[0], id=link.pk, entry_id=link.entry_id,
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
