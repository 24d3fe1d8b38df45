"""The demo: loads the readable facts in `seeds/` and generates the demo notebook.

`seed_demo()` (behind `manage.py seed`) brings places, activities, indicators, household
tags and demo accounts in line with the TOML files, adds synthetic households, and writes
the 2017 notebook entries whose totals are exactly the 2017 targets of
`seeds/indicators.toml` (DESIGN §5). With `scale=N` it also makes sure N benchmark
entries, dated 2018–2022, exist in their own organisation (worklog/demo/scale.py).

Everything is idempotent: rows are matched by slug, code, name, username or
(village, house number), and entries by uuid5 keys, so a rerun creates nothing. All
randomness comes from `random.Random` seeded with fixed strings, one per village or
activity, so that changing one activity's seeds leaves the others' entries alone.
"""

import calendar
import random
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from teams.models import (
    Area,
    CoordinatorScope,
    Household,
    HouseholdTag,
    Membership,
    Organisation,
    Team,
    Village,
)
from worklog.models import Activity, Entry, Indicator, Measure
from worklog.demo.people import give_password, head_name
from worklog.demo.scale import seed_scale
from worklog.demo.targets import SeedError, activity_targets, in_fen
from worklog.tallies import rebuild as rebuild_tallies

DEMO_YEAR = 2017
COORDINATOR_ORGANISATION = "8th-division"
SEED_FILES = ("places", "activities", "indicators", "households", "stories")
BATCH_SIZE = 5000
# Fixed for good: the uuids of demo entries derive from it, and reruns must find them.
ENTRY_NAMESPACE = uuid.UUID("5d1c3c52-8f0e-4a57-9d36-0c8e1f6b2a17")

ACTIVITY_FIELDS = (
    "name", "name_en", "category", "uses_households", "uses_participants", "uses_sessions",
    "uses_quantity", "uses_funds", "quantity_label", "order",
)
INDICATOR_FIELDS = ("label_zh", "label_en", "unit", "measure", "order", "phrase_zh", "phrase_en")
# The per-entry measures a form can ask for, in the order they are generated: the number
# of households first, because visits' participants depend on it.
ENTRY_MEASURES = ("households", "participants", "sessions", "quantity", "funds")
ROLES = (Membership.Role.LEADER, Membership.Role.MEMBER)


@transaction.atomic
def seed_demo(*, seeds_dir=None, demo_password=None, scale=0):
    """Load `seeds/` and generate the demo; returns {what: number of rows created}."""
    seeds = read_seeds(Path(seeds_dir or Path(settings.BASE_DIR) / "seeds"))
    created = {}
    teams = seed_places(seeds["places"], created)
    activities = seed_catalogue(seeds["activities"], seeds["indicators"], created)
    households = seed_households(
        [team.village for team in teams.values()], seeds["households"], created
    )
    authors = seed_accounts(teams, demo_password=demo_password, created=created)
    notebook = Notebook(activities, seeds["activities"], teams, authors, households)
    plans = notebook.plan_year(DEMO_YEAR, seeds["indicators"], seeds["stories"].get("story", []))
    created["entries"], created["household links"] = write_entries(plans)
    if created["entries"]:
        # bulk_create bypasses the per-entry tally updates; recount them once instead.
        rebuild_tallies()
    if scale:
        # Their own organisation, teams and villages; they keep their tallies themselves.
        created.update(seed_scale(scale, seeds=seeds, activities=activities, password=demo_password))
    return created


def read_seeds(directory):
    seeds = {}
    for name in SEED_FILES:
        with open(directory / f"{name}.toml", "rb") as file:
            seeds[name] = tomllib.load(file, parse_float=Decimal)
    return seeds


def pick(rows, key, what):
    """rows[key], or a SeedError that names the seed file's mistake."""
    try:
        return rows[key]
    except KeyError:
        raise SeedError(f"unknown {what} {key!r} in seeds/") from None


