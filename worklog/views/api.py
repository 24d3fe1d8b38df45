"""`GET /api/totals`: the year's totals of a scope as JSON (DESIGN §6)."""

from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from teams.access import can_see_scope
from worklog.routers import reads_from_replica
from worklog.totals import (
    BadScopeQuery,
    ScopeNotFound,
    resolve_scope,
    scope_and_year_from_query,
    totals_document,
)


def _error(message, status):
    return JsonResponse({"error": str(message)}, status=status)


@require_GET
@reads_from_replica  # a coordinators' read: on the standby when there is one
def api_totals(request):
    # An API answers 401 rather than redirecting to a login page.
    if not request.user.is_authenticated:
        return _error(_("Log in first."), 401)
    try:
        (kind, slug), year = scope_and_year_from_query(request.GET, timezone.localdate().year)
        scope = resolve_scope(kind, slug)
    except BadScopeQuery as problem:
        return _error(problem, 400)
    except ScopeNotFound:
        return _error(_("No such organisation, team, village or area."), 404)
    if not can_see_scope(request.user, scope.kind, scope.obj):
        return _error(_("You may not see these totals."), 403)
    if not request.GET.get("year"):
        year = scope.latest_year_with_data(up_to=year)
    return JsonResponse(totals_document(scope, year), json_dumps_params={"ensure_ascii": False})
