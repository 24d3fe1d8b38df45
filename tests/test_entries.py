"""One entry's pages: new, copy, detail, edit, delete, restore (DESIGN §7, issue 3)."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    MembershipFactory,
    TeamFactory,
)
from worklog.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit():
    return ActivityFactory(
        code="policy_visit", name="入户宣讲", name_en="Policy visit",
        uses_households=True, uses_participants=True,
    )


@pytest.fixture
def project():
    return ActivityFactory(code="project", name="惠民项目", uses_funds=True)


def entry_data(activity, households=(), **values):
    data = {
        "date": timezone.localdate().isoformat(),
        "activity": activity.pk,
        "households": [h.pk for h in households],
        "participants": "",
        "sessions": "",
        "quantity": "",
        "funds": "",
        "title": "入户宣讲惠民政策",
        "notes": "",
        "uuid": str(uuid.uuid4()),
    }
    data.update(values)
    return data


def post_new(client, data):
    return client.post(reverse("entry_new"), data)


class TestNewEntry:
    def test_member_logs_a_visit_to_two_households(self, client, world, visit, homes):
        client.force_login(world.member_a)

        response = post_new(client, entry_data(visit, homes[:2], participants="7"))

        entry = Entry.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("entry_detail", args=[entry.pk])
        assert (entry.team, entry.village, entry.author) == (world.team_a, world.village_a, world.member_a)
        assert set(entry.households.all()) == set(homes[:2])
        assert entry.participants == 7

    def test_form_opens_with_todays_date_and_a_fresh_uuid(self, client, world, visit):
        client.force_login(world.member_a)

        first = client.get(reverse("entry_new"))
        second = client.get(reverse("entry_new"))

        assert first.status_code == 200
        assert first.context["form"]["date"].value() == timezone.localdate()
        assert "team" not in first.context["form"].fields  # one current team: not asked
        assert first.context["form"]["uuid"].value() != second.context["form"]["uuid"].value()

    def test_double_submit_creates_one_entry_and_lands_on_it(self, client, world, visit, homes):
        client.force_login(world.member_a)
        data = entry_data(visit, homes[:1], participants="3")

        first = post_new(client, data)
        again = post_new(client, data)

        assert Entry.objects.count() == 1
        assert again.status_code == 302
        assert again["Location"] == first["Location"]

    def test_uuid_of_another_teams_entry_is_refused_without_revealing_it(
        self, client, world, visit, homes
    ):
        theirs = EntryFactory(team=world.team_b, activity=visit, title="secret title")
        client.force_login(world.member_a)

        response = post_new(client, entry_data(visit, homes[:1], participants="2", uuid=str(theirs.uuid)))

        assert response.status_code == 422
        assert "secret title" not in response.content.decode()
        assert Entry.objects.count() == 1

    @pytest.mark.parametrize(
        "field, value",
        [
            ("participants", "-1"),
            ("participants", "99999999999"),
            ("participants", "three"),
            ("date", (timezone.localdate() + datetime.timedelta(days=1)).isoformat()),
            ("date", "2016-12-31"),  # before the team's deployment
            ("date", "31/12/2017"),
        ],
    )
    def test_bad_input_rerenders_with_the_message_next_to_the_field(
        self, client, world, visit, homes, field, value
    ):
        client.force_login(world.member_a)

        response = post_new(client, entry_data(visit, homes[:1], **{"participants": "2", field: value}))

        assert response.status_code == 422
        assert response.context["form"].errors[field]
        assert f'id="id_{field}_error"' in response.content.decode()
        assert Entry.objects.count() == 0

    def test_funds_with_three_decimals_are_refused(self, client, world, project):
        client.force_login(world.member_a)

        response = post_new(client, entry_data(project, funds="100.005"))

        assert response.status_code == 422
        assert "funds" in response.context["form"].errors
        assert Entry.objects.count() == 0

    def test_funds_are_kept_exactly(self, client, world, project):
        client.force_login(world.member_a)

        post_new(client, entry_data(project, funds="1234567.89"))

        assert Entry.objects.get().funds == Decimal("1234567.89")

    def test_household_of_another_village_or_unknown_is_refused(self, client, world, visit, homes):
        stranger = HouseholdFactory(village=world.village_b)
        client.force_login(world.member_a)

        for households in ([stranger.pk], [homes[0].pk, 999999], ["x"]):
            data = entry_data(visit, participants="2")
            data["households"] = households
            response = post_new(client, data)
            assert response.status_code == 422
            assert response.context["form"].errors["households"]
        assert Entry.objects.count() == 0

    def test_messages_follow_the_active_language(self, client, world, visit, homes):
        client.force_login(world.member_a)
        tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

        chinese = post_new(client, entry_data(visit, homes[:1], date=tomorrow))
        client.cookies["django_language"] = "en"
        english = post_new(client, entry_data(visit, homes[:1], date=tomorrow))

        assert "The date cannot be in the future." in english.content.decode()
        assert "The date cannot be in the future." not in chinese.content.decode()

    def test_measure_the_activity_does_not_record_is_refused(self, client, world, project):
        client.force_login(world.member_a)

        response = post_new(client, entry_data(project, participants="40"))

        assert response.status_code == 422
        assert response.context["form"].errors["participants"]

    def test_member_of_two_teams_chooses_the_team(self, client, world, visit):
        second = TeamFactory(organisation=world.org)
        MembershipFactory(user=world.member_a, team=second)
        home = HouseholdFactory(village=second.village)
        client.force_login(world.member_a)

        without = post_new(client, entry_data(visit, [home], participants="1"))
        chosen = post_new(client, entry_data(visit, [home], participants="1", team=second.pk))

        assert without.status_code == 422 and without.context["form"].errors["team"]
        assert chosen.status_code == 302
        assert Entry.objects.get().team == second

    def test_a_team_not_ones_own_cannot_be_chosen(self, client, world, visit):
        MembershipFactory(user=world.member_a, team=TeamFactory(organisation=world.org))
        client.force_login(world.member_a)

        response = post_new(client, entry_data(visit, participants="1", team=world.team_b.pk))

        assert response.status_code == 422
        assert Entry.objects.count() == 0

    def test_coordinator_without_team_cannot_log(self, client, world, visit):
        client.force_login(world.coordinator)

        assert client.get(reverse("entry_new")).status_code == 403

    def test_left_member_cannot_log(self, client, world, visit):
        world.team_a.memberships.filter(user=world.member_a).update(
            left_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        client.force_login(world.member_a)

        assert client.get(reverse("entry_new")).status_code == 403

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(reverse("entry_new"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_wrong_method(self, client, world):
        client.force_login(world.member_a)

        assert client.put(reverse("entry_new")).status_code == 405


class TestEntryDetail:
    def test_team_member_sees_it_with_escaped_text(self, client, world, visit, homes):
        entry = EntryFactory(
            team=world.team_a, activity=visit, households=homes[:1],
            title="<script>alert(1)</script>", notes="ئابدۇرېھىم · Әсел · 阿依古丽",
        )
        client.force_login(world.member_a)

        page = client.get(reverse("entry_detail", args=[entry.pk])).content.decode()

        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page
        assert "ئابدۇرېھىم · Әсел · 阿依古丽" in page

    @pytest.mark.parametrize("who", ["member_b", "outsider_coordinator"])
    def test_outsiders_get_404(self, client, world, visit, who):
        entry = EntryFactory(team=world.team_a, activity=visit)
        client.force_login(getattr(world, who))

        for name in ("entry_detail", "entry_edit", "entry_copy", "entry_delete"):
            assert client.get(reverse(name, args=[entry.pk])).status_code == 404

    def test_coordinator_sees_but_cannot_edit(self, client, world, visit):
        entry = EntryFactory(team=world.team_a, activity=visit)
        client.force_login(world.coordinator)

        assert client.get(reverse("entry_detail", args=[entry.pk])).status_code == 200
        assert client.get(reverse("entry_edit", args=[entry.pk])).status_code == 403

    def test_wrong_method(self, client, world, visit):
        entry = EntryFactory(team=world.team_a, activity=visit)
        client.force_login(world.member_a)

        assert client.post(reverse("entry_detail", args=[entry.pk])).status_code == 405


class TestEditEntry:
    def edit(self, client, entry, **values):
        data = entry_data(entry.activity, entry.households.all(), participants=str(entry.participants))
        data.pop("uuid")
        data.update(date=entry.date.isoformat(), version=str(entry.version), **values)
        return client.post(reverse("entry_edit", args=[entry.pk]), data)

    def test_author_edits_own_entry(self, client, world, visit, homes):
        entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                             households=homes[:1], participants=2)
        client.force_login(world.member_a)

        response = self.edit(client, entry, participants="5")

        entry.refresh_from_db()
        assert response.status_code == 302
        assert (entry.participants, entry.version) == (5, 2)

    def test_member_cannot_edit_someone_elses_entry_but_leader_can(self, client, world, visit, homes):
        entry = EntryFactory(team=world.team_a, author=world.leader_a, activity=visit,
                             households=homes[:1], participants=2)
        client.force_login(world.member_a)
        assert self.edit(client, entry, participants="9").status_code == 403

        mine = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                            households=homes[:1], participants=2)
        client.force_login(world.leader_a)
        assert self.edit(client, mine, participants="9").status_code == 302
        mine.refresh_from_db()
        assert mine.participants == 9

    def test_stale_edit_is_refused_and_shows_the_other_change(self, client, world, visit, homes):
        entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                             households=homes[:1], participants=2)
        client.force_login(world.leader_a)
        assert self.edit(client, entry, participants="40", title="领导改的").status_code == 302
        client.force_login(world.member_a)

        response = self.edit(client, entry, participants="3")  # still carries version 1

        entry.refresh_from_db()
        assert response.status_code == 409
        assert (entry.participants, entry.title) == (40, "领导改的")
        page = response.content.decode()
        assert "领导改的" in page and "leader_a" in page

    def test_conflict_page_can_save_my_version_over_theirs(self, client, world, visit, homes):
        entry = EntryFactory(team=world.team_a, author=world.leader_a, activity=visit,
                             households=homes[:1], participants=2)
        client.force_login(world.leader_a)
        self.edit(client, entry, participants="40")
        conflict = self.edit(client, entry, participants="3")

        resubmit = dict(conflict.context["resubmit"])
        assert resubmit["version"] == 2
        response = client.post(reverse("entry_edit", args=[entry.pk]), {
            **{name: value for name, value in conflict.context["resubmit"] if name != "households"},
            "households": [value for name, value in conflict.context["resubmit"] if name == "households"],
        })

        entry.refresh_from_db()
        assert response.status_code == 302
        assert (entry.participants, entry.version) == (3, 3)


class TestDeleteAndRestore:
    def test_delete_asks_then_soft_deletes_and_leader_restores(self, client, world, visit, homes):
        entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit, households=homes[:1])
        client.force_login(world.member_a)
        url = reverse("entry_delete", args=[entry.pk])

        assert "entry_confirm_delete" in client.get(url).templates[0].name
        response = client.post(url, {"version": entry.version})
        entry.refresh_from_db()
        assert response.status_code == 302
        assert entry.deleted_at is not None and entry.deleted_by == world.member_a

        restore = reverse("entry_restore", args=[entry.pk])
        assert client.post(restore).status_code == 403  # members cannot restore
        client.force_login(world.leader_a)
        assert client.post(restore).status_code == 302
        entry.refresh_from_db()
        assert entry.deleted_at is None
        assert client.get(restore).status_code == 405

    def test_deleted_entry_cannot_be_edited(self, client, world, visit):
        entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                             deleted_at=timezone.now())
        client.force_login(world.member_a)

        assert client.get(reverse("entry_edit", args=[entry.pk])).status_code == 403


class TestCopy:
    def test_copy_prefills_a_new_form_with_today_and_a_new_uuid(self, client, world, visit, homes):
        entry = EntryFactory(team=world.team_a, activity=visit, households=homes[:2],
                             participants=6, title="走访", date=datetime.date(2017, 3, 1))
        client.force_login(world.member_a)

        form = client.get(reverse("entry_copy", args=[entry.pk])).context["form"]

        assert form["date"].value() == timezone.localdate()
        assert form["participants"].value() == 6
        assert set(form["households"].value()) == {homes[0].pk, homes[1].pk}
        assert form["uuid"].value() != entry.uuid


class TestHistory:
    def test_leader_and_coordinator_see_who_changed_what_members_do_not(self, client, world, visit, homes):
        entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                             households=homes[:1], participants=2)
        client.force_login(world.member_a)
        client.post(reverse("entry_edit", args=[entry.pk]), {
            **entry_data(visit, homes[:1], participants="7"), "date": entry.date.isoformat(),
            "version": "1",
        })

        for user in (world.leader_a, world.coordinator):
            client.force_login(user)
            page = client.get(reverse("entry_detail", args=[entry.pk]))
            revisions = page.context["revisions"]
            assert revisions[0].who == world.member_a
            assert any(c.old == "2" and c.new == "7" for c in revisions[0].changes)
        client.force_login(world.member_a)
        assert client.get(reverse("entry_detail", args=[entry.pk])).context["revisions"] is None
