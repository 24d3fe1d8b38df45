"""Checking the tallies against a recount of the raw entries (`manage.py totals --verify`),
and rebuilding them from one (`--rebuild`, after bulk loads)."""

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from teams.models import Team
from worklog.models import Entry, HouseholdTally, Tally
from worklog.tallies.keys import (
    HOUSEHOLD_TALLY,
    ORG,
    ROLLUPS,
    TALLY,
    HouseholdKey,
    RollupKey,
    TallyKey,
    TallySums,
    add_into,
)
from worklog.tallies.reach import reach_activity_ids
from worklog.tallies.rollups import reach_select, recount_rollups

CENT = Decimal("0.01")
VERIFY_TEAMS_AT_ONCE = 50


def _key(key_type, row):
    """The key of a row read with `.values()`."""
    return key_type._make(row[name] for name in key_type._fields)


def recount(entries=None):
    """The tallies as a recount of raw entries would have them: ({TallyKey: TallySums},
    {HouseholdKey: visits})."""
    entries = (entries if entries is not None else Entry.objects.all()).live().order_by()
    dated = entries.annotate(year=ExtractYear("date"), month=ExtractMonth("date"))
    tallies = {}
    for row in dated.values(*TallyKey._fields).annotate(
        entries=Count("id"), participants=Sum("participants"), sessions=Sum("sessions"),
        quantity=Sum("quantity"), funds=Sum("funds"),
    ):
        tallies[_key(TallyKey, row)] = TallySums(
            entries=row["entries"], participants=row["participants"], sessions=row["sessions"],
            quantity=row["quantity"], funds=Decimal(row["funds"] or 0).quantize(CENT), household_visits=0,
        )

    households = {}
    for row in _link_groups(entries):
        key = _key(TallyKey, row)
        tallies[key] = tallies[key]._replace(household_visits=tallies[key].household_visits + row["visits"])
        household_key = _key(HouseholdKey, row)
        households[household_key] = households.get(household_key, 0) + row["visits"]
    return tallies, households


def _link_groups(entries):
    """Household links of the entries, counted per household key."""
    through = Entry.households.through.objects.filter(entry__in=entries.values("pk"))
    return (
        through.annotate(
            year=ExtractYear("entry__date"),
            month=ExtractMonth("entry__date"),
            team_id=F("entry__team_id"),
            village_id=F("entry__village_id"),
            activity_id=F("entry__activity_id"),
        )
        .values(*HouseholdKey._fields)
        .annotate(visits=Count("id"))
        .order_by()
    )


def _quantized(rows):
    """Rows of sums with the funds as a recount gives them, those of zero sums left out."""
    return {key: sums._replace(funds=Decimal(sums.funds).quantize(CENT)) for key, sums in rows.items() if any(sums)}


def stored(team_ids=None):
    """The tallies as stored (of some teams, or all), like `recount()` gives them (zero
    rows left out)."""
    tally_rows, household_rows = Tally.objects.all(), HouseholdTally.objects.all()
    if team_ids is not None:
        tally_rows, household_rows = tally_rows.filter(team_id__in=team_ids), household_rows.filter(team_id__in=team_ids)
    households = HOUSEHOLD_TALLY.read(household_rows.filter(visits__gt=0))
    return _quantized(TALLY.read(tally_rows)), {key: sums.visits for key, sums in households.items()}


def _add_rollup_sums(rollup_tallies, tallies, rollup, node_of):
    """Add tally rows ({TallyKey: TallySums}) to a roll-up's sums per node
    ({RollupKey: TallySums}), as the roll-up keeps them."""
    for key, sums in tallies.items():
        node_id = node_of[getattr(key, rollup.via_column)]
        add_into(rollup_tallies, {RollupKey(key.year, key.month, node_id, key.activity_id): sums})


def _reach_stored(rollup):
    rows = rollup.reach_table.read(rollup.reach.objects.filter(households__gt=0))
    return {key: reached.households for key, reached in rows.items()}


