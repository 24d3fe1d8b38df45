"""Reported months: locking a month for an organisation subtree, and the check every writer
makes of the locks.

After a coordinator locks a month, the entries of the teams it covers cannot be created,
changed or deleted in that month; the team files an amendment instead (worklog.amendments,
above this module and the services). The tallies as they stood at the lock stay in
`ReportedTally`, so totals can be shown "as reported" beside "as corrected".

Races: an entry change takes a share lock on its team row and then, in a statement of its
own, reads the locks (hold_teams, locked_months and ensure_open, below: the one home of
that check); locking takes an exclusive lock on every team of the subtree first. So a
change either finishes before the lock reads the tallies (and is in the report) or waits
for the lock and then sees it — never slips in between (PostgreSQL; SQLite serialises
writers anyway).
"""

from django.db import connection, transaction
from django.db.models import Exists
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _

from teams.models import Team
from teams import statements
from worklog.models import (
    Amendment,
    HouseholdTally,
    LockedTeamMonth,
    MonthLock,
    ReportedHouseholdTally,
    ReportedTally,
    Tally,
)
from worklog.tallies.keys import HOUSEHOLD_TALLY, TALLY


class MonthLocked(Exception):
    """The month of this change is locked for the team: file an amendment instead."""

    def __init__(self, team_id, day):
        self.team_id, self.day = team_id, day
        super().__init__(month_name(day.year, day.month))


class UuidHeldByAmendment(Exception):
    """A new entry's uuid was filed with an amendment: that form was used already."""


def month_name(year, month):
    return _("%(month)s %(year)s") % {"month": MONTHS[month], "year": year}


# Every check of the locks, by whichever writer, takes two steps in this order:
#   1. hold_teams: share-lock the teams' rows (PostgreSQL; one statement, in id order so
#      that two writers never wait on each other crosswise). lock_month locks the same rows
#      for update first, so a month being locked waits for the writer's transaction, or the
#      writer for the lock.
#   2. read the locks in a statement of its own: under READ COMMITTED it takes its snapshot
#      after the share lock was granted, so it sees a lock committed while the writer
#      waited (a statement that waits for a row lock keeps the snapshot it started with).
# SQLite serialises writers anyway.


def hold_teams(team_ids):
    """Step 1 above: share-lock the teams' rows until the transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql" and team_ids:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Team._meta.db_table} WHERE id = ANY(%s) "
                           f"ORDER BY id FOR SHARE", [sorted(team_ids)])


def _locks(team_id, year, month):
    return LockedTeamMonth.objects.filter(team_id=team_id, year=year, month=month)


def locked_months(team_months):
    """The locked ones among these (team id, year, month)s, after holding their teams (the
    two steps above): two statements, whatever their number."""
    team_months = set(team_months)
    team_ids = {team_id for team_id, _year, _month in team_months}
    hold_teams(team_ids)
    years = {year for _team_id, year, _month in team_months}
    return team_months & set(
        LockedTeamMonth.objects.filter(team_id__in=team_ids, year__in=years)
        .values_list("team_id", "year", "month")
    )


def ensure_open(team_id, *days, new_uuid=None):
    """Raise MonthLocked if any of these days falls in a locked month of the team, and
    then, for a new entry's `new_uuid`, UuidHeldByAmendment if an amendment holds it.

    The two steps above, with the uuid's check in the statement that reads the locks."""
    months = sorted({(day.year, day.month) for day in days})
    hold_teams([team_id])
    checks = {
        f"m{index}": Exists(_locks(team_id, year, month))
        for index, (year, month) in enumerate(months)
    }
    if new_uuid is not None:
        checks["held"] = Exists(Amendment.objects.filter(uuid=new_uuid))
    found = Team.objects.filter(pk=team_id).values(**checks).first() or {}
    locked = {month for index, month in enumerate(months) if found.get(f"m{index}")}
    for day in days:
        if (day.year, day.month) in locked:
            raise MonthLocked(team_id, day)
    if found.get("held"):
        raise UuidHeldByAmendment(new_uuid)


def open_check(team_months, new_uuids, *, held=False):
    """ensure_open for a batch of new entries, read once: the locks of all their
    (team id, year, month)s (the two steps above) and the amendments holding any of their
    uuids, in one statement. `held`: the caller holds the teams already (step 1, e.g. by
    worklog.tallies.structure.hold_for_writing). Returns a function taking ensure_open's
    arguments that checks without a query."""
    team_months = set(team_months)
    team_ids = sorted({team_id for team_id, _year, _month in team_months})
    if not held:
        hold_teams(team_ids)
    years = sorted({year for _team_id, year, _month in team_months})
    uuid = Amendment._meta.get_field("uuid")
    new_uuids = [uuid.get_db_prep_value(new_uuid, connection) for new_uuid in new_uuids]
    # One statement for both (raw SQL: it runs on every post).
    sql = (f"SELECT team_id, year, month, NULL FROM {LockedTeamMonth._meta.db_table} "
           f"WHERE team_id IN ({', '.join(['%s'] * len(team_ids))}) AND year IN ({', '.join(['%s'] * len(years))})")
    if new_uuids:
        sql += (f" UNION ALL SELECT NULL, NULL, NULL, uuid FROM {Amendment._meta.db_table} "
                f"WHERE uuid IN ({', '.join(['%s'] * len(new_uuids))})")
    locked, held_uuids = set(), set()
    with connection.cursor() as cursor:
        statements.execute(cursor, sql, [*team_ids, *years, *new_uuids])
        for team_id, year, month, held_uuid in cursor.fetchall():
            if held_uuid is None:
                locked.add((team_id, year, month))
            else:
                held_uuids.add(uuid.to_python(held_uuid))
    locked &= team_months

    def check(team_id, *days, new_uuid=None):
        for day in days:
            if (team_id, day.year, day.month) in locked:
                raise MonthLocked(team_id, day)
        if new_uuid in held_uuids:
            raise UuidHeldByAmendment(new_uuid)

    return check


@transaction.atomic
def lock_month(*, organisation, year, month, user):
    """Lock the month for the organisation's subtree; returns the MonthLock (or the
    existing one). Team-months already locked by another lock keep their report."""
    existing = MonthLock.objects.filter(organisation=organisation, year=year, month=month).first()
    if existing:
        return existing
    teams = Team.objects.filter(organisation__path__startswith=organisation.path)
    team_ids = list(teams.select_for_update().order_by("pk").values_list("pk", flat=True))
    already = set(
        LockedTeamMonth.objects.filter(team_id__in=team_ids, year=year, month=month)
        .values_list("team_id", flat=True)
    )
    newly = [team_id for team_id in team_ids if team_id not in already]
    lock = MonthLock.objects.create(organisation=organisation, year=year, month=month, locked_by=user)
    LockedTeamMonth.objects.bulk_create(
        LockedTeamMonth(lock=lock, team_id=team_id, year=year, month=month) for team_id in newly
    )
    month_rows = {"year": year, "month": month, "team_id__in": newly}
    ReportedTally.objects.bulk_create(
        ReportedTally(lock=lock, **row)
        for row in Tally.objects.filter(**month_rows).values(*TALLY.columns)
    )
    ReportedHouseholdTally.objects.bulk_create(
        ReportedHouseholdTally(lock=lock, **row)
        for row in HouseholdTally.objects.filter(visits__gt=0, **month_rows).values(*HOUSEHOLD_TALLY.columns)
    )
    return lock
