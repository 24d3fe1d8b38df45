"""A new entry filed as an amendment holds its form's uuid (issue 11, point 6): the hidden
uuid sent again cannot make an entry meanwhile, Accept applies exactly the amendment or
refuses with a reason, and only an explicit decision decides."""

import datetime
import uuid

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory
from worklog.locking import lock_month
from worklog.models import Amendment, Entry

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2017, 3, 10)
APRIL = datetime.date(2017, 4, 10)


@pytest.fixture
def visit():
    return ActivityFactory(code="visit", uses_households=True, uses_participants=True)


@pytest.fixture
def march_locked(world):
    return lock_month(organisation=world.org, year=2017, month=3, user=world.coordinator)


def new_entry(client, user, visit, household, day, form_uuid, **values):
    client.force_login(user)
    return client.post(reverse("entry_new"), {
        "date": day.isoformat(), "activity": visit.pk, "households": [household.pk],
        "participants": "4", "uuid": str(form_uuid), **values,
    })


def decide(client, world, amendment, **data):
    client.cookies.pop("messages", None)  # the member's, not shown to the coordinator here
    client.force_login(world.coordinator)
    return client.post(reverse("amendment_decide", args=[amendment.pk]), data)


def message_levels(response):
    return [message.level_tag for message in get_messages(response.wsgi_request)]


def test_another_team_cannot_log_an_entry_with_a_filed_amendments_uuid(client, world, visit, march_locked):
    form_uuid = uuid.uuid4()
    home_a, home_b = HouseholdFactory(village=world.village_a), HouseholdFactory(village=world.village_b)
    new_entry(client, world.member_a, visit, home_a, MARCH, form_uuid, reason="三月补登")
    amendment = Amendment.objects.get()

    theirs = new_entry(client, world.member_b, visit, home_b, APRIL, form_uuid, participants="7")

    assert theirs.status_code == 422
    assert not Entry.objects.exists()
    accepted = decide(client, world, amendment, decision="accept")
    assert accepted.status_code == 302
    entry = Entry.objects.get()
    assert (entry.uuid, entry.team, entry.date, entry.participants) == (form_uuid, world.team_a, MARCH, 4)
    amendment.refresh_from_db()
    assert (amendment.status, amendment.entry) == ("accepted", entry)


def test_the_same_team_cannot_log_the_amendments_uuid_elsewhere_so_accept_applies_it(
    client, world, visit, march_locked
):
    form_uuid = uuid.uuid4()
    home = HouseholdFactory(village=world.village_a)
    new_entry(client, world.member_a, visit, home, MARCH, form_uuid, reason="三月补登")
    amendment = Amendment.objects.get()

    moved = new_entry(client, world.member_a, visit, home, APRIL, form_uuid, participants="9")

    assert moved.status_code == 422
    assert moved.context["form"].non_field_errors()
    decide(client, world, amendment, decision="accept")
    entry = Entry.objects.get()
    assert (entry.date, entry.participants) == (MARCH, 4)


def test_another_teams_filing_with_a_held_uuid_is_refused_not_told_already_filed(
    client, world, visit, march_locked
):
    form_uuid = uuid.uuid4()
    home_a, home_b = HouseholdFactory(village=world.village_a), HouseholdFactory(village=world.village_b)
    new_entry(client, world.member_a, visit, home_a, MARCH, form_uuid, reason="三月补登")

    theirs = new_entry(client, world.member_b, visit, home_b, MARCH, form_uuid, reason="也是补登")

    assert theirs.status_code == 422
    assert list(Amendment.objects.values_list("team", flat=True)) == [world.team_a.pk]


@pytest.mark.parametrize("same_team", [True, False])
def test_accept_refuses_with_a_reason_when_the_uuid_already_names_an_entry(
    client, world, visit, march_locked, same_team
):
    """Amendments filed before uuids were held may share theirs with an entry: Accept then
    applies nothing, says why, and leaves the amendment pending (never a 500, never a
    false "applied")."""
    home = HouseholdFactory(village=world.village_a)
    new_entry(client, world.member_a, visit, home, MARCH, uuid.uuid4(), reason="三月补登")
    amendment = Amendment.objects.get()
    team = world.team_a if same_team else world.team_b
    taken = EntryFactory(team=team, activity=visit, date=APRIL, participants=1)
    Amendment.objects.filter(pk=amendment.pk).update(uuid=taken.uuid)  # as filed before the fix

    response = decide(client, world, amendment, decision="accept")

    assert response.status_code == 302
    assert message_levels(response) == ["error"]
    amendment.refresh_from_db()
    assert (amendment.status, amendment.entry) == ("pending", None)
    assert list(Entry.objects.values_list("pk", "date", "participants")) == [(taken.pk, APRIL, 1)]


@pytest.mark.parametrize("data", [{}, {"decision": ""}, {"decision": "maybe"}, {"note": "看看"}])
def test_only_an_explicit_decision_decides(client, world, visit, march_locked, data):
    home = HouseholdFactory(village=world.village_a)
    new_entry(client, world.member_a, visit, home, MARCH, uuid.uuid4(), reason="三月补登")
    amendment = Amendment.objects.get()

    response = decide(client, world, amendment, **data)

    assert response.status_code == 400
    assert response.context["amendment"] == amendment and response.context["can_decide"]
    assert message_levels(response) == ["error"]
    amendment.refresh_from_db()
    assert amendment.status == "pending"
    assert decide(client, world, amendment, decision="reject").status_code == 302
    amendment.refresh_from_db()
    assert amendment.status == "rejected"


def test_an_import_cannot_store_an_entry_with_a_filed_amendments_uuid(client, world, visit, march_locked):
    from worklog.imports import ImportRejected, entries_import

    form_uuid = uuid.uuid4()
    new_entry(client, world.member_a, visit, HouseholdFactory(village=world.village_a), MARCH,
              form_uuid, reason="三月补登")
    HouseholdFactory(village=world.village_b, house_number="1")
    content = (f"date,team,activity,households,participants,uuid\r\n"
               f"{APRIL},team-b,visit,1,7,{form_uuid}\r\n").encode()

    with pytest.raises(ImportRejected) as rejected:
        entries_import(name="entries.csv", content=content)

    assert [(problem.row, problem.column) for problem in rejected.value.problems] == [(2, "uuid")]
    assert not Entry.objects.exists()
