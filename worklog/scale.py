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
executemany. A big load on PostgreSQL drops the secondary indexes and foreign keys of the
tables it fills and makes them again at the end (checking every row), which is several
times faster than keeping them up to date row by row, then ANALYZEs.

Scale entries carry the uuid `5ca1e000-0000-4000-8000-<index in hex>`: the number that
exist is one index lookup, so a rerun adds nothing and a larger N adds only the rest.
"""

import bisect
import io
import math
import queue
import random
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
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
# A load this big (and at least half the entries already there) rebuilds indexes instead
# of updating them.
BULK_LOAD_MIN = 100_000
LOAD_SETTINGS = {"work_mem": "256MB", "maintenance_work_mem": "1GB"}

TALLY_COLUMNS = ("year", "month", "team_id", "village_id", "activity_id", "entries",
                 "participants", "sessions", "quantity", "funds", "household_visits")
HOUSEHOLD_TALLY_COLUMNS = ("year", "month", "household_id", "team_id", "village_id",
                           "activity_id", "visits")
TALLY_KEY = TALLY_COLUMNS[:5]
HOUSEHOLD_TALLY_KEY = HOUSEHOLD_TALLY_COLUMNS[:6]
ENTRY_COLUMNS = ("id", "uuid", "date", "title", "notes", "participants", "sessions",
                 "quantity", "funds", "created_at", "updated_at", "version", "activity_id",
                 "author_id", "team_id", "village_id")


LOCAL_TIME, EVENING = ZoneInfo("Asia/Shanghai"), time(20)


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
    created["scale entries"], created["scale household links"] = entries, links
    return created


# --- places, households and accounts ------------------------------------------------------


@dataclass
class BenchTeam:
    id: int
    village_id: int
    village_name: str
    author_id: int
    households: list  # ids by house number


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
        ], created, "organisations")
        counties = [f"bench-c{c:02d}" for c in range(1, COUNTIES + 1)]
        areas = _ensure_tree(Area, [
            ("bench-region", "基准测试区", "Bench region", None, {"kind": Area.Kind.REGION}),
            *((slug, f"基准测试县{c:02d}", f"Bench county {c:02d}", "bench-region",
               {"kind": Area.Kind.COUNTY}) for c, slug in enumerate(counties, 1)),
            *((f"{slug}-t{t:02d}", f"基准测试乡{c:02d}{t:02d}", f"Bench township {c:02d}{t:02d}",
               slug, {"kind": Area.Kind.TOWNSHIP})
              for c, slug in enumerate(counties, 1) for t in range(1, TOWNSHIPS_PER_COUNTY + 1)),
        ], created, "areas")
        townships = [node for node in areas.values() if node.kind == Area.Kind.TOWNSHIP]
        townships.sort(key=lambda node: node.slug)

        numbers = range(1, max(wanted, _count_bench_teams()) + 1)
        villages = _ensure_rows(Village, created, "villages", {
            f"bench-v{n:04d}": dict(
                name=f"测试村{n:04d}", name_en=f"Bench village {n:04d}", kind=Village.Kind.VILLAGE,
                area=townships[(n - 1) * len(townships) // MAX_TEAMS % len(townships)],
            ) for n in numbers
        })
        teams = _ensure_rows(Team, created, "teams", {
            f"bench-t{n:04d}": dict(
                name=f"测试队{n:04d}", name_en=f"Bench team {n:04d}",
                organisation=organisations[
                    f"{ORGANISATION}-r{(n - 1) * SUB_ORGANISATIONS // MAX_TEAMS + 1:02d}"],
                village=villages[f"bench-v{n:04d}"], starts_on=TEAM_STARTS_ON,
            ) for n in numbers
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
    fresh = []
    for slug, name, name_en, parent, extra in nodes:
        if slug in existing:
            continue
        path = (existing[parent].path if parent else "") + f"{slug}/"
        node = model(slug=slug, name=name, name_en=name_en, parent=existing.get(parent),
                     path=path, depth=path.count("/") - 1, **extra)
        existing[slug] = node
        fresh.append(node)
    # bulk_create skips TreeNode.save, so path and depth are set above.
    model.objects.bulk_create(fresh)
    created[label] = created.get(label, 0) + len(fresh)
    return existing


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
        _give_password(list(users.values()), password)
    return {team.pk: users[name].pk for name, team in wanted.items() if team is not None}


def _give_password(users, password):
    # One PBKDF2 hash for all: a thousand would take minutes. Unchanged hashes stay.
    current = next((u.password for u in users if u.has_usable_password()), None)
    encoded = current if current and check_password(password, current) else make_password(password)
    get_user_model().objects.filter(pk__in=[u.pk for u in users]).exclude(
        password=encoded).update(password=encoded)


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
            head = _head_name(names, rng)
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


def _head_name(names, rng):
    if rng.random() < names["han_share"]:
        given = "".join(rng.choice(names["han_given"]) for _ in range(rng.choice((1, 2, 2))))
        return rng.choice(names["han_surnames"]) + given
    return f"{rng.choice(names['transcribed_given'])}·{rng.choice(names['transcribed_father'])}"


# --- the entries -------------------------------------------------------------------------------


@dataclass
class ActivityRecipe:
    """How to draw one activity's entries, precomputed from its demo hints."""

    id: int
    titles: list  # with {village} left in where the title names it
    households: tuple = None  # (min, max) households linked
    participants: tuple = None  # (min, max), per household when `per_household`
    per_household: bool = False
    sessions: tuple = None
    quantity: tuple = None
    funds: tuple = None  # (min steps, max steps, step in fen)


