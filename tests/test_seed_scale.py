"""`manage.py seed --scale N` (worklog/demo/scale.py): exactly N benchmark entries in their own
organisation, tallies equal to a recount, the demo's 2017 untouched, a rerun adds nothing.
Runs on SQLite (plain INSERTs) and on PostgreSQL (COPY, and once the bulk-load path)."""

from io import StringIO

import pytest
from django.contrib.auth.backends import ModelBackend
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F
from django.test import override_settings

from teams.models import Household, Team
from worklog import tallies
from worklog.demo import scale, scale_writing
from worklog.models import Entry
from worklog.totals import resolve_scope, totals_document

PASSWORD = "bench-Pass-2018!"
MD5_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def scale_entries():
    return Entry.objects.filter(uuid__gte=scale.scale_uuid(0), uuid__lte=scale.scale_uuid(scale.UUID_LAST))


def year_2017():
    document = totals_document(resolve_scope("org", "8th-division"), 2017)
    return {row["code"]: row["value"] for row in document["indicators"]}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo, its 2017 totals, then `--scale 300`; rolled back at the module's end."""
    with override_settings(PASSWORD_HASHERS=[MD5_HASHER]), django_db_blocker.unblock(), \
            transaction.atomic():
        call_command("seed", stdout=StringIO())
        demo_2017 = year_2017()
        output = StringIO()
        call_command("seed", "--scale", "300", "--demo-password", PASSWORD, stdout=output)
        connection.check_constraints()
        yield {"demo_2017": demo_2017, "output": output.getvalue()}
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_scale_creates_exactly_n_entries_with_exact_tallies(seeded):
    assert scale_entries().count() == 300
    assert "300 scale entries" in seeded["output"]
    assert tallies.differences() == []


@pytest.mark.django_db
def test_the_demo_2017_table_is_unchanged(seeded):
    assert year_2017() == seeded["demo_2017"]
    assert not scale_entries().filter(date__year=2017).exists()


@pytest.mark.django_db
def test_a_rerun_adds_nothing(seeded):
    before = Entry.objects.count(), Household.objects.count(), Team.objects.count()
    output = StringIO()
    call_command("seed", "--scale", "300", stdout=output)
    assert (Entry.objects.count(), Household.objects.count(), Team.objects.count()) == before
    assert "0 scale entries" in output.getvalue()


@pytest.mark.django_db
def test_a_larger_n_adds_only_the_rest(seeded):
    call_command("seed", "--scale", "420", stdout=StringIO())
    assert scale_entries().count() == 420
    assert tallies.differences() == []


@pytest.mark.django_db
def test_entries_keep_the_rules_of_the_form(seeded):
    entries = scale_entries()
    assert not entries.exclude(team__organisation__path__startswith="bench/").exists()
    assert not entries.exclude(village=F("team__village")).exists()
    assert {day.year for day in entries.values_list("date", flat=True)} <= set(range(2018, 2023))
    links = Entry.households.through.objects.filter(entry__in=entries)
    assert links.exists()
    assert not links.exclude(household__village=F("entry__village")).exists()
    linked = entries.annotate(linked=Count("households"))
    assert not linked.filter(activity__uses_households=True, linked=0).exists()
    assert not linked.filter(activity__uses_households=False, linked__gt=0).exists()
    for measure in ("participants", "sessions", "quantity"):
        assert not entries.filter(**{f"activity__uses_{measure}": False, f"{measure}__gt": 0}).exists()
    assert not entries.filter(activity__uses_funds=False, funds__gt=0).exists()
    visits = linked.filter(activity__code="policy_visit")
    assert not visits.filter(participants__lt=F("linked")).exists()


@pytest.mark.django_db
def test_bench_accounts_can_log_in(seeded):
    backend = ModelBackend()
    with override_settings(PASSWORD_HASHERS=[MD5_HASHER]):
        for username in ("bench-m0001", "bench-m0003", "bench-coordinator"):
            assert backend.authenticate(None, username=username, password=PASSWORD), username
    assert Team.objects.filter(slug__startswith="bench-t").count() == scale.teams_for(300)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bulk path is PostgreSQL's")
def test_the_bulk_load_path_restores_indexes_and_stays_exact(seeded, monkeypatch):
    def definitions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = ANY(%s::regclass[]) "
                "UNION ALL SELECT conname FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])",
                [TABLES, TABLES])
            return sorted(name for (name,) in cursor.fetchall())

    TABLES = ["worklog_entry", "worklog_entry_households", "worklog_tally", "worklog_householdtally"]
    before = definitions()
    monkeypatch.setattr(scale_writing, "BULK_LOAD_MIN", 1)
    call_command("seed", "--scale", "500", stdout=StringIO())
    assert scale_entries().count() == 500
    assert definitions() == before
    assert tallies.differences() == []
    connection.check_constraints()
