"""The demo: loads the readable facts in `seeds/` and generates the demo notebook.

`seed_demo()` (behind `manage.py seed`) brings places, activities, indicators, household
tags and demo accounts in line with the TOML files and adds synthetic households
(worklog/demo/facts.py), and writes the 2017 notebook entries whose totals are exactly
the 2017 targets of `seeds/indicators.toml` (DESIGN §5; worklog/demo/notebook.py). With
`scale=N` it also makes sure N benchmark entries, dated 2018–2022, exist in their own
organisation (worklog/demo/scale.py).

Everything is idempotent: rows are matched by slug, code, name, username or
(village, house number), and entries by uuid5 keys, so a rerun creates nothing. All
randomness comes from `random.Random` seeded with fixed strings, one per village or
activity, so that changing one activity's seeds leaves the others' entries alone.
"""

import tomllib
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from worklog.demo.facts import seed_accounts, seed_catalogue, seed_households, seed_places
from worklog.demo.notebook import Notebook, write_entries
from worklog.demo.scale import seed_scale
from worklog.tallies import rebuild as rebuild_tallies

DEMO_YEAR = 2017
SEED_FILES = ("places", "activities", "indicators", "households", "stories")


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
    authors = seed_accounts(
        teams, demo_password=demo_password, created=created, names=seeds["households"]["names"]
    )
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
