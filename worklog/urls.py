"""URLs of Team Worklog."""

from django.contrib import admin
from django.urls import include, path

from worklog import views

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
