"""`/report/<year>/`: the year's work written as running text, every figure a link on
screen; printed (A4, the browser's Ctrl+P) it is a document with a title block and numbered
pages (worklog/static/worklog/print.css and report.js)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from teams.models import Team
from worklog.figures import Figure
from worklog.models import LockedTeamMonth
from worklog.routers import reads_from_replica
from worklog.totals import load_indicators, reported_year_totals, year_totals
from worklog.views.dashboards import drill_down_url, scope_for_request


def _phrase(indicator):
    english = (get_language() or "").startswith("en")
    return (indicator.phrase_en if english else indicator.phrase_zh) or "{value}"


def achievements(scope, year, totals):
    """Each indicator's phrase with its figure linked to the entries behind it."""
    parts = []
    for total in totals:
        figure = Figure(total.indicator, total.value)
        before, _sep, after = _phrase(total.indicator).partition("{value}")
        link = format_html(
            '<a class="figure" href="{}" title="{}" data-indicator="{}">{}</a>',
            drill_down_url(scope, year, total.indicator), figure.exact, figure.code, figure.text,
        )
        parts.append(format_html("{}{}{}", before, link, after))
    return parts


def _opening(scope):
    """The report's sentence frame: a team's name already says it is a work team, so its
    report names it alone; a wider scope speaks of the several teams working in it."""
    if scope.kind == "team":
        return _("In {year}, {scope} {achievements}.")
    return _("In {year}, the work teams of {scope} {achievements}.")


def issuer(scope):
    """Who issues the report: the organisation itself, a team's dispatching organisation,
    the area (an area office reads its villages) or a village's area."""
    if scope.kind == "team":
        return scope.obj.organisation.label
    if scope.kind == "village":
        return scope.obj.area.label
    if scope.kind in ("org", "area"):
        return scope.obj.label
    return _("Team Worklog")


def month_ranges(months):
    """Locked months as a reader says them: [1, 2, 3, 5] → "January–March, May"."""
    ranges = []
    for month in sorted(months):
        if ranges and ranges[-1][1] == month - 1:
            ranges[-1][1] = month
        else:
            ranges.append([month, month])
    return _(", ").join(
        str(MONTHS[first]) if first == last else f"{MONTHS[first]}–{MONTHS[last]}"
        for first, last in ranges
    )


def lock_status(scope, year, indicators, totals):
    """(sentence saying whether the year's figures are live, as reported or as corrected,
    {indicator pk: Figure as reported} for the figures an amendment changed), as the
    dashboard tells them apart (`has_locks`)."""
    reported = reported_year_totals(scope, year, indicators)
    if reported is None:
        return _("No month of %(year)s is locked: the figures are live and may still change.") % {
            "year": year}, {}
    months = month_ranges(set(
        LockedTeamMonth.objects.filter(year=year, team__in=Team.objects.filter(scope.team_filter()))
        .values_list("month", flat=True)
    ))
    values = {total.indicator.pk: total.value for total in totals}
    changed = {
        total.indicator.pk: Figure(total.indicator, total.value)
        for total in reported if total.value != values.get(total.indicator.pk, total.value)
    }
    if changed:
        status = _("Locked as reported: %(months)s. Amendments have changed figures since: "
                   "the figures are as corrected, the table gives the figure as reported.")
    else:
        status = _("Locked as reported: %(months)s. No amendment has changed a figure: "
                   "the figures are as reported.")
    return status % {"months": months or _("none of its teams' months")}, changed


@login_required
@require_GET
@reads_from_replica  # a coordinators' read: on the standby when there is one
def year_report(request, year):
    query = request.GET.copy()
    query["year"] = str(year)
    request.GET = query
    scope, year = scope_for_request(request)
    indicators = load_indicators()
    all_totals = year_totals(scope, year, indicators)
    totals = [t for t in all_totals if t.value]
    parts = achievements(scope, year, totals)
    separator = _(", ")
    text = format_html(
        _opening(scope),
        year=year, scope=scope.name,
        achievements=mark_safe(separator.join(str(part) for part in parts)),
    ) if parts else ""
    status, reported = lock_status(scope, year, indicators, all_totals)
    rows = [  # a figure an amendment took to zero keeps its row, beside what was reported
        {"figure": Figure(t.indicator, t.value), "reported": reported.get(t.indicator.pk)}
        for t in all_totals if t.value or t.indicator.pk in reported
    ]
    return render(request, "dashboards/report.html", {
        "scope": scope, "year": year, "text": text, "totals": totals, "rows": rows,
        "issuer": issuer(scope), "as_of": timezone.localtime(), "lock_status": status,
        "has_funds": any(row["figure"].is_funds for row in rows), "amended": bool(reported),
    })
