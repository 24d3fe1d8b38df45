"""The roll-up: indicator totals for a scope and a year (DESIGN §5).

`year_totals(scope, year)` reads the tallies (worklog.tallies keeps them exact) in a fixed
number of queries whatever the number of teams, indicators or entries: the indicators
with their activities, one aggregate over `Tally` and one over `HouseholdTally`. Each
indicator is one filtered aggregate (`SUM(...) FILTER (WHERE activity_id IN ...)`).
`indicator_totals(entries)` recounts any queryset of raw entries the same way; the two
agree, which `manage.py totals --verify` and the property tests check.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import StrIndex, Substr
from django.utils.translation import gettext as _

from teams.models import Area, Organisation, Team, Village
from worklog.tallies import AREA, ORG
from worklog.models import (
    Entry,
    HouseholdTally,
    Indicator,
    LockedTeamMonth,
    Measure,
    OrgReach,
    OrgTally,
    ReportedHouseholdTally,
    ReportedTally,
    Tally,
)

SCOPE_KINDS = ("org", "team", "village", "area")
SCOPE_MODELS = {"org": Organisation, "team": Team, "village": Village, "area": Area}

ENTRY_MEASURES = {
    Measure.QUANTITY: "quantity",
    Measure.PARTICIPANTS: "participants",
    Measure.SESSIONS: "sessions",
    Measure.FUNDS: "funds",
}
# The Tally column each additive measure sums; entries are a count kept as a sum too.
TALLY_FIELDS = {**ENTRY_MEASURES, Measure.ENTRIES: "entries", Measure.HOUSEHOLD_VISITS: "household_visits"}

MIN_YEAR, MAX_YEAR = 1949, 2200


class ScopeNotFound(LookupError):
    """No organisation / team / village / area has that slug."""


@dataclass(frozen=True)
class Scope:
    """Where totals are taken: an organisation or area subtree, a team, a village, or all."""

    kind: str
    obj: object = None

    @property
    def slug(self):
        return self.obj.slug if self.obj is not None else None

    @property
    def name(self):
        return self.obj.label if self.obj is not None else _("All organisations")

    def as_dict(self):
        return {"kind": self.kind, "slug": self.slug, "name": str(self.name)}

    def entry_filter(self, prefix=""):
        """A Q object selecting the scope's entries (`prefix` for related lookups)."""
        if self.kind == "all":
            return Q()
        lookup = {
            "org": ("team__organisation__path__startswith", self.obj_path),
            "area": ("village__area__path__startswith", self.obj_path),
            "team": ("team", self.obj),
            "village": ("village", self.obj),
        }[self.kind]
        return Q(**{prefix + lookup[0]: lookup[1]})

    def team_filter(self):
        """A Q object selecting the scope's teams (for rows that know only their team)."""
        if self.kind == "all":
            return Q()
        return {
            "org": Q(organisation__path__startswith=self.obj_path),
            "area": Q(village__area__path__startswith=self.obj_path),
            "team": Q(pk=self.obj.pk),
            "village": Q(village=self.obj),
        }[self.kind]

    @property
    def obj_path(self):
        return getattr(self.obj, "path", None)

    @property
    def rollup(self):
        """The tree an organisation or area scope rolls up along (worklog.tallies), else None."""
        return {"org": ORG, "area": AREA}.get(self.kind)

    def sum_rows(self):
        """The tally rows whose sums are the scope's: `OrgTally` or `AreaTally` for an
        organisation or area (a few rows per sub-node whatever the number of teams and
        villages), `Tally` for a team or village."""
        if self.kind == "all":
            return OrgTally.objects.order_by()
        if self.rollup is None:
            return Tally.objects.filter(self.entry_filter()).order_by()
        return self.rollup.sums.objects.filter(**{f"{self.rollup.via_path}__startswith": self.obj_path}).order_by()

    def child_path_field(self, rows):
        """The path, for rows of `rows`' model, that a breakdown by child node groups on."""
        rollup = self.rollup
        if rows.model in (rollup.sums, rollup.reach):
            return rollup.via_path
        return f"{rollup.via_field}__{rollup.via_path}"

    def own_household_rows(self):
        """HouseholdTally rows of the teams (organisation) or villages (area) right at the
        scope's node, not below it, or None when it has none."""
        rollup = self.rollup
        if not rollup.via.objects.filter(**{rollup.node_field: self.obj}).exists():
            return None
        return HouseholdTally.objects.filter(**{f"{rollup.via_field}__{rollup.node_field}": self.obj})


