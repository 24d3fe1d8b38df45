"""Benchmark notebooks: what `manage.py seed --scale N` adds (DESIGN §6, §10).

`seed_scale(N)` makes sure N generated entries exist. They belong to their own
organisation tree `bench` (ten sub-organisations), teams `bench-t0001`… posted to villages
`bench-v0001`… under an area tree `bench-region`, 300 households a village, one member
`bench-m0001`… a team and a coordinator `bench-coordinator` of `bench`. The spread grows
with N, one team per 100 entries, up to 1,000 teams and villages (from N = 100,000 on).
Entries are dated 2018–2022, so the demo's 2017 stays exact; activities are drawn in the
proportions of the demo's 2017 notebook, measures within the activities' demo hints.

Rows are made in Python without model instances and written month by month, in date
order as a real notebook fills: on PostgreSQL by COPY (households, entries, household
links and the month's tallies, which Python adds up as it goes), elsewhere by
executemany and tally upserts. A big load on PostgreSQL rebuilds indexes instead of
updating them row by row (see CopyWriter), then ANALYZEs.

Scale entries carry the uuid `5ca1e000-0000-4000-8000-<index in hex>`: the number that
exist is one index lookup, so a rerun adds nothing and a larger N adds only the rest.
"""

import bisect
import io
import itertools
import math
import queue
import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

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
from worklog.demo.targets import activity_targets, in_fen
from worklog.models import Entry, HouseholdTally, Measure, Tally

ORGANISATION = "bench"
COORDINATOR = "bench-coordinator"
FIRST_DAY, LAST_DAY = date(2018, 1, 1), date(2022, 12, 31)
TEAM_STARTS_ON = FIRST_DAY
MAX_TEAMS = 1000
ENTRIES_PER_TEAM = 100
HOUSEHOLDS_PER_VILLAGE = 300
SUB_ORGANISATIONS = 10
COUNTIES, TOWNSHIPS_PER_COUNTY = 10, 10
UUID_PREFIX = "5ca1e000-0000-4000-8000-"
UUID_LAST = 16 ** 12 - 1
# From this many new entries on, a PostgreSQL load rebuilds indexes instead of updating them.
BULK_LOAD_MIN = 100_000
LOAD_SETTINGS = {"work_mem": "256MB", "maintenance_work_mem": "1GB",
                 "max_parallel_maintenance_workers": "2"}

def scale_uuid(index):
    return f"{UUID_PREFIX}{index:012x}"


def teams_for(number):
    """How many bench teams N entries are spread over."""
    return min(MAX_TEAMS, max(1, math.ceil(number / ENTRIES_PER_TEAM)))


def existing_scale_entries():
    """How many scale entries exist: one more than the highest index (they come in order)."""
    last = (
        Entry.objects.filter(uuid__gte=scale_uuid(0), uuid__lte=scale_uuid(UUID_LAST))
        .order_by("-uuid").values_list("uuid", flat=True).first()
    )
    return 0 if last is None else int(str(last)[len(UUID_PREFIX):], 16) + 1


@transaction.atomic
def seed_scale(number, *, seeds, activities, password=None):
    """Make sure `number` scale entries exist; returns {what: rows created}."""
    created = {}
    bench = BenchPlaces.ensure(teams_for(number), seeds["households"], password, created)
    have = existing_scale_entries()
    created["scale entries"] = created["scale household links"] = 0
    if number <= have:
        return created
    plan = NotebookPlan(activities, seeds, bench)
    writer = (CopyWriter if connection.vendor == "postgresql" else InsertWriter)(bench)
    entries, links = writer.write(plan, first_index=have, number=number - have)
    from worklog.tallies import ROLLUPS, recount_rollups

    recount_rollups()  # the writers fill Tally and HouseholdTally; the roll-ups follow them
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # their statistics, for the dashboards' plans
            for rollup in ROLLUPS:
                cursor.execute(f"ANALYZE {rollup.sums._meta.db_table}, {rollup.reach._meta.db_table}")
    created["scale entries"], created["scale household links"] = entries, links
    return created