class NotebookPlan:
    """Draws the entries: activity in the proportions of the demo's 2017, team uniformly,
    dates spread evenly over 2018–2022 in order, measures within the activities' hints."""

    def __init__(self, activities, seeds, bench):
        from worklog.seeding import activity_targets, in_fen

        hints = {item["code"]: item.get("demo", {}) for item in seeds["activities"]["activity"]}
        targets = activity_targets(seeds["indicators"]["indicator"], hints, 2017)
        self.recipes, weights = [], []
        for code, activity in activities.items():
            hint = hints[code]
            weights.append(targets[code].get(Measure.ENTRIES, hint.get("entries", 0)) or 1)
            recipe = ActivityRecipe(id=activity.pk, titles=_titles(hint, activity.name))
            if activity.uses_households:
                recipe.households = tuple(hint["households"])
            if activity.uses_participants:
                recipe.per_household = "participants_per_household" in hint
                recipe.participants = tuple(
                    hint["participants_per_household" if recipe.per_household else "participants"])
            if activity.uses_sessions:
                recipe.sessions = tuple(hint["sessions"])
            if activity.uses_quantity:
                recipe.quantity = tuple(hint["quantity"])
            if activity.uses_funds:
                step = in_fen(hint.get("funds_step", "0.01"))
                low, high = (in_fen(value) for value in hint["funds"])
                recipe.funds = (-(-low // step), high // step, step)
            self.recipes.append(recipe)
        total = sum(weights)
        self.cumulative = [sum(weights[: i + 1]) / total for i in range(len(weights))]
        self.teams = bench.teams
        days = (LAST_DAY - FIRST_DAY).days + 1
        self.days = [FIRST_DAY + timedelta(days=n) for n in range(days)]

    def months(self, first_index, number, first_id, *, as_text):
        """Yield one `Month` at a time for entries first_index..first_index+number-1, which
        get ids first_id…; rows as COPY text (`as_text`) or as tuples."""
        rng = random.Random(f"scale/{first_index}/{number}")
        draw, pick_activity, sample = rng.random, bisect.bisect_right, rng.sample
        cumulative, recipes, teams, days = self.cumulative, self.recipes, self.teams, self.days
        team_count, day_count = len(teams), len(days)
        month = None
        for j in range(number):
            day = days[j * day_count // number]
            if month is None or (day.year, day.month) != (month.year, month.month):
                if month is not None:
                    yield month
                month = Month(day.year, day.month, as_text)
            entry_id, index = first_id + j, first_index + j
            recipe = recipes[min(pick_activity(cumulative, draw()), len(recipes) - 1)]
            team = teams[int(draw() * team_count)]
            title = recipe.titles[int(draw() * len(recipe.titles))]
            if "{" in title:
                title = title.replace("{village}", team.village_name)
            households = ()
            if recipe.households:
                low, high = recipe.households
                households = sample(team.households, low + int(draw() * (high - low + 1)))
            participants = sessions = quantity = funds = 0
            if recipe.participants:
                low, high = recipe.participants
                if recipe.per_household:
                    low, high = low * len(households), high * len(households)
                participants = low + int(draw() * (high - low + 1))
            if recipe.sessions:
                low, high = recipe.sessions
                sessions = low + int(draw() * (high - low + 1))
            if recipe.quantity:
                low, high = recipe.quantity
                quantity = low + int(draw() * (high - low + 1))
            if recipe.funds:
                low, high, step = recipe.funds
                funds = (low + int(draw() * (high - low + 1))) * step
            month.add(entry_id, scale_uuid(index), day, title, participants, sessions, quantity,
                      funds, recipe.id, team, households)
        if month is not None:
            yield month


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


class Month:
    """One month of generated entries and links, and what they add to the tallies."""

    def __init__(self, year, month, as_text):
        self.year, self.month, self.as_text = year, month, as_text
        self.entries, self.links = [], []
        self.tallies, self.household_visits = {}, {}
        self.stamp = f"{year:04d}-{month:02d}-%02d 20:00:00+08"

    def add(self, entry_id, uuid, day, title, participants, sessions, quantity, funds,
            activity_id, team, households):
        if self.as_text:
            stamp = self.stamp % day.day
            self.entries.append(
                f"{entry_id}\t{uuid}\t{day}\t{title}\t\t{participants}\t{sessions}\t{quantity}\t"
                f"{_yuan(funds)}\t{stamp}\t{stamp}\t1\t{activity_id}\t{team.author_id}\t"
                f"{team.id}\t{team.village_id}\n")
            if households:
                self.links.append("".join(f"{entry_id}\t{h}\n" for h in households))
        else:
            stamp = datetime.combine(day, EVENING, tzinfo=LOCAL_TIME)
            self.entries.append((entry_id, UUID(uuid), day, title, "", participants, sessions,
                                 quantity, Decimal(funds) / 100, stamp, stamp, 1, activity_id,
                                 team.author_id, team.id, team.village_id))
            self.links.extend((entry_id, h) for h in households)
        key = (team, activity_id)
        sums = self.tallies.get(key)
        if sums is None:
            self.tallies[key] = [1, participants, sessions, quantity, funds, len(households)]
        else:
            sums[0] += 1
            sums[1] += participants
            sums[2] += sessions
            sums[3] += quantity
            sums[4] += funds
            sums[5] += len(households)
        visits = self.household_visits
        for household in households:
            key = (household, team, activity_id)
            visits[key] = visits.get(key, 0) + 1

    def tally_rows(self):
        for (team, activity_id), (n, p, s, q, f, v) in self.tallies.items():
            yield (self.year, self.month, team.id, team.village_id, activity_id, n, p, s, q,
                   _yuan(f), v)

    def household_tally_rows(self):
        for (household, team, activity_id), visits in self.household_visits.items():
            yield (self.year, self.month, household, team.id, team.village_id, activity_id, visits)


# --- writing -------------------------------------------------------------------------------


class InsertWriter:
    """Any database (SQLite in tests): executemany, tallies by upsert."""

    as_text = False

    def __init__(self, bench):
        self.bench = bench

    def write(self, plan, *, first_index, number):
        from worklog.tallies import HOUSEHOLD_UPSERT, TALLY_UPSERT

        first_id = (Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        entries = links = 0
        insert_entries = _insert_sql(Entry._meta.db_table, ENTRY_COLUMNS)
        insert_links = _insert_sql(Entry.households.through._meta.db_table, ("entry_id", "household_id"))
        fields = [Entry._meta.get_field(column.removesuffix("_id")) for column in ENTRY_COLUMNS]
        with connection.cursor() as cursor:
            for month in plan.months(first_index, number, first_id, as_text=False):
                cursor.executemany(insert_entries, [
                    [field.get_db_prep_save(value, connection) for field, value in zip(fields, row)]
                    for row in month.entries
                ])
                cursor.executemany(insert_links, month.links)
                cursor.executemany(TALLY_UPSERT, list(month.tally_rows()))
                cursor.executemany(HOUSEHOLD_UPSERT, list(month.household_tally_rows()))
                entries += len(month.entries)
                links += len(month.links)
        return entries, links


def _insert_sql(table, columns):
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"


class CopyWriter:
    """PostgreSQL: COPY month by month while a thread draws the next months."""

    as_text = True

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
            bulk = number >= BULK_LOAD_MIN and number * 2 >= _estimated_rows(cursor, self.entry_table)
            # Tallies of these teams and months can only exist from an earlier load.
            fresh = not Tally.objects.filter(team_id__in=self.bench.team_ids).exists()
            tables = [self.entry_table, self.link_table]
            if fresh:
                tables.append(self.household_tally_table)
            else:
                self._temporary_tallies(cursor)
            dropped = _drop_secondary(cursor, tables, keep_unique={
                self.entry_table: True, self.link_table: True, self.household_tally_table: False,
            }) if bulk else []
            entries = links = 0
            for month in _drawn_ahead(plan.months(first_index, number, first_id, as_text=True)):
                self._copy(cursor, self.entry_table, ENTRY_COLUMNS, month.entries)
                self._copy(cursor, self.link_table, ("entry_id", "household_id"), month.links)
                prefix = "" if fresh else "bench_new_"
                self._copy_rows(cursor, prefix + self.tally_table, TALLY_COLUMNS, month.tally_rows())
                self._copy_rows(cursor, prefix + self.household_tally_table, HOUSEHOLD_TALLY_COLUMNS,
                                month.household_tally_rows())
                entries += len(month.entries)
                links += sum(line.count("\n") for line in month.links)
            if not fresh:
                self._merge_tallies(cursor)
            _recreate(cursor, dropped)
            for table in (self.entry_table, self.link_table, self.tally_table,
                          self.household_tally_table, Household._meta.db_table):
                cursor.execute(f"ANALYZE {table}")
        return entries, links

    def _reserve_ids(self, cursor, number):
        """Ids first..first+number-1 for the new entries, taken from the id sequence."""
        cursor.execute(f"LOCK TABLE {self.entry_table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"SELECT pg_get_serial_sequence('{self.entry_table}', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {self.entry_table}) + 1, "
                       "nextval(%s))", [sequence])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + number - 1])
        return first

    @staticmethod
    def _copy(cursor, table, columns, chunks):
        if chunks:
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN",
                               io.StringIO("".join(chunks)))

    def _copy_rows(self, cursor, table, columns, rows):
        self._copy(cursor, table, columns, ["\t".join(map(str, row)) + "\n" for row in rows])

    def _temporary_tallies(self, cursor):
        for table in (self.tally_table, self.household_tally_table):
            cursor.execute(f"CREATE TEMPORARY TABLE bench_new_{table} "
                           f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")

    def _merge_tallies(self, cursor):
        """Add the new months' sums to the tallies, in key order (the unique index's)."""
        for table, columns, key in (
            (self.tally_table, TALLY_COLUMNS, TALLY_KEY),
            (self.household_tally_table, HOUSEHOLD_TALLY_COLUMNS, HOUSEHOLD_TALLY_KEY),
        ):
            sums = [name for name in columns if name not in key]
            names = ", ".join(columns)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM bench_new_{table} "
                f"ORDER BY {', '.join(key)} ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                + ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sums)
            )


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
        except BaseException as error:  # handed to the writer, which raises it
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


def _estimated_rows(cursor, table):
    cursor.execute("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [table])
    return cursor.fetchone()[0]


def _drop_secondary(cursor, tables, keep_unique):
    """Drop the foreign keys and the indexes no kept constraint needs; returns the SQL that
    makes them again. Pending deferred checks fire first (ALTER TABLE refuses otherwise)."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    again = []
    for table in tables:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname", [table])
        for name, kind, definition in cursor.fetchall():
            if kind == "u" and keep_unique[table]:
                continue
            again.append((kind, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1", [table])
        for name, definition in cursor.fetchall():
            again.append(("i", definition))
            cursor.execute(f"DROP INDEX {name}")
    # Unique constraints and indexes first: the foreign keys' checks then find their indexes.
    return [sql for kind, sql in sorted(again, key=lambda item: item[0] == "f")]


def _recreate(cursor, statements):
    for sql in statements:
        cursor.execute(sql)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
