"""The bench's entries, drawn for `seed --scale N` (worklog/demo/scale.py) as COPY text.

Entries are dated 2018–2022, so the demo's 2017 stays exact; activities are drawn in the
proportions of the demo's 2017 notebook, measures within the activities' demo hints.
Each month comes with what it adds to the tallies, which Python adds up as it goes, so
the writers (worklog/demo/scale_writing.py) need not recount them.

Scale entries carry the uuid `5ca1e000-0000-4000-8000-<index in hex>`: the number that
exist is one index lookup, so a rerun adds nothing and a larger N adds only the rest.
"""

import bisect
import itertools
import random
from datetime import date, timedelta
from decimal import Decimal

from worklog.demo.scale_places import HOUSEHOLDS_PER_VILLAGE, TEAM_STARTS_ON
from worklog.demo.targets import activity_targets, in_fen
from worklog.models import Measure
from worklog.tallies.keys import TallyKey, TallySums

# Entries begin the day the bench teams do.
FIRST_DAY, LAST_DAY = TEAM_STARTS_ON, date(2022, 12, 31)
UUID_PREFIX = "5ca1e000-0000-4000-8000-"
UUID_LAST = 16 ** 12 - 1


def scale_uuid(index):
    return f"{UUID_PREFIX}{index:012x}"


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
                total = sums[key] = RunningSums()
            total.entries += 1
            total.participants += people
            total.sessions += times
            total.quantity += count
            total.funds += fen
            total.household_visits += linked
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


# COPY column order of the entry and link rows below (the tallies' rows come in the
# columns of worklog.tallies.keys TALLY and HOUSEHOLD_TALLY).
ENTRY_COLUMNS = ("id", "uuid", "date", "title", "notes", "participants", "sessions",
                 "quantity", "funds", "created_at", "updated_at", "version", "activity_id",
                 "author_id", "team_id", "village_id")
LINK_COLUMNS = ("entry_id", "household_id")


class RunningSums:
    """A month's sums of one (team, activity) as the draw adds entries to them: the fields
    of TallySums, funds in fen (whole numbers add up fastest).

    Added up here entry by entry rather than through worklog.tallies.keys.contribution:
    at millions of entries, rows per entry and household are what the seed would cost."""

    __slots__ = TallySums._fields

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, 0)

    def tally_sums(self):
        return TallySums(
            entries=self.entries, participants=self.participants, sessions=self.sessions,
            quantity=self.quantity, funds=Decimal(_yuan(self.funds)), household_visits=self.household_visits,
        )


class Month:
    """One month of entries and links as COPY text, and what they add to the tallies:
    `sums` (RunningSums) and the household `runs` (difference arrays over house positions)
    per (team, activity) key."""

    def __init__(self, year, month, recipes, teams):
        self.year, self.month, self.recipes, self.teams = year, month, recipes, teams
        self.entries, self.links, self.sums, self.runs = [], [], {}, {}

    def _place(self, key):
        """The team and activity id of a (team, activity) key."""
        team_index, activity = divmod(key, len(self.recipes))
        return self.teams[team_index], self.recipes[activity][0]

    def tally_rows(self):
        """The month's `Tally` rows: {TallyKey: TallySums}."""
        rows = {}
        for key, running in self.sums.items():
            team, activity_id = self._place(key)
            rows[TallyKey(year=self.year, month=self.month, team_id=team.id, village_id=team.village_id,
                          activity_id=activity_id)] = running.tally_sums()
        return rows

    def tally_text(self):
        """The month's `Tally` rows as COPY text, in the columns of TALLY."""
        return ["\t".join(map(str, key + sums)) + "\n" for key, sums in self.tally_rows().items()]

    def household_tally_text(self):
        """The month's `HouseholdTally` rows, in the columns of HOUSEHOLD_TALLY: HouseholdKey
        (year, month, household, team, village, activity), then the visits."""
        rows = []
        for key, run in self.runs.items():
            team, activity_id = self._place(key)
            head, tail = f"{self.year}\t{self.month}\t", f"\t{team.id}\t{team.village_id}\t{activity_id}\t"
            visits = itertools.accumulate(run[:HOUSEHOLDS_PER_VILLAGE])
            rows.extend(f"{head}{house}{tail}{n}\n" for house, n in zip(team.house_text, visits) if n)
        return rows
