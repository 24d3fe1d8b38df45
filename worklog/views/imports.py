"""The import pages: upload a spreadsheet, see what importing it would do, confirm.

Leaders import for the teams they lead (and their villages' households), coordinators for
the teams under their scopes. A row for any other team or village reads as unknown: the
page never tells whether it exists. The uploaded file waits in the session between the
preview and the confirmation, so the browser does not send it twice; the confirmation
checks it again, all or nothing.
"""

import base64
import secrets
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from teams.access import is_coordinator, led_teams, visible_teams
from teams.models import Village
from worklog.imports import (
    ENTRY_COLUMNS,
    HOUSEHOLD_COLUMNS,
    ImportRejected,
    entries_import,
    households_import,
    plan_entries,
    plan_households,
)

# The file waits in the (database) session between preview and confirmation: keep it small.
# Bigger files go through `manage.py import_entries`.
MAX_UPLOAD = 2 * 1024 * 1024
MAX_ROWS = 50_000  # 2 MB of .xlsx can unpack to far more rows than 2 MB of CSV holds
PREVIEW_ROWS = 50
PENDING = "pending_import"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in (".csv", ".xlsx"):
            raise forms.ValidationError(_("Choose a .csv or .xlsx file."))
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_(
                "The file is larger than 2 MB. Split it, or ask an administrator to import "
                "it with the command line."))
        return upload


def _importable_teams(user):
    """Coordinators import for the teams they see, leaders for the teams they lead."""
    if is_coordinator(user):
        return visible_teams(user)
    teams = led_teams(user)
    if not teams.exists():
        raise PermissionDenied(_("Only team leaders and coordinators can import."))
    return teams


@login_required
@require_http_methods(["GET", "POST"])
def import_entries(request):
    teams = _importable_teams(request.user)
    return _import_page(
        request, "entries",
        plan=lambda name, content: plan_entries(
            name=name, content=content, teams=teams, max_rows=MAX_ROWS),
        write=lambda name, content: entries_import(
            name=name, content=content, teams=teams, author=request.user, max_rows=MAX_ROWS),
        done="notebook",
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_households(request):
    villages = Village.objects.filter(pk__in=_importable_teams(request.user).values("village"))
    return _import_page(
        request, "households",
        plan=lambda name, content: plan_households(
            name=name, content=content, villages=villages, max_rows=MAX_ROWS),
        write=lambda name, content: households_import(
            name=name, content=content, villages=villages, user=request.user, max_rows=MAX_ROWS),
        done="household_list",
    )


def _import_page(request, kind, *, plan, write, done):
    if request.method == "GET":
        return _render(request, kind, UploadForm())
    if "token" in request.POST:
        return _confirm(request, kind, write=write, done=done)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, kind, form, status=422)
    upload = form.cleaned_data["file"]
    content = upload.read()
    result = plan(upload.name, content)
    request.session.pop(PENDING, None)
    if result.problems:
        return _render(request, kind, UploadForm(), plan=result, name=upload.name, status=422)
    token = secrets.token_urlsafe(24)
    request.session[PENDING] = {
        "token": token, "kind": kind, "name": upload.name,
        "content": base64.b64encode(content).decode("ascii"),
    }
    return _render(request, kind, UploadForm(), plan=result, name=upload.name, token=token)


def _confirm(request, kind, *, write, done):
    pending = request.session.pop(PENDING, None)
    if (
        pending is None
        or pending["kind"] != kind
        or not secrets.compare_digest(pending["token"], request.POST["token"])
    ):
        messages.error(request, _("Nothing is waiting to be imported; upload the file again."))
        return redirect(request.path)
    if "cancel" in request.POST:
        messages.info(request, _("Nothing was imported."))
        return redirect(request.path)
    try:
        result = write(pending["name"], base64.b64decode(pending["content"]))
    except ImportRejected as rejected:
        return _render(request, kind, UploadForm(), problems=rejected.problems,
                       name=pending["name"], status=422)
    messages.success(request, _("Imported %(name)s: %(summary)s.") % {
        "name": pending["name"], "summary": result.summary()})
    return redirect(done)


def _render(request, kind, form, *, plan=None, problems=None, name="", token=None, status=200):
    context = {
        "kind": kind,
        "form": form,
        "columns": ENTRY_COLUMNS if kind == "entries" else HOUSEHOLD_COLUMNS,
        "name": name,
        "token": token,
        "problems": plan.problems if plan is not None else problems or [],
        "plan": plan,
    }
    if plan is not None:
        context["rows"] = plan.rows[:PREVIEW_ROWS]
        context["more_rows"] = max(len(plan.rows) - PREVIEW_ROWS, 0)
        if kind == "entries":
            context["sums"] = plan.sums_by_activity()
    return render(request, f"imports/{kind}.html", context, status=status)
