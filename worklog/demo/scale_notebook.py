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

from worklog.demo.scale_places import HOUSEHOLDS_PER_VILLAGE, TEAM_STARTS_ON
from worklog.demo.targets import activity_targets, in_fen
from worklog.models import Measure

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
