from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorklogConfig(AppConfig):
    name = "worklog"
    verbose_name = _("Notebook and totals")

    def ready(self):
        """Keep the roll-ups right when figures move without an entry changing: a team or
        village moving to another organisation or area, a node of either tree moving,
        an indicator counting other activities (worklog.tallies)."""
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

        from teams.models import Area, Organisation, Team, Village
        from worklog import tallies
        from worklog.models import Indicator

        def connect(sender, before, after, name):
            pre_save.connect(lambda instance, **kw: before(instance), sender=sender, weak=False,
                             dispatch_uid=f"worklog.{name}_moving")
            post_save.connect(lambda instance, created, **kw: created or after(instance), sender=sender,
                              weak=False, dispatch_uid=f"worklog.{name}_moved")

        for sender in (Team, Village):
            connect(sender, tallies.via_moving, tallies.via_moved, sender._meta.model_name)
        for sender in (Organisation, Area):
            connect(sender, tallies.node_moving, tallies.node_moved, sender._meta.model_name)
        pre_save.connect(lambda instance, **kw: tallies.indicator_changing(instance), sender=Indicator,
                         weak=False, dispatch_uid="worklog.indicator_changing")
        post_save.connect(lambda instance, **kw: tallies.indicator_saved(instance), sender=Indicator,
                          weak=False, dispatch_uid="worklog.indicator_saved")
        post_delete.connect(lambda instance, **kw: tallies.indicator_deleted(instance), sender=Indicator,
                            weak=False, dispatch_uid="worklog.indicator_deleted")
        m2m_changed.connect(
            lambda instance, action, **kw: action.startswith("post_")
            and tallies.indicator_activities_changed(instance),
            sender=Indicator.activities.through, weak=False, dispatch_uid="worklog.indicator_activities_changed",
        )
