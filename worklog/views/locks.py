"""Reported months: coordinators lock months and decide the teams' amendments."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from teams.access import (
    active_memberships,
    coordinated_organisations,
    coordinates_team,
    locks_months,
    visible_teams_coordinated,
)
from teams.fields import IdChoiceField
from worklog.amendments import (
    AlreadyDecided,
    CannotApply,
    accept_amendment,
    entry_values,
    reject_amendment,
)
from worklog.locking import lock_month
from worklog.models import Amendment, MonthLock
from worklog.services import StaleEntry


class LockForm(forms.Form):
    organisation = IdChoiceField(label=gettext_lazy("organisation"), queryset=None)
    year = forms.IntegerField(label=gettext_lazy("year"), min_value=2000, max_value=2200)
    month = forms.IntegerField(label=gettext_lazy("month"), min_value=1, max_value=12)

    def __init__(self, *args, organisations, **kwargs):
        """Offer what a coordinator locks at the start of a month: the month just finished,
        and their organisation when they coordinate only one."""
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if not self.is_bound:
            only = list(organisations[:2])
            if len(only) == 1:
                self.fields["organisation"].initial = only[0].pk
            last = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
            self.fields["year"].initial, self.fields["month"].initial = last.year, last.month
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"

    def clean(self):
        data = super().clean()
        year, month = data.get("year"), data.get("month")
        today = timezone.localdate()
        if year and month and (year, month) > (today.year, today.month):
            raise forms.ValidationError(_("A month can be locked only once it has begun."))
        return data


@login_required
@require_http_methods(["GET", "POST"])
def locks(request):
    if not locks_months(request.user):
        raise PermissionDenied(_("Only coordinators lock months."))
    organisations = coordinated_organisations(request.user)
    form = LockForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        lock = lock_month(user=request.user, **form.cleaned_data)
        messages.success(request, _("%(lock)s is locked.") % {"lock": lock})
        return redirect("locks")
    return render(request, "locks/locks.html", {
        "form": form,
        "locks": MonthLock.objects.filter(organisation__in=organisations).select_related(
            "organisation", "locked_by"),
    }, status=422 if form.errors else 200)


def _amendments_for(user):
    teams = visible_teams_coordinated(user).values("pk")
    own = active_memberships(user).values("team")
    return Amendment.objects.filter(Q(team__in=teams) | Q(team__in=own))


@login_required
@require_http_methods(["GET"])
def amendment_list(request):
    amendments = _amendments_for(request.user).select_related("team", "entry", "filed_by", "decided_by")
    status = request.GET.get("status", Amendment.Status.PENDING)
    if status in Amendment.Status.values:
        amendments = amendments.filter(status=status)
    return render(request, "locks/amendment_list.html", {
        "amendments": amendments[:200], "status": status, "statuses": Amendment.Status.choices,
    })


@login_required
@require_http_methods(["GET"])
def amendment_detail(request, pk):
    amendment = get_object_or_404(
        _amendments_for(request.user).select_related("team", "entry__activity", "filed_by"), pk=pk
    )
    return _render_detail(request, amendment)


def _render_detail(request, amendment, status=200):
    proposed = None
    if amendment.kind != Amendment.Kind.DELETE:
        proposed = entry_values(amendment.values)
    return render(request, "locks/amendment_detail.html", {
        "amendment": amendment,
        "proposed": proposed,
        "can_decide": amendment.status == Amendment.Status.PENDING
        and coordinates_team(request.user, amendment.team),
    }, status=status)


@login_required
@require_POST
def amendment_decide(request, pk):
    amendment = get_object_or_404(_amendments_for(request.user), pk=pk)
    if not coordinates_team(request.user, amendment.team):
        raise PermissionDenied(_("Only a coordinator of this team decides its amendments."))
    decide = {"accept": accept_amendment, "reject": reject_amendment}.get(request.POST.get("decision"))
    if decide is None:  # only an explicit choice decides
        messages.error(request, _("Choose Accept or Reject."))
        return _render_detail(request, amendment, status=400)
    try:
        decide(amendment=amendment, user=request.user, note=request.POST.get("note", ""))
    except AlreadyDecided:
        messages.info(request, _("This amendment was already decided."))
    except StaleEntry:
        messages.error(request, _("The entry changed after this amendment was filed; reject it "
                                  "and ask the team to file it again."))
    except CannotApply as reason:
        messages.error(request, str(reason))
    else:
        messages.success(request, _("Accepted: the correction is applied.")
                         if decide is accept_amendment else _("Rejected."))
    return redirect("amendment_detail", pk=amendment.pk)
