"""The notebook's rules (worklog.rules) hold for every writer (issue 12, point 1): the form
(a new entry in tests/test_entries.py, an edit here), the import (tests/test_import.py) and
the admin (tests/test_admin.py) refuse a future date and a date outside the team's
deployment; so do, here, the services called directly — which check every rule, the last
line of defence for every later writer — and accepting an amendment (which says why to
the coordinator)."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory
from worklog.amendments import file_amendment
from worklog.models import Amendment, Entry
from worklog.services import entry_create, entry_restore, entry_soft_delete, entry_update

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
BEFORE_DEPLOYMENT = datetime.date(2016, 12, 31)  # team_a is deployed from 2017-01-01
BAD_DATES = {
    "a future date": (TOMORROW, "future", "The date cannot be in the future."),
    "a date before the deployment": (BEFORE_DEPLOYMENT, "not_deployed",
                                     "The team was not deployed on 2016-12-31."),
}


def codes(error):
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


def said(error):
    """The refusal's messages, as an English-speaking user reads them."""
    with translation.override("en"):
        return {field: list(messages) for field, messages in error.message_dict.items()}


@pytest.mark.parametrize("day, code, message", BAD_DATES.values(), ids=BAD_DATES)
def test_creating_through_the_services_refuses_a_bad_date(world, visit, homes, day, code, message):
    with pytest.raises(ValidationError) as refused:
        entry_create(uuid=uuid.uuid4(), team=world.team_a, author=world.member_a, date=day,
                     activity=visit, households=homes[:1], participants=3)

    assert codes(refused.value) == {"date": [code]}
    assert said(refused.value) == {"date": [message]}
    assert not Entry.objects.exists()


@pytest.mark.parametrize("day, code, message", BAD_DATES.values(), ids=BAD_DATES)
def test_editing_through_the_services_refuses_a_bad_date(world, visit, homes, day, code, message):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=3)

    with pytest.raises(ValidationError) as refused:
        entry_update(entry=entry, version=entry.version, editor=world.member_a, date=day)

    assert codes(refused.value) == {"date": [code]}
    assert said(refused.value) == {"date": [message]}
    entry.refresh_from_db()
    assert entry.date == datetime.date(2017, 6, 1)
    assert entry.version == 1


# Each rule the form and the admin apply, broken through the services called directly:
# (what the entry is given instead of a valid visit, the codes of the refusal).
BROKEN_RULES = {
    "a household of another village": (
        lambda world, homes: {"households": [HouseholdFactory(village=world.village_b)]},
        {"households": ["other_village"]}),
    "a household twice": (
        lambda world, homes: {"households": [homes[0], homes[0]]}, {"households": ["twice"]}),
    "no household for an activity that records them": (
        lambda world, homes: {"households": []}, {"households": ["households_required"]}),
    "households for an activity that does not record them": (
        lambda world, homes: {"activity": ActivityFactory(uses_participants=True)},
        {"households": ["not_recorded"]}),
    "a figure its activity does not record": (
        lambda world, homes: {"funds": Decimal("12.50")}, {"funds": ["not_recorded"]}),
    "a negative count": (lambda world, homes: {"participants": -1}, {"participants": ["min_value"]}),
    "a count beyond the notebook's range": (
        lambda world, homes: {"participants": 1_000_001}, {"participants": ["max_value"]}),
    "funds beyond the notebook's range": (
        lambda world, homes: {"activity": ActivityFactory(uses_households=True, uses_funds=True),
                              "participants": 0, "funds": Decimal("10000000000.00")},
        {"funds": ["max_value"]}),
    "a village other than its team's": (
        lambda world, homes: {"village": world.village_b, "households": []},
        {"village": ["other_village"], "households": ["households_required"]}),
}


@pytest.mark.parametrize("broken", BROKEN_RULES)
def test_creating_through_the_services_refuses_what_the_form_refuses(world, visit, homes, broken):
    change, expected = BROKEN_RULES[broken]
    values = {"activity": visit, "households": homes[:1], "participants": 3,
              **change(world, homes)}

    with pytest.raises(ValidationError) as refused:
        entry_create(uuid=uuid.uuid4(), team=world.team_a, author=world.member_a,
                     date=datetime.date(2017, 6, 1), **values)

    assert codes(refused.value) == expected
    assert not Entry.objects.exists()


def test_editing_through_the_services_checks_the_households_an_entry_keeps(world, visit, homes):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:2], participants=3)
    meeting = ActivityFactory(uses_participants=True)  # records no households

    with pytest.raises(ValidationError) as refused:
        entry_update(entry=entry, version=entry.version, editor=world.member_a, activity=meeting)

    assert codes(refused.value) == {"households": ["not_recorded"]}
    entry.refresh_from_db()
    assert (entry.activity, entry.version) == (visit, 1)
    assert set(entry.households.all()) == set(homes[:2])


@pytest.mark.parametrize("day, code, message", BAD_DATES.values(), ids=BAD_DATES)
def test_editing_in_the_notebook_refuses_a_bad_date(client, world, visit, homes, day, code, message):
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                         households=homes[:1], participants=3)
    client.force_login(world.member_a)
    client.cookies["django_language"] = "en"

    response = client.post(reverse("entry_edit", args=[entry.pk]), {
        "date": day.isoformat(), "activity": visit.pk, "households": [homes[0].pk],
        "participants": "3", "version": "1",
    })

    assert response.status_code == 422
    assert response.context["form"].errors["date"] == [message]
    entry.refresh_from_db()
    assert (entry.date, entry.version) == (datetime.date(2017, 6, 1), 1)


