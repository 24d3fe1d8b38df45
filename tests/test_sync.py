"""`POST /api/sync`: a phone's outbox, as JSON (DESIGN §6, issue 13 point 2)."""

import datetime
import json
import uuid

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
    MembershipFactory,
    TeamFactory,
    World,
)
from tests.test_concurrency import logged_in_client, run_together
from worklog import tallies
from worklog.locking import lock_month
from worklog.models import Amendment, Entry
from worklog.sessions import UserBackend
from worklog.views.sync import MAX_BODY_BYTES, MAX_ENTRIES, MAX_ENTRY_CHARACTERS

pytestmark = pytest.mark.django_db

JUNE = "2017-06-01"
TAKEN = "This entry's id is already used by another entry; it was not saved."


@pytest.fixture
def counted(visit):
    """An indicator of distinct households, so the roll-ups' reach is kept for visits too."""
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    return visit


@pytest.fixture
def member(world, counted):
    client = Client()
    client.force_login(world.member_a)
    return client


def outbox_entry(homes, **values):
    """A valid entry of team_a: a policy visit of the first household."""
    return {"uuid": str(uuid.uuid4()), "date": JUNE, "activity": "policy_visit",
            "households": [homes[0].pk], "participants": 3, "title": "走访", "notes": "", **values}


def sync(client, entries):
    return client.post(reverse("api_sync"), json.dumps({"entries": entries}),
                       content_type="application/json")


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def statuses(response):
    return [result["status"] for result in results(response)]


def test_mixed_batch_each_entry_stands_alone(world, member, homes):
    earlier = outbox_entry(homes)
    sync(member, [earlier])
    lock_month(organisation=world.org, year=2017, month=3, user=world.coordinator)
    batch = [
        outbox_entry(homes, participants=5),
        earlier,
        outbox_entry(homes, participants=-1),
        outbox_entry(homes, date="2017-03-10", notes="锁定前记下的"),
        outbox_entry(homes, households=[homes[1].pk, homes[2].pk], participants=2),
    ]

    answer = results(sync(member, batch))

    assert [a["status"] for a in answer] == ["created", "present", "refused", "amendment", "created"]
    assert [a["uuid"] for a in answer] == [entry["uuid"] for entry in batch]
    assert answer[2]["errors"]["participants"] and answer[2]["entry"] is None
    assert answer[3]["entry"] is None and answer[3]["errors"] == {}
    stored = {str(entry.uuid): entry for entry in Entry.objects.all()}
    assert answer[1]["entry"] == stored[earlier["uuid"]].pk
    assert {answer[0]["entry"], answer[4]["entry"]} == {stored[batch[0]["uuid"]].pk, stored[batch[4]["uuid"]].pk}
    assert len(stored) == 3
    assert sorted(stored[batch[4]["uuid"]].households.values_list("pk", flat=True)) == [homes[1].pk, homes[2].pk]
    amendment = Amendment.objects.get()
    assert (amendment.kind, str(amendment.uuid), amendment.filed_by) == ("create", batch[3]["uuid"], world.member_a)
    assert amendment.values["notes"] == "锁定前记下的"
    assert amendment.reason == "月份锁定后从手机同步的记录。"  # in the member's language
    assert tallies.differences() == []


def test_audit_rows_are_written_as_the_form_writes_them(world, member, homes):
    sent = outbox_entry(homes, households=[homes[0].pk, homes[1].pk])

    sync(member, [sent])
    sync(member, [sent])

    entry = Entry.objects.get()
    (row,) = entry.history.all()
    assert row.history_type == "+" and row.history_user == world.member_a
    assert sorted(row.households.values_list("household_id", flat=True)) == [homes[0].pk, homes[1].pk]


def test_replaying_an_outbox_adds_nothing(world, member, homes):
    lock_month(organisation=world.org, year=2017, month=3, user=world.coordinator)
    batch = [outbox_entry(homes), outbox_entry(homes, date="2017-03-02"), outbox_entry(homes, participants=7)]
    first = sync(member, batch)
    before = tallies.stored([world.team_a.pk])

    again = sync(member, batch)

    assert statuses(first) == ["created", "amendment", "created"]
    assert statuses(again) == ["present", "amendment", "present"]
    assert [a["entry"] for a in results(again)] == [a["entry"] for a in results(first)]
    assert Entry.objects.count() == 2 and Amendment.objects.count() == 1
    assert tallies.stored([world.team_a.pk]) == before


