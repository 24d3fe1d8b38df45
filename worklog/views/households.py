"""Household pages: the village's list (and its exports), one household's visit history,
and the form team leaders add and edit households with."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from teams.access import (
    can_manage_households,
    get_household_for_user,
    managed_villages,
    sees_history_of_village,
    visible_entries,
    visible_households,
    visible_villages,
    writable_teams,
)
from teams.forms import HouseholdForm
from teams.history import revisions
from worklog.exports import IMPORT_FORMAT, households_download
from worklog.filters import HouseholdFilter
from worklog.models import Activity, Entry, EntryHousehold, HouseholdTally, Tally
from worklog.tables import EXPORT_FORMATS, HouseholdTable

PER_PAGE = 50


def _with_visits(households, year):
    """Visits this year (from the household tallies, which count live entries' links) and
    the last visit of each household, as subqueries: PostgreSQL works them out for the
    page's rows only, after the sort and the limit, and counting the rows needs neither."""
    visits = (
        HouseholdTally.objects.filter(household=OuterRef("pk"), year=year)
        .order_by()
        .values("household")
        .annotate(visits=Sum("visits"))
        .values("visits")
    )
    last_visit = (
        EntryHousehold.objects.filter(household=OuterRef("pk"), entry__deleted_at__isnull=True)
        .order_by("-entry__date")
        .values("entry__date")[:1]
    )
    return households.annotate(
        visits_this_year=Coalesce(Subquery(visits), 0), last_visit=Subquery(last_visit)
    )


def _export(request, households, export_format):
    """People's register with this year's visits, or (`format=import`) the import's columns."""
    today = timezone.localdate()
    for_import = request.GET.get("format") == IMPORT_FORMAT
    return households_download(
        households if for_import else _with_visits(households, today.year),
        export_format=export_format, name=f"households-{today:%Y-%m-%d}", for_import=for_import,
    )


@login_required
@require_http_methods(["GET"])
def household_list(request):
    villages = visible_villages(request.user).order_by("name")
    households = (
        visible_households(request.user)
        .select_related("village")
        .prefetch_related("tags")
        .by_house_number("village__name")
    )
    filterset = HouseholdFilter(request.GET, queryset=households, villages=villages)
    households = filterset.qs if filterset.is_valid() else households.none()

    export_format = request.GET.get("_export")
    if export_format in EXPORT_FORMATS:
        return _export(request, households, export_format)

    table = HouseholdTable(
        _with_visits(households, timezone.localdate().year),
        exclude=() if len(villages) > 1 else ("village",),
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render(
        request,
        "households/household_list.html",
        {
            "table": table,
            "filterset": filterset,
            "village": villages[0] if len(villages) == 1 else None,
            "can_add": managed_villages(request.user).exists(),
            # an empty list offers to clear the filters rather than to add households
            "filtered": any(request.GET.get(name) for name in filterset.form.fields),
        },
    )


def _ways_to_log(user, household):
    """(The visit to log here, [the other activities that take households]) as
    (activity, link to the form with this household chosen): nothing unless the user
    writes for a team of the household's village. The visit leading is the kind the team
    logs most (the first by the catalogue's order when it logged none yet)."""
    teams = [team for team in writable_teams(user) if team.village_id == household.village_id]
    if not teams:
        return None, []
    activities = list(Activity.objects.filter(is_active=True, uses_households=True))
    visits = [activity for activity in activities if activity.category == Activity.Category.VISIT]
    logged = dict(
        Tally.objects.filter(team__in=teams, activity__in=visits)
        .values_list("activity")
        .annotate(Sum("household_visits"))
    )
    visit = max(visits, key=lambda activity: logged.get(activity.pk, 0), default=None)

    def link(activity):
        query = urlencode({"activity": activity.code, "household": household.pk})
        return activity, f"{reverse('entry_new')}?{query}"

    return link(visit) if visit else None, [link(a) for a in activities if a != visit]


@login_required
@require_http_methods(["GET"])
def household_detail(request, pk):
    household = get_household_for_user(request.user, pk)
    log_visit, log_other = _ways_to_log(request.user, household)
    timeline = (
        Entry.objects.live()
        .filter(households=household)
        .select_related("activity", "team", "author")
        .order_by("-date", "-id")
    )
    return render(
        request,
        "households/household_detail.html",
        {
            "household": household,
            "tags": household.tags.all(),
            "timeline": timeline,
            # entries of other deployments stay in the history, linked only when the
            # user may open them
            "openable": set(visible_entries(request.user, timeline).values_list("pk", flat=True)),
            "can_edit": can_manage_households(request.user, household.village),
            "log_visit": log_visit,
            "log_other": log_other,
            "revisions": revisions(household)
            if sees_history_of_village(request.user, household.village) else None,
        },
    )


def _save_or_render(request, form):
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():  # the household and its tags together
                household = form.save()
            messages.success(request, _("Saved."))
            return redirect("household_detail", pk=household.pk)
        status = 422
    else:
        status = 200
    return render(
        request,
        "households/household_form.html",
        {"form": form, "household": form.instance if form.instance.pk else None},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def household_new(request):
    villages = managed_villages(request.user)
    if not villages.exists():
        raise PermissionDenied(_("Only team leaders can add households."))
    form = HouseholdForm(request.POST if request.method == "POST" else None, villages=villages)
    return _save_or_render(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def household_edit(request, pk):
    household = get_household_for_user(request.user, pk)
    if not can_manage_households(request.user, household.village):
        raise PermissionDenied(_("Only the team's leader can change its households."))
    form = HouseholdForm(
        request.POST if request.method == "POST" else None,
        instance=household,
        villages=managed_villages(request.user),
    )
    return _save_or_render(request, form)
