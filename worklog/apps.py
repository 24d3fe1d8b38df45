from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorklogConfig(AppConfig):
    name = "worklog"
    verbose_name = _("Notebook and totals")
