"""Totals read from the tallies: a scope's year (`year_totals`), the same broken down by
month, team, village or child node (`grouped_totals`), this year beside last
(`year_over_year`), any narrowed tallies (`tally_totals`) and the document of the API and
`manage.py totals --json` (`totals_document`).

A fixed number of queries whatever the number of teams, indicators or entries: each
indicator is one filtered aggregate (`SUM(...) FILTER (WHERE activity_id IN ...)`) over
the roll-up rows of the scope's node where they serve, else over `Tally`, and over
`HouseholdTally` or the households-reached roll-ups for distinct households.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.db import connections, router
from django.db.models import CharField, Count, F, Q, Sum, Value
from django.db.models.functions import StrIndex, Substr

from worklog.models import HouseholdTally, Measure, OrgReach, Tally
from worklog.totals.indicators import TALLY_FIELDS, as_totals, load_indicators
from worklog.totals.scope import year_range


def year_totals(scope, year, indicators=None):
    """Every indicator's total for the scope and year, in indicator order, from the tallies.

    The sums and the households reached are read per activity (a plain GROUP BY) and added
    up per indicator here: a filtered aggregate per indicator cost more to build in the ORM
    than the rest of `/api/totals`. Distinct households over several activities are a
    union, counted as grouped_totals counts them.
    """
    if indicators is None:
        indicators = load_indicators()
    year_range(year)
    reach = _reach_indicators(scope, indicators)
    values = {}
    fields = sorted({TALLY_FIELDS[ind.measure] for ind in indicators if ind.measure in TALLY_FIELDS})
    if fields:
        rows = scope.sum_rows().filter(year=year).values("activity_id")
        rows = rows.annotate(**{f"sum_{field}": Sum(field) for field in fields})
        sums = {row["activity_id"]: row for row in rows}
        for ind in indicators:
            if ind.measure in TALLY_FIELDS:
                key = f"sum_{TALLY_FIELDS[ind.measure]}"
                values[f"i{ind.pk}"] = sum(sums[pk][key] for pk in activity_ids(ind) if pk in sums)
    if reach:
        rows = _reach_rows(scope).filter(year=year).values("activity_id").annotate(reached=Sum("households"))
        reached = {row["activity_id"]: row["reached"] for row in rows}
        for ind in reach:
            values[f"i{ind.pk}"] = sum(reached.get(pk, 0) for pk in activity_ids(ind))
    distinct = _tally_aggregates([ind for ind in indicators if ind not in reach and ind.measure not in TALLY_FIELDS])[1]
    if distinct:
        values.update(_household_rows(scope, indicators, skip=reach).filter(year=year).aggregate(**distinct))
    return as_totals(indicators, values)


def activity_ids(indicator):
    """The ids of the indicator's activities, from those load_indicators keeps with it when
    it has them: each `activities.all()` builds a related manager, ≈ 50 per dashboard."""
    kept = getattr(indicator, "_prefetched_objects_cache", {}).get("activities")
    return [activity.pk for activity in (indicator.activities.all() if kept is None else kept)]


def _tally_aggregates(indicators, reach=()):
    """Each indicator as a filtered aggregate: sums over `Tally` (or `OrgTally`), distinct
    households over `HouseholdTally`, and for the indicators in `reach` the households
    reached over `OrgReach`."""
    sums, distinct, reached = {}, {}, {}
    for ind in indicators:
        ids = activity_ids(ind)
        only_its = Q(activity_id__in=ids)
        field = TALLY_FIELDS.get(ind.measure)
        if field:
            sums[f"i{ind.pk}"] = Sum(field, filter=only_its)
        elif ind in reach:
            reached[f"i{ind.pk}"] = Sum("households", filter=only_its)
        elif ind.measure == Measure.HOUSEHOLDS:
            distinct[f"i{ind.pk}"] = Count("household_id", distinct=True, filter=only_its)
    return sums, distinct, reached


def _reach_indicators(scope, indicators):
    """The distinct-households indicators whose totals for the scope a roll-up keeps: for an
    organisation or area, those counting one activity (households reached with several
    activities are a union, which per-activity counts cannot give)."""
    if scope.kind not in ("org", "area"):
        return []
    return [ind for ind in indicators
            if ind.measure == Measure.HOUSEHOLDS and len(activity_ids(ind)) == 1]


def _counted_activity_ids(indicators, skip=()):
    """The activities whose households the distinct-households indicators (but those in
    `skip`) count."""
    return {pk for ind in indicators if ind.measure == Measure.HOUSEHOLDS and ind not in skip
            for pk in activity_ids(ind)}


def _household_rows(scope, indicators, skip=()):
    """The scope's HouseholdTally rows that a distinct-households indicator can count:
    restricted to those activities up front, not only inside each FILTER (at 10 M entries
    this is the difference between reading every household row of the year and a few)."""
    return HouseholdTally.objects.filter(
        scope.entry_filter(), visits__gt=0, activity_id__in=_counted_activity_ids(indicators, skip)
    ).order_by()


def grouped_totals(scope, year, indicators, by=None):
    """Indicator totals from the tallies, per value of `by` ("month", "team_id",
    "village_id", or "child": the path of the organisation's or area's child subtree) or
    overall (key None): {key: [IndicatorTotal, ...]}.

    A few queries whatever the numbers of entries, teams or indicators: the sums over
    `OrgTally` where the scope and `by` allow, else `Tally`; the distinct households over
    `OrgReach` where it keeps them, else `HouseholdTally`; each indicator a filtered
    aggregate in them.
    """
    year_range(year)
    by_team = by in ("team_id", "village_id")
    reach = [] if by_team else _reach_indicators(scope, indicators)
    sums, distinct, reached = _tally_aggregates(indicators, reach)
    sum_rows = Tally.objects.filter(scope.entry_filter()).order_by() if by_team else scope.sum_rows()
    household_rows = _household_rows(scope, indicators, skip=reach)
    own = scope.own_household_rows() if by == "child" and reached else None
    if own is not None:
        # The teams or villages right at the node are no child node: not in the roll-up.
        household_rows = household_rows | own.filter(activity_id__in=_counted_activity_ids(reach), visits__gt=0)
        distinct.update(_tally_aggregates(reach)[1])
    results = {}
    for rows, aggregates in ((sum_rows, sums), (household_rows, distinct),
                             (_reach_rows(scope, by), reached)):
        if not aggregates:
            continue
        rows = rows.filter(year=year)
        if by is None:
            results.setdefault(None, {}).update(rows.aggregate(**aggregates))
            continue
        if by == "child":
            rows = rows.annotate(child=child_path(scope, scope.child_path_field(rows)))
        for row in rows.values(by).annotate(**aggregates):
            _merge(results.setdefault(row[by], {}), row)
    return {key: as_totals(indicators, values) for key, values in results.items()}


def _reach_rows(scope, by=None):
    """Households-reached rows of an organisation or area scope: its own for the year,
    month by month, or its children's for a breakdown."""
    if scope.rollup is None:
        return OrgReach.objects.none()
    rows, node = scope.rollup.reach.objects.order_by(), scope.rollup.node_field
    if by == "child":
        return rows.filter(month=0, **{f"{node}__parent": scope.obj})
    if by == "month":
        return rows.filter(month__gt=0, **{node: scope.obj})
    return rows.filter(month=0, **{node: scope.obj})