def test_editing_an_entry_its_team_has_left_says_why_it_cannot(client, world, visit):
    """The team was posted to another village since: the entry stays in its own village,
    which is no longer its team's, and the notebook says so instead of failing."""
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit, participants=3)
    world.team_a.village = world.village_b
    world.team_a.save()
    client.force_login(world.member_a)
    client.cookies["django_language"] = "en"

    response = client.post(reverse("entry_edit", args=[entry.pk]), {
        "date": "2017-06-01", "activity": visit.pk, "participants": "5", "version": "1",
        "households": [household.pk for household in entry.households.all()],
    })

    assert response.status_code == 422
    assert "An entry&#x27;s village is its team&#x27;s village." in response.content.decode()
    entry.refresh_from_db()
    assert (entry.participants, entry.version) == (3, 1)


def test_restoring_refuses_an_entry_its_teams_deployment_no_longer_covers(world, visit, homes):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=3)
    entry = entry_soft_delete(entry=entry, user=world.member_a)
    world.team_a.starts_on = datetime.date(2017, 7, 1)  # the deployment was corrected since
    world.team_a.save()

    with pytest.raises(ValidationError) as refused:
        entry_restore(entry=Entry.objects.get(pk=entry.pk), user=world.member_a)

    assert codes(refused.value) == {"date": ["not_deployed"]}
    assert Entry.objects.get(pk=entry.pk).deleted_at is not None


@pytest.mark.parametrize("day, code, message", BAD_DATES.values(), ids=BAD_DATES)
def test_accepting_an_amendment_with_a_bad_date_applies_nothing_and_says_why(
    client, world, visit, homes, day, code, message
):
    form_uuid = uuid.uuid4()
    amendment = file_amendment(
        team=world.team_a, user=world.member_a, kind=Amendment.Kind.CREATE, reason="补记",
        uuid=form_uuid, values={"date": day.isoformat(), "activity": visit.pk,
                                "households": [homes[0].pk], "participants": 3},
    )
    client.force_login(world.coordinator)
    client.cookies["django_language"] = "en"

    response = client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "accept"})

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert len(said) == 1 and "breaks the notebook's rules" in said[0]
    assert message in said[0]
    assert not Entry.objects.filter(uuid=form_uuid).exists()
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.PENDING


@pytest.mark.parametrize("day, code, message", BAD_DATES.values(), ids=BAD_DATES)
def test_accepting_a_change_to_a_bad_date_changes_nothing_and_says_why(
    client, world, visit, homes, day, code, message
):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=3)
    amendment = file_amendment(
        team=world.team_a, user=world.member_a, kind=Amendment.Kind.CHANGE, reason="改日期",
        entry=entry, values={"date": day.isoformat(), "activity": visit.pk,
                             "households": [homes[0].pk], "participants": 3},
    )
    client.force_login(world.coordinator)
    client.cookies["django_language"] = "en"

    response = client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "accept"})

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert len(said) == 1 and message in said[0]
    entry.refresh_from_db()
    assert (entry.date, entry.version) == (datetime.date(2017, 6, 1), 1)
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.PENDING


@pytest.fixture
def restorable(world, visit, homes):
    """A deleted entry of 2017-06-01 whose team's deployment was since corrected to start
    2017-07-01."""
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=3)
    entry = entry_soft_delete(entry=entry, user=world.leader_a)
    world.team_a.starts_on = datetime.date(2017, 7, 1)
    world.team_a.save()
    return entry


def test_the_restore_button_says_why_it_cannot_restore(client, world, restorable):
    client.force_login(world.leader_a)
    client.cookies["django_language"] = "en"

    response = client.post(reverse("entry_restore", args=[restorable.pk]), follow=True)

    assert response.status_code == 200
    assert "The team was not deployed on 2017-06-01." in response.content.decode()
    assert Entry.objects.get(pk=restorable.pk).deleted_at is not None


def test_the_admins_restore_action_leaves_it_alone_and_says_why(client, django_user_model, restorable):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com"))
    client.cookies["django_language"] = "en"

    response = client.post(reverse("admin:worklog_entry_changelist"),
                           {"action": "restore_selected", "_selected_action": [restorable.pk]},
                           follow=True)

    assert response.status_code == 200
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("was left alone: The team was not deployed on 2017-06-01." in m for m in said)
    assert Entry.objects.get(pk=restorable.pk).deleted_at is not None


@pytest.mark.parametrize("view", ["entry_new", "entry_edit"])
def test_a_refusal_by_the_services_reads_like_the_forms_own(client, monkeypatch, world, visit, homes, view):
    """The services are the last line of defence: when they refuse what the form let
    through, the page says why on the field, as the form would, and saves nothing."""
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                         households=homes[:1], participants=3)
    monkeypatch.setattr("worklog.forms.validate_entry", lambda **values: None)
    client.force_login(world.member_a)
    client.cookies["django_language"] = "en"
    args = [entry.pk] if view == "entry_edit" else []

    response = client.post(reverse(view, args=args), {
        "uuid": str(uuid.uuid4()), "date": TOMORROW.isoformat(), "activity": visit.pk,
        "households": [homes[0].pk], "participants": "3", "version": "1",
    })

    assert response.status_code == 422
    assert response.context["form"].errors["date"] == ["The date cannot be in the future."]
    assert list(Entry.objects.values_list("pk", "date", "version")) == [
        (entry.pk, datetime.date(2017, 6, 1), 1)]
