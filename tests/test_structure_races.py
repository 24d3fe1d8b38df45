"""Changes of structure racing entry writers (issue 12, point 3), and their recounts.

On PostgreSQL, with threads: a village moving area, an organisation moving under another
parent, a distinct-households indicator added or deleted, each while an entry is being
written. Every race is forced: the writer stops at a point of the tallies code (a patched
function waits on an Event) while the structure changes; the change then runs to its end,
or until it waits for the writer's locks, and the writer goes on. The roll-ups must equal
a recount afterwards. On both databases: a move is recounted in its own transaction, and
a recount that fails is logged and never left unreported.
"""

import datetime
import importlib
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ActivityFactory,
    AreaFactory,
    HouseholdFactory,
    IndicatorFactory,
    OrganisationFactory,
    World,
)
from worklog import tallies
from teams.models import Team
from worklog.models import Indicator
from worklog.tallies.keys import HOUSEHOLD_TALLY
from worklog.services import entry_create
from worklog.totals import Scope, year_totals

pytestmark = pytest.mark.django_db(transaction=True)
threaded = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")

# Where a writer or a recount is stopped: functions of the tallies code, by name.
HOUSEHOLD_TALLY_INSERT = "worklog.tallies.write.execute"  # stops when it writes HouseholdTally
CHAIN_READ = "worklog.tallies.reach.read_chains_of"  # a writer reads the chains of its households' teams
REACH_RECOUNT = "worklog.tallies.rollups.reach_select"  # a recount of households reached, locks held

# A bound on every wait, so that a lost wake-up fails the test instead of hanging it.
PATIENCE = 60
YEAR = 2017


def household_tally_insert(_cursor, statements):
    return any(statement.table == HOUSEHOLD_TALLY.db_table for statement in statements)


class Worker(threading.Thread):
    """An action in a thread and database connection of its own, started at once; `done`
    is set when it ends, with its result or error."""

    def __init__(self, name, action):
        super().__init__(name=name)
        self.action, self.result, self.error, self.pid = action, None, None, None
        self.connected, self.done = threading.Event(), threading.Event()
        self.start()

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.connected.set()
            self.result = self.action()
        except Exception as error:  # reported by the test that joins the worker
            self.error = error
        finally:
            connections.close_all()
            self.connected.set()
            self.done.set()

    def finish(self):
        assert self.done.wait(PATIENCE), f"{self.name} did not finish"
        self.join()
        if self.error is not None:
            raise self.error
        return self.result

    def wait_until_done_or_held(self):
        """Until the action has ended or its connection waits for a lock another holds:
        PostgreSQL says which, so the question is asked again until one is true."""
        assert self.connected.wait(PATIENCE)
        deadline = time.monotonic() + PATIENCE
        while not self.done.wait(0.01):
            with connection.cursor() as cursor:
                cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [self.pid])
                if cursor.fetchone()[0]:
                    return
            assert time.monotonic() < deadline, f"{self.name} neither finished nor waited"


@contextmanager
def stop(monkeypatch, target, thread, when=None):
    """Patch the function `target` so that its first call in the thread named `thread`
    (and for which `when` holds) waits, before it runs, until the test says go."""
    module_name, name = target.rsplit(".", 1)
    module = importlib.import_module(module_name)
    original = getattr(module, name)
    reached, go = threading.Event(), threading.Event()

    def stopped(*args, **kwargs):
        if (threading.current_thread().name == thread and not reached.is_set()
                and (when is None or when(*args, **kwargs))):
            reached.set()
            assert go.wait(PATIENCE), "the test never let the stopped call go on"
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, stopped)
    try:
        yield reached, go
    finally:
        go.set()


def race(monkeypatch, write, change, target=HOUSEHOLD_TALLY_INSERT, when=household_tally_insert):
    """Write while the structure changes: the writer stops at `target`, the change runs
    to its end (or until it waits for the writer), then the writer goes on. Returns the
    write's and the change's results."""
    with stop(monkeypatch, target, "writer", when) as (reached, go):
        writer = Worker("writer", write)
        assert reached.wait(PATIENCE), f"the writer never reached {target}"
        changer = Worker("change", change)
        changer.wait_until_done_or_held()
        go.set()
        return writer.finish(), changer.finish()


@pytest.fixture
def programme():
    """team_b (of the regiment, in the division) has visited two of village_b's three
    homes in June; `reached` counts the distinct households policy visits reached."""
    world = World.build()
    visit = ActivityFactory(code="policy_visit", uses_households=True)
    training = ActivityFactory(code="training", uses_households=True)
    IndicatorFactory(code="reached", measure="households", activities=[visit])
    homes = [HouseholdFactory(village=world.village_b) for _ in range(3)]
    entry_create(uuid=uuid.uuid4(), team=world.team_b, author=None, date=datetime.date(YEAR, 6, 1),
                 activity=visit, households=homes[:2])
    return world, visit, training, homes


def totals(scope):
    return {t.code: t.value for t in year_totals(scope, YEAR)}


def write_visit(world, activity, households, team=None):
    return lambda: entry_create(
        uuid=uuid.uuid4(), team=team or world.team_b, author=None, date=datetime.date(YEAR, 6, 2),
        activity=activity, households=households,
    )


@threaded
def test_a_village_moving_area_while_an_entry_is_written_takes_its_households_along(
        programme, monkeypatch):
    world, visit, _training, homes = programme
    village, old_area, new_area = world.village_b, world.village_b.area, AreaFactory(slug="new-county")

    def move():
        with transaction.atomic():
            village.area = new_area
            village.save()

    race(monkeypatch, write_visit(world, visit, homes[1:]), move)

    assert totals(Scope("area", new_area))["reached"] == 3
    assert totals(Scope("area", old_area))["reached"] == 0
    assert tallies.differences() == []


