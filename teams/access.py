"""Who may see and change what: the one place every view, export and API asks.

Roles: a *member* or *leader* of a team (through a current Membership) sees that team's
entries and its village's households; a leader also edits any entry of the team and
manages the village's households. A *coordinator* (CoordinatorScope rows) sees everything
under their organisation and area subtrees. A superuser sees everything.
"""

from django.db import connections, router
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import (
    Area,
    CoordinatorScope,
    Household,
    Membership,
    Organisation,
    Team,
    Village,
)
from teams import statements
from teams.rows import columns, read_row


def active_memberships(user, on=None):
    """Memberships the user holds today in teams that are deployed today."""
    if not user.is_authenticated:
        return Membership.objects.none()
    on = on or timezone.localdate()
    return Membership.objects.filter(
        Q(left_on__isnull=True) | Q(left_on__gte=on),
        user=user,
        joined_on__lte=on,
        team__in=Team.objects.current(on),
    )


def writable_teams(user):
    """Teams the user may log entries for: their current teams, i.e. the teams of
    `active_memberships(user)`, written as one join rather than nested subqueries because
    every notebook post builds it (one membership per user and team: no duplicates)."""
    if not user.is_authenticated:
        return Team.objects.none()
    on = timezone.localdate()
    return Team.objects.current(on).filter(
        Q(memberships__left_on__isnull=True) | Q(memberships__left_on__gte=on),
        memberships__user=user,
        memberships__joined_on__lte=on,
    ).select_related("village", "organisation")


def led_teams(user):
    return Team.objects.filter(
        pk__in=active_memberships(user).filter(role=Membership.Role.LEADER).values("team")
    )


COORDINATOR_SCOPES_SQL = f"""
    SELECT {columns(CoordinatorScope, "s")}, {columns(Organisation, "o")}, {columns(Area, "a")}
    FROM {CoordinatorScope._meta.db_table} s
    LEFT JOIN {Organisation._meta.db_table} o ON o.id = s.organisation_id
    LEFT JOIN {Area._meta.db_table} a ON a.id = s.area_id
    WHERE s.user_id = %(user)s
    ORDER BY s.id
"""


def coordinator_scopes(user):
    """The user's coordinator scopes, each with its organisation or area, read once per
    request (kept on the user object, which lives as long as the request) by one plain
    statement: every page of a coordinator asks, and building the ORM's select_related
    cost more CPU than the statement took."""
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_coordinator_scopes"):
        connection = connections[router.db_for_read(CoordinatorScope)]
        with connection.cursor() as cursor:
            cursor.execute(COORDINATOR_SCOPES_SQL, {"user": user.pk})
            rows = cursor.fetchall()
        scopes = []
        for row in rows:
            scope, organisation, area = read_row((CoordinatorScope, Organisation, Area), connection, row)
            # the subtree it names; the other of the two is NULL, read as an empty instance
            scope.organisation = organisation if scope.organisation_id else None
            scope.area = area if scope.area_id else None
            scopes.append(scope)
        user._coordinator_scopes = scopes
    return user._coordinator_scopes


def is_coordinator(user):
    return user.is_authenticated and (user.is_superuser or bool(coordinator_scopes(user)))


def _coordinated(scopes, team_prefix, village_prefix):
    """Q for rows under the user's coordinator scopes; prefixes reach team and village."""
    condition = Q(pk__in=[])
    for scope in scopes:
        if scope.organisation_id:
            condition |= Q(**{f"{team_prefix}organisation__path__startswith": scope.organisation.path})
        if scope.area_id:
            condition |= Q(**{f"{village_prefix}area__path__startswith": scope.area.path})
    return condition


def visible_teams(user):
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    own = Q(pk__in=active_memberships(user).values("team"))
    return Team.objects.filter(own | _coordinated(coordinator_scopes(user), "", "village__"))