# --- places, households and accounts ------------------------------------------------------


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


# --- the entries -------------------------------------------------------------------------------


class NotebookPlan:
    """Draws the entries: activity in the proportions of the demo's 2017, team uniformly,
    dates spread evenly over 2018–2022 in order, measures within the activities' hints.

    Households of an entry are a run of neighbouring house numbers (wrapping round), as a
    door-to-door round goes; their visits are added up per month as difference arrays.
    Everything is made as COPY text: Python's time per row is what the seed costs.
    """

    def __init__(self, activities, seeds, bench):
        hints = {item["code"]: item.get("demo", {}) for item in seeds["activities"]["activity"]}
        targets = activity_targets(seeds["indicators"]["indicator"], hints, 2017)
        self.recipes, weights = [], []
        for code, activity in activities.items():
            hint = hints[code]
            weights.append(targets[code].get(Measure.ENTRIES, hint.get("entries", 0)) or 1)
            participants = None
            if activity.uses_participants:
                per_household = "participants_per_household" in hint
                low, high = hint["participants_per_household" if per_household else "participants"]
                participants = (low, high - low + 1, per_household)
            funds = None
            if activity.uses_funds:
                step = in_fen(hint.get("funds_step", "0.01"))
                low, high = (in_fen(value) for value in hint["funds"])
                funds = (-(-low // step), high // step - -(-low // step) + 1, step)
            titles = _titles(hint, activity.name)
            self.recipes.append((
                activity.pk, titles, len(titles),
                _span(hint, "households") if activity.uses_households else None,
                participants,
                _span(hint, "sessions") if activity.uses_sessions else None,
                _span(hint, "quantity") if activity.uses_quantity else None,
                funds,
            ))
        total = sum(weights)
        self.cumulative = [sum(weights[: i + 1]) / total for i in range(len(weights) - 1)]
        self.teams = bench.teams
        for team in self.teams:
            if len(team.households) != HOUSEHOLDS_PER_VILLAGE:
                raise ValueError(f"team {team.id}: its village has not {HOUSEHOLDS_PER_VILLAGE} households")
            team.house_text = [str(pk) for pk in team.households] * 2  # runs wrap round
            team.tail = f"\t{team.author_id}\t{team.id}\t{team.village_id}\n"
        self.days = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]

    def months(self, first_index, number, first_id):
        """Yield one `Month` at a time for entries first_index..first_index+number-1, which
        get the ids first_id…"""
        rng = random.Random(f"scale/{first_index}/{number}")
        draw, pick = rng.random, bisect.bisect_right
        cumulative, recipes, teams, days = self.cumulative, self.recipes, self.teams, self.days
        activity_count, team_count, day_count = len(recipes), len(teams), len(days)
        houses = HOUSEHOLDS_PER_VILLAGE
        month, last_day = None, -1
        for j in range(number):
            day_index = j * day_count // number
            if day_index != last_day:
                last_day, day = day_index, days[day_index]
                if month is None or day.month != month.month:
                    if month is not None:
                        yield month
                    month = Month(day.year, day.month, recipes, teams)
                    add_entry, add_links = month.entries.append, month.links.append
                    sums, runs = month.sums, month.runs
                stamp = f"{day} 20:00:00+08"
                dated = f"\t{day}\t"
                stamped = f"\t{stamp}\t{stamp}\t1\t"
            activity = pick(cumulative, draw())
            activity_id, titles, title_count, households, participants, sessions, quantity, funds = (
                recipes[activity])
            team_index = int(draw() * team_count)
            team = teams[team_index]
            title = titles[int(draw() * title_count)]
            if "{" in title:
                title = title.replace("{village}", team.village_name)
            entry_id = str(first_id + j)
            key = team_index * activity_count + activity
            linked = 0
            if households:
                linked = households[0] + int(draw() * households[1])
                start = int(draw() * houses)
                add_links(entry_id + "\t" + ("\n" + entry_id + "\t").join(
                    team.house_text[start:start + linked]) + "\n")
                run = runs.get(key)
                if run is None:
                    run = runs[key] = [0] * (houses + 1)
                run[start] += 1
                end = start + linked
                if end <= houses:
                    run[end] -= 1
                else:
                    run[0] += 1
                    run[end - houses] -= 1
            people = times = count = fen = 0
            if participants:
                low, span, per_household = participants
                people = (low * linked + int(draw() * (span + (span - 1) * (linked - 1)))
                          if per_household else low + int(draw() * span))
            if sessions:
                times = sessions[0] + int(draw() * sessions[1])
            if quantity:
                count = quantity[0] + int(draw() * quantity[1])
            if funds:
                fen = (funds[0] + int(draw() * funds[1])) * funds[2]
            add_entry(
                f"{entry_id}\t{UUID_PREFIX}{first_index + j:012x}{dated}{title}\t\t{people}\t"
                f"{times}\t{count}\t{_yuan(fen) if fen else '0.00'}{stamped}{activity_id}{team.tail}")
            total = sums.get(key)
            if total is None:
                sums[key] = [1, people, times, count, fen, linked]
            else:
                total[0] += 1
                total[1] += people
                total[2] += times
                total[3] += count
                total[4] += fen
                total[5] += linked
        if month is not None:
            yield month


def _span(hint, name):
    low, high = hint[name]
    return (low, high - low + 1)


def _titles(hint, default):
    titles = []
    for template in hint.get("titles", [default]):
        for topic in hint.get("topics", [""]) if "{topic}" in template else [""]:
            title = template.replace("{topic}", topic)
            if any(char in title for char in "\t\n\r\\"):
                raise ValueError(f"a title of the demo hints is not COPY-safe: {title!r}")
            titles.append(title)
    return titles


def _yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


# COPY column orders of the text rows below.
ENTRY_COLUMNS = ("id", "uuid", "date", "title", "notes", "participants", "sessions",
                 "quantity", "funds", "created_at", "updated_at", "version", "activity_id",
                 "author_id", "team_id", "village_id")
LINK_COLUMNS = ("entry_id", "household_id")
TALLY_COLUMNS = ("year", "month", "team_id", "village_id", "activity_id", "entries",
                 "participants", "sessions", "quantity", "funds", "household_visits")
HOUSEHOLD_TALLY_COLUMNS = ("year", "month", "team_id", "village_id", "activity_id",
                           "household_id", "visits")
TALLY_KEY = TALLY_COLUMNS[:5]
HOUSEHOLD_TALLY_KEY = HOUSEHOLD_TALLY_COLUMNS[:6]


class Month:
    """One month of entries and links as COPY text, and what they add to the tallies:
    `sums` and the household `runs` (difference arrays over house positions) per
    (team, activity) key."""

    def __init__(self, year, month, recipes, teams):
        self.year, self.month, self.recipes, self.teams = year, month, recipes, teams
        self.entries, self.links, self.sums, self.runs = [], [], {}, {}

    def _place(self, key):
        team_index, activity = divmod(key, len(self.recipes))
        team = self.teams[team_index]
        return team, (f"{self.year}\t{self.month}\t{team.id}\t{team.village_id}\t"
                      f"{self.recipes[activity][0]}\t")

    def tally_text(self):
        rows = []
        for key, (n, people, times, count, fen, visits) in self.sums.items():
            rows.append(f"{self._place(key)[1]}{n}\t{people}\t{times}\t{count}\t{_yuan(fen)}\t{visits}\n")
        return rows

    def household_tally_text(self):
        rows = []
        for key, run in self.runs.items():
            team, prefix = self._place(key)
            visits = itertools.accumulate(run[:HOUSEHOLDS_PER_VILLAGE])
            rows.extend(f"{prefix}{house}\t{n}\n" for house, n in zip(team.house_text, visits) if n)
        return rows


# --- writing -------------------------------------------------------------------------------


def _parse(rows, columns, model):
    """COPY text rows as database parameters (for the plain INSERT path)."""
    fields = [model._meta.get_field(column.removesuffix("_id")) for column in columns]
    return [
        [field.get_db_prep_save(field.to_python(value), connection)
         for field, value in zip(fields, row.split("\t"))]
        for chunk in rows for row in chunk.rstrip("\n").split("\n")
    ]


class InsertWriter:
    """Any database (SQLite in tests): executemany, tallies by upsert."""

    def __init__(self, bench):
        self.bench = bench

    def write(self, plan, *, first_index, number):
        from worklog.tallies import HOUSEHOLD_KEY, HOUSEHOLD_UPSERT, TALLY_UPSERT

        first_id = (Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        Link = Entry.households.through
        entries = links = 0
        with connection.cursor() as cursor:
            for month in plan.months(first_index, number, first_id):
                cursor.executemany(_insert_sql(Entry, ENTRY_COLUMNS), _parse(month.entries, ENTRY_COLUMNS, Entry))
                link_rows = _parse(month.links, LINK_COLUMNS, Link)
                cursor.executemany(_insert_sql(Link, LINK_COLUMNS), link_rows)
                cursor.executemany(TALLY_UPSERT, _parse(month.tally_text(), TALLY_COLUMNS, Tally))
                household_rows = _parse(month.household_tally_text(), HOUSEHOLD_TALLY_COLUMNS, HouseholdTally)
                order = [HOUSEHOLD_TALLY_COLUMNS.index(name) for name in HOUSEHOLD_KEY + ["visits"]]
                cursor.executemany(HOUSEHOLD_UPSERT, [[row[i] for i in order] for row in household_rows])
                entries += len(month.entries)
                links += len(link_rows)
        return entries, links


def _insert_sql(model, columns):
    return (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})")


class CopyWriter:
    """PostgreSQL: COPY month by month while a thread draws the next months.

    A big load (BULK_LOAD_MIN) drops the secondary indexes and unique constraints of the
    entries, links and tallies (keeping the tallies' unique keys when it adds to existing
    tallies: they are the ON CONFLICT targets) and builds them again at the end, which
    costs a fraction of updating nine indexes row by row. The foreign keys' per-row
    checks, which would queue tens of millions of deferred trigger events, are switched
    off for the transaction as pg_restore --disable-triggers does (every id comes from
    rows read in this transaction); without the superuser's right to, it drops the
    foreign keys and adds them again, which checks every row.
    """

    def __init__(self, bench):
        self.bench = bench
        self.entry_table = Entry._meta.db_table
        self.link_table = Entry.households.through._meta.db_table
        self.tally_table = Tally._meta.db_table
        self.household_tally_table = HouseholdTally._meta.db_table

    def write(self, plan, *, first_index, number):
        with connection.cursor() as cursor:
            for name, value in LOAD_SETTINGS.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
            first_id = self._reserve_ids(cursor, number)
            # Tallies of the bench teams can only come from an earlier load or from use.
            fresh = not Tally.objects.filter(team_id__in=self.bench.team_ids).exists()
            if not fresh:
                self._temporary_tallies(cursor)
            prefix = "" if fresh else "bench_new_"
            again = self._prepare_bulk(cursor, fresh=fresh) if number >= BULK_LOAD_MIN else []
            entries = links = 0
            for month in _drawn_ahead(plan.months(first_index, number, first_id)):
                _copy(cursor, self.entry_table, ENTRY_COLUMNS, month.entries)
                _copy(cursor, self.link_table, LINK_COLUMNS, month.links)
                _copy(cursor, prefix + self.tally_table, TALLY_COLUMNS, month.tally_text())
                _copy(cursor, prefix + self.household_tally_table, HOUSEHOLD_TALLY_COLUMNS,
                      month.household_tally_text())
                entries += len(month.entries)
                links += sum(visits for *_, visits in month.sums.values())
            if not fresh:
                self._merge_tallies(cursor)
            for sql in again:
                cursor.execute(sql)
            for table in (self.entry_table, self.link_table, self.tally_table,
                          self.household_tally_table, Household._meta.db_table):
                cursor.execute(f"ANALYZE {table}")
        return entries, links

    def _reserve_ids(self, cursor, number):
        """Ids first..first+number-1 for the new entries, taken from the id sequence."""
        cursor.execute(f"LOCK TABLE {self.entry_table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.entry_table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {self.entry_table}) + 1, "
                       "nextval(%s))", [sequence])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + number - 1])
        return first

    def _prepare_bulk(self, cursor, *, fresh):
        """Switch off or drop what a big load should not update row by row; returns the
        statements that restore it, in the order to run them."""
        tables = [self.entry_table, self.link_table, self.tally_table, self.household_tally_table]
        # Adding to existing tallies needs their unique keys as ON CONFLICT targets.
        keep_unique = () if fresh else (self.tally_table, self.household_tally_table)
        # Deferred checks of rows written earlier in this transaction fire now: ALTER TABLE
        # refuses a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        unique, indexes, foreign_keys = [], [], []
        for table in tables:
            cursor.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY conname", [table])
            for name, kind, definition in cursor.fetchall():
                if kind == "u" and table in keep_unique or kind == "f" and superuser:
                    continue
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                (unique if kind == "u" else foreign_keys).append(
                    f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
                "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1", [table])
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")
                indexes.append(definition)
        switch = []
        if superuser:
            cursor.execute("SELECT set_config('session_replication_role', 'replica', true)")
            switch = ["SELECT set_config('session_replication_role', 'origin', true)"]
        return switch + unique + indexes + foreign_keys + ["SET CONSTRAINTS ALL DEFERRED"]

    def _temporary_tallies(self, cursor):
        for table, columns in ((self.tally_table, TALLY_COLUMNS),
                               (self.household_tally_table, HOUSEHOLD_TALLY_COLUMNS)):
            cursor.execute(f"CREATE TEMPORARY TABLE bench_new_{table} ON COMMIT DROP AS "
                           f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA")

    def _merge_tallies(self, cursor):
        """Add the new months' sums to the tallies, in the unique key's order."""
        for table, columns, key, order in (
            (self.tally_table, TALLY_COLUMNS, TALLY_KEY, TALLY_KEY),
            (self.household_tally_table, HOUSEHOLD_TALLY_COLUMNS, HOUSEHOLD_TALLY_KEY,
             ("year", "month", "household_id", "team_id", "village_id", "activity_id")),
        ):
            sums = [name for name in columns if name not in key]
            names = ", ".join(columns)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM bench_new_{table} "
                f"ORDER BY {', '.join(order)} "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                + ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sums)
            )


def _copy(cursor, table, columns, chunks):
    if chunks:
        data = io.BytesIO("".join(chunks).encode())
        # One read for the lot: the drawing thread would hold the GIL between small reads.
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", data,
                           len(data.getbuffer()))


def _drawn_ahead(months, ahead=2):
    """The months, drawn by a thread up to `ahead` in advance, so that Python draws the next
    month while PostgreSQL takes in this one."""
    handoff = queue.Queue(maxsize=ahead)
    done = object()
    failure = []
    stop = threading.Event()

    def draw():
        try:
            for month in months:
                while not stop.is_set():
                    try:
                        handoff.put(month, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except Exception as error:  # noqa: BLE001 (handed to the writer, which raises it)
            failure.append(error)
        handoff.put(done)

    thread = threading.Thread(target=draw, name="scale-draw", daemon=True)
    thread.start()
    try:
        while (month := handoff.get()) is not done:
            yield month
        if failure:
            raise failure[0]
    finally:
        stop.set()
        thread.join()
