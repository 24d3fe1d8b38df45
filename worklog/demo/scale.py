"""Benchmark notebooks: what `manage.py seed --scale N` adds (DESIGN §6, §10).

`seed_scale(N)` makes sure N generated entries exist. They belong to their own
organisation tree `bench`, teams `bench-t0001`… posted to villages `bench-v0001`… under
an area tree `bench-region` (worklog/demo/scale_places.py). The spread grows with N, one
team per 100 entries, up to 1,000 teams and villages (from N = 100,000 on). The entries
are drawn month by month (worklog/demo/scale_notebook.py) and written in bulk with their
tallies (worklog/demo/scale_writing.py); the roll-ups are then recounted from the tallies.

Scale entries carry the uuid `5ca1e000-0000-4000-8000-<index in hex>`: the number that
exist is one index lookup, so a rerun adds nothing and a larger N adds only the rest.
"""

import math

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from teams.models import Area, CoordinatorScope, Membership, Organisation, Team, Village
from worklog.demo.scale_notebook import UUID_LAST, UUID_PREFIX, NotebookPlan, scale_uuid
from worklog.demo.scale_places import MAX_TEAMS, BenchPlaces
from worklog.demo.scale_writing import CopyWriter, InsertWriter
from worklog.models import Entry
from worklog.tallies.keys import ROLLUPS
from worklog.tallies.rollups import recount_rollups

ENTRIES_PER_TEAM = 100


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
    recount_rollups()  # the writers fill Tally and HouseholdTally; the roll-ups follow them
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # statistics for the dashboards' plans
            cursor.execute(f"ANALYZE {', '.join(_filled_tables())}")
    created["scale entries"], created["scale household links"] = entries, links
    return created


def _filled_tables():
    """The tables the seed fills besides those its writer ANALYZEs (the entries, their
    links, the tallies and households): the places, people and roll-ups. The dashboards
    join the roll-ups to the organisations and areas: unanalysed, a 120-row `teams_area`
    was estimated at one row and the area dashboard's sums read 59,792 buffers through a
    nested loop instead of one scan of the roll-up (issue 14)."""
    models = (Organisation, Area, Team, Village, Membership, CoordinatorScope, get_user_model())
    tables = [model._meta.db_table for model in models]
    for rollup in ROLLUPS:
        tables += [rollup.sums_table.db_table, rollup.reach_table.db_table]
    return tables
