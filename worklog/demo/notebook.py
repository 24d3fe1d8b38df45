"""The demo notebook: the 2017 entries whose totals are exactly the 2017 targets of
`seeds/indicators.toml` (DESIGN §5), planned from the activities' demo hints and the
stories of `seeds/stories.toml`, then written in bulk (worklog/demo/seeding.py calls it).

Entries are found again by uuid5 keys, so a rerun creates nothing. All randomness comes
from `random.Random` seeded with fixed strings, one per activity, so that changing one
activity's seeds leaves the others' entries alone.
"""

import calendar
import random
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from teams.models import Membership, Team
from worklog.demo.facts import BATCH_SIZE, ROLES, audit_creation, pick
from worklog.demo.targets import SeedError, activity_targets, in_fen
from worklog.models import Activity, Entry, Measure

# Fixed for good: the uuids of demo entries derive from it, and reruns must find them.
ENTRY_NAMESPACE = uuid.UUID("5d1c3c52-8f0e-4a57-9d36-0c8e1f6b2a17")
# The per-entry measures a form can ask for, in the order they are generated: the number
# of households first, because visits' participants depend on it.
ENTRY_MEASURES = ("households", "participants", "sessions", "quantity", "funds")


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
        for row, plan in zip(rows, fresh):
            row._history_user = plan.author  # its author wrote it
        audit_creation(Entry, rows, new_links)
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
