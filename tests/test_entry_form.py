"""The entry form for fast capture (issue 13): "save and add another" keeps the date, the
activity and the team, "repeat" copies an entry on today's or its own date, households are offered in
the order people count them."""

import datetime
import re
import uuid
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import EntryFactory, HouseholdFactory, MembershipFactory, TeamFactory
from worklog.models import Entry

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def entry_data(activity, households, **values):
    return {
        "date": timezone.localdate().isoformat(),
        "activity": activity.pk,
        "households": [h.pk for h in households],
        "participants": "3",
        "uuid": str(uuid.uuid4()),
        **values,
    }


def new_form(client, **query):
    return client.get(reverse("entry_new") + ("?" + urlencode(query) if query else ""))


def option_labels(response):
    """The households select's options, as the page lists them."""
    select = re.search(r'<select name="households".*?</select>', response.content.decode(), re.S)
    return re.findall(r"<option [^>]*>([^<]*)</option>", select.group(0))


class TestSaveAndAddAnother:
    def test_the_next_form_keeps_the_date_and_the_activity(self, client, world, visit, homes):
        client.force_login(world.member_a)
        data = entry_data(visit, homes[:1], date=YESTERDAY.isoformat(), next="add")

        response = client.post(reverse("entry_new"), data)

        assert response.status_code == 302
        form = client.get(response["Location"]).context["form"]
        assert form["date"].value() == YESTERDAY
        assert form["activity"].value() == visit.pk
        assert str(form["uuid"].value()) != data["uuid"]  # a second visit is a new entry

    def test_saving_the_next_form_adds_a_second_entry(self, client, world, visit, homes):
        client.force_login(world.member_a)
        first = client.post(reverse("entry_new"), entry_data(visit, homes[:1], next="add"))
        form = client.get(first["Location"]).context["form"]

        client.post(reverse("entry_new"), entry_data(visit, homes[1:2], uuid=form["uuid"].value()))

        assert Entry.objects.count() == 2


    def test_a_member_of_two_teams_keeps_the_team(self, client, world, visit, homes):
        second = TeamFactory(organisation=world.org)
        MembershipFactory(user=world.member_a, team=second)
        client.force_login(world.member_a)
        data = entry_data(visit, homes[:1], team=world.team_a.pk, next="add")

        response = client.post(reverse("entry_new"), data)

        assert client.get(response["Location"]).context["form"]["team"].value() == world.team_a.pk

    def test_a_team_not_ones_own_is_not_chosen_by_a_link(self, client, world, visit):
        MembershipFactory(user=world.member_a, team=TeamFactory(organisation=world.org))
        client.force_login(world.member_a)

        form = new_form(client, team=world.team_b.pk).context["form"]

        assert form["team"].value() is None


class TestDateOfANewForm:
    def test_a_date_in_the_link_is_the_forms_date(self, client, world, visit):
        client.force_login(world.member_a)

        form = new_form(client, activity=visit.code, date=YESTERDAY.isoformat()).context["form"]

        assert form["date"].value() == YESTERDAY
        assert form["activity"].value() == visit.pk

    @pytest.mark.parametrize("bad", ["2024-13-01", "yesterday", "2024-02-30", ""])
    def test_a_date_that_is_no_date_is_ignored(self, client, world, visit, bad):
        client.force_login(world.member_a)

        response = new_form(client, date=bad)

        assert response.status_code == 200
        assert response.context["form"]["date"].value() == timezone.localdate()


class TestRepeat:
    @pytest.fixture
    def original(self, world, visit, homes):
        return EntryFactory(team=world.team_a, activity=visit, households=homes[:2],
                            participants=6, title="走访", date=datetime.date(2017, 3, 1))

    def test_repeat_is_on_todays_date_and_offers_the_original_date(self, client, world, original):
        client.force_login(world.member_a)

        response = client.get(reverse("entry_copy", args=[original.pk]))

        form = response.context["form"]
        assert form["date"].value() == timezone.localdate()
        assert form["participants"].value() == 6
        same = reverse("entry_copy", args=[original.pk]) + "?date=same"
        assert f'href="{same}"' in response.content.decode()
        assert "2017-03-01" in response.content.decode()

    def test_repeat_on_the_same_date(self, client, world, original, homes):
        client.force_login(world.member_a)

        response = client.get(reverse("entry_copy", args=[original.pk]), {"date": "same"})

        form = response.context["form"]
        assert form["date"].value() == datetime.date(2017, 3, 1)
        assert set(form["households"].value()) == {homes[0].pk, homes[1].pk}
        assert f'href="{reverse("entry_copy", args=[original.pk])}"' in response.content.decode()

    def test_no_choice_for_an_entry_of_today(self, client, world, visit):
        entry = EntryFactory(team=world.team_a, activity=visit, date=timezone.localdate())
        client.force_login(world.member_a)

        response = client.get(reverse("entry_copy", args=[entry.pk]), {"date": "same"})

        assert response.context["form"]["date"].value() == timezone.localdate()
        assert 'class="copy-date"' not in response.content.decode()

    def test_each_notebook_row_repeats_its_entry(self, client, world, original):
        client.force_login(world.member_a)

        page = client.get(reverse("notebook")).content.decode()

        assert f'href="{reverse("entry_copy", args=[original.pk])}" class="entry-repeat"' in page

    def test_no_repeat_for_those_who_cannot_log(self, client, world, original):
        client.force_login(world.coordinator)

        page = client.get(reverse("notebook")).content.decode()

        assert original.title in page
        assert "entry-repeat" not in page


class TestHouseholdOrder:
    def test_households_are_offered_in_numeric_order(self, client, world, visit):
        for number in ("120", "2", "112", "12", "1"):
            HouseholdFactory(village=world.village_a, house_number=number)
        client.force_login(world.member_a)

        labels = option_labels(new_form(client))

        assert [label.split(" · ")[0] for label in labels] == ["1", "2", "12", "112", "120"]

    def test_the_village_is_named_when_the_form_offers_several(self, client, world, visit):
        MembershipFactory(user=world.member_a, team=TeamFactory(organisation=world.org))
        HouseholdFactory(village=world.village_a, house_number="12", head_name="王建华")
        client.force_login(world.member_a)

        labels = option_labels(new_form(client))

        assert labels == [f"12 · 王建华 · {world.village_a.name}"]

    def test_one_village_goes_unnamed(self, client, world, visit):
        HouseholdFactory(village=world.village_a, house_number="12", head_name="王建华")
        client.force_login(world.member_a)

        assert option_labels(new_form(client)) == ["12 · 王建华"]


def test_english_labels_start_with_a_capital(client, world, visit):
    client.force_login(world.member_a)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("entry_new")})

    html = new_form(client).content.decode()

    labels = [re.sub(r"<[^>]+>", "", label).strip() for label in re.findall(r'<label class="form-label"[^>]*>(.*?)</label>', html, re.S)]
    assert {"Date", "Activity", "Households", "Funds (yuan) (optional)"} <= set(labels)
    assert all(label[0].isupper() for label in labels)
