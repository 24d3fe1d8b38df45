"""Posting a notebook entry, the path every member takes many times a day (issue 7): one
audit row per new entry, repeats answered from the unique uuid, and a bounded number of
queries."""

import datetime
import json
import uuid
from collections import Counter

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from teams.access import writable_teams, writable_teams_list
from teams.models import Membership
from tests.factories import EntryFactory, MembershipFactory, TeamFactory, UserFactory
from worklog.locking import lock_month
from worklog.models import Amendment, Entry

pytestmark = pytest.mark.django_db


def visit_data(visit, households, **values):
    return {
        "date": timezone.localdate().isoformat(), "activity": visit.pk,
        "households": [h.pk for h in households], "participants": "4",
        "title": "入户宣讲惠民政策", "uuid": str(uuid.uuid4()), **values,
    }


def post_new(client, data):
    return client.post(reverse("entry_new"), data)


def lock_this_month(world):
    today = timezone.localdate()
    lock_month(organisation=world.org, year=today.year, month=today.month, user=world.coordinator)


def test_a_new_entry_has_one_audit_row_holding_its_households(client, world, visit, homes):
    client.force_login(world.member_a)

    post_new(client, visit_data(visit, homes[:2]))

    record = Entry.objects.get().history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+", world.member_a, None
    )
    assert sorted(record.households.values_list("household_id", flat=True)) == sorted(
        h.pk for h in homes[:2]
    )


def test_the_history_shows_the_creation_with_its_households(client, world, visit, homes):
    client.force_login(world.member_a)
    post_new(client, visit_data(visit, homes[:2]))
    entry = Entry.objects.get()

    client.force_login(world.leader_a)
    revisions = client.get(reverse("entry_detail", args=[entry.pk])).context["revisions"]

    [created] = revisions
    assert created.who == world.member_a
    assert [(str(c.field), c.old, c.new) for c in created.changes] == [
        (str(Entry._meta.get_field("households").verbose_name), "—", called(homes[:2])),
    ]


def test_a_later_change_of_households_is_shown_against_the_creation(client, world, visit, homes):
    client.force_login(world.member_a)
    post_new(client, visit_data(visit, homes[:2]))
    entry = Entry.objects.get()

    client.post(reverse("entry_edit", args=[entry.pk]), {
        **visit_data(visit, homes[:1]), "version": "1",
    })
    client.force_login(world.leader_a)
    revisions = client.get(reverse("entry_detail", args=[entry.pk])).context["revisions"]

    households = str(Entry._meta.get_field("households").verbose_name)
    changed = [(c.old, c.new) for r in revisions[:-1] for c in r.changes if str(c.field) == households]
    assert changed == [(called(homes[:2]), called(homes[:1]))]


def called(households):
    """Households as the Chinese history names them, in the order they were made."""
    return "，".join(f"{h.house_number}号 {h.head_name}" for h in sorted(households, key=lambda h: h.pk))


def test_a_repeat_after_the_month_was_locked_still_lands_on_the_entry(client, world, visit, homes):
    client.force_login(world.member_a)
    data = visit_data(visit, homes[:1])
    first = post_new(client, data)
    lock_this_month(world)

    again = post_new(client, data)

    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Entry.objects.count() == 1
    assert not Amendment.objects.exists()


def test_another_teams_uuid_in_a_locked_month_is_refused_without_revealing_it(
    client, world, visit, homes
):
    theirs = EntryFactory(team=world.team_b, activity=visit, title="secret title")
    lock_this_month(world)
    client.force_login(world.member_a)

    response = post_new(client, visit_data(visit, homes[:1], uuid=str(theirs.uuid), reason="补登"))

    assert response.status_code == 422
    assert "secret title" not in response.content.decode()
    assert Entry.objects.count() == 1
    assert not Amendment.objects.exists()


