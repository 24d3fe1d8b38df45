"""The header's menu: who is logged in, the coordinator's pages and what waits there."""

from django import template
from django.db import connections, router
from django.utils.translation import gettext as _

from teams.access import active_memberships, coordinator_scopes, is_coordinator, locks_months
from teams.models import Membership, Team
from teams.names import person_name
from teams.picker import coordinated_teams_sql
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
    return {"locks": locks_months(user), "pending": pending_amendments(user)}


def pending_amendments(user):
    """How many amendments of the teams the user coordinates wait for a decision: one plain
    statement on every page of a coordinator (built through the ORM, its subquery cost more
    CPU than the count took). The teams are `visible_teams_coordinated`'s, whose SQL copy
    tests/test_picker.py compares with it."""
    connection = connections[router.db_for_read(Amendment)]
    joins, condition, params = coordinated_teams_sql(user, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {Amendment._meta.db_table} am JOIN {Team._meta.db_table} t ON t.id = am.team_id"
            f"{joins} WHERE am.status = %(pending)s AND {condition}",
            {**params, "pending": Amendment.Status.PENDING.value})
        return cursor.fetchone()[0]
