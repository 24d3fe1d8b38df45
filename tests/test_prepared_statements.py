"""teams.statements: the statements every post runs, prepared once per database session on
PostgreSQL, answer as the plain statements do, count once in a query budget, and survive
what a session meets (a failed statement, a new connection, the setting turned off)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from teams import statements
from teams.models import Village
from tests.factories import VillageFactory

pytestmark = pytest.mark.django_db(transaction=True)

# `%%`: a % of the statement's own, escaped as Django's placeholders ask
SQL = "SELECT id, name FROM teams_village WHERE id IN (%s, %s) AND name LIKE %s || '%%' ORDER BY id"


def rows(sql, params):
    with connection.cursor() as cursor:
        statements.execute(cursor, sql, params)
        return cursor.fetchall()


def plain_rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_a_prepared_statement_answers_as_the_plain_one_each_time_and_counts_once():
    first, second = VillageFactory(name="Kaiganqi"), VillageFactory(name="Kaiganqi East")
    params = [first.pk, second.pk, "Kai"]
    expected = plain_rows(SQL, params)
    assert len(expected) == 2
    for _run in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert rows(SQL, params) == expected
        assert len(queries.captured_queries) == 1
        # what was run stays readable (pg_stat_activity, a query log, the tests that read it)
        assert "teams_village" in queries.captured_queries[0]["sql"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_prepared_once_per_session_then_run_from_its_plan():
    village = VillageFactory(name="Dawanzi")
    rows(SQL, [village.pk, village.pk, "Daw"])
    with CaptureQueriesContext(connection) as queries:
        assert rows(SQL, [village.pk, village.pk, "Daw"]) == [(village.pk, "Dawanzi")]
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE ")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%teams_village WHERE id IN ($1, $2) AND name LIKE $3 || '\\%'%"])
        assert cursor.fetchone()[0] == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_statement_that_fails_and_a_new_connection_leave_it_working():
    village = VillageFactory(name="Lucaogou")
    insert = "INSERT INTO teams_village SELECT * FROM teams_village WHERE id = %s"
    for _attempt in range(2):  # the first attempt prepares it; both fail on the primary key
        with pytest.raises(IntegrityError), transaction.atomic():
            with connection.cursor() as cursor:
                statements.execute(cursor, insert, [village.pk])
    assert rows(SQL, [village.pk, village.pk, "Luc"]) == [(village.pk, "Lucaogou")]
    connection.close()  # a new session knows none of the names: each is prepared again
    assert rows(SQL, [village.pk, village.pk, "Luc"]) == [(village.pk, "Lucaogou")]
    assert Village.objects.filter(name="Lucaogou").count() == 1


def test_without_prepared_statements_the_statement_runs_as_it_is():
    village = VillageFactory(name="Shayibake")
    connection.settings_dict["PREPARED_STATEMENTS"] = False
    try:
        with CaptureQueriesContext(connection) as queries:
            assert rows(SQL, [village.pk, village.pk, "Sha"]) == [(village.pk, "Shayibake")]
    finally:
        connection.settings_dict["PREPARED_STATEMENTS"] = True
    assert queries.captured_queries[0]["sql"].startswith("SELECT id, name FROM teams_village")
