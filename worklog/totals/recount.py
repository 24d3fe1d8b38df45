"""The same totals recounted from the raw entries, without the tallies: what the tallies
must equal (`manage.py totals --verify` and the property tests compare the two), and the
totals of any queryset of entries (the notebook's filtered list)."""

from django.db.models import Count, Q, Sum

from worklog.models import Entry, Measure
from worklog.totals.indicators import ENTRY_MEASURES, as_totals, load_indicators
from worklog.totals.scope import year_range


def scope_entries(scope, year):
    """The live entries of a scope and year: the rows every total is a recount of."""
    start, end = year_range(year)
    return Entry.objects.live().filter(scope.entry_filter(), date__gte=start, date__lt=end)


def recount_year_totals(scope, year, indicators=None):
    """The same totals recounted from the raw entries (what the tallies must equal)."""
    return indicator_totals(scope_entries(scope, year), indicators)


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

    return as_totals(indicators, results)