def test_the_same_uuid_with_other_content_is_refused_and_nothing_changes(member, homes):
    sent = outbox_entry(homes, participants=3)
    sync(member, [sent])
    member.cookies["django_language"] = "en"

    answer = results(sync(member, [{**sent, "participants": 30}]))

    assert answer == [{"uuid": sent["uuid"], "status": "refused", "entry": None, "errors": {"uuid": [TAKEN]}}]
    assert Entry.objects.get().participants == 3


def test_another_teams_uuid_is_refused_without_revealing_its_entry(world, member, homes, counted):
    theirs = EntryFactory(team=world.team_b, author=world.member_b, activity=counted,
                          title="乙队的秘密", participants=9)
    member.cookies["django_language"] = "en"

    own_team_other_content = outbox_entry(homes)
    sync(member, [own_team_other_content])
    response = sync(member, [outbox_entry(homes, uuid=str(theirs.uuid)),
                             {**own_team_other_content, "participants": 4}])

    answer = results(response)
    assert [a["status"] for a in answer] == ["refused", "refused"]
    # The same words as for the member's own entry: nothing tells the two apart.
    assert answer[0]["errors"] == answer[1]["errors"] == {"uuid": [TAKEN]}
    assert answer[0]["entry"] is None and "乙队的秘密" not in response.content.decode()
    assert Entry.objects.filter(team=world.team_a).count() == 1


def test_a_member_of_two_teams_names_the_team(world, member, homes):
    second = TeamFactory(organisation=world.org)
    MembershipFactory(user=world.member_a, team=second)
    theirs = HouseholdFactory(village=second.village)
    member.cookies["django_language"] = "en"

    answer = results(sync(member, [
        outbox_entry(homes),
        outbox_entry(homes, households=[theirs.pk], team=second.pk),
        outbox_entry(homes, team=world.team_a.pk),
        outbox_entry(homes, team=world.team_b.pk),
        outbox_entry(homes, households=[theirs.pk], team=world.team_a.pk),
    ]))

    assert [a["status"] for a in answer] == ["refused", "created", "created", "refused", "refused"]
    assert answer[0]["errors"] == {"team": ["Choose the team this entry is for."]}
    assert list(answer[3]["errors"]) == ["team"]
    assert answer[4]["errors"]["households"][0].startswith("Not households of")
    assert sorted(Entry.objects.values_list("team_id", flat=True)) == sorted([second.pk, world.team_a.pk])


def test_a_member_of_one_team_is_held_to_it_when_a_team_is_given(world, member, homes):
    answer = results(sync(member, [outbox_entry(homes, team=world.team_b.pk),
                                   outbox_entry(homes, team=world.team_a.pk)]))

    assert [a["status"] for a in answer] == ["refused", "created"]
    assert Entry.objects.get().team == world.team_a


def test_households_of_another_village_are_refused(world, member, homes):
    stranger = HouseholdFactory(village=world.village_b)

    answer = results(sync(member, [outbox_entry(homes, households=[stranger.pk]),
                                   outbox_entry(homes, households=[homes[0].pk, 10**9])]))

    assert [a["status"] for a in answer] == ["refused", "refused"]
    assert all(a["errors"]["households"] for a in answer)
    assert not Entry.objects.exists()


def test_someone_without_a_current_team_is_refused_entry_by_entry(world, counted, homes):
    client = Client()
    client.force_login(world.coordinator)

    answer = results(sync(client, [outbox_entry(homes), outbox_entry(homes)]))

    assert [a["status"] for a in answer] == ["refused", "refused"]
    assert all(list(a["errors"]) == ["team"] for a in answer)
    assert not Entry.objects.exists()


def test_messages_in_chinese_by_default_and_english_with_the_language_cookie(member, homes):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()

    chinese = results(sync(member, [outbox_entry(homes, date=future)]))
    member.cookies["django_language"] = "en"
    english = results(sync(member, [outbox_entry(homes, date=future)]))

    assert english[0]["errors"]["date"] == ["The date cannot be in the future."]
    assert chinese[0]["errors"]["date"] == ["日期不能晚于今天。"]