def child_path(scope, field):
    """For an organisation or area scope: an expression giving, from a row's `field` (a
    path), the path of the scope's child subtree it falls in (the scope's own path for rows
    right at it)."""
    start = len(scope.obj.path)
    rest = Substr(F(field), start + 1)
    return Substr(F(field), 1, Value(start) + StrIndex(rest, Value("/")), output_field=CharField())


def tally_totals(tallies, household_tallies, indicators):
    """Indicator totals over querysets of `Tally` and `HouseholdTally` rows already narrowed
    (to a user's teams, a year, activities): two queries."""
    sums, distinct, _reached = _tally_aggregates(indicators)
    values = tallies.order_by().aggregate(**sums) if sums else {}
    if distinct:
        rows = household_tallies.filter(visits__gt=0, activity_id__in=_counted_activity_ids(indicators)).order_by()
        values.update(rows.aggregate(**distinct))
    return as_totals(indicators, values)


def year_over_year(scope, year, indicators):
    """(this year's totals, last year's, {month: this year's totals}) for a dashboard.

    Three queries: the two years' tallies per month (year totals add the months up), then
    distinct households per year and per month, which do not add up.
    """
    year_range(year)
    reach = _reach_indicators(scope, indicators)
    sums, distinct, reached = _tally_aggregates(indicators, reach)
    years = {year - 1: {}, year: {}}
    months = {}
    if sums:
        rows = scope.sum_rows().filter(year__in=list(years))
        for row in rows.values("year", "month").annotate(**sums):
            if row["year"] == year:
                months[row["month"]] = row
            totals = years[row["year"]]
            for key in sums:
                totals[key] = (totals.get(key) or 0) + (row[key] or 0)
    for aggregates, year_rows, month_rows in (
        (distinct, _household_rows(scope, indicators, skip=reach), None),
        (reached, _reach_rows(scope), _reach_rows(scope, "month")),
    ):
        if not aggregates:
            continue
        for row in year_rows.filter(year__in=list(years)).values("year").annotate(**aggregates):
            years[row["year"]].update(row)
        month_rows = year_rows if month_rows is None else month_rows
        for row in month_rows.filter(year=year).values("month").annotate(**aggregates):
            months.setdefault(row["month"], {}).update(row)
    return (
        as_totals(indicators, years[year]),
        as_totals(indicators, years[year - 1]),
        {month: as_totals(indicators, values) for month, values in months.items()},
    )


