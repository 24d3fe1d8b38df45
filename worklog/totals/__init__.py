"""The roll-up: indicator totals for a scope and a year (DESIGN §5).

`year_totals(scope, year)` reads the tallies (worklog.tallies keeps them exact) in a fixed
number of queries whatever the number of teams, indicators or entries: the indicators
with their activities, one aggregate over `Tally` and one over `HouseholdTally`. Each
indicator is one filtered aggregate (`SUM(...) FILTER (WHERE activity_id IN ...)`).
`indicator_totals(entries)` recounts any queryset of raw entries the same way; the two
agree, which `manage.py totals --verify` and the property tests check.

Its rooms: `scope` (where totals are taken, and which years), `indicators` (what each
measure sums; `IndicatorTotal`), `tallied` (totals read from the tallies, overall and
broken down), `reported` (locked months as they stood at their lock) and `recount` (the
same totals from the raw entries). Callers import from `worklog.totals`; the modules
import one another directly.
"""

from worklog.totals.indicators import ENTRY_MEASURES, TALLY_FIELDS, IndicatorTotal, load_indicators
from worklog.totals.recount import indicator_totals, recount_year_totals, scope_entries
from worklog.totals.reported import reported_year_totals
from worklog.totals.scope import (
    MAX_YEAR,
    MIN_YEAR,
    SCOPE_KINDS,
    SCOPE_MODELS,
    BadScopeQuery,
    Scope,
    ScopeNotFound,
    resolve_scope,
    scope_and_year_from_query,
    year_range,
)
from worklog.totals.tallied import (
    DashboardTotals,
    child_path,
    dashboard_totals,
    grouped_totals,
    tally_totals,
    totals_document,
    year_over_year,
    year_totals,
)

__all__ = [
    "ENTRY_MEASURES", "MAX_YEAR", "MIN_YEAR", "SCOPE_KINDS", "SCOPE_MODELS", "TALLY_FIELDS",
    "BadScopeQuery", "DashboardTotals", "IndicatorTotal", "Scope", "ScopeNotFound", "child_path",
    "dashboard_totals", "grouped_totals", "indicator_totals", "load_indicators", "recount_year_totals",
    "reported_year_totals", "resolve_scope", "scope_and_year_from_query", "scope_entries",
    "tally_totals", "totals_document", "year_over_year", "year_range", "year_totals",
]
