"""`POST /api/sync` reads a batch's choices once (issue 14, point 2): the activities, the
households named and the teams by a constant number of queries, whatever the batch's size,
with the answers and messages the entry form gives one entry."""

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ActivityFactory, HouseholdFactory, IndicatorFactory, MembershipFactory, TeamFactory
from tests.test_sync import JUNE, outbox_entry, results, statuses, sync
from worklog.forms import EntryForm
from worklog.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world, visit):
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    client = Client()
    client.force_login(world.member_a)
    client.cookies["django_language"] = "en"
    return client


def batch(homes, size):
    return [outbox_entry(homes, households=[homes[n % 3].pk, homes[(n + 1) % 3].pk], participants=n + 1)
            for n in range(size)]


def queries(client, entries):
    with CaptureQueriesContext(connection) as captured:
        answer = statuses(sync(client, entries))
    return len(captured), answer


def test_a_batch_of_twenty_reads_as_few_queries_as_a_batch_of_two(member, homes):
    two, two_answer = queries(member, batch(homes, 2))
    twenty, twenty_answer = queries(member, batch(homes, 20))

    assert two_answer == ["created"] * 2 and twenty_answer == ["created"] * 20
    assert twenty <= two + 1, (two, twenty)


def test_replaying_twenty_reads_as_few_queries_as_replaying_two(member, homes):
    small, large = batch(homes, 2), batch(homes, 20)
    sync(member, small)
    sync(member, large)

    two, two_answer = queries(member, small)
    twenty, twenty_answer = queries(member, large)

    assert two_answer == ["present"] * 2 and twenty_answer == ["present"] * 20
    assert twenty <= two + 1, (two, twenty)


def test_a_replay_with_other_households_is_still_refused(member, homes):
    sent = outbox_entry(homes, households=[homes[0].pk, homes[1].pk])
    sync(member, [sent])

    answer = results(sync(member, [sent, {**sent, "households": [homes[0].pk, homes[2].pk]}]))

    assert [a["status"] for a in answer] == ["present", "refused"]
    assert list(answer[1]["errors"]) == ["uuid"]


def test_a_member_of_two_teams_names_either_in_one_batch(world, member, homes):
    second = TeamFactory(organisation=world.org)
    MembershipFactory(user=world.member_a, team=second)
    theirs = HouseholdFactory(village=second.village)

    answer = results(sync(member, [
        outbox_entry(homes, team=world.team_a.pk),
        outbox_entry(homes, households=[theirs.pk], team=second.pk),
        outbox_entry(homes, households=[theirs.pk], team=world.team_a.pk),
    ]))

    assert [a["status"] for a in answer] == ["created", "created", "refused"]
    assert answer[2]["errors"]["households"][0].startswith("Not households of")
    assert sorted(Entry.objects.values_list("team_id", flat=True)) == sorted([world.team_a.pk, second.pk])


def notebook_form_errors(world, homes, **values):
    """The errors the notebook's own form (its fields querying) gives the same values."""
    data = {"uuid": str(uuid.uuid4()), "date": JUNE, "activity": None, "participants": "3",
            "households": [str(homes[0].pk)], **values}
    form = EntryForm(data, teams=[world.team_a])
    assert not form.is_valid()
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def test_refusals_word_what_the_form_words(world, member, homes, visit):
    stranger = HouseholdFactory(village=world.village_b)

    answer = results(sync(member, [
        outbox_entry(homes, activity="no_such_activity"),
        outbox_entry(homes, households=[stranger.pk]),
        outbox_entry(homes, households=[homes[0].pk, "abc"]),
        outbox_entry(homes, households=[str(homes[0].pk), f"0{homes[1].pk}"]),
        outbox_entry(homes),
    ]))

    assert [a["status"] for a in answer] == ["refused"] * 4 + ["created"]
    assert answer[0]["errors"] == {
        "activity": ["Select a valid choice. That choice is not one of the available choices."]}
    assert answer[1]["errors"] == {
        "households": [f"Select a valid choice. {stranger.pk} is not one of the available choices."]}
    assert answer[2]["errors"] == {"households": ["“abc” is not a valid value."]}
    assert answer[3]["errors"] == {
        "households": [f"Select a valid choice. 0{homes[1].pk} is not one of the available choices."]}
    # The notebook form, reading its choices by queries, words them alike.
    with_activity = {"activity": str(visit.pk)}
    assert notebook_form_errors(world, homes, households=[str(stranger.pk)], **with_activity) == answer[1]["errors"]
    assert notebook_form_errors(world, homes, households=["abc"], **with_activity) == answer[2]["errors"]


def test_only_the_activities_a_batch_names_are_read_and_an_inactive_one_is_refused(member, homes):
    """The batch reads the activities it names, by code, among the active ones: another
    active activity is not needed, and one no longer in use is refused as the form refuses
    it."""
    ActivityFactory(code="retired_visit", uses_households=True, is_active=False)
    ActivityFactory(code="training", uses_participants=True)

    answer = results(sync(member, [
        outbox_entry(homes, activity="retired_visit"),
        outbox_entry(homes),
        outbox_entry(homes, activity="training", households=[]),
    ]))

    assert [a["status"] for a in answer] == ["refused", "created", "created"]
    assert answer[0]["errors"] == {
        "activity": ["Select a valid choice. That choice is not one of the available choices."]}
    assert sorted(Entry.objects.values_list("activity__code", flat=True)) == ["policy_visit", "training"]


def test_the_answer_is_json_without_a_page_policy_and_pages_keep_theirs(member, homes):
    """A content security policy tells a browser what a page may load and run; the sync's
    JSON (sent with nosniff) is never shown as a page, so it goes without (building it
    was a share of every post), and the notebook keeps its policy."""
    response = sync(member, [outbox_entry(homes)])

    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response
    assert "script-src 'self'" in member.get(reverse("notebook"))["Content-Security-Policy"]


def test_posts_one_after_another_each_choose_from_their_own_choices(world, member, homes):
    """A thread's sync posts share the form's fields (copied once per thread): each post
    chooses from its own member's teams and households, never from the post before."""
    other = Client()
    other.force_login(world.member_b)
    other.cookies["django_language"] = "en"
    theirs = HouseholdFactory(village=world.village_b)

    answers = [
        statuses(sync(member, [outbox_entry(homes)])),
        results(sync(other, [outbox_entry(homes)])),  # a household of team_a's village
        statuses(sync(other, [outbox_entry(homes, households=[theirs.pk])])),
        results(sync(member, [outbox_entry(homes, households=[theirs.pk])])),
        statuses(sync(member, [outbox_entry(homes, team=world.team_b.pk)])),
    ]

    assert answers[0] == ["created"] and answers[2] == ["created"]
    assert answers[1][0]["errors"] == {
        "households": [f"Select a valid choice. {homes[0].pk} is not one of the available choices."]}
    assert answers[3][0]["errors"] == {
        "households": [f"Select a valid choice. {theirs.pk} is not one of the available choices."]}
    assert answers[4] == ["refused"]  # member_a is no member of team_b
    assert sorted(Entry.objects.values_list("team_id", flat=True)) == sorted([world.team_a.pk, world.team_b.pk])