def totals_document(scope, year):
    """The JSON-ready document of `manage.py totals --json` and `/api/totals` (DESIGN §6)."""
    return {
        "year": year,
        "scope": scope.as_dict(),
        "indicators": [total.as_dict() for total in year_totals(scope, year)],
    }


@dataclass
class DashboardTotals:
    """What an organisation's or area's dashboard shows: the year's totals, last year's,
    this year's per month and per child node (the breakdown's rows, keyed by path)."""

    this_year: list
    last_year: list
    by_month: dict
    by_child: dict


def dashboard_totals(scope, year, indicators):
    """`year_over_year` and `grouped_totals(by="child")` of an organisation or area scope
    with child nodes, in two queries where they took five: the roll-up's sums of both years
    per month and child subtree in one, its households reached (the scope's per year and
    month, the children's for the year) in another, each split up here. Distinct households
    that only `HouseholdTally` can count (an indicator of several activities, the teams or
    villages right at the node) are read as those functions read them."""
    year_range(year)
    reach = _reach_indicators(scope, indicators)
    # Aggregates built where they run: on PostgreSQL _rolled_up and _reached_rows write theirs out.
    sums = [f"i{ind.pk}" for ind in indicators if TALLY_FIELDS.get(ind.measure)]
    distinct = _tally_aggregates([ind for ind in indicators if ind not in reach and ind.measure not in TALLY_FIELDS])[1]
    years, months, children = {year - 1: {}, year: {}}, {}, {}
    if sums:
        alias = router.db_for_read(scope.rollup.sums)
        if connections[alias].vendor == "postgresql":
            per_year, per_month, per_child = _rolled_up(scope, indicators, year, alias)
        else:
            sums = _tally_aggregates(indicators, reach)[0]
            rows = scope.sum_rows().filter(year__in=list(years))
            rows = rows.annotate(child=child_path(scope, scope.child_path_field(rows)))
            rows = rows.values("year", "month", "child").annotate(**sums)
            per_year, per_month, per_child = {}, {}, {}
            for row_year, month, child, *values in rows.values_list("year", "month", "child", *sums):
                values = [value or 0 for value in values]
                _add(per_year, row_year, values)
                if row_year == year:
                    _add(per_month, month, values)
                    _add(per_child, child, values)
        for key, values in per_year.items():
            years[key].update(zip(sums, values))
        months.update((key, dict(zip(sums, values))) for key, values in per_month.items())
        children.update((key, dict(zip(sums, values))) for key, values in per_child.items())
    household_rows = _household_rows(scope, indicators, skip=reach) if distinct else None
    if distinct:
        for row in household_rows.filter(year__in=list(years)).values("year").annotate(**distinct):
            years[row["year"]].update(row)
        for row in household_rows.filter(year=year).values("month").annotate(**distinct):
            months.setdefault(row["month"], {}).update(row)
    by_child = dict(distinct)
    own = scope.own_household_rows() if reach else None
    if own is not None:
        # The teams or villages right at the node are no child node: not in the roll-up.
        own = own.filter(activity_id__in=_counted_activity_ids(reach), visits__gt=0)
        household_rows = own if household_rows is None else household_rows | own
        by_child.update(_tally_aggregates(reach)[1])
    if by_child:
        rows = household_rows.filter(year=year)
        rows = rows.annotate(child=child_path(scope, scope.child_path_field(rows)))
        for row in rows.values("child").annotate(**by_child):
            _merge(children.setdefault(row["child"], {}), row)
    if reach:
        for row_year, month, node, path, row in _reached_rows(scope, reach, year):
            if node != scope.obj.pk:
                _merge(children.setdefault(path, {}), row)
            elif month == 0:
                years[row_year].update(row)
            else:
                months.setdefault(month, {}).update(row)
    return DashboardTotals(
        this_year=as_totals(indicators, years[year]),
        last_year=as_totals(indicators, years[year - 1]),
        by_month={month: as_totals(indicators, values) for month, values in months.items()},
        by_child={key: as_totals(indicators, values) for key, values in children.items()},
    )


