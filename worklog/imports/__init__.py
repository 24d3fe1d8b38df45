"""Bringing spreadsheets in: the rules and writes behind `manage.py import_entries`,
`manage.py import_households` and the import pages (DESIGN §6, a contract), all or nothing.
The rooms: `sheets` (a file's bytes to rows of cells, within limits), `reading`
(header-checked rows and cell values, and the Problem every check reports), `entries`
(checking entry rows and importing them), `columns` (an entries file's columns and the
names of its activities), `writing` (the bulk INSERTs, audit rows and tally upserts of an
entries import), `template` (the entries template to fill in a spreadsheet program) and
`households` (checking and importing household rows). Import from here, not from the rooms.
"""

from worklog.imports.entries import (
    ENTRY_COLUMNS,
    ActivitySums,
    EntryPlan,
    EntryRow,
    entries_import,
    plan_entries,
)
from worklog.imports.households import (
    HOUSEHOLD_COLUMNS,
    HouseholdPlan,
    HouseholdRow,
    households_import,
    plan_households,
)
from worklog.imports.reading import ImportRejected, Problem
from worklog.imports.sheets import read_sheet
from worklog.imports.template import entries_template

__all__ = [
    "ENTRY_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "ActivitySums",
    "EntryPlan",
    "EntryRow",
    "HouseholdPlan",
    "HouseholdRow",
    "ImportRejected",
    "Problem",
    "entries_import",
    "entries_template",
    "households_import",
    "plan_entries",
    "plan_households",
    "read_sheet",
]
