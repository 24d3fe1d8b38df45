"""URLs of Team Worklog (DESIGN §7)."""

from django.contrib import admin
from django.urls import include, path

from teams import views as households
from worklog.views import api, dashboards, entries, home, notebook, report

urlpatterns = [
    path("", home.home, name="home"),
    path("notebook/", notebook.notebook, name="notebook"),
    path("notebook/new/", entries.entry_new, name="entry_new"),
    path("notebook/<int:pk>/", entries.entry_detail, name="entry_detail"),
    path("notebook/<int:pk>/edit/", entries.entry_edit, name="entry_edit"),
    path("notebook/<int:pk>/copy/", entries.entry_copy, name="entry_copy"),
    path("notebook/<int:pk>/delete/", entries.entry_delete, name="entry_delete"),
    path("notebook/<int:pk>/restore/", entries.entry_restore_view, name="entry_restore"),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("report/<int:year>/", report.year_report, name="year_report"),
    path("api/totals", api.api_totals, name="api_totals"),
    path("households/", households.household_list, name="household_list"),
    path("households/new/", households.household_new, name="household_new"),
    path("households/<int:pk>/", households.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", households.household_edit, name="household_edit"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
