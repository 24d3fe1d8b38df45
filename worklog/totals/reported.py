"""Totals "as reported": the months locked as they stood at their lock (`ReportedTally`,
`ReportedHouseholdTally`), the others live (worklog/locking.py locks the months)."""

from django.db import connections, router
from django.db.models import Exists, OuterRef, Q, Sum

from teams.models import Team
from worklog.models import (
    HouseholdTally,
    LockedTeamMonth,
    ReportedHouseholdTally,
    ReportedTally,
    Tally,
)
from worklog.totals.indicators import TALLY_FIELDS, as_totals
from worklog.totals.tallied import activity_ids


def reported_year_totals(scope, year, indicators):
    """Totals "as reported": locked months as they stood at their lock, the others live.

    None when no month of the scope and year is locked (then reported = corrected).
    Both halves are keyed by the tally rows' own team and village, as written: a team-month
    locked is taken from what was reported wherever today's structure puts the team, so
    moving a team to another village neither drops its reported figures from the old
    village nor counts them there twice.
    """
    # A month of a team in the scope today is locked, or the scope has rows reported (by a
    # team that has moved away since). Not looked for, to spare the dashboards a scan of the
    # scope's tallies: a moved team's month with nothing reported in the scope at its lock
    # that later gains rows there (an amendment moving an entry's date into it).
    # One round trip for both: UNION ALL under LIMIT 1 stops at the first row found.
    if not _locked_or_reported(scope, year):
        return None
    reported_rows = _reported_rows(scope, year)
    unlocked = ~Exists(LockedTeamMonth.objects.filter(
        team=OuterRef("team"), year=OuterRef("year"), month=OuterRef("month")))
    sums, activity_sets = {}, {}
    for ind in indicators:
        ids = activity_ids(ind)
        field = TALLY_FIELDS.get(ind.measure)
        if field:
            sums[f"i{ind.pk}"] = Sum(field, filter=Q(activity_id__in=ids))
        else:
            activity_sets[ind.pk] = set(ids)
    live = Tally.objects.filter(scope.entry_filter(), unlocked, year=year).aggregate(**sums) if sums else {}
    reported = reported_rows.aggregate(**sums) if sums else {}
    values = {key: (live[key] or 0) + (reported[key] or 0) for key in sums}
    if activity_sets:
        # Distinct households do not add up: take the union of (activity, household) pairs.
        pairs = (
            HouseholdTally.objects.filter(scope.entry_filter(), unlocked, year=year, visits__gt=0)
            .values_list("activity_id", "household_id")
            .union(
                ReportedHouseholdTally.objects.filter(scope.entry_filter(), year=year, visits__gt=0)
                .values_list("activity_id", "household_id")
            )
        )
        reached = {}
        for activity_id, household_id in pairs:
            reached.setdefault(activity_id, set()).add(household_id)
        for pk, ids in activity_sets.items():
            values[f"i{pk}"] = len(set().union(*(reached.get(i, set()) for i in ids)))
    return as_totals(indicators, values)


def _reported_rows(scope, year):
    """The scope's rows as reported at a lock, of the year."""
    return ReportedTally.objects.filter(scope.entry_filter(), year=year)


def _locked_or_reported(scope, year):
    """Whether a month of the scope's teams in `year` is locked or the scope has rows
    reported for it. For an organisation or area one plain statement, a copy of the scope's
    `team_filter` and `entry_filter` written out as joins up to its tree's path
    (tests/test_locking.py compares it with the ORM's for every organisation and area):
    building the ORM's union cost ≈ 1.1 ms of CPU on every organisation and area dashboard,
    the whole check now ≈ 0.4 ms (issue 14). Else the ORM's."""
    if scope.rollup is None:
        return _locked_or_reported_by_orm(scope, year)
    connection = connections[router.db_for_read(ReportedTally)]
    with connection.cursor() as cursor:
        cursor.execute(_locked_or_reported_sql(scope, connection), [
            connection.ops.prep_for_like_query(scope.obj_path) + "%", year,
            connection.ops.prep_for_like_query(scope.obj_path) + "%", year,
        ])
        return cursor.fetchone() is not None


def _locked_or_reported_by_orm(scope, year):
    """_locked_or_reported through the scope's `team_filter` and `entry_filter` (the rules' home)."""
    locked = LockedTeamMonth.objects.filter(year=year, team__in=Team.objects.filter(scope.team_filter()))
    return locked.values("year").union(_reported_rows(scope, year).values("year"), all=True).exists()


def _locked_or_reported_sql(scope, connection):
    """_locked_or_reported's statement for an organisation or area scope: a team-month
    locked of a team whose organisation (or village's area) is under the scope's path, or a
    reported row whose team (or village) is; UNION ALL under LIMIT 1 stops at the first."""
    rollup, name = scope.rollup, connection.ops.quote_name
    models = (LockedTeamMonth, ReportedTally, Team, rollup.via, rollup.tree)
    table = {model: name(model._meta.db_table) for model in models}
    node = name(rollup.via._meta.get_field(rollup.node_field).column)
    via = name(ReportedTally._meta.get_field(rollup.via_field).column)
    if rollup.via is Team:
        locked_via = f"JOIN {table[Team]} v ON v.id = l.team_id"
    else:
        team_via = name(Team._meta.get_field(rollup.via_field).column)
        locked_via = f"JOIN {table[Team]} t ON t.id = l.team_id JOIN {table[rollup.via]} v ON v.id = t.{team_via}"
    like = connection.operators["startswith"] % "%s"
    return (
        f"SELECT 1 FROM {table[LockedTeamMonth]} l {locked_via} JOIN {table[rollup.tree]} n ON n.id = v.{node} "
        f"WHERE n.path {like} AND l.year = %s "
        f"UNION ALL SELECT 1 FROM {table[ReportedTally]} r JOIN {table[rollup.via]} v ON v.id = r.{via} "
        f"JOIN {table[rollup.tree]} n ON n.id = v.{node} WHERE n.path {like} AND r.year = %s LIMIT 1"
    )
