"""Reported months: locking a month for an organisation subtree, and amendments.

After a coordinator locks a month, the entries of the teams it covers cannot be created,
changed or deleted in that month; the team files an `Amendment` (the corrected values and
a reason) and a coordinator accepts it (applied through the notebook's services) or
rejects it. The tallies as they stood at the lock stay in `ReportedTally`, so totals can be
shown "as reported" beside "as corrected".

Races: an entry change takes a share lock on its team row and then checks the lock; locking
takes an exclusive lock on every team of the subtree first. So a change either finishes
before the snapshot or sees the lock — never slips in between (PostgreSQL; SQLite
serialises writers anyway).
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _

from teams.models import Household, Team
from worklog.models import (
    Activity,
    Amendment,
    HouseholdTally,
    LockedTeamMonth,
    MonthLock,
    ReportedHouseholdTally,
    ReportedTally,
    Tally,
)

SUM_FIELDS = ("entries", "participants", "sessions", "quantity", "funds", "household_visits")


class MonthLocked(Exception):
    """The month of this change is locked for the team: file an amendment instead."""

    def __init__(self, team_id, day):
        self.team_id, self.day = team_id, day
        super().__init__(month_name(day.year, day.month))


class AlreadyDecided(Exception):
    pass


def month_name(year, month):
    return _("%(month)s %(year)s") % {"month": MONTHS[month], "year": year}


def is_locked(team_id, day):
    return LockedTeamMonth.objects.filter(team_id=team_id, year=day.year, month=day.month).exists()


def ensure_open(team_id, *days):
    """Raise MonthLocked if any of these days falls in a locked month of the team.

    On PostgreSQL the team's row is share-locked in the same statement, so a lock being
    taken (which locks the team rows for update) waits for this change, or this change
    for the lock: one round trip per entry change."""
    months = sorted({(day.year, day.month) for day in days})
    if connection.vendor == "postgresql":
        pairs = " OR ".join(["(locked.year = %s AND locked.month = %s)"] * len(months)) or "FALSE"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT array_agg(locked.year * 100 + locked.month) FROM "
                f"{LockedTeamMonth._meta.db_table} locked WHERE locked.team_id = team.id AND ({pairs})) "
                "FROM teams_team team WHERE team.id = %s FOR SHARE",
                [value for month in months for value in month] + [team_id],
            )
            row = cursor.fetchone()
        locked = {divmod(value, 100) for value in (row[0] if row and row[0] else ())}
    else:
        locked = {month for month in months if LockedTeamMonth.objects.filter(
            team_id=team_id, year=month[0], month=month[1]).exists()}
    for day in days:
        if (day.year, day.month) in locked:
            raise MonthLocked(team_id, day)


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
        for row in Tally.objects.filter(**month_rows).values(
            "year", "month", "team_id", "village_id", "activity_id", *SUM_FIELDS
        )
    )
    ReportedHouseholdTally.objects.bulk_create(
        ReportedHouseholdTally(lock=lock, **row)
        for row in HouseholdTally.objects.filter(visits__gt=0, **month_rows).values(
            "year", "month", "household_id", "team_id", "village_id", "activity_id", "visits"
        )
    )
    return lock


def proposed_values(cleaned):
    """The entry form's cleaned values as JSON an amendment keeps."""
    return {
        "date": cleaned["date"].isoformat(),
        "activity": cleaned["activity"].pk,
        "households": sorted(h.pk for h in cleaned.get("households") or []),
        "participants": cleaned["participants"],
        "sessions": cleaned["sessions"],
        "quantity": cleaned["quantity"],
        "funds": str(cleaned["funds"]),
        "title": cleaned["title"],
        "notes": cleaned["notes"],
    }


def entry_values(values):
    """Back from JSON to the services' keyword arguments."""
    try:
        funds = Decimal(values["funds"])
    except (InvalidOperation, KeyError):
        funds = Decimal("0.00")
    return {
        "date": date.fromisoformat(values["date"]),
        "activity": Activity.objects.get(pk=values["activity"]),
        "households": list(Household.objects.filter(pk__in=values.get("households", []))),
        "participants": values.get("participants", 0),
        "sessions": values.get("sessions", 0),
        "quantity": values.get("quantity", 0),
        "funds": funds,
        "title": values.get("title", ""),
        "notes": values.get("notes", ""),
    }


def file_amendment(*, team, user, kind, reason, entry=None, values=None, uuid=None):
    if uuid is not None:
        values = {**(values or {}), "uuid": str(uuid)}
    return Amendment.objects.create(
        team=team, entry=entry, entry_version=entry.version if entry else None, kind=kind,
        values=values or {}, reason=reason, filed_by=user,
    )


@transaction.atomic
def accept_amendment(*, amendment, user, note=""):
    """Apply the amendment through the notebook's services (tallies follow) and close it.

    Raises services.StaleEntry if the entry changed after the amendment was filed.
    """
    from worklog import services

    amendment = Amendment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.status != Amendment.Status.PENDING:
        raise AlreadyDecided(amendment.pk)
    if amendment.kind == Amendment.Kind.CREATE:
        entry, _created = services.entry_create(
            uuid=amendment.values["uuid"], team=amendment.team, author=amendment.filed_by,
            through_amendment=True, **entry_values(amendment.values),
        )
        amendment.entry = entry
    elif amendment.kind == Amendment.Kind.CHANGE:
        services.entry_update(
            entry=amendment.entry, version=amendment.entry_version, editor=user,
            through_amendment=True, **entry_values(amendment.values),
        )
    else:
        services.entry_soft_delete(
            entry=amendment.entry, user=user, version=amendment.entry_version, through_amendment=True,
        )
    return _decide(amendment, user, Amendment.Status.ACCEPTED, note)


@transaction.atomic
def reject_amendment(*, amendment, user, note=""):
    amendment = Amendment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.status != Amendment.Status.PENDING:
        raise AlreadyDecided(amendment.pk)
    return _decide(amendment, user, Amendment.Status.REJECTED, note)


def _decide(amendment, user, status, note):
    amendment.status = status
    amendment.decided_by = user
    amendment.decided_at = timezone.now()
    amendment.decision_note = note
    amendment.save()
    return amendment
