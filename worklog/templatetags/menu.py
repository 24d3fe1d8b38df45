"""The header's menu: who is logged in, the coordinator's pages and what waits there."""

from django import template
from django.utils.translation import gettext as _

from teams.access import (
    active_memberships,
    coordinator_scopes,
    is_coordinator,
    locks_months,
    visible_teams_coordinated,
)
from teams.models import Membership
from teams.names import person_name
from worklog.models import Amendment

register = template.Library()


@register.simple_tag(takes_context=True)
def signed_in(context):
    """The user's name and where they work: the coordinator's scopes, else their teams
    (a leader's marked), so that a shared phone shows whose notebook is open."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {}
    scopes = coordinator_scopes(user)
    if scopes:
        places = [(scope.organisation or scope.area).name for scope in scopes]
    else:
        places = [
            _("%(team)s (leader)") % {"team": membership.team.name}
            if membership.role == Membership.Role.LEADER else membership.team.name
            for membership in active_memberships(user).select_related("team")
        ]
    return {"name": person_name(user), "place": _(", ").join(places)}


@register.simple_tag(takes_context=True)
def coordinator_menu(context):
    """Which of the lock and amendment pages the user is offered, and how many amendments
    wait for their decision (one count; the scopes are read once per request)."""
    user = context.get("user")
    if user is None or not is_coordinator(user):
        return {}
    return {
        "locks": locks_months(user),
        "pending": Amendment.objects.filter(
            status=Amendment.Status.PENDING, team__in=visible_teams_coordinated(user).values("pk")
        ).count(),
    }