def resolve_scope(kind=None, slug=None):
    """The Scope for e.g. ("org", "8th-division"); ("all") without a kind."""
    if not kind:
        return Scope("all")
    if kind not in SCOPE_MODELS:
        raise ValueError(f"unknown scope kind {kind!r}")
    obj = SCOPE_MODELS[kind].objects.filter(slug=slug).first()
    if obj is None:
        raise ScopeNotFound(kind, slug)
    return Scope(kind, obj)


class BadScopeQuery(ValueError):
    """The request names more than one scope, or a year that is not one."""


def scope_and_year_from_query(query, default_year):
    """((kind, slug) or (None, None), year) from GET parameters like `?year=2017&org=x`."""
    chosen = [(kind, query[kind]) for kind in SCOPE_KINDS if query.get(kind)]
    if len(chosen) > 1:
        raise BadScopeQuery(_("Choose one of organisation, team, village or area."))
    text = query.get("year") or str(default_year)
    try:
        year = int(text)
        year_range(year)
    except ValueError:
        raise BadScopeQuery(_("“%(year)s” is not a year.") % {"year": text}) from None
    return (chosen[0] if chosen else (None, None)), year


@dataclass
class IndicatorTotal:
    indicator: Indicator
    value: object  # int for counts, Decimal for funds

    @property
    def code(self):
        return self.indicator.code

    def as_dict(self):
        value = self.value
        if self.indicator.measure == Measure.FUNDS:
            value = f"{value:.2f}"
        return {
            "code": self.indicator.code,
            "label": str(self.indicator.label),
            "unit": self.indicator.unit,
            "value": value,
        }


def year_range(year):
    if not (MIN_YEAR <= year <= MAX_YEAR):
        raise ValueError(f"year {year} is out of range {MIN_YEAR}–{MAX_YEAR}")
    return date(year, 1, 1), date(year + 1, 1, 1)


def scope_entries(scope, year):
    """The live entries of a scope and year: the rows every total is a recount of."""
    start, end = year_range(year)
    return Entry.objects.live().filter(scope.entry_filter(), date__gte=start, date__lt=end)


def load_indicators():
    """Indicators in order with their activities: two queries."""
    return list(Indicator.objects.prefetch_related("activities").order_by("order", "code"))


def year_totals(scope, year, indicators=None):
    """Every indicator's total for the scope and year, in indicator order, from the tallies."""
    if indicators is None:
        indicators = load_indicators()
    grouped = grouped_totals(scope, year, indicators)
    return grouped.get(None) or [IndicatorTotal(ind, _zero(ind)) for ind in indicators]


def _tally_aggregates(indicators, reach=()):
    """Each indicator as a filtered aggregate: sums over `Tally` (or `OrgTally`), distinct
    households over `HouseholdTally`, and for the indicators in `reach` the households
    reached over `OrgReach`."""
    sums, distinct, reached = {}, {}, {}
    for ind in indicators:
        ids = [activity.pk for activity in ind.activities.all()]
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
            if ind.measure == Measure.HOUSEHOLDS and len(ind.activities.all()) == 1]


def _counted_activity_ids(indicators, skip=()):
    """The activities whose households the distinct-households indicators (but those in
    `skip`) count."""
    return {
        activity.pk
        for ind in indicators if ind.measure == Measure.HOUSEHOLDS and ind not in skip
        for activity in ind.activities.all()
    }


