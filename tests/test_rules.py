"""The notebook's rules (worklog.rules) hold for every writer (issue 12, point 1): the form,
the import and the admin refuse a future date and a date outside the team's deployment
(tests/test_entries.py, tests/test_import.py, tests/test_admin.py); so do the services
called directly — the last line of defence for every later writer — and accepting an
amendment (which says why to the coordinator), here."""

import datetime
import uuid

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.factories import EntryFactory
from worklog.amendments import file_amendment
from worklog.models import Amendment, Entry
from worklog.services import entry_create, entry_restore, entry_soft_delete, entry_update

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
BEFORE_DEPLOYMENT = datetime.date(2016, 12, 31)  # team_a is deployed from 2017-01-01
BAD_DATES = {"a future date": (TOMORROW, "future"),
             "a date before the deployment": (BEFORE_DEPLOYMENT, "not_deployed")}


def codes(error):
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


@pytest.mark.parametrize("day, code", BAD_DATES.values(), ids=BAD_DATES)
def test_creating_through_the_services_refuses_a_bad_date(world, visit, homes, day, code):
    with pytest.raises(ValidationError) as refused:
        entry_create(uuid=uuid.uuid4(), team=world.team_a, author=world.member_a, date=day,
                     activity=visit, households=homes[:1], participants=3)

    assert codes(refused.value) == {"date": [code]}
    assert not Entry.objects.exists()


@pytest.mark.parametrize("day, code", BAD_DATES.values(), ids=BAD_DATES)
def test_editing_through_the_services_refuses_a_bad_date(world, visit, homes, day, code):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=3)

    with pytest.raises(ValidationError) as refused:
        entry_update(entry=entry, version=entry.version, editor=world.member_a, date=day)

    assert codes(refused.value) == {"date": [code]}
    entry.refresh_from_db()
    assert entry.date == datetime.date(2017, 6, 1)
    assert entry.version == 1


def test_restoring_refuses_an_entry_its_teams_deployment_no_longer_covers(world, visit, homes):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=3)
    entry = entry_soft_delete(entry=entry, user=world.member_a)
    world.team_a.starts_on = datetime.date(2017, 7, 1)  # the deployment was corrected since
    world.team_a.save()

    with pytest.raises(ValidationError) as refused:
        entry_restore(entry=Entry.objects.get(pk=entry.pk), user=world.member_a)

    assert codes(refused.value) == {"date": ["not_deployed"]}
    assert Entry.objects.get(pk=entry.pk).deleted_at is not None


@pytest.mark.parametrize("day, code", BAD_DATES.values(), ids=BAD_DATES)
def test_accepting_an_amendment_with_a_bad_date_applies_nothing_and_says_why(
    client, world, visit, homes, day, code
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
    assert ("cannot be in the future" if code == "future" else "was not deployed") in said[0]
    assert not Entry.objects.filter(uuid=form_uuid).exists()
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.PENDING


def test_accepting_a_change_to_a_date_before_the_deployment_changes_nothing(
    client, world, visit, homes
):
    entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:1], participants=3)
    amendment = file_amendment(
        team=world.team_a, user=world.member_a, kind=Amendment.Kind.CHANGE, reason="改日期",
        entry=entry, values={"date": BEFORE_DEPLOYMENT.isoformat(), "activity": visit.pk,
                             "households": [homes[0].pk], "participants": 3},
    )
    client.force_login(world.coordinator)

    client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "accept"})

    entry.refresh_from_db()
    assert entry.date == datetime.date(2017, 6, 1)
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
