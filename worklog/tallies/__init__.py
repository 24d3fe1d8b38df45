"""Keeping the tallies exact: applied in the transaction of every entry change, rebuilt
from raw entries in bulk, and verified against a recount.

The rooms: `keys` (the key and sums of every tally table, the two trees of the roll-ups,
and what one entry contributes), `write` (adding contributions to the tallies, the one
"add to the row" upsert), `reach` (what a change does to the households reached),
`rollups` (recounting the roll-ups from the tallies), `verify` (the recount from the
entries, `totals --verify` and `--rebuild`), `receivers` (recounts after a team, village,
tree node or indicator changed, connected in worklog.apps) and `structure` (writers and
those changes kept apart). Callers that need the tables' keys and sums import them from
`keys`.
"""

from worklog.tallies.keys import AREA, ORG, ROLLUPS, EntrySnapshot
from worklog.tallies.reach import reach_activity_ids
from worklog.tallies.rollups import recount_reach, recount_rollup_sums, recount_rollups
from worklog.tallies.verify import differences, rebuild, recount, stored
from worklog.tallies.write import add_to_tallies, apply_change, apply_entries, apply_entry

__all__ = [
    "AREA",
    "ORG",
    "ROLLUPS",
    "EntrySnapshot",
    "add_to_tallies",
    "apply_change",
    "apply_entries",
    "apply_entry",
    "differences",
    "reach_activity_ids",
    "rebuild",
    "recount",
    "recount_reach",
    "recount_rollup_sums",
    "recount_rollups",
    "stored",
]