def _rolled_up(scope, indicators, year, alias):
    """({year: sums}, {month: this year's sums}, {child: this year's sums}) of an
    organisation or area scope and the year before, on PostgreSQL: the roll-up's sums per
    (year, month) and per (year, child subtree) in one statement (GROUPING SETS), each
    year's the sum of its months here. Each value a list in the order of the summed
    indicators (those of `_tally_aggregates`); SUM keeps every figure exact (numeric for
    the funds), and so does adding up the months' sums.

    The statement is the one `grouped_totals(by="child")` builds through the ORM, written
    out: building 17 filtered aggregates and compiling them, then adding the rows up in
    Python, cost some 8 ms of the organisation dashboard's CPU at 10 M entries (cProfile,
    issue 14)."""
    columns = tuple(
        (f"i{ind.pk}", TALLY_FIELDS[ind.measure], tuple(sorted(activity_ids(ind))))
        for ind in indicators if TALLY_FIELDS.get(ind.measure)
    )
    rollup, connection = scope.rollup, connections[alias]
    statement = _rolled_up_sql(
        rollup.sums._meta.db_table, rollup.tree._meta.db_table, rollup.node_column, len(scope.obj.path), columns)
    params = [connection.ops.prep_for_like_query(scope.obj.path) + "%", year - 1, year]
    per_year, per_month, per_child = {}, {}, {}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for row_year, month, child, grouping, *values in cursor.fetchall():
            values = [value or 0 for value in values]
            if grouping == 1:  # GROUPING(month, child): 1 for a month's row, 2 for a child's
                _add(per_year, row_year, values)
                if row_year == year:
                    per_month[month] = values
            elif row_year == year:
                per_child[child] = values
    return per_year, per_month, per_child