@threaded
def test_an_organisation_moving_while_an_entry_is_written_takes_its_households_along(
        programme, monkeypatch):
    world, visit, _training, homes = programme
    regiment = world.team_b.organisation

    def move():
        regiment.parent = world.other_org
        regiment.save()

    race(monkeypatch, write_visit(world, visit, homes[1:]), move)

    assert totals(Scope("org", world.other_org))["reached"] == 3
    assert totals(Scope("org", world.org))["reached"] == 0
    assert tallies.differences() == []


@threaded
def test_a_new_distinct_households_indicator_counts_an_entry_written_meanwhile(
        programme, monkeypatch):
    world, _visit, training, homes = programme

    def add_indicator():
        with transaction.atomic():
            IndicatorFactory(code="trained", measure="households", activities=[training])

    race(monkeypatch, write_visit(world, training, homes), add_indicator)

    assert totals(Scope("org", world.org))["trained"] == 3
    assert tallies.differences() == []


@threaded
def test_a_post_while_its_organisation_moves_is_saved(programme, monkeypatch):
    """The post reads its team's organisation and then that organisation's ancestors; the
    organisation moves under another parent in between. The post is saved (not a 500)."""
    world, visit, _training, homes = programme
    regiment = world.team_b.organisation
    member = Client(raise_request_exception=False)
    member.force_login(world.member_b)
    data = {"date": timezone.localdate().isoformat(), "activity": visit.pk,
            "households": [home.pk for home in homes], "uuid": str(uuid.uuid4())}

    def move():
        regiment.parent = world.other_org
        regiment.save()

    response, _ = race(monkeypatch, lambda: member.post(reverse("entry_new"), data), move,
                       target=CHAIN_READ, when=None)

    assert response.status_code == 302
    assert tallies.differences() == []


@threaded
def test_deleting_a_distinct_households_indicator_in_the_admin_while_an_entry_is_written(
        programme, monkeypatch, django_user_model):
    world, visit, _training, homes = programme
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("root", "root@example.com"))
    reached = Indicator.objects.get(code="reached")

    def delete():
        return admin.post(reverse("admin:worklog_indicator_delete", args=[reached.pk]), {"post": "yes"})

    _, response = race(monkeypatch, write_visit(world, visit, homes[1:]), delete)

    assert response.status_code == 302
    assert not Indicator.objects.filter(code="reached").exists()
    call_command("totals", "--verify")  # raises CommandError naming each difference
    assert tallies.differences() == []


@threaded
def test_a_team_moving_between_regiments_does_not_hold_up_a_post_of_another_organisation(
        programme, monkeypatch):
    """team_b moves from one regiment of the division to another; while the move's
    recount is under way, team_a (of the division itself) posts a visit: the post is saved
    at once, it does not wait for the move."""
    world, visit, _training, _homes = programme
    team_b, regiment_2 = world.team_b, OrganisationFactory(slug="regiment-2", parent=world.org)
    home_a = HouseholdFactory(village=world.village_a)

    def move():
        with transaction.atomic():
            team_b.organisation = regiment_2
            team_b.save()

    with stop(monkeypatch, REACH_RECOUNT, "mover") as (recounting, go):
        mover = Worker("mover", move)
        assert recounting.wait(PATIENCE), "the move never recounted households reached"
        writer = Worker("writer", write_visit(world, visit, [home_a], team=world.team_a))
        posted_meanwhile = writer.done.wait(PATIENCE / 3)
        go.set()
        mover.finish()
        writer.finish()

    assert posted_meanwhile, "the post waited for another organisation's team to move"
    assert totals(Scope("org", regiment_2))["reached"] == 2
    assert totals(Scope("org", world.org))["reached"] == 3
    assert tallies.differences() == []


def test_a_move_is_recounted_in_its_own_transaction(programme):
    world, _visit, _training, _homes = programme

    with transaction.atomic():
        world.team_b.organisation = world.other_org
        world.team_b.save()
        moved_before_commit = totals(Scope("org", world.other_org))["reached"]

    assert moved_before_commit == 2
    assert tallies.differences() == []


def fail_to_recount(*args, **kwargs):
    raise DatabaseError("server closed the connection unexpectedly")


def test_a_failed_recount_is_logged_and_its_move_undone(programme, monkeypatch, caplog):
    """As in the admin, which saves a team in a transaction."""
    world, _visit, _training, _homes = programme
    regiment = world.team_b.organisation
    monkeypatch.setattr("worklog.tallies.receivers.recount_rollup_sums", fail_to_recount)

    with pytest.raises(DatabaseError), transaction.atomic():
        world.team_b.organisation = world.other_org
        world.team_b.save()

    assert Team.objects.get(pk=world.team_b.pk).organisation == regiment
    [record] = [r for r in caplog.records if r.name == "worklog.tallies.receivers"]
    assert record.exc_info and f"team {world.team_b.pk} moved" in record.getMessage()
    assert tallies.differences() == []


def test_a_recount_failing_after_a_move_saved_outside_a_transaction_is_reported_by_verify(
        programme, monkeypatch, caplog):
    world, _visit, _training, _homes = programme
    monkeypatch.setattr("worklog.tallies.receivers.recount_rollup_sums", fail_to_recount)

    world.team_b.organisation = world.other_org
    with pytest.raises(DatabaseError):
        world.team_b.save()

    assert Team.objects.get(pk=world.team_b.pk).organisation == world.other_org
    assert any(r.exc_info for r in caplog.records if r.name == "worklog.tallies.receivers")
    with pytest.raises(CommandError, match="difference"):
        call_command("totals", "--verify")
