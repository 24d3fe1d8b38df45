"""One entry: new, copy, detail, edit, delete and restore."""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from teams.access import (
    can_edit_entry,
    can_restore_entry,
    get_visible_or_404,
    sees_history_of_team,
    writable_teams,
    writable_teams_list,
)
from teams.history import revisions
from teams.models import Household
from worklog.forms import EntryForm
from worklog.amendments import AlreadyFiled, file_amendment, proposed_values
from worklog.locking import MonthLocked, UuidHeldByAmendment
from worklog.models import Activity, Amendment, Entry
from worklog.services import (
    StaleEntry,
    UuidTakenByAnotherTeam,
    entry_create,
    entry_restore,
    entry_soft_delete,
    entry_update,
)

COPIED_FIELDS = ("activity", "participants", "sessions", "quantity", "funds", "title", "notes")


def locked_message(locked):
    return _("%(month)s is locked: it has been reported. Changes to it go through an "
             "amendment that a coordinator accepts.") % {"month": str(locked)}


def _amend_or_explain(request, form, locked, *, kind, entry=None):
    """A change to a reported month: file it as an amendment when a reason is given,
    otherwise show the form again asking for one."""
    reason = form.cleaned_data.get("reason", "").strip()
    if not reason:
        form.add_error("date", locked_message(locked))
        form.add_error("reason", _("Give a reason to file this change as an amendment."))
        return _render_form(request, form, entry=entry, status=422, locked=True)
    team = entry.team if entry else form.chosen_team
    try:
        file_amendment(team=team, user=request.user, kind=kind, reason=reason, entry=entry,
                       values=proposed_values(form.cleaned_data), uuid=form.cleaned_data.get("uuid"))
    except UuidHeldByAmendment:
        return _form_used_already(request, form)
    except AlreadyFiled:
        messages.info(request, _("This amendment was already filed."))
    else:
        messages.success(request, _("The month is reported: your change was filed as an "
                                    "amendment for a coordinator to decide."))
    return redirect("entry_detail", pk=entry.pk) if entry else redirect("amendment_list")


def _refused(request, form, refused, *, entry=None):
    """The services' rules refused what the form had let through: something changed in
    between (say, the team's deployment was corrected): say why as the form would have."""
    form.add_rule_errors(refused)
    return _render_form(request, form, entry=entry, status=422)


def _form_used_already(request, form):
    form.add_error(None, _("This form was already used. Open a new form and try again."))
    return _render_form(request, form, status=422)


def _entry_or_404(request, pk):
    entries = Entry.objects.select_related("team", "village", "activity", "author", "deleted_by")
    return get_visible_or_404(request.user, entries, pk=pk)


def _teams_or_403(user):
    """The user's writable teams, read once, as a list."""
    teams = writable_teams_list(user)
    if not teams:
        raise PermissionDenied(_("Only members of a current team can log entries."))
    return teams


def _household_to_log(pk, teams):
    """The household `?household=PK` names, if it is of a village of the user's teams; any
    other (an old link, another team's) is ignored: the form opens without it."""
    if not (pk.isascii() and pk.isdigit()):
        return None
    return Household.objects.filter(pk=pk, village__in=[team.village_id for team in teams]).first()


def _date_asked(request):
    """The `date` parameter (YYYY-MM-DD) of a link opening the form, or None: a date that
    is no date is ignored, and one the rules refuse is said so when the form is saved."""
    try:
        return datetime.datetime.strptime(request.GET.get("date", ""), "%Y-%m-%d").date()
    except ValueError:
        return None


