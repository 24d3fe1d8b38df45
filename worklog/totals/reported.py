"""Totals "as reported": the months locked as they stood at their lock (`ReportedTally`,
`ReportedHouseholdTally`), the others live (worklog/locking.py locks the months)."""

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
    reported_rows = ReportedTally.objects.filter(scope.entry_filter(), year=year)
    # A month of a team in the scope today is locked, or the scope has rows reported (by a
    # team that has moved away since). Not looked for, to spare the dashboards a scan of the
    # scope's tallies: a moved team's month with nothing reported in the scope at its lock
    # that later gains rows there (an amendment moving an entry's date into it).
    # One round trip for both: UNION ALL under LIMIT 1 stops at the first row found.
    locked = LockedTeamMonth.objects.filter(year=year, team__in=Team.objects.filter(scope.team_filter()))
    if not locked.values("year").union(reported_rows.values("year"), all=True).exists():
        return None
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