def visible_entries(user, entries):
    """Filter a queryset of entries down to what the user may see."""
    if not user.is_authenticated:
        return entries.none()
    if user.is_superuser:
        return entries
    own = Q(team__in=active_memberships(user).values("team"))
    return entries.filter(own | _coordinated(coordinator_scopes(user), "team__", "village__"))


def visible_villages(user):
    """The villages of the user's current teams, and those under their scopes (a village
    of a team of a coordinated organisation, or in a coordinated area)."""
    if not user.is_authenticated:
        return Village.objects.none()
    if user.is_superuser:
        return Village.objects.all()
    condition = Q(pk__in=active_memberships(user).values("team__village"))
    for scope in coordinator_scopes(user):
        if scope.organisation_id:
            condition |= Q(teams__organisation__path__startswith=scope.organisation.path)
        if scope.area_id:
            condition |= Q(area__path__startswith=scope.area.path)
    # a village with several teams of the organisation is listed once
    return Village.objects.filter(pk__in=Village.objects.filter(condition).values("pk"))


def visible_households(user):
    """Households of the villages the user sees: found through the few villages (and the
    households' village index), never by testing every household against the scopes."""
    if user.is_authenticated and user.is_superuser:
        return Household.objects.all()
    return Household.objects.filter(village__in=visible_villages(user))


def get_household_for_user(user, pk):
    """The household if the user may see it, else 404 (not revealing that it exists)."""
    return get_object_or_404(visible_households(user).select_related("village"), pk=pk)


def managed_villages(user):
    """Villages whose households the user may add and edit: those of teams they lead."""
    villages = Village.objects.order_by("name")
    if user.is_superuser:
        return villages
    return villages.filter(pk__in=led_teams(user).values("village"))


def can_manage_households(user, village):
    return managed_villages(user).filter(pk=village.pk).exists()


def can_edit_entry(user, entry):
    """Authors edit their own entries of a current team; leaders any entry of their team."""
    if user.is_superuser:
        return True
    memberships = active_memberships(user).filter(team_id=entry.team_id)
    if memberships.filter(role=Membership.Role.LEADER).exists():
        return True
    return entry.author_id == user.pk and memberships.exists()


def can_restore_entry(user, entry):
    return user.is_superuser or led_teams(user).filter(pk=entry.team_id).exists()


def get_visible_or_404(user, queryset, **lookup):
    obj = visible_entries(user, queryset).filter(**lookup).first()
    if obj is None:
        raise Http404
    return obj


def can_see_scope(user, kind, obj):
    """May the user see totals of a scope: `kind` "org", "area", "team", "village" or
    "all", `obj` that organisation, area, team or village (None for all)?"""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if kind == "all":
        return False
    scopes = coordinator_scopes(user)
    for coordinated in scopes:
        org, area = coordinated.organisation, coordinated.area
        if kind == "org" and org and obj.path.startswith(org.path):
            return True
        if kind == "area" and area and obj.path.startswith(area.path):
            return True
        if kind == "team" and (
            (org and obj.organisation.path.startswith(org.path))
            or (area and obj.village.area.path.startswith(area.path))
        ):
            return True
        if kind == "village" and (
            (area and obj.area.path.startswith(area.path))
            or (org and obj.teams.filter(organisation__path__startswith=org.path).exists())
        ):
            return True
    memberships = active_memberships(user)
    if kind == "team":
        return memberships.filter(team=obj).exists()
    if kind == "village":
        return memberships.filter(team__village=obj).exists()
    return False


def scope_refusal(user):
    """Why a scope is refused, naming what the user does see (not the scope asked for:
    a refusal must not tell names the user may not see)."""
    names = [(s.organisation or s.area).name for s in coordinator_scopes(user)]
    names += [m.team.name for m in active_memberships(user).select_related("team")]
    if not names:
        return _("You may not see this scope: you have no team and no coordinator scope.")
    return _("You may not see this scope. You see: %(scopes)s.") % {"scopes": _(", ").join(names)}


def _under(nodes, paths):
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return nodes.filter(condition)


def coordinates_team(user, team):
    """Is the user a coordinator (or superuser) over this team: may lock and decide?"""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return visible_teams_coordinated(user).filter(pk=team.pk).exists()


