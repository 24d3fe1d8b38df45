"""Coordinators' reads on a read replica (issue 14, point 4; worklog/routers.py).

The first tests check the routing decisions and the read-your-writes mark on any database.
The others need a real PostgreSQL streaming standby of the test server
(DATABASE_REPLICA_URL, started by .ci/standby): they skip without one, and fail under CI
(REQUIRE_REPLICA) rather than skip.
"""

import os
import re
import time
from datetime import date

import pytest
from django.db import connections
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, IndicatorFactory
from tests.test_entries import entry_data
from worklog.models import Entry
from worklog.routers import (
    WROTE_AT_COOKIE,
    WROTE_AT_SALT,
    ROUTER,
    ReplicaRouter,
    reading_from_replica,
    should_read_from_replica,
)

STANDBY = "replica" in connections

# The decisions' tests name a replica in DATABASES on SQLite too; no query goes to it.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES:UserWarning")


@pytest.fixture
def with_replica_setting(settings):
    """DATABASE_REPLICA_URL as settings.py reads it, for the decisions that query no
    database: without a standby, an alias naming the primary again."""
    if not STANDBY:
        settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}
    settings.DATABASE_ROUTERS = [ROUTER]
    return settings


def coordinator_request(user, cookies=None):
    request = RequestFactory().get(reverse("dashboard"))
    request.user = user
    request.COOKIES.update(cookies or {})
    return request


def signed_mark():
    response = HttpResponse()
    response.set_signed_cookie(WROTE_AT_COOKIE, "1", salt=WROTE_AT_SALT)
    return response.cookies[WROTE_AT_COOKIE].value


class TestRouting:
    def test_a_coordinators_read_goes_to_the_replica_and_its_writes_to_the_primary(self):
        with reading_from_replica():
            assert ReplicaRouter().db_for_read(Entry) == "replica"
            assert ReplicaRouter().db_for_write(Entry) == "default"
        assert ReplicaRouter().db_for_read(Entry) == "default"  # any other view's reads

    def test_a_coordinator_who_has_not_written_reads_from_the_replica(self, world, with_replica_setting):
        assert should_read_from_replica(coordinator_request(world.coordinator)) is True

    def test_a_browser_that_has_just_written_reads_from_the_primary(self, world, with_replica_setting):
        request = coordinator_request(world.coordinator, {WROTE_AT_COOKIE: signed_mark()})

        assert should_read_from_replica(request) is False

    def test_a_mark_older_than_the_window_or_forged_reads_from_the_replica_again(self, world, with_replica_setting):
        with_replica_setting.REPLICA_READ_YOUR_WRITES_SECONDS = -1  # every mark is past it
        old = coordinator_request(world.coordinator, {WROTE_AT_COOKIE: signed_mark()})
        forged = coordinator_request(world.coordinator, {WROTE_AT_COOKIE: "1:forged:signature"})

        assert should_read_from_replica(old) is True
        assert should_read_from_replica(forged) is True

    def test_without_the_setting_everything_reads_from_the_primary(self, world):
        if STANDBY:
            pytest.skip("this run has DATABASE_REPLICA_URL")

        assert should_read_from_replica(coordinator_request(world.coordinator)) is False

    def test_only_the_primary_is_migrated(self):
        assert ReplicaRouter().allow_migrate("default", "worklog") is True
        assert ReplicaRouter().allow_migrate("replica", "worklog") is False


class TestReadYourWritesMark:
    def test_a_saved_entry_marks_the_browser_for_the_window(self, client, world, visit, homes, with_replica_setting):
        client.force_login(world.member_a)

        response = client.post(reverse("entry_new"), entry_data(visit, homes[:1], participants="3"))

        assert response.status_code == 302
        mark = response.cookies[WROTE_AT_COOKIE]
        assert mark["max-age"] == 30
        assert mark["httponly"] is True
        assert mark["samesite"] == "Lax"

    def test_reading_or_a_refused_write_leaves_no_mark(self, client, world, visit, with_replica_setting):
        client.force_login(world.member_a)

        assert WROTE_AT_COOKIE not in client.get(reverse("notebook")).cookies
        assert WROTE_AT_COOKIE not in client.post(reverse("api_totals")).cookies  # 405

    def test_without_the_setting_no_mark(self, client, world, visit, homes):
        if STANDBY:
            pytest.skip("this run has DATABASE_REPLICA_URL")
        client.force_login(world.member_a)

        response = client.post(reverse("entry_new"), entry_data(visit, homes[:1], participants="3"))

        assert response.status_code == 302
        assert WROTE_AT_COOKIE not in response.cookies


# ---------------------------------------------------------------- on a real standby