def _reach_from_household_tallies(rollup):
    """A roll-up's households reached as the household tallies give them, counted by the
    database."""
    activity_ids = sorted(reach_activity_ids())
    if not activity_ids:
        return {}
    counts = {}
    with connection.cursor() as cursor:
        for by_month in (True, False):
            cursor.execute(reach_select(rollup, activity_ids, by_month=by_month), activity_ids)
            for year, month, node_id, activity_id, households in cursor.fetchall():
                if households:
                    counts[RollupKey(year, month, node_id, activity_id)] = households
    return counts


def _shown(value):
    return value._asdict() if isinstance(value, tuple) else value


def _compare(lines, name, table, expected, actual, zero):
    for key in sorted(set(expected) | set(actual), key=str):
        want, have = expected.get(key, zero), actual.get(key, zero)
        if want != have:
            shown_key = dict(zip(table.key_columns, key))
            lines.append(f"{name} {shown_key}: recount {_shown(want)}, stored {_shown(have)}")


def differences():
    """Where stored tallies and a recount disagree, as readable lines (empty when exact).

    `Tally` and `HouseholdTally` are recounted from the entries a few teams at a time (so
    memory stays flat at millions of entries), the roll-ups' sums from those recounts,
    and their households reached by the database from the household tallies checked
    that way.
    """
    lines = []
    rollup_expected = {rollup: {} for rollup in ROLLUPS}
    node_of = {rollup: dict(rollup.via.objects.values_list("pk", rollup.node_column)) for rollup in ROLLUPS}
    team_ids = sorted(node_of[ORG])
    for start in range(0, len(team_ids), VERIFY_TEAMS_AT_ONCE):
        chunk = team_ids[start:start + VERIFY_TEAMS_AT_ONCE]
        expected_tallies, expected_households = recount(Entry.objects.filter(team_id__in=chunk))
        actual_tallies, actual_households = stored(chunk)
        _compare(lines, "tally", TALLY, expected_tallies, actual_tallies, None)
        _compare(lines, "household tally", HOUSEHOLD_TALLY, expected_households, actual_households, 0)
        for rollup in ROLLUPS:
            _add_rollup_sums(rollup_expected[rollup], expected_tallies, rollup, node_of[rollup])
    for rollup in ROLLUPS:
        label = rollup.tree._meta.model_name
        expected = {key: sums for key, sums in rollup_expected[rollup].items() if any(sums)}
        actual = _quantized(rollup.sums_table.read(rollup.sums.objects.all()))
        _compare(lines, f"{label} tally", rollup.sums_table, expected, actual, None)
        _compare(lines, f"households reached by {label}", rollup.reach_table,
                 _reach_from_household_tallies(rollup), _reach_stored(rollup), 0)
    return lines


@transaction.atomic
def rebuild():
    """Replace every tally with a recount of the raw entries (after bulk loads), a few
    teams at a time; returns the numbers of tally and household tally rows."""
    Tally.objects.all().delete()
    HouseholdTally.objects.all().delete()
    team_ids = sorted(Team.objects.values_list("pk", flat=True))
    made_tallies = made_households = 0
    for start in range(0, len(team_ids), VERIFY_TEAMS_AT_ONCE):
        tallies, households = recount(Entry.objects.filter(team_id__in=team_ids[start:start + VERIFY_TEAMS_AT_ONCE]))
        Tally.objects.bulk_create(
            (Tally(**key._asdict(), **sums._asdict()) for key, sums in tallies.items()),
            batch_size=5000,
        )
        HouseholdTally.objects.bulk_create(
            (HouseholdTally(**key._asdict(), visits=visits) for key, visits in households.items()),
            batch_size=5000,
        )
        made_tallies, made_households = made_tallies + len(tallies), made_households + len(households)
    recount_rollups()
    return made_tallies, made_households
