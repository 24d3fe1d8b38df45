"""`/report/<year>/`: the year's work written as running text, every figure a link."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from worklog.figures import Figure
from worklog.totals import load_indicators, year_totals
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


@login_required
@require_GET
def year_report(request, year):
    query = request.GET.copy()
    query["year"] = str(year)
    request.GET = query
    scope, year = scope_for_request(request)
    totals = [t for t in year_totals(scope, year, load_indicators()) if t.value]
    parts = achievements(scope, year, totals)
    separator = _(", ")
    text = format_html(
        _opening(scope),
        year=year, scope=scope.name,
        achievements=mark_safe(separator.join(str(part) for part in parts)),
    ) if parts else ""
    return render(request, "dashboards/report.html", {
        "scope": scope, "year": year, "text": text, "totals": totals,
        "figures": [Figure(t.indicator, t.value) for t in totals],
    })
