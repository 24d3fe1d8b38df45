"""What the dashboard's scope picker offers a user (`visible_scopes`), read by one plain
statement on every dashboard.

Built through the ORM, the picker took four queries and nested subqueries for a
coordinator's organisations, areas, teams and villages, whose building cost more CPU than
running them (issue 14). The statement copies the rules of teams/access.py, their one
home: `coordinated_organisations` and `coordinated_areas`, `visible_teams` and
`visible_villages`; tests/test_picker.py compares the two for several kinds of users.
"""

from functools import lru_cache

from django.db import connections, router
from django.utils import timezone

from teams.access import coordinator_scopes
from teams.models import Area, Membership, Organisation, Team, Village

PICKER_PLACES = 50
KINDS = (("org", Organisation), ("area", Area), ("team", Team), ("village", Village))
# The picker shows a slug and a name: only those are read.
SHOWN = ("id", "name", "name_en", "slug")


def visible_scopes(user):
    """What the dashboard's scope picker offers: [(kind, object), ...], widest first: the
    organisations and areas the user coordinates (a superuser: all), then the teams and
    villages they see by name, unless there are more than PICKER_PLACES of them for a
    coordinator (a region's thousand teams make no picker: they are reached through the
    breakdown's links; a coordinator of a few teams still picks them here)."""
    if not user.is_authenticated:
        return []
    connection = connections[router.db_for_read(Team)]
    orgs, areas, params = _coordinated_paths(user, connection)
    limited = user.is_superuser or bool(orgs or areas)
    params.update(user=user.pk, on=timezone.localdate())
    statement = _statement(connection.operators["startswith"], orgs, areas, limited)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    found = {kind: [] for kind, _model in KINDS}
    for part, _sort, *values in rows:
        kind, model = KINDS[part]
        found[kind].append((kind, model.from_db(connection.alias, SHOWN, values)))  # text columns: no converters
    for kind in ("team", "village"):
        if limited and len(found[kind]) > PICKER_PLACES:
            found[kind] = []
    return [option for kind, _model in KINDS for option in found[kind]]


def coordinated_teams_sql(user, connection):
    """`visible_teams_coordinated(user)` as SQL for a team aliased `t`: (joins, condition,
    params), the joins to add after its table, the condition for its WHERE and the
    parameters they name. For the few reads on every page (the menu's count of pending
    amendments) where building the ORM's subqueries cost more than running them."""
    orgs, areas, params = _coordinated_paths(user, connection)
    return _team_joins(orgs, areas), _coordinated(connection.operators["startswith"], orgs, areas), params


def _coordinated_paths(user, connection):
    """(organisations, areas, params): how many organisation and area subtrees the user
    coordinates (None for a superuser: every one), and their paths as LIKE parameters."""
    if user.is_superuser:
        return None, None, {}
    scopes = coordinator_scopes(user)
    params = {}
    for name, paths in (("org", [s.organisation.path for s in scopes if s.organisation_id]),
                        ("area", [s.area.path for s in scopes if s.area_id])):
        params.update((f"{name}{n}", connection.ops.prep_for_like_query(path) + "%") for n, path in enumerate(paths))
    return sum(1 for s in scopes if s.organisation_id), sum(1 for s in scopes if s.area_id), params


def _under(startswith, column, name, count):
    """`column` starts with one of `count` paths named name0, name1… (every row for None)."""
    if count is None:
        return "1 = 1"
    return "(" + " OR ".join([f"{column} {startswith % f'%({name}{n})s'}" for n in range(count)] or ["1 = 0"]) + ")"


def _team_joins(orgs, areas):
    """The joins a team `t` needs for its organisation's (o) and area's (a) paths, only
    where a path is tested."""
    joins = f" JOIN {Organisation._meta.db_table} o ON o.id = t.organisation_id" if orgs else ""
    if areas:
        joins += (f" JOIN {Village._meta.db_table} v ON v.id = t.village_id"
                  f" JOIN {Area._meta.db_table} a ON a.id = v.area_id")
    return joins


def _coordinated(startswith, orgs, areas):
    """Teams `t` under the coordinated organisations or in the coordinated areas (as
    teams.access._coordinated)."""
    return f'({_under(startswith, "o.path", "org", orgs)} OR {_under(startswith, "a.path", "area", areas)})'


@lru_cache(maxsize=32)
def _statement(startswith, orgs, areas, limited):
    """The picker's statement for `orgs` organisation and `areas` area paths (None: every
    one, for a superuser): a row (part, sort key, id, name, name_en, slug) per option, in
    order, the teams and villages cut after PICKER_PLACES + 1 when `limited`.
    `startswith` is the database's LIKE as the ORM writes `path__startswith`. A pure
    function of its arguments (the paths are parameters), so kept once written."""

    def under(column, name, count):
        return _under(startswith, column, name, count)

    limit = f"LIMIT {PICKER_PLACES + 1}" if limited else ""
    team, village, area, org, member = (
        model._meta.db_table for model in (Team, Village, Area, Organisation, Membership))
    shown = ", ".join(f"x.{column}" for column in SHOWN)
    return f"""
        WITH seen_teams AS (
            SELECT t.id, t.name, t.name_en, t.slug, t.village_id FROM {team} t{_team_joins(orgs, areas)}
            WHERE t.id IN (
                SELECT m.team_id FROM {member} m JOIN {team} mt ON mt.id = m.team_id
                WHERE m.user_id = %(user)s AND m.joined_on <= %(on)s AND (m.left_on IS NULL OR m.left_on >= %(on)s)
                  AND mt.starts_on <= %(on)s AND (mt.ends_on IS NULL OR mt.ends_on >= %(on)s))
              OR {_coordinated(startswith, orgs, areas)}
        ), seen_areas AS (
            SELECT x.id, x.name, x.name_en, x.slug, x.path FROM {area} x WHERE {under("x.path", "area", areas)}
        )
        SELECT * FROM (SELECT 0 AS part, x.path AS sort, {shown} FROM {org} x WHERE {under("x.path", "org", orgs)}) o
        UNION ALL
        SELECT * FROM (SELECT 1, x.path, {shown} FROM seen_areas x) a
        UNION ALL
        SELECT * FROM (SELECT 2, x.name, {shown} FROM seen_teams x ORDER BY x.name, x.id {limit}) t
        UNION ALL
        SELECT * FROM (SELECT 3, x.name, {shown} FROM {village} x
                       WHERE x.id IN (SELECT village_id FROM seen_teams) OR x.area_id IN (SELECT id FROM seen_areas)
                       ORDER BY x.name, x.id {limit}) v
        ORDER BY 1, 2, 3
    """