def _household_rows(scope, indicators, skip=()):
    """The scope's HouseholdTally rows that a distinct-households indicator can count:
    restricted to those activities up front, not only inside each FILTER (at 10 M entries
    this is the difference between reading every household row of the year and a few)."""
    return HouseholdTally.objects.filter(
        scope.entry_filter(), visits__gt=0, activity_id__in=_counted_activity_ids(indicators, skip)
    ).order_by()


def _as_totals(indicators, values):
    return [IndicatorTotal(ind, _value(ind, values.get(f"i{ind.pk}"))) for ind in indicators]


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
            values = results.setdefault(row[by], {})
            values.update({key: value for key, value in row.items() if value is not None or key not in values})
    return {key: _as_totals(indicators, values) for key, values in results.items()}


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
    return _as_totals(indicators, values)


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
        _as_totals(indicators, years[year]),
        _as_totals(indicators, years[year - 1]),
        {month: _as_totals(indicators, values) for month, values in months.items()},
    )


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
    if not (
        LockedTeamMonth.objects.filter(year=year, team__in=Team.objects.filter(scope.team_filter())).exists()
        or reported_rows.exists()
    ):
        return None
    unlocked = ~Exists(LockedTeamMonth.objects.filter(
        team=OuterRef("team"), year=OuterRef("year"), month=OuterRef("month")))
    sums, activity_sets = {}, {}
    for ind in indicators:
        ids = [activity.pk for activity in ind.activities.all()]
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
    return _as_totals(indicators, values)


def recount_year_totals(scope, year, indicators=None):
    """The same totals recounted from the raw entries (what the tallies must equal)."""
    return indicator_totals(scope_entries(scope, year), indicators)


def _value(indicator, raw):
    if indicator.measure == Measure.FUNDS:
        return Decimal(raw or 0).quantize(Decimal("0.01"))
    return int(raw or 0)


def _zero(indicator):
    return _value(indicator, 0)


def indicator_totals(entries, indicators=None):
    """Every indicator's total over a queryset of entries (already filtered to what counts).

    One aggregate over the entries and one over their household links, whatever the
    number of indicators.
    """
    if indicators is None:
        indicators = load_indicators()
    entry_aggregates, link_aggregates = {}, {}
    for ind in indicators:
        key = f"i{ind.pk}"
        activity_ids = [activity.pk for activity in ind.activities.all()]
        if ind.measure == Measure.ENTRIES:
            entry_aggregates[key] = Count("id", filter=Q(activity_id__in=activity_ids))
        elif ind.measure in ENTRY_MEASURES:
            entry_aggregates[key] = Sum(
                ENTRY_MEASURES[ind.measure], filter=Q(activity_id__in=activity_ids)
            )
        elif ind.measure == Measure.HOUSEHOLD_VISITS:
            link_aggregates[key] = Count("id", filter=Q(entry__activity_id__in=activity_ids))
        elif ind.measure == Measure.HOUSEHOLDS:
            link_aggregates[key] = Count(
                "household_id", distinct=True, filter=Q(entry__activity_id__in=activity_ids)
            )

    results = {}
    if entry_aggregates:
        results.update(entries.aggregate(**entry_aggregates))
    if link_aggregates:
        links = Entry.households.through.objects.filter(entry__in=entries.values("pk"))
        results.update(links.aggregate(**link_aggregates))

    return [IndicatorTotal(ind, _value(ind, results.get(f"i{ind.pk}"))) for ind in indicators]


def totals_document(scope, year):
    """The JSON-ready document of `manage.py totals --json` and `/api/totals` (DESIGN §6)."""
    return {
        "year": year,
        "scope": scope.as_dict(),
        "indicators": [total.as_dict() for total in year_totals(scope, year)],
    }
