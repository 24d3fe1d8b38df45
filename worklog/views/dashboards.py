"""`/dashboard/`: a scope's year at a glance, every figure a link to its entries."""

from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.db import connections, router
from django.db.models import Exists, Max, Min
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from teams.access import can_see_scope, scope_refusal
from teams.picker import visible_scopes
from teams.models import Household, Team, Village
from worklog.charts import month_chart, month_chart_html
from worklog.exports import breakdown_download
from worklog.figures import Figure, unit_name
from worklog.models import HouseholdTally
from worklog.routers import reads_from_replica
from worklog.tables import EXPORT_FORMATS
from worklog.views.dashboard_html import (
    breakdown_rows,
    card_html,
    header_cells,
    print_rows,
    row_cells,
    scope_picker,
    total_cells,
)
from worklog.totals import (
    BadScopeQuery,
    ScopeNotFound,
    dashboard_totals,
    grouped_totals,
    load_indicators,
    reported_year_totals,
    resolve_scope,
    scope_and_year_from_query,
    year_over_year,
)

UNVISITED_SHOWN = 200


def scope_query(scope, year, **extra):
    """The query string naming a scope and year, as dashboards, reports and the API take it."""
    params = {"year": year}
    if scope.kind != "all":
        params[scope.kind] = scope.slug
    params.update(extra)
    return urlencode(params)


def drill_down_url(scope, year, indicator, notebook=None):
    """The notebook's entries behind a figure (`notebook`: its address, where the caller
    has it already: a page of 17 cards reversed it 17 times)."""
    return (notebook or reverse("notebook")) + "?" + scope_query(scope, year, indicator=indicator.code)


def scope_for_request(request):
    """(scope, year) from the query, the user's default scope when none is named and the
    latest year with entries in the scope when no year is (a new user's current year is
    often all zeros while the notebook holds last year's work).

    Raises BadRequest for a query that names no single scope or year (the site's 400 page
    shows its message, escaped), Http404 for an unknown slug and PermissionDenied for a
    scope the user may not see.
    """
    try:
        (kind, slug), year = scope_and_year_from_query(request.GET, timezone.localdate().year)
    except BadScopeQuery as problem:
        raise BadRequest(str(problem)) from None
    if kind is None and not request.user.is_superuser:
        options = visible_scopes(request.user)
        if not options:
            raise PermissionDenied(_("You have no team and no coordinator scope."))
        kind, obj = options[0]
        slug = obj.slug
    try:
        scope = resolve_scope(kind, slug)
    except ScopeNotFound:
        raise Http404(_("No such organisation, team, village or area.")) from None
    if not can_see_scope(request.user, scope.kind, scope.obj):
        raise PermissionDenied(scope_refusal(request.user))
    if not request.GET.get("year"):
        year = scope.latest_year_with_data(up_to=year)
    return scope, year


def _years_with_data(scope):
    """Years with tallies in the scope, in two queries whatever the number of years: the
    first and last years of the table, then one index probe per year between them (an
    EXISTS each, in one statement), rather than a read of every tally row of the scope."""
    rows = scope.sum_rows()
    this_year = timezone.localdate().year
    connection = connections[router.db_for_read(rows.model)]
    if scope.rollup is not None and connection.vendor == "postgresql":
        return sorted(_rollup_years(scope, connection) | {this_year}, reverse=True)
    if scope.kind in ("org", "all"):  # OrgTally is small: its years in one query
        years = set(rows.values_list("year", flat=True).distinct())
        return sorted(years | {this_year}, reverse=True)
    bounds = rows.model.objects.aggregate(first=Min("year"), last=Max("year"))
    years = {this_year}
    if bounds["first"] is not None:
        probes = {f"y{year}": Exists(rows.filter(year=year)) for year in range(bounds["first"], bounds["last"] + 1)}
        found = type(scope.obj).objects.filter(pk=scope.obj.pk).annotate(**probes).values(*probes).get()
        years.update(int(name[1:]) for name, exists in found.items() if exists)
    return sorted(years, reverse=True)


