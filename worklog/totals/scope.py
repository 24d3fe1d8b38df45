"""Where totals are taken: a `Scope` (an organisation or area subtree, a team, a
village, or all), found by kind and slug or read from a request's query, and the years a
total can be asked for.

A scope knows which entry, tally and roll-up rows are its own (worklog.tallies keeps the
roll-ups along the organisation and area trees); the modules beside this one read them.
"""

from dataclasses import dataclass
from datetime import date

from django.db import connections, router
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from teams.models import Area, Organisation, Team, Village
from teams.rows import columns, read_row
from worklog.models import HouseholdTally, OrgTally, Tally
from worklog.tallies.keys import AREA, ORG

SCOPE_KINDS = ("org", "team", "village", "area")
SCOPE_MODELS = {"org": Organisation, "team": Team, "village": Village, "area": Area}

MIN_YEAR, MAX_YEAR = 1949, 2200


class ScopeNotFound(LookupError):
    """No organisation / team / village / area has that slug."""


@dataclass(frozen=True)
class Scope:
    """Where totals are taken: an organisation or area subtree, a team, a village, or all."""

    kind: str
    obj: object = None

    @property
    def slug(self):
        return self.obj.slug if self.obj is not None else None

    @property
    def name(self):
        return self.obj.label if self.obj is not None else _("All organisations")

    def as_dict(self):
        return {"kind": self.kind, "slug": self.slug, "name": str(self.name)}

    def entry_filter(self, prefix=""):
        """A Q object selecting the scope's entries (`prefix` for related lookups)."""
        if self.kind == "all":
            return Q()
        lookup = {
            "org": ("team__organisation__path__startswith", self.obj_path),
            "area": ("village__area__path__startswith", self.obj_path),
            "team": ("team", self.obj),
            "village": ("village", self.obj),
        }[self.kind]
        return Q(**{prefix + lookup[0]: lookup[1]})

    def team_filter(self):
        """A Q object selecting the scope's teams (for rows that know only their team)."""
        if self.kind == "all":
            return Q()
        return {
            "org": Q(organisation__path__startswith=self.obj_path),
            "area": Q(village__area__path__startswith=self.obj_path),
            "team": Q(pk=self.obj.pk),
            "village": Q(village=self.obj),
        }[self.kind]

    @property
    def obj_path(self):
        return getattr(self.obj, "path", None)

    @property
    def rollup(self):
        """The tree an organisation or area scope rolls up along (worklog.tallies.keys), else None."""
        return {"org": ORG, "area": AREA}.get(self.kind)

    def sum_rows(self):
        """The tally rows whose sums are the scope's: `OrgTally` or `AreaTally` for an
        organisation or area (a few rows per sub-node whatever the number of teams and
        villages), `Tally` for a team or village."""
        if self.kind == "all":
            return OrgTally.objects.order_by()
        if self.rollup is None:
            return Tally.objects.filter(self.entry_filter()).order_by()
        return self.rollup.sums.objects.filter(**{f"{self.rollup.node_path}__startswith": self.obj_path}).order_by()

    def latest_year_with_data(self, *, up_to):
        """The latest year with tallies, no later than `up_to` (an entry dated ahead by
        mistake does not become the default); `up_to` itself when there is none. Pages and
        the API open on it when no year is asked for: a new user's current year is often all
        zeros while the notebook holds last year's work. One backward probe of the year index."""
        latest = self.sum_rows().filter(year__lte=up_to).aggregate(latest=Max("year"))["latest"]
        return latest if latest is not None else up_to

    def child_path_field(self, rows):
        """The path, for rows of `rows`' model, that a breakdown by child node groups on."""
        rollup = self.rollup
        if rows.model in (rollup.sums, rollup.reach):
            return rollup.node_path
        return f"{rollup.via_field}__{rollup.node_path}"

    def own_household_rows(self):
        """HouseholdTally rows of the teams (organisation) or villages (area) right at the
        scope's node, not below it, or None when it has none."""
        rollup = self.rollup
        if not rollup.via.objects.filter(**{rollup.node_field: self.obj}).exists():
            return None
        return HouseholdTally.objects.filter(**{f"{rollup.via_field}__{rollup.node_field}": self.obj})


def resolve_scope(kind=None, slug=None):
    """The Scope for e.g. ("org", "8th-division"); ("all") without a kind. The node is read
    by one plain statement (slugs are unique): every dashboard, report and API call asks,
    and building the ORM's query cost more CPU than the statement took."""
    if not kind:
        return Scope("all")
    if kind not in SCOPE_MODELS:
        raise ValueError(f"unknown scope kind {kind!r}")
    model = SCOPE_MODELS[kind]
    connection = connections[router.db_for_read(model)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns(model)} FROM {model._meta.db_table} "
                       f"WHERE {connection.ops.quote_name(model._meta.get_field('slug').column)} = %s", [slug])
        row = cursor.fetchone()
    if row is None:
        raise ScopeNotFound(kind, slug)
    return Scope(kind, read_row((model,), connection, row)[0])


class BadScopeQuery(ValueError):
    """The request names more than one scope, or a year that is not one."""


def scope_and_year_from_query(query, default_year):
    """((kind, slug) or (None, None), year) from GET parameters like `?year=2017&org=x`."""
    chosen = [(kind, query[kind]) for kind in SCOPE_KINDS if query.get(kind)]
    if len(chosen) > 1:
        raise BadScopeQuery(_("Choose one of organisation, team, village or area."))
    text = query.get("year") or str(default_year)
    try:
        year = int(text)
        year_range(year)
    except ValueError:
        raise BadScopeQuery(_("“%(year)s” is not a year.") % {"year": text}) from None
    return (chosen[0] if chosen else (None, None)), year


def year_range(year):
    if not (MIN_YEAR <= year <= MAX_YEAR):
        raise ValueError(f"year {year} is out of range {MIN_YEAR}–{MAX_YEAR}")
    return date(year, 1, 1), date(year + 1, 1, 1)
