"""The import pages: upload a spreadsheet, see what importing it would do, confirm.

Leaders import for the teams they lead, coordinators for the teams under their scopes;
the entries page offers a template for those teams (`?template=xlsx`);
households only into the villages whose households the user may edit (the household form's
rule, teams.access.managed_villages). A row for any other team or village reads as unknown:
the page never tells whether it exists. The uploaded file waits on disk between the preview
and the confirmation (worklog.imports.pending; the session holds only its key), so the
browser does not send it twice; the confirmation checks it again, all or nothing.
"""

import secrets
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from teams.access import is_coordinator, led_teams, managed_villages, visible_teams
from worklog.imports import (
    ENTRY_COLUMNS,
    HOUSEHOLD_COLUMNS,
    ImportRejected,
    entries_import,
    entries_template,
    households_import,
    pending,
    plan_entries,
    plan_households,
)

# A web worker reads the file while the user waits: bigger files go through
# `manage.py import_entries`. MAX_ROWS also bounds what an .xlsx file may unpack to
# (worklog.imports.sheets): 2 MB of .xlsx can unpack to far more than 2 MB of CSV holds.
MAX_UPLOAD = 2 * 1024 * 1024
MAX_ROWS = 50_000
PREVIEW_ROWS = 50
SHOWN_PROBLEMS = 200  # a page of problems is read, not scrolled through by the thousand
PENDING = "pending_import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    if request.method == "GET" and request.GET.get("template") == "xlsx":
        return _template(teams)
    return _import_page(
        request, "entries",
        plan=lambda name, content: plan_entries(
            name=name, content=content, teams=teams, max_rows=MAX_ROWS),
        write=lambda name, content: entries_import(
            name=name, content=content, teams=teams, author=request.user, max_rows=MAX_ROWS),
        done="notebook",
    )


def _template(teams):
    """The entries template (worklog.imports.template), for the teams the user imports for:
    their households, and no others, are listed in it."""
    response = HttpResponse(entries_template(teams=teams), content_type=XLSX)
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="entries-template-{day}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_households(request):
    # The household form's rule: an import changes households as the form would.
    villages = managed_villages(request.user)
    if not villages.exists():
        raise PermissionDenied(_("Only team leaders can add and change households."))
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
    _forget_pending(request)
    if result.problems:
        return _render(request, kind, UploadForm(), plan=result, name=upload.name, status=422)
    token = secrets.token_urlsafe(24)
    request.session[PENDING] = {
        "token": token, "kind": kind, "name": upload.name, "file": pending.park(content),
    }
    return _render(request, kind, UploadForm(), plan=result, name=upload.name, token=token)


def _forget_pending(request):
    """A file checked before in this session is not going to be imported: remove it."""
    waiting = request.session.pop(PENDING, None)
    if waiting is not None:
        pending.discard(waiting.get("file"))


def _confirm(request, kind, *, write, done):
    waiting = request.session.pop(PENDING, None) or {}
    content = pending.take(waiting.get("file"))  # gone from disk from here on
    if (
        content is None
        or waiting["kind"] != kind
        or not secrets.compare_digest(waiting["token"], request.POST["token"])
    ):
        messages.error(request, _("Nothing is waiting to be imported; upload the file again."))
        return redirect(request.path)
    if "cancel" in request.POST:
        messages.info(request, _("Nothing was imported."))
        return redirect(request.path)
    try:
        result = write(waiting["name"], content)
    except ImportRejected as rejected:
        return _render(request, kind, UploadForm(), problems=rejected.problems,
                       name=waiting["name"], status=422)
    messages.success(request, _("Imported %(name)s: %(summary)s.") % {
        "name": waiting["name"], "summary": result.summary()})
    return redirect(done)


def _render(request, kind, form, *, plan=None, problems=None, name="", token=None, status=200):
    problems = plan.problems if plan is not None else problems or []
    context = {
        "kind": kind,
        "form": form,
        "columns": ENTRY_COLUMNS if kind == "entries" else HOUSEHOLD_COLUMNS,
        "name": name,
        "token": token,
        "problems": problems[:SHOWN_PROBLEMS],
        "problem_count": len(problems),
        "more_problems": max(len(problems) - SHOWN_PROBLEMS, 0),
        "plan": plan,
    }
    if plan is not None:
        context["rows"] = plan.rows[:PREVIEW_ROWS]
        context["more_rows"] = max(len(plan.rows) - PREVIEW_ROWS, 0)
        if kind == "entries":
            context["sums"] = plan.sums_by_activity()
    return render(request, f"imports/{kind}.html", context, status=status)
