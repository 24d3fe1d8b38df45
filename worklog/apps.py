from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorklogConfig(AppConfig):
    name = "worklog"
    verbose_name = _("Notebook and totals")

    def ready(self):
        """Keep the roll-ups right when figures move without an entry changing: a team or
        village moving to another organisation or area, a node of either tree moving,
        an indicator counting other activities (worklog.tallies.receivers)."""
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

        from teams.models import Area, Organisation, Team, Village
        from worklog.models import Indicator
        from worklog.tallies import receivers

        for sender in (Team, Village):
            name = sender._meta.model_name
            pre_save.connect(receivers.team_or_village_saving, sender=sender,
                             dispatch_uid=f"worklog.{name}_moving")
            post_save.connect(receivers.team_or_village_saved, sender=sender,
                              dispatch_uid=f"worklog.{name}_moved")
        for sender in (Organisation, Area):
            name = sender._meta.model_name
            pre_save.connect(receivers.node_saving, sender=sender, dispatch_uid=f"worklog.{name}_moving")
            post_save.connect(receivers.node_saved, sender=sender, dispatch_uid=f"worklog.{name}_moved")
        pre_save.connect(receivers.indicator_saving, sender=Indicator, dispatch_uid="worklog.indicator_changing")
        post_save.connect(receivers.indicator_saved, sender=Indicator, dispatch_uid="worklog.indicator_saved")
        pre_delete.connect(receivers.indicator_deleting, sender=Indicator, dispatch_uid="worklog.indicator_deleting")
        post_delete.connect(receivers.indicator_deleted, sender=Indicator, dispatch_uid="worklog.indicator_deleted")
        m2m_changed.connect(receivers.indicator_activities_changed, sender=Indicator.activities.through,
                            dispatch_uid="worklog.indicator_activities_changed")