def sync_row(created, label, model, lookup, values):
    """Get or create the row and bring `values` up to date; counts a new row in
    `created[label]` and returns the row.

    Saves only when something differs, so that a rerun writes nothing and adds no
    audit history.
    """
    created.setdefault(label, 0)
    row = model.objects.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values)
        created[label] += 1
    elif all(getattr(row, name) == value for name, value in values.items()):
        return row
    else:
        for name, value in values.items():
            setattr(row, name, value)
    row.full_clean()
    row.save()
    return row


# --- places, activities and indicators: the TOML files are the truth ----------------------


def seed_places(places, created):
    """Organisations, areas, villages and teams; returns the teams by slug."""
    organisations = sync_tree(Organisation, places["organisation"], created, "organisations")
    areas = sync_tree(Area, places["area"], created, "areas", fields=("kind",))
    villages, teams = {}, {}
    for item in places["village"]:
        values = {
            "name": item["name"], "name_en": item.get("name_en", ""), "kind": item["kind"],
            "area": pick(areas, item["area"], "area"),
        }
        lookup = {"slug": item["slug"]}
        villages[item["slug"]] = sync_row(created, "villages", Village, lookup, values)
    for item in places["team"]:
        values = {
            "name": item["name"], "name_en": item.get("name_en", ""),
            "organisation": pick(organisations, item["organisation"], "organisation"),
            "village": pick(villages, item["village"], "village"),
            "starts_on": item["starts_on"], "ends_on": item.get("ends_on"),
        }
        teams[item["slug"]] = sync_row(created, "teams", Team, {"slug": item["slug"]}, values)
    return teams


def sync_tree(model, items, created, label, fields=()):
    """Tree nodes in file order (a parent before its children); returns them by slug."""
    nodes = {}
    for item in items:
        values = {"name": item["name"], "name_en": item.get("name_en", "")}
        values["parent"] = pick(nodes, item["parent"], label) if "parent" in item else None
        values.update((name, item[name]) for name in fields)
        nodes[item["slug"]] = sync_row(created, label, model, {"slug": item["slug"]}, values)
    return nodes


def seed_catalogue(activity_seeds, indicator_seeds, created):
    """Activities and indicators; returns the activities by code."""
    activities = {}
    for item in activity_seeds["activity"]:
        values = {name: item[name] for name in ACTIVITY_FIELDS if name in item}
        lookup = {"code": item["code"]}
        activities[item["code"]] = sync_row(created, "activities", Activity, lookup, values)
    for item in indicator_seeds["indicator"]:
        values = {name: item.get(name, "") for name in INDICATOR_FIELDS}
        indicator = sync_row(created, "indicators", Indicator, {"code": item["code"]}, values)
        wanted = {pick(activities, code, "activity").pk for code in item["activities"]}
        if set(indicator.activities.values_list("pk", flat=True)) != wanted:
            indicator.activities.set(wanted)
    return activities


# --- households and accounts ---------------------------------------------------------------


def seed_households(villages, spec, created):
    """Households "1".."n" of each village; returns {village id: [household ids by number]}."""
    tags = [
        (sync_row(created, "household tags", HouseholdTag, {"name": rule["name"]},
                  {"name_en": rule.get("name_en", "")}), rule)
        for rule in spec["tag"]
    ]
    fresh, fresh_tags, numbers = [], [], {}
    for village in villages:
        rng = random.Random(f"households/{village.slug}")
        numbers[village.pk] = [str(n) for n in range(1, rng.randint(*spec["count"]) + 1)]
        existing = set(village.households.values_list("house_number", flat=True))
        for number in numbers[village.pk]:
            # Draw every household even when it exists, so later ones stay the same.
            household, its_tags = synthetic_household(village, number, spec, tags, rng)
            if number not in existing:
                fresh.append(household)
                fresh_tags.append(its_tags)
    Household.objects.bulk_create(fresh, batch_size=BATCH_SIZE)
    Link = Household.tags.through
    links = [
        Link(household_id=household.pk, householdtag_id=tag.pk)
        for household, its_tags in zip(fresh, fresh_tags)
        for tag in its_tags
    ]
    Link.objects.bulk_create(links, batch_size=BATCH_SIZE)
    created["households"] = len(fresh)
    return households_by_village(numbers)