@lru_cache(maxsize=64)
def _rolled_up_sql(sums_table, tree_table, node_column, start, columns):
    """_rolled_up's statement: a pure function of its arguments (tables, the length of the
    scope's path, each indicator's name, column and activities), so kept once built. It
    holds no figure: the path and years are parameters, and an indicator whose
    activities change makes another key.

    Each node of the subtree is given its child's path once (the materialised `n`), and
    the rows are added up in one pass of hashing into the two grouping sets. Grouping
    them first by (year, month, child) sorted every row (an area's 33,600 at 10 M entries)
    on a text key, spilling to disk past 4 MB of work_mem, and a third grouping set per
    year cost another round of the 16 filtered sums per row: 59.0 → 24.7 ms of the
    server's CPU for the bench region at 10 M (issue 14)."""
    aggregates = ", ".join(
        f"SUM(t.{field}) FILTER (WHERE t.activity_id IN ({', '.join(str(int(pk)) for pk in ids)})) AS {name}"
        if ids else f"NULL::numeric AS {name}"
        for name, field, ids in columns
    )
    child = f"SUBSTRING(path, 1, {int(start)} + STRPOS(SUBSTRING(path, {int(start) + 1}), '/'))"
    return (
        f"WITH n AS MATERIALIZED (SELECT id, {child} AS child FROM {tree_table} WHERE path LIKE %s) "
        f"SELECT t.year, t.month, n.child, GROUPING(t.month, n.child), {aggregates} "
        f"FROM {sums_table} t JOIN n ON n.id = t.{node_column} WHERE t.year IN (%s, %s) "
        f"GROUP BY GROUPING SETS ((t.year, t.month), (t.year, n.child))"
    )


def _reached_rows(scope, reach, year):
    """(year, month, node id, node path, {indicator: households reached}) of the roll-up's
    households reached that dashboard_totals shows: the scope's own per year (month 0) for
    both years and per month for this one, its children's for this year. One statement
    written out (the ORM's values/annotate over the Q objects cost more CPU than the query
    took); NULL, no row of an indicator's activity, as the filtered aggregate gave it."""
    rollup = scope.rollup
    table, tree, column = rollup.reach._meta.db_table, rollup.tree._meta.db_table, rollup.node_column
    names = [f"i{ind.pk}" for ind in reach]
    counts = ", ".join(
        f"SUM(CASE WHEN r.activity_id IN ({', '.join(str(int(pk)) for pk in activity_ids(ind))}) "
        f"THEN r.households END)" for ind in reach)
    statement = (
        f"SELECT r.year, r.month, r.{column}, n.path, {counts} FROM {table} r JOIN {tree} n ON n.id = r.{column} "
        f"WHERE r.year IN (%s, %s) AND ((r.{column} = %s AND (r.month = 0 OR r.year = %s)) "
        f"OR (n.parent_id = %s AND r.month = 0 AND r.year = %s)) "
        f"GROUP BY r.year, r.month, r.{column}, n.path"
    )
    pk = scope.obj.pk
    with connections[router.db_for_read(rollup.reach)].cursor() as cursor:
        cursor.execute(statement, [year - 1, year, pk, year, pk, year])
        return [(row_year, month, node, path, dict(zip(names, values)))
                for row_year, month, node, path, *values in cursor.fetchall()]


def _add(running, key, values):
    """Add the list `values` into `running[key]`, element by element."""
    before = running.get(key)
    running[key] = values if before is None else [a + b for a, b in zip(before, values, strict=True)]


def _merge(values, row):
    """A grouped row's aggregates into `values`, as grouped_totals merges its queries: a
    NULL (no row of that indicator) keeps what an earlier query found."""
    values.update({key: value for key, value in row.items() if value is not None or key not in values})