def _rollup_years(scope, connection):
    """The years with roll-up rows under an organisation or area, on PostgreSQL in one
    statement: the table's first and last years (the ends of its key index), then an
    index probe per year between them, (node, year) for each node of the subtree until one
    has rows. Built through the ORM, the probes cost more CPU than the area dashboard's
    breakdown (cProfile, issue 14). Each probe is a LIMIT 1 under LATERAL, which the
    planner cannot flatten: as a plain EXISTS it became one hash semi-join reading every
    roll-up row of the table (84,509 at 10 M entries: 12.3 → 0.7 ms of the server's CPU).
    A year without rows probes every node of the subtree."""
    rollup = scope.rollup
    table, tree = rollup.sums._meta.db_table, rollup.tree._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT y FROM generate_series((SELECT MIN(year) FROM {table})::int, (SELECT MAX(year) FROM {table})::int) y "
            f"WHERE EXISTS (SELECT 1 FROM {tree} n CROSS JOIN LATERAL (SELECT 1 FROM {table} t "
            f"WHERE t.{rollup.node_column} = n.id AND t.year = y LIMIT 1) found WHERE n.path LIKE %s LIMIT 1)",
            [connection.ops.prep_for_like_query(scope.obj.path) + "%"])
        return {year for (year,) in cursor.fetchall()}


