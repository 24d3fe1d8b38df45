from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorklogConfig(AppConfig):
    name = "worklog"
    verbose_name = _("Notebook and totals")

    def ready(self):
        from django.db.models.signals import m2m_changed, post_save, pre_save

        from teams.models import Organisation, Team
        from worklog import tallies
        from worklog.models import Indicator

        pre_save.connect(lambda instance, **kw: tallies.team_moving(instance), sender=Team,
                         weak=False, dispatch_uid="worklog.team_moving")
        post_save.connect(lambda instance, **kw: tallies.team_moved(instance), sender=Team,
                          weak=False, dispatch_uid="worklog.team_moved")
        pre_save.connect(lambda instance, **kw: tallies.organisation_moving(instance), sender=Organisation,
                         weak=False, dispatch_uid="worklog.organisation_moving")
        post_save.connect(lambda instance, created, **kw: created or tallies.organisation_moved(instance),
                          sender=Organisation, weak=False, dispatch_uid="worklog.organisation_moved")
        pre_save.connect(lambda instance, **kw: tallies.indicator_changing(instance), sender=Indicator,
                         weak=False, dispatch_uid="worklog.indicator_changing")
        post_save.connect(lambda instance, **kw: tallies.indicator_changed(instance), sender=Indicator,
                          weak=False, dispatch_uid="worklog.indicator_changed")
        m2m_changed.connect(
            lambda instance, action, **kw: action.startswith("post_") and tallies.indicator_changed(instance),
            sender=Indicator.activities.through, weak=False, dispatch_uid="worklog.indicator_activities_changed",
        )