def test_posting_an_entry_stays_within_its_query_budget(
    client, world, visit, homes, django_assert_max_num_queries
):
    client.force_login(world.member_a)
    post_new(client, visit_data(visit, homes[:1]))  # the session and the tallies' rows exist

    # Session, user, the member's teams, the activity, the households, the month lock and
    # whether an amendment holds the uuid (one statement; on PostgreSQL after the share lock
    # on the team row, a statement of its own so that it sees a lock committed while it
    # waited), the entry, its links, one audit row and its links, the tallies' statements
    # (the team's tallies, its households', one roll-up per tree, the counted activities),
    # and the savepoint around the writes. On PostgreSQL also the share lock on the team,
    # village and activity whose place in the structure the figures follow
    # (worklog.tallies.structure).
    budget = 19 if connection.vendor == "postgresql" else 17
    with django_assert_max_num_queries(budget):
        response = post_new(client, visit_data(visit, homes[:3]))

    assert response.status_code == 302
    assert Entry.objects.count() == 2


def test_editing_an_entry_reads_its_team_village_and_activity_once(client, world, visit, homes):
    """The services check every rule on the values as they will be saved, with the team,
    village and activity the page loaded already: none is read again for the rules."""
    client.force_login(world.member_a)
    post_new(client, visit_data(visit, homes[:1]))
    entry = Entry.objects.get()

    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("entry_edit", args=[entry.pk]),
                               {**visit_data(visit, homes[:2]), "version": "1"})

    assert response.status_code == 302
    assert entry.households.count() == 2
    tables = ("teams_team", "teams_village", "worklog_activity")
    reads = Counter(table for query in queries.captured_queries for table in tables
                    if query["sql"].startswith(f'SELECT "{table}".'))
    # The member's writable teams and the form's activity; the entry itself comes with
    # its team, village and activity in one read.
    assert reads == {"teams_team": 1, "worklog_activity": 1}


def test_a_one_entry_sync_post_stays_within_its_query_budget(
    world, visit, homes, django_assert_max_num_queries
):
    """The path a phone takes when online: one entry per POST of /api/sync, with the
    CSRF token in its header."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member_a)
    client.cookies["csrftoken"] = token = "t" * 32

    def post(data):
        entry = {**data, "activity": visit.code}
        return client.post(reverse("api_sync"), json.dumps({"entries": [entry]}),
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)

    post(visit_data(visit, homes[:1]))  # the tallies' rows exist

    # Session, user, the member's teams, the activity, the households; then one
    # transaction: the share lock on the team, the month locks, the amendments holding the
    # uuid, the savepoint around the entry, the entry, its links, one audit row and its
    # links, the structure's share locks, the tallies' statements (the team's tallies, its
    # households', one roll-up per tree, the counted activities) — no savepoint of the
    # view's own around it.
    budget = 22 if connection.vendor == "postgresql" else 20
    with django_assert_max_num_queries(budget):
        response = post(visit_data(visit, homes[:3]))

    assert response.status_code == 200
    assert [result["status"] for result in response.json()["results"]] == ["created"]
    assert Entry.objects.count() == 2


def test_the_teams_read_for_a_post_are_writable_teams_own(world):
    """writable_teams_list, the posts' one-statement read, answers as writable_teams: for
    members who joined later, left, moved, or whose team's deployment ended or has not
    begun, and for a member of several teams (with the village and organisation read)."""
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    people = [world.member_a, world.member_b, world.leader_a, world.coordinator]
    busy = UserFactory()
    for team in (world.team_a, world.team_b, TeamFactory(name="阿工作队", organisation=world.org)):
        MembershipFactory(user=busy, team=team)
    MembershipFactory(user=UserFactory(), team=world.team_a, joined_on=today + day)
    MembershipFactory(user=UserFactory(), team=world.team_a, left_on=today - day)
    MembershipFactory(user=UserFactory(), team=world.team_a, left_on=today)
    MembershipFactory(user=UserFactory(), team=TeamFactory(ends_on=today - day))
    MembershipFactory(user=UserFactory(), team=TeamFactory(ends_on=today))
    MembershipFactory(user=UserFactory(), team=TeamFactory(starts_on=today + day))
    people += [busy] + [membership.user for membership in Membership.objects.order_by("-pk")[:6]]

    for person in people:
        expected = list(writable_teams(person))
        read = writable_teams_list(person)
        assert [team.pk for team in read] == [team.pk for team in expected], person
        assert [(team.village.name, team.organisation.name) for team in read] == [
            (team.village.name, team.organisation.name) for team in expected]
    assert len(writable_teams_list(busy)) == 3
    assert writable_teams_list(AnonymousUser()) == []
