from axes.apps import AppConfig as DjangoAxesConfig
from django.apps import AppConfig
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _


class TeamsConfig(AppConfig):
    default = True  # the one of this module that "teams" in INSTALLED_APPS means
    name = "teams"
    verbose_name = _("Teams and villages")


class AxesConfig(DjangoAxesConfig):
    """django-axes (failed logins and lock-outs), named in the reader's language: its app
    has no translatable name, and its rows name themselves in English f-strings, which the
    admin shows as page titles and in its lists. Their fields' names are translated in
    our catalogue (worklog/locale), axes shipping none in Chinese."""

    default = False
    verbose_name = _("Login attempts")

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        AccessAttempt.__str__ = _access_attempt_name
        AccessLog.__str__ = _access_log_name
        AccessFailureLog.__str__ = _access_failure_name


def _when(moment):
    return localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _access_attempt_name(attempt):
    return _("Login attempt of %(username)s, %(time)s") % {
        "username": attempt.username, "time": _when(attempt.attempt_time)}


def _access_log_name(log):
    return _("Login of %(username)s, %(time)s") % {
        "username": log.username, "time": _when(log.attempt_time)}


def _access_failure_name(failure):
    return _("Failed login of %(username)s from %(address)s, %(time)s") % {
        "username": failure.username, "address": failure.ip_address,
        "time": _when(failure.attempt_time)}
