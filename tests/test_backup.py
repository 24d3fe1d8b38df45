"""A dump of the seeded demo restores into an empty database with identical totals
(the `dumpdata` / `loaddata` path the README documents)."""

import io

import pytest
from django.core.management import call_command

from teams.models import Household
from worklog import tallies
from worklog.models import Entry
from worklog.totals import Scope, load_indicators, resolve_scope, year_totals

DUMP_OPTIONS = {
    "natural_foreign": True,
    "natural_primary": True,
    "exclude": ["contenttypes", "auth.permission", "sessions", "admin.logentry", "axes"],
}


def every_total():
    indicators = load_indicators()
    scopes = [Scope("all")] + [
        resolve_scope(kind, slug)
        for kind, slug in [("org", "8th-division"), ("team", "kaiganqi"), ("village", "lucaogou"),
                           ("area", "manas")]
    ]
    return {
        (scope.kind, scope.slug, year): [(t.code, t.value) for t in year_totals(scope, year, indicators)]
        for scope in scopes
        for year in (2016, 2017)
    }


@pytest.mark.django_db(transaction=True)
def test_dump_of_the_demo_restores_with_identical_totals(tmp_path):
    call_command("seed", demo_password="backup-pass-1", stdout=io.StringIO())
    before = every_total()
    counts = (Entry.objects.count(), Household.objects.count())
    dump = tmp_path / "worklog.json"
    call_command("dumpdata", output=str(dump), stdout=io.StringIO(), **DUMP_OPTIONS)

    call_command("flush", interactive=False, stdout=io.StringIO())
    assert Entry.objects.count() == 0
    call_command("loaddata", str(dump), stdout=io.StringIO())

    assert (Entry.objects.count(), Household.objects.count()) == counts
    assert every_total() == before
    assert dict(before[("org", "8th-division", 2017)])["funds_invested"] > 0
    assert tallies.differences() == []