def visible_teams_coordinated(user):
    """Teams under the user's coordinator scopes (not those they are merely members of)."""
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(_coordinated(coordinator_scopes(user), "", "village__"))


def locks_months(user):
    """May the user open the lock page: a superuser, or a coordinator of an organisation
    (an area's coordinator sees figures but does not lock an organisation's months)."""
    return user.is_authenticated and (
        user.is_superuser or any(s.organisation_id for s in coordinator_scopes(user))
    )


def coordinated_organisations(user):
    """Organisations a coordinator may lock months for: their organisation subtrees."""
    if user.is_superuser:
        return Organisation.objects.order_by("path")
    paths = [s.organisation.path for s in coordinator_scopes(user) if s.organisation_id]
    return _under(Organisation.objects.all(), paths).order_by("path")


def coordinated_areas(user):
    """Areas whose figures a coordinator sees whole: their area subtrees."""
    if user.is_superuser:
        return Area.objects.order_by("path")
    paths = [s.area.path for s in coordinator_scopes(user) if s.area_id]
    return _under(Area.objects.all(), paths).order_by("path")


def sees_history_of_team(user, team):
    """The audit trail of a team's entries: its leader and the coordinators above it."""
    return user.is_superuser or led_teams(user).filter(pk=team.pk).exists() or coordinates_team(user, team)


def sees_history_of_village(user, village):
    """The audit trail of a village's households: its team's leader and coordinators above."""
    if user.is_superuser or managed_villages(user).filter(pk=village.pk).exists():
        return True
    return bool(coordinator_scopes(user)) and (
        visible_teams_coordinated(user).filter(village=village).exists()
        or any(s.area_id and village.area.path.startswith(s.area.path) for s in coordinator_scopes(user))
    )


def can_import(user):
    """Spreadsheet imports: team leaders (for their teams) and coordinators (their scope)."""
    return user.is_authenticated and (is_coordinator(user) or led_teams(user).exists())


WRITABLE_TEAMS_SQL = f"""
    SELECT {columns(Team, "t")}, {columns(Village, "v")}, {columns(Organisation, "o")}
    FROM {Team._meta.db_table} t
    JOIN {Membership._meta.db_table} m ON m.team_id = t.id
    JOIN {Village._meta.db_table} v ON v.id = t.village_id
    JOIN {Organisation._meta.db_table} o ON o.id = t.organisation_id
    WHERE m.user_id = %s AND m.joined_on <= %s AND (m.left_on IS NULL OR m.left_on >= %s)
      AND t.starts_on <= %s AND (t.ends_on IS NULL OR t.ends_on >= %s)
    ORDER BY t.name, t.id
"""


def writable_teams_list(user):
    """writable_teams(user), read at once: a list of the teams, each with its village and
    organisation, by one plain statement. The notebook's form and the sync read it on
    every post, and building writable_teams' query through the ORM cost several times the
    CPU of running it. Same rule: tests/test_logging_path.py compares
    the two for members who joined, left and moved. The queryset stays for the views that
    filter it further."""
    if not user.is_authenticated:
        return []
    connection = connections[router.db_for_read(Team)]
    with connection.cursor() as cursor:
        today = timezone.localdate()
        statements.execute(cursor, WRITABLE_TEAMS_SQL, [user.pk, *[today] * 4])
        rows = cursor.fetchall()
    teams = []
    for row in rows:
        team, village, organisation = read_row((Team, Village, Organisation), connection, row)
        team.village, team.organisation = village, organisation
        teams.append(team)
    return teams


def logs_and_imports(user):
    """(May log entries, may import spreadsheets): `writable_teams(user).exists()` and
    `can_import(user)` answered by one read of the user's current memberships (the
    notebook asks both on every page)."""
    if not user.is_authenticated:
        return False, False
    roles = set(active_memberships(user).values_list("role", flat=True))
    return bool(roles), is_coordinator(user) or Membership.Role.LEADER in roles
