"""URLs of Team Worklog (DESIGN §7)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from django.views.static import serve

from worklog.views import (
    api,
    dashboards,
    entries,
    errors,
    home,
    households,
    imports,
    locks,
    notebook,
    offline,
    report,
    sync,
)

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error

urlpatterns = [
    path("", home.home, name="home"),
    path("notebook/", notebook.notebook, name="notebook"),
    path("notebook/new/", entries.entry_new, name="entry_new"),
    path("notebook/outbox/", offline.outbox, name="outbox"),
    path("notebook/<int:pk>/", entries.entry_detail, name="entry_detail"),
    path("notebook/<int:pk>/edit/", entries.entry_edit, name="entry_edit"),
    path("notebook/<int:pk>/copy/", entries.entry_copy, name="entry_copy"),
    path("notebook/<int:pk>/delete/", entries.entry_delete, name="entry_delete"),
    path("notebook/<int:pk>/restore/", entries.entry_restore_view, name="entry_restore"),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("report/<int:year>/", report.year_report, name="year_report"),
    path("api/totals", api.api_totals, name="api_totals"),
    path("api/sync", sync.sync, name="api_sync"),
    path("import/entries/", imports.import_entries, name="import_entries"),
    path("import/households/", imports.import_households, name="import_households"),
    path("locks/", locks.locks, name="locks"),
    path("amendments/", locks.amendment_list, name="amendment_list"),
    path("amendments/<int:pk>/", locks.amendment_detail, name="amendment_detail"),
    path("amendments/<int:pk>/decide/", locks.amendment_decide, name="amendment_decide"),
    path("households/", households.household_list, name="household_list"),
    path("households/new/", households.household_new, name="household_new"),
    path("households/<int:pk>/", households.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", households.household_edit, name="household_edit"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    # From the root, so that the service worker's scope is the whole site.
    path("sw.js", offline.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    # Browsers ask for /favicon.ico on every page of the admin too; one fixed file.
    path("favicon.ico", serve,
         {"path": "favicon.ico", "document_root": settings.BASE_DIR / "worklog" / "static" / "worklog"}),
]
