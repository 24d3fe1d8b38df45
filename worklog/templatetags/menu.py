"""The header's menu: the coordinator's pages, and what waits there for them."""

from django import template

from teams.access import is_coordinator, locks_months, visible_teams_coordinated
from worklog.models import Amendment

register = template.Library()


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
