"""The bench's places, households and accounts for `seed --scale N` (worklog/demo/scale.py).

An organisation tree `bench` (ten sub-organisations), an area tree `bench-region` (ten
counties of ten townships), villages `bench-v0001`… with 300 households each, teams
`bench-t0001`… posted to them, one member `bench-m0001`… a team (the author of its
entries) and a coordinator `bench-coordinator` of `bench`. Rows are matched by slug,
username or (village, house number) and made in bulk, so a rerun creates only what is
missing; households are drawn from fixed seeds, so they come out the same every time.
"""

import io
import random
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection

from teams.models import (
    Area,
    CoordinatorScope,
    Household,
    Membership,
    Organisation,
    Team,
    Village,
)
from worklog.demo.people import give_password, head_name

ORGANISATION = "bench"
COORDINATOR = "bench-coordinator"
TEAM_STARTS_ON = date(2018, 1, 1)
MAX_TEAMS = 1000
HOUSEHOLDS_PER_VILLAGE = 300
SUB_ORGANISATIONS = 10
COUNTIES, TOWNSHIPS_PER_COUNTY = 10, 10


@dataclass(eq=False)  # hashed by identity: it keys the month's tallies
class BenchTeam:
    id: int
    village_id: int
    village_name: str
    author_id: int
    households: list  # ids by house number
    house_text: list = None  # the ids as text, twice over: runs of houses wrap round
    tail: str = ""  # the end of its entries' COPY rows


