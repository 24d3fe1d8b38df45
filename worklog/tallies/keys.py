"""The shape of the tallies, said once: the key and the sums of every table of running sums
as named tuples whose fields are its columns, the two trees the roll-ups follow, and what
one entry contributes.

Rows are held as {key: sums}, one row per key: `{TallyKey(...): TallySums(...)}`.
Contributions add up per key (`add_into`), so a batch of changes writes each row once.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from operator import add
from typing import NamedTuple

from teams.models import Area, Organisation, Team, Village
from worklog.models import AreaReach, AreaTally, HouseholdTally, OrgReach, OrgTally, Tally


class TallyKey(NamedTuple):
    """What a `Tally` row sums: one month of a team in a village, for one activity."""

    year: int
    month: int
    team_id: int
    village_id: int
    activity_id: int


class TallySums(NamedTuple):
    """What a `Tally` row, and a roll-up's row of sums, keeps of the live entries."""

    entries: int
    participants: int
    sessions: int
    quantity: int
    funds: Decimal
    household_visits: int


class HouseholdKey(NamedTuple):
    """What a `HouseholdTally` row counts: one household under one tally key (in the order
    of the table's unique key)."""

    year: int
    month: int
    household_id: int
    team_id: int
    village_id: int
    activity_id: int


class Visits(NamedTuple):
    visits: int


class RollupKey(NamedTuple):
    """What a roll-up row sums or counts: one node of a tree (an organisation or area), for
    one month (month 0, in the households reached: the whole year) and activity."""

    year: int
    month: int
    node_id: int
    activity_id: int


class Reached(NamedTuple):
    households: int


@dataclass(frozen=True)
class Table:
    """A table of running sums: its model, the named tuples of its key and sums (their
    fields are its columns; a roll-up stores `node_id` in its own node column)."""

    model: type
    key: type
    sums: type
    node_column: str = ""

    @cached_property
    def key_columns(self):
        return tuple(self.node_column if name == "node_id" else name for name in self.key._fields)

    @property
    def sum_columns(self):
        return self.sums._fields

    @property
    def columns(self):
        return self.key_columns + self.sum_columns

    @property
    def db_table(self):
        return self.model._meta.db_table

    def row(self, values):
        """(key, sums) of a row's values given in the order of `columns`."""
        size = len(self.key_columns)
        return self.key._make(values[:size]), self.sums._make(values[size:])

    def read(self, queryset):
        """{key: sums} of the rows of `queryset` (of this table's model)."""
        return dict(map(self.row, queryset.values_list(*self.columns)))


TALLY = Table(Tally, TallyKey, TallySums)
HOUSEHOLD_TALLY = Table(HouseholdTally, HouseholdKey, Visits)


@dataclass(frozen=True)
class Rollup:
    """One tree the tallies are rolled up along: organisations (through the team) or areas
    (through the village)."""

    sums: type  # OrgTally / AreaTally: the sums of a node's own teams or villages
    reach: type  # OrgReach / AreaReach: households reached under a node and its sub-nodes
    tree: type  # Organisation / Area
    via: type  # Team / Village: what a tally row names, and which belongs to a node
    node_field: str  # the node's field, in the roll-ups and in `via` alike
    node_path: str  # the lookup of the node's path, from the roll-ups' rows or from `via`
    via_field: str  # `via`'s field in `Tally` and `HouseholdTally`

    @cached_property
    def node_column(self):
        return self.sums._meta.get_field(self.node_field).column

    @cached_property
    def via_column(self):
        """`via`'s column, and field of `TallyKey` and `HouseholdKey`."""
        return Tally._meta.get_field(self.via_field).column

    @property
    def via_table(self):
        return self.via._meta.db_table

    @cached_property
    def sums_table(self):
        return Table(self.sums, RollupKey, TallySums, self.node_column)

    @cached_property
    def reach_table(self):
        return Table(self.reach, RollupKey, Reached, self.node_column)

    def key_sql(self, rows, via):
        """The roll-up key in SQL, of tally rows aliased `rows` joined to their team or
        village aliased `via`."""
        return ", ".join(
            f"{via}.{self.node_column}" if name == "node_id" else f"{rows}.{name}"
            for name in RollupKey._fields
        )


ORG = Rollup(
    sums=OrgTally, reach=OrgReach, tree=Organisation, via=Team,
    node_field="organisation", node_path="organisation__path", via_field="team",
)
AREA = Rollup(
    sums=AreaTally, reach=AreaReach, tree=Area, via=Village,
    node_field="area", node_path="area__path", via_field="village",
)
ROLLUPS = (ORG, AREA)


@dataclass(frozen=True)
class EntrySnapshot:
    """What of an entry the tallies depend on, as it was at one moment."""

    date: object
    team_id: int
    village_id: int
    activity_id: int
    participants: int
    sessions: int
    quantity: int
    funds: Decimal
    household_ids: tuple
    live: bool

    @classmethod
    def of(cls, entry, household_ids=None):
        if household_ids is None:
            household_ids = entry.households.values_list("pk", flat=True)
        return cls(
            date=entry.date, team_id=entry.team_id, village_id=entry.village_id,
            activity_id=entry.activity_id, participants=entry.participants,
            sessions=entry.sessions, quantity=entry.quantity, funds=Decimal(entry.funds),
            household_ids=tuple(sorted(household_ids)), live=entry.deleted_at is None,
        )


def contribution(snapshot, sign):
    """What one entry adds to the tallies (sign +1) or takes out of them (-1): its tally
    row and a household row per household it reached, or nothing while it is deleted."""
    s = snapshot
    if not s.live:
        return {}, {}
    key = TallyKey(year=s.date.year, month=s.date.month, team_id=s.team_id,
                   village_id=s.village_id, activity_id=s.activity_id)
    sums = TallySums(
        entries=sign, participants=sign * s.participants, sessions=sign * s.sessions,
        quantity=sign * s.quantity, funds=sign * s.funds,
        household_visits=sign * len(s.household_ids),
    )
    return {key: sums}, {
        HouseholdKey(year=key.year, month=key.month, household_id=household_id, team_id=key.team_id,
                     village_id=key.village_id, activity_id=key.activity_id): Visits(sign)
        for household_id in s.household_ids
    }


def contributions(changes):
    """What entries add to the tallies or take out of them: `changes` are (snapshot, sign)
    pairs; returns ({TallyKey: TallySums}, {HouseholdKey: Visits}) summed per key."""
    tallies, households = {}, {}
    for snapshot, sign in changes:
        tally_rows, household_rows = contribution(snapshot, sign)
        add_into(tallies, tally_rows)
        add_into(households, household_rows)
    return tallies, households


def add_into(totals, rows):
    """Add rows ({key: sums}) into `totals` ({key: sums}), key by key."""
    for key, sums in rows.items():
        have = totals.get(key)
        totals[key] = sums if have is None else sums._make(map(add, have, sums))


def in_key_order(rows):
    """[(key, sums)] of rows ({key: sums}) in key order, those adding nothing left out:
    writers that take row locks in one order never wait for each other in a circle."""
    return [(key, sums) for key, sums in sorted(rows.items()) if any(sums)]