def _render_form(request, form, *, entry=None, status=200, copied_from=None, same_date=None,
                 locked=False):
    """`same_date`, for a copy: whether it takes the original's date rather than today's
    (None when they are the same day: no choice to offer)."""
    locked = locked or bool(form["reason"].value())
    if locked:  # the reason is shown only for a reported month, where a change needs one
        form.fields["reason"].required = True
    activities = Activity.objects.filter(is_active=True)
    return render(
        request,
        "notebook/entry_form.html",
        {
            "form": form,
            "entry": entry,
            "copied_from": copied_from,
            "same_date": same_date,
            "locked": locked,
            "activities": activities,
            "activity_measures": {a.pk: " ".join(a.measures_used()) for a in activities},
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_new(request):
    teams = _teams_or_403(request.user)
    if request.method == "GET":
        initial = {"date": _date_asked(request) or timezone.localdate()}
        activity_code = request.GET.get("activity")
        if activity_code:
            initial["activity"] = Activity.objects.filter(code=activity_code).first()
        team_id = request.GET.get("team")
        initial["team"] = next((team for team in teams if str(team.pk) == team_id), None)
        household = _household_to_log(request.GET.get("household", ""), teams)
        if household is not None:  # "log a visit" on the household's page
            initial["households"] = [household.pk]
            initial["team"] = next(t for t in teams if t.village_id == household.village_id)
        return _render_form(request, EntryForm(teams=teams, initial=initial))

    form = EntryForm(request.POST, teams=teams)
    if not form.is_valid():
        return _render_form(request, form, status=422)
    try:
        entry, created = entry_create(
            uuid=form.cleaned_data["uuid"], team=form.chosen_team, author=request.user,
            **form.entry_values(),
        )
    except UuidTakenByAnotherTeam:
        form.add_error(None, _("This form was already used for another team's entry. "
                               "Open a new form and try again."))
        return _render_form(request, form, status=422)
    except UuidHeldByAmendment:
        return _form_used_already(request, form)
    except MonthLocked as locked:
        return _amend_or_explain(request, form, locked, kind=Amendment.Kind.CREATE)
    except ValidationError as refused:
        return _refused(request, form, refused)
    if created:
        messages.success(request, _("Saved."))
    else:
        messages.info(request, _("This entry was already saved; nothing was added twice."))
    if request.POST.get("next") == "add":
        # The next visit is most often the same activity on the same day (back-filling
        # yesterday's visits, say), for the same team: they carry over.
        query = {"activity": entry.activity.code, "date": entry.date.isoformat()}
        if "team" in form.fields:
            query["team"] = entry.team_id
        return redirect(reverse("entry_new") + "?" + urlencode(query))
    return redirect("entry_detail", pk=entry.pk)


@login_required
@require_http_methods(["GET"])
def entry_copy(request, pk):
    """The form filled in from another entry ("repeat"): on today's date, or on the
    original's with `?date=same`."""
    original = _entry_or_404(request, pk)
    teams = _teams_or_403(request.user)
    today = timezone.localdate()
    same_date = request.GET.get("date") == "same"
    initial = {name: getattr(original, name) for name in COPIED_FIELDS}
    initial["date"] = original.date if same_date else today
    initial["households"] = list(original.households.values_list("pk", flat=True))
    if any(team.pk == original.team_id for team in teams):
        initial["team"] = original.team_id
    form = EntryForm(teams=teams, initial=initial)
    return _render_form(request, form, copied_from=original,
                        same_date=None if original.date == today else same_date)


@login_required
@require_http_methods(["GET"])
def entry_detail(request, pk):
    entry = _entry_or_404(request, pk)
    return render(
        request,
        "notebook/entry_detail.html",
        {
            "entry": entry,
            "households": entry.households.order_by("house_number"),
            "can_edit": entry.deleted_at is None and can_edit_entry(request.user, entry),
            "can_restore": entry.deleted_at is not None and can_restore_entry(request.user, entry),
            "can_copy": writable_teams(request.user).exists(),
            "revisions": revisions(entry) if sees_history_of_team(request.user, entry.team) else None,
        },
    )


def _editable_or_403(request, pk):
    entry = _entry_or_404(request, pk)
    if entry.deleted_at is not None or not can_edit_entry(request.user, entry):
        raise PermissionDenied(_("You cannot change this entry."))
    return entry


@login_required
@require_http_methods(["GET", "POST"])
def entry_edit(request, pk):
    entry = _editable_or_403(request, pk)
    teams = writable_teams(request.user).filter(pk=entry.team_id)
    if request.method == "GET":
        initial = {name: getattr(entry, name) for name in COPIED_FIELDS + ("date", "version")}
        initial["households"] = list(entry.households.values_list("pk", flat=True))
        form = EntryForm(teams=teams, entry=entry, initial=initial)
        return _render_form(request, form, entry=entry)

    form = EntryForm(request.POST, teams=teams, entry=entry)
    if not form.is_valid():
        return _render_form(request, form, entry=entry, status=422)
    values = form.entry_values()
    try:
        entry_update(entry=entry, version=form.cleaned_data["version"], editor=request.user, **values)
    except MonthLocked as locked:
        return _amend_or_explain(request, form, locked, kind=Amendment.Kind.CHANGE, entry=entry)
    except ValidationError as refused:
        return _refused(request, form, refused, entry=entry)
    except StaleEntry as stale:
        your_households = values.pop("households")
        resubmit = request.POST.copy()
        resubmit["version"] = stale.current.version
        resubmit.pop("csrfmiddlewaretoken", None)
        return render(
            request,
            "notebook/entry_conflict.html",
            {
                "entry": entry,
                "current": stale.current,
                "current_households": stale.current.households.order_by("house_number"),
                "yours": Entry(team=entry.team, village=entry.village, **values),
                "your_households": your_households,
                "resubmit": [(name, value) for name, values in resubmit.lists() for value in values],
            },
            status=409,
        )
    messages.success(request, _("Saved."))
    return redirect("entry_detail", pk=entry.pk)


@login_required
@require_http_methods(["GET", "POST"])
def entry_delete(request, pk):
    entry = _editable_or_403(request, pk)
    if request.method == "GET":
        return render(request, "notebook/entry_confirm_delete.html", {"entry": entry})
    try:
        entry_soft_delete(entry=entry, user=request.user, version=int(request.POST.get("version", -1)))
    except MonthLocked as locked:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            return render(request, "notebook/entry_confirm_delete.html",
                          {"entry": entry, "locked": locked_message(locked)}, status=422)
        file_amendment(team=entry.team, user=request.user, kind=Amendment.Kind.DELETE,
                       reason=reason, entry=entry)
        messages.info(request, _("The month is reported: your deletion was filed as an "
                                 "amendment for a coordinator to decide."))
        return redirect("entry_detail", pk=entry.pk)
    except (StaleEntry, ValueError):
        messages.error(request, _("Someone changed this entry meanwhile; look at it again before deleting."))
        return redirect("entry_detail", pk=entry.pk)
    messages.success(request, _("Deleted. A team leader can restore it."))
    return redirect("notebook")


@login_required
@require_POST
def entry_restore_view(request, pk):
    entry = _entry_or_404(request, pk)
    if entry.deleted_at is None or not can_restore_entry(request.user, entry):
        raise PermissionDenied(_("You cannot restore this entry."))
    try:
        entry_restore(entry=entry, user=request.user)
    except MonthLocked as locked:
        messages.error(request, locked_message(locked))
    except StaleEntry:
        messages.error(request, _("Someone changed this entry meanwhile."))
    except ValidationError as refused:  # say, its team's deployment was corrected since
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, _("Restored."))
    return redirect("entry_detail", pk=entry.pk)