HOSTILE = [
    ("notes", "a\x00b", "notes"),
    ("title", ["a list"], "title"),
    ("date", "2017-02-30", "date"),
    ("date", 20170601, "date"),
    ("uuid", "not-a-uuid", "uuid"),
    ("uuid", 12345, "uuid"),
    ("activity", "no_such_activity", "activity"),
    ("activity", {"code": "policy_visit"}, "activity"),
    ("participants", 10**400, "participants"),
    ("participants", 2.5, "participants"),
    ("participants", True, "participants"),
    ("participants", "12abc", "participants"),
    ("funds", "1e400", "funds"),
    ("funds", "0.001", "funds"),
    ("households", 5, "households"),
    ("households", [[1]], "households"),
    ("households", ["x\x00"], "households"),
    ("households", [10**30], "households"),
    ("team", "9" * 40, "team"),
]


@pytest.mark.parametrize("name, value, field", HOSTILE, ids=[f"{n}={v!r:.20}" for n, v, _f in HOSTILE])
def test_hostile_values_refuse_their_entry_on_their_field(member, homes, name, value, field):
    good = outbox_entry(homes)

    answer = results(sync(member, [outbox_entry(homes, **{name: value}), good]))

    assert [a["status"] for a in answer] == ["refused", "created"]
    assert answer[0]["errors"][field]
    assert str(Entry.objects.get().uuid) == good["uuid"]


def test_control_characters_and_lone_surrogates_are_removed_from_text(member, homes):
    # Written by hand: json.dumps would not send a lone surrogate as the JSON text it is.
    uid = str(uuid.uuid4())
    body = ('{"entries": [{"uuid": "%s", "date": "%s", "activity": "policy_visit", "households": [%d],'
            ' "title": "\\u0007铃\\ud83d", "notes": "第一行\\r\\n第二行\\u001b"}]}' % (uid, JUNE, homes[0].pk))

    response = member.post(reverse("api_sync"), body, content_type="application/json")

    assert statuses(response) == ["created"]
    entry = Entry.objects.get()
    assert (entry.title, entry.notes) == ("铃", "第一行\n第二行")


def test_a_full_batch_is_taken_and_one_more_is_refused(world, member, homes):
    batch = [outbox_entry(homes, households=[homes[n % 3].pk], participants=n % 7)
             for n in range(MAX_ENTRIES)]

    too_many = sync(member, batch + [outbox_entry(homes)])
    full = sync(member, batch)

    assert too_many.status_code == 400 and str(MAX_ENTRIES) in too_many.json()["error"]
    assert statuses(full) == ["created"] * MAX_ENTRIES
    assert Entry.objects.count() == MAX_ENTRIES
    assert tallies.differences() == []


def test_a_batch_costs_far_fewer_queries_than_its_entries_one_by_one(member, homes):
    def queries(batches):
        with CaptureQueriesContext(connection) as captured:
            for batch in batches:
                assert "refused" not in statuses(sync(member, batch))
        return len(captured)

    together = queries([[outbox_entry(homes, households=[homes[n % 3].pk]) for n in range(20)]])
    one_by_one = queries([[outbox_entry(homes, households=[homes[n % 3].pk])] for n in range(20)])

    assert together < one_by_one / 2, (together, one_by_one)


def test_anonymous_is_told_to_log_in():
    response = sync(Client(), [])

    assert response.status_code == 401
    assert response.json()["error"]


def test_get_is_not_allowed(member):
    assert member.get(reverse("api_sync")).status_code == 405


BAD_BODIES = [
    ("not json", "{entries: []}", "not valid JSON"),
    ("a list", "[]", '"entries" list'),
    ("no entries", '{"uuid": "x"}', '"entries" list'),
    ("entries not a list", '{"entries": {"0": {}}}', '"entries" list'),
    ("an entry not an object", '{"entries": [{}, "x"]}', "Entry 2 is not a JSON object"),
    ("an oversized entry", json.dumps({"entries": [{"notes": "x" * MAX_ENTRY_CHARACTERS}]}),
     "Entry 1 is larger than"),
    ("NaN", '{"entries": [{"participants": NaN}]}', "not valid JSON"),
    ("nested too deep", '{"entries": ' + "[" * 100_000 + "]" * 100_000 + "}", "not valid JSON"),
    ("not UTF-8", b'{"entries": [{"notes": "\xff"}]}', "not valid JSON"),
]


@pytest.mark.parametrize("body, problem", [case[1:] for case in BAD_BODIES], ids=[c[0] for c in BAD_BODIES])
def test_a_bad_body_is_a_400_naming_the_problem(member, body, problem):
    member.cookies["django_language"] = "en"

    response = member.post(reverse("api_sync"), body, content_type="application/json")

    assert response.status_code == 400
    assert problem in response.json()["error"]
    assert not Entry.objects.exists()