def synthetic_household(village, number, spec, tags, rng):
    size = rng.choices(spec["sizes"], weights=spec["size_weights"])[0]
    household = Household(
        village=village, house_number=number, head_name=head_name(spec["names"], rng), size=size
    )
    its_tags = [
        tag for tag, rule in tags
        if rng.random() < rule["share"] and size <= rule.get("max_size", size)
    ]
    return household, its_tags


def households_by_village(numbers):
    rows = Household.objects.filter(village_id__in=numbers)
    ids = {
        (village_id, number): pk
        for village_id, number, pk in rows.values_list("village_id", "house_number", "pk")
    }
    return {
        village_id: [ids[village_id, number] for number in village_numbers]
        for village_id, village_numbers in numbers.items()
    }


def seed_accounts(teams, *, demo_password, created):
    """leader-<team> and member-<team> always (entries need authors); with a demo password
    also `admin` and `coordinator`, and everyone gets that password.

    Returns {(team slug, role): user}.
    """
    authors, accounts = {}, []
    for team in teams.values():
        for role in ROLES:
            user = demo_user(f"{role}-{team.slug}", created)
            Membership.objects.get_or_create(
                user=user, team=team, defaults={"role": role, "joined_on": team.starts_on}
            )
            authors[team.slug, role] = user
            accounts.append(user)
    if demo_password:
        accounts.append(demo_user("admin", created, is_staff=True, is_superuser=True))
        coordinator = demo_user("coordinator", created)
        organisation = Organisation.objects.get(slug=COORDINATOR_ORGANISATION)
        CoordinatorScope.objects.get_or_create(
            user=coordinator, organisation=organisation, area=None
        )
        accounts.append(coordinator)
        give_password(accounts, demo_password)
    return authors


def demo_user(username, created, **flags):
    User = get_user_model()
    created.setdefault("users", 0)
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, **flags)
        user.set_unusable_password()
        user.save()
        created["users"] += 1
    elif any(getattr(user, name) != value for name, value in flags.items()):
        User.objects.filter(pk=user.pk).update(**flags)
    return user


# --- the notebook ----------------------------------------------------------------------------


@dataclass
class PlannedEntry:
    """An entry before it is written; `pinned` holds the measures a story fixes."""

    key: str
    team: Team
    activity: Activity
    date: date
    author: object
    title: str = ""
    notes: str = ""
    households: int = 0  # how many; the ids come in household_ids
    household_ids: list = field(default_factory=list)
    participants: int = 0
    sessions: int = 0
    quantity: int = 0
    funds: int = 0  # in fen (cents), so that partitions stay exact integers
    pinned: dict = field(default_factory=dict)

    def as_entry(self):
        # Foreign keys by id: model __init__ is the hot spot when benchmarks ask for millions.
        return Entry(
            uuid=uuid.uuid5(ENTRY_NAMESPACE, self.key), team_id=self.team.pk,
            village_id=self.team.village_id, author_id=self.author.pk, date=self.date,
            activity_id=self.activity.pk, title=self.title, notes=self.notes,
            participants=self.participants, sessions=self.sessions, quantity=self.quantity,
            funds=Decimal(self.funds) / 100,
        )


