"""Household pages: the village's list (and its exports), one household's visit history,
and the form team leaders add and edit households with."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import Length
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from teams.access import (
    active_memberships,
    can_manage_households,
    get_household_for_user,
    managed_villages,
    sees_history_of_village,
    visible_entries,
    visible_households,
)
from teams.forms import HouseholdForm
from teams.models import Village
from worklog.filters import HouseholdFilter
from worklog.history import revisions
from worklog.models import Entry
from worklog.tables import HouseholdTable, household_dataset

PER_PAGE = 50
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _visible_villages(user, households):
    """Villages of the households the user sees, and of their current teams (which may
    have no households yet)."""
    return Village.objects.filter(
        Q(pk__in=households.values("village"))
        | Q(pk__in=active_memberships(user).values("team__village"))
    ).order_by("name")


def _with_visits(households, year):
    """Visits this year and the last visit of each household, in the same query."""
    live = Q(entries__deleted_at__isnull=True)
    return households.annotate(
        visits_this_year=Count("entries", filter=live & Q(entries__date__year=year)),
        last_visit=Max("entries__date", filter=live),
    )


def _export(households, export_type):
    dataset = household_dataset(households)
    if export_type == "csv":
        # the byte order mark makes Excel read the file as UTF-8
        content = "\ufeff" + dataset.export("csv")
    else:
        content = dataset.export("xlsx")
    response = HttpResponse(content, content_type=EXPORT_TYPES[export_type])
    filename = f"households-{timezone.localdate():%Y-%m-%d}.{export_type}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET"])
def household_list(request):
    households = visible_households(request.user)
    villages = _visible_villages(request.user, households)
    households = (
        households.select_related("village")
        .prefetch_related("tags")
        .annotate(house_number_length=Length("house_number"))
        .order_by("village__name", "house_number_length", "house_number")
    )
    filterset = HouseholdFilter(request.GET, queryset=households, villages=villages)
    households = filterset.qs if filterset.is_valid() else households.none()

    export_type = request.GET.get("_export")
    if export_type in EXPORT_TYPES:
        return _export(households, export_type)

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
            "show_village": len(villages) > 1,
        },
    )


@login_required
@require_http_methods(["GET"])
def household_detail(request, pk):
    household = get_household_for_user(request.user, pk)
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
