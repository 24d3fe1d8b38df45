"""The notebook's models, one module per room: the notebook itself (activities, indicators,
entries and their households), the tallies kept of it, and the locks of reported months.
`from worklog.models import Entry` finds each of them here."""

from worklog.models.locks import (
    Amendment,
    LockedTeamMonth,
    MonthLock,
    ReportedHouseholdTally,
    ReportedTally,
)
from worklog.models.notebook import (
    Activity,
    Entry,
    EntryHousehold,
    Indicator,
    Measure,
    Unit,
    household_links_changing,
)
from worklog.models.tallies import AreaReach, AreaTally, HouseholdTally, OrgReach, OrgTally, Tally

__all__ = [
    "Activity", "Amendment", "AreaReach", "AreaTally", "Entry", "EntryHousehold",
    "HouseholdTally", "Indicator", "LockedTeamMonth", "Measure", "MonthLock", "OrgReach",
    "OrgTally", "ReportedHouseholdTally", "ReportedTally", "Tally", "Unit",
    "household_links_changing",
]