class Notebook:
    """Plans the demo teams' entries from the activities' demo hints."""

    def __init__(self, activities, activity_seeds, teams, authors, households):
        self.activities = activities
        self.hints = {item["code"]: item.get("demo", {}) for item in activity_seeds["activity"]}
        self.teams = list(teams.values())
        self.authors = authors
        self.households = households

    def plan_year(self, year, indicator_seeds, stories):
        """Entries of the year whose totals are exactly the indicators' targets."""
        targets = activity_targets(indicator_seeds["indicator"], self.hints, year)
        plans = []
        for code, activity in self.activities.items():
            rng = random.Random(f"{year}/{code}")
            its_stories = [self.story(item) for item in stories if item["activity"] == code]
            if any(slot.date.year != year for slot in its_stories):
                raise SeedError(f"a {code} story is not dated {year}")
            wanted = targets[code].get(Measure.ENTRIES, self.hints[code].get("entries", 0))
            if wanted < len(its_stories):
                raise SeedError(f"{code}: more stories than the {wanted} entries of {year}")
            slots = its_stories + self.generated(activity, year, wanted - len(its_stories), rng)
            self.fill_measures(slots, activity, targets[code], rng)
            plans.extend(slots)
        return plans

    def story(self, item):
        team = pick({team.slug: team for team in self.teams}, item["team"], "team")
        return PlannedEntry(
            key=f"story/{item['key']}", team=team,
            activity=pick(self.activities, item["activity"], "activity"), date=item["date"],
            author=self.authors[team.slug, item.get("author", Membership.Role.LEADER)],
            title=item["title"], notes=item.get("notes", ""),
            pinned={name: in_fen(item[name]) if name == "funds" else item[name]
                    for name in ENTRY_MEASURES if name in item},
        )

    def generated(self, activity, year, number, rng):
        """`number` entries spread evenly over the months and the teams."""
        teams = [self.teams[i % len(self.teams)] for i in range(number)]
        rng.shuffle(teams)
        slots = []
        for i, team in enumerate(teams):
            month = 1 + i * 12 // number
            day = rng.randint(1, calendar.monthrange(year, month)[1])
            key = f"{year}/{activity.code}/{i}"
            slots.append(self.slot(key, activity, team, date(year, month, day), rng))
        return slots

    def slot(self, key, activity, team, day, rng):
        hints = self.hints[activity.code]
        title = rng.choice(hints.get("titles", [activity.name]))
        title = title.format(village=team.village.name, topic=rng.choice(hints.get("topics", [""])))
        author = self.authors[team.slug, rng.choice(ROLES)]
        return PlannedEntry(
            key=key, team=team, activity=activity, date=day, author=author, title=title
        )

    def fill_measures(self, slots, activity, targets, rng):
        """Set each measure the form asks for: an exact partition of the target if the
        year has one, else plausible counts within the activity's hints."""
        hints = self.hints[activity.code]
        for measure in ENTRY_MEASURES:
            target = measure_target(targets, measure)
            if not getattr(activity, f"uses_{measure}"):
                if target is not None:
                    raise SeedError(
                        f"an indicator counts {measure} of {activity.code}, "
                        "but its form does not ask for them"
                    )
                continue
            bounds, step = measure_bounds(hints, measure, activity.code)
            fill_counts(slots, measure, target=target, bounds=bounds, step=step, rng=rng)
        if activity.uses_households:
            distinct = Measure.HOUSEHOLDS in targets
            self.link_households(slots, distinct=distinct, rng=rng)

    def link_households(self, slots, *, distinct, rng):
        """Households of each entry's village; with `distinct` no household appears twice,
        so that the distinct-household total equals the sum of the counts."""
        unused = {}
        for slot in slots:
            village = self.households[slot.team.village_id]
            if slot.households > len(village):
                raise SeedError(f"{slot.key}: more households than the village has")
            if not distinct:
                slot.household_ids = rng.sample(village, slot.households)
                continue
            pool = unused.setdefault(slot.team.village_id, rng.sample(village, len(village)))
            if slot.households > len(pool):
                raise SeedError(f"{slot.key}: not enough households left for distinct visits")
            slot.household_ids = [pool.pop() for _ in range(slot.households)]