def _share(part, whole):
    """part / whole in per cent to one decimal, never shown as all (or none) unless it is:
    246 of 247 households reached reads 99.6, 999 of 1000 reads 99.9, not 100."""
    if not whole:
        return Decimal(0)
    percent = (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if part < whole:
        percent = min(percent, Decimal("99.9"))
    if part > 0:
        percent = max(percent, Decimal("0.1"))
    return percent


def _coverage(scope, year):
    """For a village or team: households reached at least once in the year, and the others."""
    village = scope.obj if scope.kind == "village" else scope.obj.village
    households = Household.objects.filter(village=village)
    visited_ids = HouseholdTally.objects.filter(
        scope.entry_filter(), year=year, visits__gt=0, village=village
    ).values("household_id")
    unvisited = households.exclude(pk__in=visited_ids).order_by("house_number")
    total = households.count()
    visited = households.filter(pk__in=visited_ids).count()
    return {
        "village": village,
        "total": total,
        "visited": visited,
        "percent": _share(visited, total),
        "unvisited": unvisited[:UNVISITED_SHOWN],
        "unvisited_count": total - visited,
    }


BREAKDOWN_PER_PAGE = 50
# Indicators per printed table: the breakdown prints as several tables of the places and
# this many columns each, so that on portrait A4 a name keeps its line and no column is cut.
PRINT_COLUMNS = 5


def _breakdown_places(scope):
    """(group-by name for grouped_totals, {key: (kind, place)}-loader, label) of the
    breakdown: an organisation or area with sub-units is broken down by its children (as
    DHIS2 drills down its tree), otherwise by team or village. The children are read here
    once: whether there are any, and the places of their rows."""
    if scope.kind in ("org", "area"):
        model = type(scope.obj)
        children = {node.path: (scope.kind, node) for node in model.objects.filter(parent=scope.obj)}
        if children:
            # Rows of the teams or villages right at the node are keyed by its own path.
            children[scope.obj.path] = (scope.kind, scope.obj)

            def places(keys):
                return children

            return "child", places, model._meta.verbose_name
    kind, by, model = (
        ("village", "village_id", Village) if scope.kind in ("area", "village") else ("team", "team_id", Team)
    )

    def places(keys):
        return {pk: (kind, place) for pk, place in model.objects.in_bulk(list(keys)).items()}

    return by, places, model._meta.verbose_name


def _breakdown(scope, year, indicators, places=None, grouped=None):
    """The breakdown's rows, one per child organisation or area, team or village, in name
    order, and the label of their kind. The page shows them as plain rows (sorted and
    paginated by _breakdown_page: rendering through django-tables2 cost more than the rest
    of the dashboard at 10 M entries); the exports go through worklog.exports. `places`
    (_breakdown_places) and `grouped` (the totals per place) when the caller has them."""
    by, load_places, label = places or _breakdown_places(scope)
    if grouped is None:
        grouped = grouped_totals(scope, year, indicators, by=by)
    places = load_places(grouped)
    rows = []
    dashboard_url = reverse("dashboard")
    for key, totals in grouped.items():
        if key not in places:
            continue
        kind, place = places[key]
        row = {"place": place.label, "place_name": place.label,
               "place_url": dashboard_url + "?" + urlencode({"year": year, kind: place.slug})}
        row.update({f"i{t.indicator.pk}": t.value for t in totals})
        rows.append(row)
    rows.sort(key=lambda row: row["place_name"])
    return rows, label


def _breakdown_totals(rows, indicators, scope_totals):
    """The breakdown's totals row, over all its rows (every page, not the one shown): the
    scope's own totals, the cards' figures, as its download gives them. They are the
    columns' sums but for distinct households: one reached by two places counts once, so
    that total is marked `counted_once` where it is less than its column's sum."""
    return [
        {"value": total.value,
         "counted_once": total.value < sum(row[f"i{indicator.pk}"] for row in rows)}
        for indicator, total in zip(indicators, scope_totals, strict=True)
    ]


def _print_parts(columns, rows, totals):
    """The breakdown cut into tables of at most PRINT_COLUMNS indicators, as even as they
    come (17 make 5 + 4 + 4 + 4, not 5 + 5 + 5 + 2), every one with the places and its part
    of the totals row."""
    count = -(-len(columns) // PRINT_COLUMNS)
    bounds = [-(-len(columns) * part // count) for part in range(count + 1)] if count else [0]
    parts = [
        {"columns": columns[start:end],
         "rows": [{"place": row["place"], "values": row["values"][start:end],
                   "cells": row_cells(row["values"][start:end])} for row in rows],
         "totals": totals[start:end], "total_cells": total_cells(totals[start:end]),
         "header_cells": format_html_join(
             "", '<th scope="col" class="text-end">{}</th>', ((column["title"],) for column in columns[start:end]))}
        for start, end in zip(bounds, bounds[1:])
    ]
    for part in parts:
        part["rows_html"] = print_rows(part["rows"])
    return parts


def _breakdown_page(request, rows, indicators, label, scope_totals):
    """The rows of the breakdown's page, in the order the `sort` parameter asks for, and its
    totals row. With `print=1`, every row on one page: what a coordinator prints is the
    whole breakdown, whose totals are the cards' figures."""
    names = {"place": (capfirst(label), None)} | {f"i{ind.pk}": (ind.label, unit_name(ind)) for ind in indicators}
    columns = [(key, f"{name} ({unit})" if unit else name) for key, (name, unit) in names.items()]
    sort = request.GET.get("sort", "")
    key = sort.removeprefix("-")
    if key in dict(columns):
        field = "place_name" if key == "place" else key
        rows = sorted(rows, key=lambda row: row[field], reverse=sort.startswith("-"))
    printing = request.GET.get("print") == "1"
    per_page = max(len(rows), 1) if printing else BREAKDOWN_PER_PAGE
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    query = {name: values for name, values in request.GET.lists() if name != "page"}

    def url(**changes):
        """The page's address with the given parameters set, each in its place or added at
        the end, as QueryDict's item assignment and urlencode give it (copying the QueryDict
        for each of the page's links cost more than the rest of the breakdown)."""
        changed = query | {name: [str(value)] for name, value in changes.items()}
        return "?" + urlencode([(name, value) for name, values in changed.items() for value in values])

    headers = []
    for name, header in columns:
        direction = "asc" if sort == name else "desc" if sort == f"-{name}" else ""
        title, unit = names[name]
        headers.append({"key": name, "header": header, "direction": direction, "numeric": name != "place",
                        "label": title, "unit": unit,
                        "title": format_html('{}{}', title, format_html(
                            ' <span class="text-nowrap">({})</span>', unit) if unit else ""),
                        "url": url(sort=f"-{name}" if direction == "asc" else name)})
    shown = []
    for row in page:
        values = [row[name] for name, _header in columns[1:]]
        shown.append({"place": row["place"], "url": row["place_url"], "record": row,
                      "values": values, "cells": row_cells(values)})
    totals = _breakdown_totals(rows, indicators, scope_totals) if rows else []
    return {
        "label": label,
        "columns": headers,
        "header_cells": header_cells(headers),
        "total_cells": total_cells(totals),
        "rows": shown,
        "rows_html": breakdown_rows(shown),
        "totals": totals,
        "counted_once": any(cell["counted_once"] for cell in totals),
        "print_parts": _print_parts(headers[1:], shown, totals),
        "count": len(rows),
        "page": page,
        "print_url": url(print="1") if page.has_other_pages() else None,
        "previous_url": url(page=page.previous_page_number()) if page.has_previous() else None,
        "next_url": url(page=page.next_page_number()) if page.has_next() else None,
    }


@login_required
@require_GET
@reads_from_replica  # a coordinators' read: on the standby when there is one
def dashboard(request):
    if "scope" in request.GET:  # the picker's form sends "org:slug"; keep URLs canonical
        kind, _sep, slug = request.GET["scope"].partition(":")
        return redirect(reverse("dashboard") + "?" + urlencode({"year": request.GET.get("year", ""), kind: slug}))
    scope, year = scope_for_request(request)
    indicators = load_indicators()
    places = _breakdown_places(scope)
    grouped = None
    if places[0] == "child":  # the year, its months and the children's rows at once
        figures = dashboard_totals(scope, year, indicators)
        this_year, last_year, by_month, grouped = (
            figures.this_year, figures.last_year, figures.by_month, figures.by_child)
    else:
        this_year, last_year, by_month = year_over_year(scope, year, indicators)
    last_values = {t.indicator.pk: t.value for t in last_year}
    reported = reported_year_totals(scope, year, indicators)
    reported_values = {t.indicator.pk: t.value for t in reported or []}
    cards = []
    notebook = reverse("notebook")
    for index, total in enumerate(this_year):
        indicator = total.indicator
        previous = last_values.get(indicator.pk, 0)
        months = {month: totals[index].value for month, totals in by_month.items()}
        cards.append({
            "figure": Figure(indicator, total.value),
            "previous": Figure(indicator, previous),
            "change": Figure(indicator, total.value - previous),
            "url": drill_down_url(scope, year, indicator, notebook),
            "chart": month_chart_html(month_chart(months), chart_id=index, label=indicator.label),
            "reported": Figure(indicator, reported_values[indicator.pk])
            if indicator.pk in reported_values else None,
        })
        cards[-1]["html"] = card_html(cards[-1])
    rows, label = _breakdown(scope, year, indicators, places, grouped)
    export_format = request.GET.get("_export")
    if export_format in EXPORT_FORMATS:
        return breakdown_download(
            rows, indicators=indicators, label=label, totals=this_year, year=year,
            export_format=export_format, name=f"dashboard-{scope.slug or 'all'}-{year}",
        )
    context = {
        "scope": scope,
        "year": year,
        "years": _years_with_data(scope),
        "picker": scope_picker(visible_scopes(request.user), scope),
        "cards": cards,
        "indicators": indicators,
        "breakdown": _breakdown_page(request, rows, indicators, label, this_year),
        "as_of": timezone.localtime(),
        "coverage": _coverage(scope, year) if scope.kind in ("village", "team") else None,
        "query": scope_query(scope, year),
        "has_locks": reported is not None,
    }
    return render(request, "dashboards/dashboard.html", context)
