"""`/notebook/`: the entries a user may see, filtered, sorted, paginated, totalled, exported."""


from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Max, Min, Sum
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from teams.access import logs_and_imports, visible_entries
from worklog.figures import figures
from worklog.filters import EntryFilter
from worklog.models import Entry, HouseholdTally, Tally
from worklog.exports import IMPORT_FORMAT, notebook_download
from worklog.tables import EXPORT_FORMATS, NotebookTable
from worklog.totals import indicator_totals, load_indicators, tally_totals

PER_PAGE = 50


class CountedPaginator(Paginator):
    """A paginator told how many rows there are, when the tallies know, instead of
    counting them (at 10 M entries a team's COUNT(*) reads each of its 10,000 entries)."""

    def __init__(self, object_list, per_page, *, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.count = count


def _shown_totals(filterset, entries, tallies):
    """The chosen indicator's total, or every non-zero one, over the filtered live entries:
    read from the tallies when the filters are ones they keep (scope, year, activities —
    the dashboards' drill-downs), recounted from the entries otherwise."""
    if filterset.shows_deleted:
        return []  # deleted entries count towards nothing
    chosen = filterset.chosen_indicator
    indicators = [chosen] if chosen is not None else load_indicators()
    if tallies is not None:
        totals = tally_totals(*tallies, indicators)
    else:
        totals = indicator_totals(entries, indicators)
    return figures(total for total in totals if total.value or chosen is not None)


def _tallies(request, filterset):
    """(Tally rows, HouseholdTally rows) of the listed entries, or None when a filter
    reaches below what the tallies keep (text, dates, author, household, deleted)."""
    condition = filterset.tally_conditions()
    if condition is None:
        return None
    return (
        visible_entries(request.user, Tally.objects.filter(condition)),
        visible_entries(request.user, HouseholdTally.objects.filter(condition)),
    )


def _listed(entries, tallies):
    """(The entries to list, how many they are, the tallies narrowed to the listed teams
    and years): counted from the tallies, which count live entries one by one, when they
    keep the filters; else the count is None and the paginator counts the entries."""
    if tallies is None:
        return entries, None, None
    rows = tallies[0].order_by().values_list("team").annotate(
        entries=Sum("entries"), first=Min("year"), last=Max("year"))
    by_team = {team: (count, first, last) for team, count, first, last in rows if count}
    if not by_team:
        return entries.none(), 0, tallies
    # Named teams let PostgreSQL read a team's newest entries through its (team, date)
    # index; behind the access rules' subquery alone it reads all of the team's entries.
    teams = list(by_team)
    # The totals' rows narrowed the same way, and to the years that have entries, which
    # lets PostgreSQL read the households reached through the (year, activity, team)
    # index. Exact: a household visit is a live entry of the same team and year, which
    # the tallies count here.
    years = range(min(first for _, first, _ in by_team.values()),
                  max(last for _, _, last in by_team.values()) + 1)
    narrowed = tuple(queryset.filter(team__in=teams, year__in=years) for queryset in tallies)
    return entries.filter(team__in=teams), sum(count for count, _, _ in by_team.values()), narrowed


def _unlisted(filterset, count):
    """(The village or area filtered on, how many entries its figures count that are not
    listed): by the village rule its dashboard counts every team working there, while the
    notebook lists only the entries the user may see. One more sum of tally rows, taken
    only under a village or area filter, the scopes that reach teams the user may not see
    (the dashboards' drill-downs); (None, 0) otherwise."""
    if count is None:  # the tallies do not keep these filters
        return None, 0
    data = filterset.form.cleaned_data
    place = data.get("village") or data.get("area")
    if place is None:
        return None, 0
    every_team = Tally.objects.filter(filterset.tally_conditions()).aggregate(entries=Sum("entries"))
    return place, (every_team["entries"] or 0) - count


def _export_name(filterset):
    data = filterset.form.cleaned_data
    parts = ["notebook"]
    parts += [data[kind].slug for kind in ("org", "area", "team", "village") if data.get(kind)]
    if data.get("year"):
        parts.append(str(data["year"]))
    return "-".join(parts)


def _export(request, filterset, entries, export_format):
    """People's file with the totals the page shows (none for deleted entries, which count
    towards nothing), or (`format=import`) the import's columns."""
    for_import = request.GET.get("format") == IMPORT_FORMAT
    if for_import or filterset.shows_deleted:
        totals = None
    else:
        totals = _shown_totals(filterset, entries, _tallies(request, filterset))
    return notebook_download(
        entries, export_format=export_format, name=_export_name(filterset),
        year=filterset.form.cleaned_data.get("year"), totals=totals, for_import=for_import,
        deleted=filterset.shows_deleted,
    )


@login_required
@require_GET
def notebook(request):
    entries = visible_entries(request.user, Entry.objects.all())
    filterset = EntryFilter(request.GET, queryset=entries, request=request)
    valid = filterset.is_valid()
    entries = filterset.qs if valid else entries.none()

    export_format = request.GET.get("_export")
    if valid and export_format in EXPORT_FORMATS:
        return _export(request, filterset, entries, export_format)

    tallies = _tallies(request, filterset) if valid else None
    listed, count, tallies = _listed(entries, tallies)
    place, unlisted = _unlisted(filterset, count)
    can_log, can_import = logs_and_imports(request.user)
    exclude = () if len(filterset.visible_teams) > 1 else ("team",)
    if not can_log or filterset.shows_deleted:
        exclude += ("repeat",)
    table = NotebookTable(NotebookTable.entries(listed), exclude=exclude)
    paginate = {"per_page": PER_PAGE, "paginator_class": CountedPaginator, "count": count}
    RequestConfig(request, paginate=paginate).configure(table)
    return render(
        request,
        "notebook/notebook.html",
        {
            "filter": filterset,
            "table": table,
            "entry_count": table.paginator.count,
            "unlisted_count": unlisted,
            "unlisted_place": place,
            "totals": _shown_totals(filterset, entries, tallies) if valid else [],
            "chips": filterset.active_filters(),
            "can_export": valid,
            "can_log": can_log,
            "can_import": can_import,
        },
    )