needs_standby = [
    pytest.mark.skipif(
        not STANDBY and not os.environ.get("REQUIRE_REPLICA"),
        reason="no DATABASE_REPLICA_URL (a streaming standby: bash .ci/standby)",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture
def standby():
    if not STANDBY:
        pytest.fail("REQUIRE_REPLICA is set but DATABASE_REPLICA_URL is not")
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True, "DATABASE_REPLICA_URL is not a standby"


def wait_for_replay(limit=30):
    """Wait until the standby has replayed everything the primary has written so far.

    Synchronisation, not a sleep: the loop ends as soon as the standby's replay position
    reaches the primary's WAL position read at the start, and fails after `limit` seconds."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + limit
    while True:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the standby did not replay up to {target} within {limit} s")
        time.sleep(0.02)  # between two polls of the replay position, not a guess at lag


@pytest.fixture
def counted(world):
    """One visit indicator and a first visit of 2017 in team_a's village."""
    visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
    IndicatorFactory(code="visits", measure="household_visits", unit="户次", activities=[visit])
    homes = [HouseholdFactory(village=world.village_a) for _ in range(3)]
    EntryFactory(team=world.team_a, activity=visit, households=homes[:1], date=date(2017, 3, 4))
    return {"visit": visit, "homes": homes}


def visits_shown(response):
    return next(card["figure"].value for card in response.context["cards"] if card["figure"].code == "visits")


def tally_reads(queries):
    """The queries that summed tallies or roll-ups (worklog_tally, worklog_orgtally, …)."""
    return [query["sql"] for query in queries if re.search(r'"worklog_\w*tally"', query["sql"])]


def read_on_each(client, url, params):
    """The response, and the queries it ran on the primary and on the replica."""
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica"]) as replica:
        response = client.get(url, params)
    return response, primary.captured_queries, replica.captured_queries


@pytest.mark.usefixtures("standby")
class TestOnAStandby:
    pytestmark = needs_standby

    def test_the_dashboard_is_served_from_the_standby(self, client, world, counted):
        client.force_login(world.coordinator)
        wait_for_replay()

        response, primary, replica = read_on_each(
            client, reverse("dashboard"), {"year": 2017, "org": world.org.slug})

        assert response.status_code == 200
        assert visits_shown(response) == 1
        assert tally_reads(replica) and not tally_reads(primary)
        with connections["replica"].cursor() as cursor:  # the connection the view used
            cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
            assert cursor.fetchone() == (True, connections["replica"].settings_dict["PORT"])

    def test_the_report_and_the_api_read_from_the_standby(self, client, world, counted):
        client.force_login(world.coordinator)
        wait_for_replay()

        report, report_primary, report_replica = read_on_each(
            client, reverse("year_report", args=[2017]), {"org": world.org.slug})
        api, api_primary, api_replica = read_on_each(
            client, reverse("api_totals"), {"year": 2017, "org": world.org.slug})

        assert report.status_code == 200 and api.status_code == 200
        assert api.json()["indicators"][0]["value"] == 1
        assert tally_reads(report_replica) and not tally_reads(report_primary)
        assert tally_reads(api_replica) and not tally_reads(api_primary)

    def test_a_post_goes_to_the_primary_and_the_dashboard_shows_it_once_replayed(
            self, client, world, counted):
        client.force_login(world.member_a)
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            posted = client.post(reverse("entry_new"), entry_data(
                counted["visit"], counted["homes"][1:3], participants="4",
                date=date(2017, 6, 1).isoformat()))
        assert posted.status_code == 302
        assert not on_replica.captured_queries
        assert Entry.objects.using("default").count() == 2

        coordinator = Client()
        coordinator.force_login(world.coordinator)
        wait_for_replay()
        response, primary, replica = read_on_each(
            coordinator, reverse("dashboard"), {"year": 2017, "org": world.org.slug})

        assert visits_shown(response) == 3
        assert tally_reads(replica) and not tally_reads(primary)

    def test_a_member_who_just_posted_reads_from_the_primary(self, client, world, counted):
        client.force_login(world.member_a)
        posted = client.post(reverse("entry_new"), entry_data(
            counted["visit"], counted["homes"][1:2], participants="2", date=date(2017, 6, 1).isoformat()))
        assert posted.status_code == 302

        notebook, _primary, notebook_replica = read_on_each(client, reverse("notebook"), {})
        dashboard, dashboard_primary, dashboard_replica = read_on_each(
            client, reverse("dashboard"), {"year": 2017, "team": world.team_a.slug})

        assert notebook.status_code == 200 and not notebook_replica
        # no waiting for replay: the team's dashboard right after the post is the primary's
        assert tally_reads(dashboard_primary) and not dashboard_replica
        assert visits_shown(dashboard) == 2

    def test_a_standby_that_is_down_leaves_the_dashboard_on_the_primary(self, client, world, counted):
        client.force_login(world.coordinator)
        replica = connections["replica"]
        port = replica.settings_dict["PORT"]
        replica.close()
        replica.settings_dict["PORT"] = 1  # nothing listens there: the connection is refused
        try:
            with CaptureQueriesContext(connections["default"]) as primary:
                response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug})
            never_connected = replica.connection is None
        finally:
            replica.close()
            replica.settings_dict["PORT"] = port

        assert response.status_code == 200
        assert visits_shown(response) == 1
        assert tally_reads(primary.captured_queries) and never_connected