def measure_target(targets, measure):
    if measure == "households":
        visits = targets.get(Measure.HOUSEHOLD_VISITS)
        distinct = targets.get(Measure.HOUSEHOLDS)
        if None not in (visits, distinct) and visits != distinct:
            raise SeedError("household visits and distinct households of one activity differ")
        return visits if visits is not None else distinct
    return targets.get(measure)


def measure_bounds(hints, measure, code):
    """(bounds(slot) -> (min, max) of one entry, step) from the activity's demo hints."""
    if measure == "participants" and "participants_per_household" in hints:
        low, high = hints["participants_per_household"]
        return (lambda slot: (slot.households * low, slot.households * high)), 1
    if measure not in hints:
        raise SeedError(f"activity {code} asks for {measure} but seeds/ give no range for it")
    low, high = hints[measure]
    if measure == "funds":
        return (lambda slot: (in_fen(low), in_fen(high))), in_fen(hints.get("funds_step", "0.01"))
    return (lambda slot: (low, high)), 1


def fill_counts(slots, measure, *, target, bounds, step, rng):
    """Set `measure` of every slot: whole multiples of `step` within its bounds, and
    exactly `target` in sum when there is a target. Stories' pinned values are kept."""
    limits = []
    for slot in slots:
        low, high = (slot.pinned[measure],) * 2 if measure in slot.pinned else bounds(slot)
        limits.append((-(-low // step), high // step))
    if target is None:
        values = [rng.randint(low, high) for low, high in limits]
    elif target % step:
        raise SeedError(f"{measure}: the target {target} is not a multiple of {step}")
    else:
        values = exact_partition(target // step, limits, rng)
    for slot, value in zip(slots, values):
        setattr(slot, measure, value * step)


def exact_partition(total, limits, rng):
    """Whole numbers, each within its (min, max), that add up to exactly `total`.

    Each part gets its minimum plus a random share of the rest (log-normal weights times
    its room, so parts vary the way real entries do), capped and rounded down; what that
    leaves over goes to parts that still have room.
    """
    lows = [low for low, _ in limits]
    rooms = [high - low for low, high in limits]
    rest = total - sum(lows)
    if rest < 0 or rest > sum(rooms):
        raise SeedError(f"{total} cannot be split into {len(limits)} parts within {limits[:1]}…")
    weights = [room * rng.lognormvariate(0, 0.6) for room in rooms]
    whole = sum(weights) or 1
    extra = [min(room, int(rest * weight / whole)) for room, weight in zip(rooms, weights)]
    left = rest - sum(extra)
    while left:
        open_parts = [i for i, room in enumerate(rooms) if extra[i] < room]
        rng.shuffle(open_parts)
        share = -(-left // len(open_parts))
        for i in open_parts:
            more = min(share, rooms[i] - extra[i], left)
            extra[i] += more
            left -= more
    return [low + more for low, more in zip(lows, extra)]


def write_entries(plans):
    """bulk_create the planned entries that do not exist yet, and their household links.

    Returns (entries created, links created).
    """
    entries = links = 0
    Link = Entry.households.through
    for batch in in_batches(plans, BATCH_SIZE):
        keys = [uuid.uuid5(ENTRY_NAMESPACE, plan.key) for plan in batch]
        existing = set(Entry.objects.filter(uuid__in=keys).values_list("uuid", flat=True))
        fresh = [plan for plan, key in zip(batch, keys) if key not in existing]
        rows = Entry.objects.bulk_create([plan.as_entry() for plan in fresh], batch_size=BATCH_SIZE)
        new_links = [
            Link(entry_id=row.pk, household_id=household)
            for row, plan in zip(rows, fresh)
            for household in plan.household_ids
        ]
        Link.objects.bulk_create(new_links, batch_size=BATCH_SIZE)
        entries += len(rows)
        links += len(new_links)
    return entries, links


def in_batches(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