class BenchPlaces:
    """The bench organisation and area trees, villages, teams, households and accounts."""

    def __init__(self, teams):
        self.teams = teams

    @classmethod
    def ensure(cls, wanted, household_spec, password, created):
        organisations = _ensure_tree(Organisation, [
            (ORGANISATION, "基准测试师", "Bench division", None, {}),
            *((f"{ORGANISATION}-r{n:02d}", f"基准测试团{n:02d}", f"Bench regiment {n:02d}",
               ORGANISATION, {}) for n in range(1, SUB_ORGANISATIONS + 1)),
        ], created, "scale organisations")
        counties = [f"bench-c{c:02d}" for c in range(1, COUNTIES + 1)]
        areas = _ensure_tree(Area, [
            ("bench-region", "基准测试区", "Bench region", None, {"kind": Area.Kind.REGION}),
            *((slug, f"基准测试县{c:02d}", f"Bench county {c:02d}", "bench-region",
               {"kind": Area.Kind.COUNTY}) for c, slug in enumerate(counties, 1)),
            *((f"{slug}-t{t:02d}", f"基准测试乡{c:02d}{t:02d}", f"Bench township {c:02d}{t:02d}",
               slug, {"kind": Area.Kind.TOWNSHIP})
              for c, slug in enumerate(counties, 1) for t in range(1, TOWNSHIPS_PER_COUNTY + 1)),
        ], created, "scale areas")
        townships = [node for node in areas.values() if node.kind == Area.Kind.TOWNSHIP]
        townships.sort(key=lambda node: node.slug)

        numbers = range(1, max(wanted, _count_bench_teams()) + 1)
        villages = _ensure_rows(Village, created, "scale villages", {
            f"bench-v{n:04d}": {
                "name": f"测试村{n:04d}", "name_en": f"Bench village {n:04d}",
                "kind": Village.Kind.VILLAGE,
                "area": townships[(n - 1) * len(townships) // MAX_TEAMS % len(townships)],
            } for n in numbers
        })
        teams = _ensure_rows(Team, created, "scale teams", {
            f"bench-t{n:04d}": {
                "name": f"测试队{n:04d}", "name_en": f"Bench team {n:04d}",
                "organisation": organisations[
                    f"{ORGANISATION}-r{(n - 1) * SUB_ORGANISATIONS // MAX_TEAMS + 1:02d}"],
                "village": villages[f"bench-v{n:04d}"], "starts_on": TEAM_STARTS_ON,
            } for n in numbers
        })
        members = _ensure_accounts(teams, organisations[ORGANISATION], password, created)
        households = _ensure_households(list(villages.values()), household_spec, created)
        return cls([
            BenchTeam(team.pk, team.village_id, villages[f"bench-v{n:04d}"].name,
                      members[team.pk], households[team.village_id])
            for n, team in ((n, teams[f"bench-t{n:04d}"]) for n in numbers)
        ])

    @property
    def team_ids(self):
        return [team.id for team in self.teams]


def _count_bench_teams():
    return Team.objects.filter(slug__regex=r"^bench-t[0-9]{4}$").count()


def _ensure_tree(model, nodes, created, label):
    """(slug, name, name_en, parent slug, extra) in order, parents first; by slug."""
    existing = model.objects.in_bulk([slug for slug, *_ in nodes], field_name="slug")
    levels = {}
    for slug, name, name_en, parent, extra in nodes:
        if slug not in existing:
            levels.setdefault(_depth(nodes, slug), []).append((slug, name, name_en, parent, extra))
    for depth in sorted(levels):  # a level's parents exist once the level above is saved
        fresh = []
        for slug, name, name_en, parent, extra in levels[depth]:
            path = (existing[parent].path if parent else "") + f"{slug}/"
            # bulk_create skips TreeNode.save, so path and depth are set here.
            node = model(slug=slug, name=name, name_en=name_en, parent=existing.get(parent),
                         path=path, depth=path.count("/") - 1, **extra)
            existing[slug] = node
            fresh.append(node)
        model.objects.bulk_create(fresh)
        created[label] = created.get(label, 0) + len(fresh)
    created.setdefault(label, 0)
    return existing


def _depth(nodes, slug):
    parents = {node[0]: node[3] for node in nodes}
    depth = 0
    while parents[slug] is not None:
        slug, depth = parents[slug], depth + 1
    return depth


def _ensure_rows(model, created, label, rows_by_slug):
    existing = model.objects.in_bulk(list(rows_by_slug), field_name="slug")
    fresh = [model(slug=slug, **values) for slug, values in rows_by_slug.items()
             if slug not in existing]
    model.objects.bulk_create(fresh, batch_size=1000)
    created[label] = created.get(label, 0) + len(fresh)
    if fresh:
        existing = model.objects.in_bulk(list(rows_by_slug), field_name="slug")
    return existing


def _ensure_accounts(teams, organisation, password, created):
    """A member `bench-mNNNN` for each team (the author of its entries) and the
    coordinator; with a password everyone gets it. Returns {team id: member's user id}."""
    User = get_user_model()
    wanted = {f"bench-m{slug[len('bench-t'):]}": team for slug, team in teams.items()}
    wanted[COORDINATOR] = None
    users = User.objects.in_bulk(list(wanted), field_name="username")
    fresh = [User(username=name, password=make_password(None)) for name in wanted if name not in users]
    User.objects.bulk_create(fresh, batch_size=1000)
    created["scale users"] = len(fresh)
    if fresh:
        users = User.objects.in_bulk(list(wanted), field_name="username")
    have = set(Membership.objects.filter(team__in=teams.values()).values_list("user_id", "team_id"))
    Membership.objects.bulk_create([
        Membership(user=users[name], team=team, role=Membership.Role.MEMBER,
                   joined_on=team.starts_on)
        for name, team in wanted.items() if team is not None and (users[name].pk, team.pk) not in have
    ], batch_size=1000)
    CoordinatorScope.objects.get_or_create(user=users[COORDINATOR], organisation=organisation, area=None)
    if password:
        give_password(list(users.values()), password)
    return {team.pk: users[name].pk for name, team in wanted.items() if team is not None}


def _ensure_households(villages, spec, created):
    """Households "1".."300" of each bench village; {village id: [ids by number]}."""
    rows = Household.objects.filter(village__in=villages).values_list("village_id", "house_number", "id")
    have = {(village_id, number): pk for village_id, number, pk in rows}
    names = spec["names"]
    fresh = []
    for village in villages:
        rng = random.Random(f"bench-households/{village.slug}")
        for n in range(1, HOUSEHOLDS_PER_VILLAGE + 1):
            # Drawn even when it exists, so that the others stay the same.
            size = rng.choices(spec["sizes"], weights=spec["size_weights"])[0]
            head = head_name(names, rng)
            if (village.pk, str(n)) not in have:
                fresh.append((village.pk, str(n), head, size))
    if fresh:
        if connection.vendor == "postgresql":
            text = "".join(f"{v}\t{n}\t{head}\t{size}\t\t\n" for v, n, head, size in fresh)
            with connection.cursor() as cursor:
                cursor.copy_expert(
                    "COPY teams_household (village_id, house_number, head_name, size, phone, notes) "
                    "FROM STDIN", io.StringIO(text))
        else:
            Household.objects.bulk_create(
                [Household(village_id=v, house_number=n, head_name=head, size=size)
                 for v, n, head, size in fresh], batch_size=5000)
        rows = Household.objects.filter(village__in=villages).values_list(
            "village_id", "house_number", "id")
        have = {(village_id, number): pk for village_id, number, pk in rows}
    created["scale households"] = len(fresh)
    return {
        village.pk: [have[village.pk, str(n)] for n in range(1, HOUSEHOLDS_PER_VILLAGE + 1)]
        for village in villages
    }