def test_a_body_that_is_not_json_by_its_type_or_too_large_is_a_400(member, homes):
    member.cookies["django_language"] = "en"
    as_form = member.post(reverse("api_sync"), {"entries": "[]"})
    too_large = member.post(reverse("api_sync"), b" " * (MAX_BODY_BYTES + 1), content_type="application/json")

    assert as_form.status_code == 400 and "Content-Type: application/json" in as_form.json()["error"]
    assert too_large.status_code == 400 and "MB" in too_large.json()["error"]


def test_without_the_csrf_token_the_answer_is_403_and_with_it_200(world, counted, homes):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member_a)
    client.get(reverse("entry_new"))  # a page of the app sets the CSRF cookie
    body = json.dumps({"entries": [outbox_entry(homes)]})

    refused = client.post(reverse("api_sync"), body, content_type="application/json")
    accepted = client.post(reverse("api_sync"), body, content_type="application/json",
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)

    assert refused.status_code == 403 and refused.json()["error"]
    assert statuses(accepted) == ["created"]
    assert Entry.objects.count() == 1


# --- on PostgreSQL, with real threads --------------------------------------------------------

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="concurrency is tested on PostgreSQL")


@pytest.fixture
def busy_world(transactional_db):
    world = World.build()
    visit = ActivityFactory(code="policy_visit", uses_households=True, uses_participants=True)
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    homes = [HouseholdFactory(village=world.village_a) for _ in range(3)]
    return world, homes


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reverse_the_second", [False, True], ids=["same order", "reversed"])
def test_the_same_outbox_sent_twice_at_once_stores_each_entry_once(busy_world, reverse_the_second):
    world, homes = busy_world
    batch = [outbox_entry(homes, households=[homes[n % 3].pk], participants=n) for n in range(30)]
    second = batch[::-1] if reverse_the_second else batch
    clients = [logged_in_client(world.member_a) for _ in range(2)]

    first_answer, second_answer = run_together(lambda: sync(clients[0], batch),
                                               lambda: sync(clients[1], second))

    by_uuid = {}
    for response in (first_answer, second_answer):
        for result in results(response):
            by_uuid.setdefault(result["uuid"], []).append(result["status"])
    assert all(sorted(found) == ["created", "present"] for found in by_uuid.values()), by_uuid
    assert Entry.objects.count() == len(batch)
    assert tallies.differences() == []


# --- sessions end on every app server at once (worklog/sessions.py) --------------------------

def _same_session_elsewhere(client):
    """Another phone (or a stolen cookie) holding the same session."""
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    return other


@pytest.mark.parametrize("ending", ["logout", "password change", "deactivation", "expiry"])
def test_a_session_that_ended_can_sync_no_more(world, member, homes, ending):
    elsewhere = _same_session_elsewhere(member)
    assert statuses(sync(elsewhere, [outbox_entry(homes)])) == ["created"]

    if ending == "logout":
        member.post(reverse("logout"))
    elif ending == "password change":
        world.member_a.set_password("a-new-Passw0rd-9")
        world.member_a.save()
    elif ending == "deactivation":
        world.member_a.is_active = False
        world.member_a.save()
    else:
        Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    answer = sync(elsewhere, [outbox_entry(homes)])

    assert answer.status_code == 401
    assert Entry.objects.count() == 1


def test_the_user_of_a_session_is_read_as_django_reads_it(world):
    world.member_a.last_login = timezone.now()
    world.member_a.save()

    read = UserBackend().get_user(world.member_a.pk)
    django_reads = ModelBackend().get_user(world.member_a.pk)

    fields = [field.attname for field in type(read)._meta.concrete_fields]
    assert [getattr(read, name) for name in fields] == [getattr(django_reads, name) for name in fields]
    assert timezone.is_aware(read.last_login) and read.is_active is True
    assert UserBackend().get_user(world.member_a.pk + 1000) is None


def test_a_session_started_by_djangos_own_backend_still_syncs(world, counted, homes):
    """Phones logged in before UserBackend was listed stay logged in."""
    client = Client()
    client.force_login(world.member_a, backend="django.contrib.auth.backends.ModelBackend")

    assert statuses(sync(client, [outbox_entry(homes)])) == ["created"]
