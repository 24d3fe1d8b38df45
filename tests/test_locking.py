"""Reported months: locking, amendments, and totals as reported and as corrected."""

import datetime
import uuid

import pytest
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from teams.models import Household
from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, IndicatorFactory
from worklog import tallies
from worklog.locking import lock_month
from worklog.models import Amendment, Entry, MonthLock
from worklog.totals import Scope, load_indicators, reported_year_totals, year_totals

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2017, 3, 10)


@pytest.fixture
def reported(world):
    visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
    IndicatorFactory(code="people", measure="participants", unit="人次", activities=[visit])
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    homes = [HouseholdFactory(village=world.village_a) for _ in range(3)]
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                         households=homes[:1], participants=10, date=MARCH)
    lock = lock_month(organisation=world.org, year=2017, month=3, user=world.coordinator)
    return {"visit": visit, "homes": homes, "entry": entry, "lock": lock}


def edit_data(entry, households, **values):
    data = {
        "date": entry.date.isoformat(), "activity": entry.activity.pk,
        "households": [h.pk for h in households], "participants": str(entry.participants),
        "sessions": "", "quantity": "", "funds": "", "title": entry.title, "notes": "",
        "version": str(entry.version),
    }
    data.update(values)
    return data


def totals(scope_totals):
    return {t.code: t.value for t in scope_totals}


def test_editing_a_locked_month_asks_for_a_reason_and_changes_nothing(client, world, reported):
    entry = reported["entry"]
    client.force_login(world.member_a)

    response = client.post(reverse("entry_edit", args=[entry.pk]),
                           edit_data(entry, reported["homes"][:1], participants="99"))

    assert response.status_code == 422
    assert response.context["form"].errors["reason"]
    entry.refresh_from_db()
    assert entry.participants == 10
    assert not Amendment.objects.exists()


def test_amendment_accepted_corrects_the_totals_and_keeps_the_reported_ones(client, world, reported):
    entry = reported["entry"]
    client.force_login(world.member_a)
    client.post(reverse("entry_edit", args=[entry.pk]), edit_data(
        entry, reported["homes"][:2], participants="25", reason="漏记了一户",
    ))
    amendment = Amendment.objects.get()
    assert (amendment.kind, amendment.status, amendment.reason) == ("change", "pending", "漏记了一户")
    entry.refresh_from_db()
    assert entry.participants == 10  # nothing changes before a coordinator decides

    client.force_login(world.member_a)
    assert client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "accept"}).status_code == 403
    client.force_login(world.coordinator)
    client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "accept"})

    entry.refresh_from_db()
    amendment.refresh_from_db()
    assert amendment.status == "accepted" and amendment.decided_by == world.coordinator
    assert entry.participants == 25 and entry.households.count() == 2
    scope = Scope("org", world.org)
    assert totals(year_totals(scope, 2017)) == {"people": 25, "households": 2}
    assert totals(reported_year_totals(scope, 2017, load_indicators())) == {"people": 10, "households": 1}
    assert tallies.differences() == []

    page = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug}).content.decode()
    assert 'data-reported="10"' in page


def test_new_entry_in_a_locked_month_becomes_an_amendment_once(client, world, reported):
    client.force_login(world.member_a)
    data = {
        "date": MARCH.isoformat(), "activity": reported["visit"].pk,
        "households": [reported["homes"][2].pk], "participants": "4", "uuid": str(uuid.uuid4()),
        "reason": "三月的走访补登",
    }

    first = client.post(reverse("entry_new"), data)
    again = client.post(reverse("entry_new"), data)

    assert first.status_code == again.status_code == 302
    amendment = Amendment.objects.get()
    assert amendment.kind == "create" and Entry.objects.count() == 1
    client.force_login(world.coordinator)
    client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "accept"})
    assert Entry.objects.count() == 2
    assert totals(year_totals(Scope("team", world.team_a), 2017))["people"] == 14


def test_deleting_in_a_locked_month_needs_a_reason_and_rejection_keeps_the_entry(client, world, reported):
    entry = reported["entry"]
    client.force_login(world.member_a)
    url = reverse("entry_delete", args=[entry.pk])

    assert client.post(url, {"version": entry.version}).status_code == 422
    client.post(url, {"version": entry.version, "reason": "重复记录"})
    amendment = Amendment.objects.get(kind="delete")
    client.force_login(world.coordinator)
    client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "reject", "note": "不是重复"})

    entry.refresh_from_db()
    assert entry.deleted_at is None
    assert Amendment.objects.get().status == "rejected"


def test_other_months_stay_open(client, world, reported):
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=reported["visit"],
                         households=reported["homes"][:1], participants=1, date=datetime.date(2017, 4, 1))
    client.force_login(world.member_a)

    response = client.post(reverse("entry_edit", args=[entry.pk]),
                           edit_data(entry, reported["homes"][:1], participants="2"))

    assert response.status_code == 302
    # and moving it into the locked month is refused
    entry.refresh_from_db()
    moved = client.post(reverse("entry_edit", args=[entry.pk]),
                        edit_data(entry, reported["homes"][:1], date=MARCH.isoformat()))
    assert moved.status_code == 422


def test_lock_page_for_coordinators_only(client, world, reported):
    client.force_login(world.member_a)
    assert client.get(reverse("locks")).status_code == 403
    client.force_login(world.outsider_coordinator)
    assert client.post(reverse("locks"), {"organisation": world.org.pk, "year": 2017, "month": 4}).status_code == 422
    client.force_login(world.coordinator)
    assert client.get(reverse("locks")).status_code == 200

    response = client.post(reverse("locks"), {"organisation": world.org.pk, "year": 2017, "month": 4})

    assert response.status_code == 302
    assert MonthLock.objects.filter(year=2017, month=4).exists()
    future = client.post(reverse("locks"), {"organisation": world.org.pk, "year": 2999, "month": 1})
    assert future.status_code == 422


def test_outsider_does_not_see_amendments(client, world, reported):
    entry = reported["entry"]
    client.force_login(world.member_a)
    client.post(reverse("entry_edit", args=[entry.pk]),
                edit_data(entry, reported["homes"][:1], participants="11", reason="更正"))
    amendment = Amendment.objects.get()

    for user in (world.member_b, world.outsider_coordinator):
        client.force_login(user)
        assert client.get(reverse("amendment_detail", args=[amendment.pk])).status_code == 404
        assert client.post(reverse("amendment_decide", args=[amendment.pk]), {"decision": "accept"}).status_code == 404


@pytest.mark.parametrize("neighbour", [False, True], ids=["alone", "with-a-neighbour-team"])
def test_reported_figures_stay_where_they_were_reported_when_a_team_moves(client, world, reported, neighbour):
    """Issue 11, point 16: a team moves to another village after its month was locked. The
    old village and its area keep the figures reported there (alone, they were lost; with
    another team still there, they were counted twice), and the new one gains none."""
    from tests.factories import TeamFactory, UserFactory

    if neighbour:
        stays = TeamFactory(organisation=world.other_org, village=world.village_a, slug="team-stays")
        EntryFactory(team=stays, activity=reported["visit"], households=reported["homes"][1:2],
                     participants=5, date=MARCH)
        lock_month(organisation=world.other_org, year=2017, month=3, user=world.coordinator)
    entry = reported["entry"]
    client.force_login(world.member_a)
    client.post(reverse("entry_edit", args=[entry.pk]), edit_data(
        entry, reported["homes"][:2], participants="25", reason="漏记了一户"))
    client.force_login(world.coordinator)
    client.post(reverse("amendment_decide", args=[Amendment.objects.get().pk]), {"decision": "accept"})
    scopes = [Scope("village", world.village_a), Scope("area", world.village_a.area),
              Scope("village", world.village_b), Scope("area", world.village_b.area),
              Scope("org", world.org)]

    def as_reported():
        return [totals(reported_year_totals(scope, 2017, load_indicators()) or year_totals(scope, 2017))
                for scope in scopes]

    before = as_reported()
    world.team_a.village = world.village_b
    world.team_a.save()

    assert as_reported() == before
    old_village = {"people": 10 + 5 * neighbour, "households": 1 + neighbour}
    assert before[0] == before[1] == old_village
    client.force_login(UserFactory(is_superuser=True))  # the village has no team of world.org now
    page = client.get(reverse("dashboard"), {"year": 2017, "village": world.village_a.slug}).content.decode()
    assert f'data-reported="{old_village["people"]}"' in page


def test_the_reason_asked_for_a_reported_month_is_marked_required(client, world, reported):
    """Issue 11, point 13: the reason is required in practice, so its label does not say
    "optional" (选填) and the field carries `required`."""
    client.force_login(world.member_a)

    response = client.post(reverse("entry_new"), {
        "date": MARCH.isoformat(), "activity": reported["visit"].pk,
        "households": [reported["homes"][2].pk], "participants": "4", "uuid": str(uuid.uuid4()),
    })

    assert response.status_code == 422
    page = response.content.decode()
    field = page[page.index('class="mb-3 field-reason"'):]
    field = field[:field.index("</textarea>")]
    assert "更正理由" in field and "选填" not in field
    assert " required" in field[field.index("<textarea"):]


def test_a_household_in_the_reported_figures_cannot_be_deleted(client, world, reported):
    """An accepted amendment takes the household off the entry, so no entry protects it
    any more; the figures handed in for March still count it, and still do after an
    attempt to delete it."""
    entry, home = reported["entry"], reported["homes"][0]
    client.force_login(world.member_a)
    client.post(reverse("entry_edit", args=[entry.pk]), edit_data(
        entry, reported["homes"][1:2], reason="记错了户"))
    client.force_login(world.coordinator)
    client.post(reverse("amendment_decide", args=[Amendment.objects.get().pk]), {"decision": "accept"})
    assert not home.entries.exists()

    with pytest.raises(ProtectedError):
        home.delete()

    scope = Scope("org", world.org)
    assert totals(reported_year_totals(scope, 2017, load_indicators())) == {"people": 10, "households": 1}
    assert Household.objects.filter(pk=home.pk).exists()


def test_the_menu_offers_the_coordinators_pages_with_the_amendments_waiting(client, world, reported):
    """Issue 15, point 6: a coordinator reaches the lock and amendment pages from the menu,
    which counts the amendments waiting for their decision; a member is not offered them."""
    entry = reported["entry"]
    client.force_login(world.member_a)
    client.post(reverse("entry_edit", args=[entry.pk]),
                edit_data(entry, reported["homes"][:1], participants="11", reason="更正"))
    assert Amendment.objects.filter(status=Amendment.Status.PENDING).count() == 1

    member_page = client.get(reverse("notebook")).content.decode()
    assert f'href="{reverse("locks")}"' not in member_page
    assert f'href="{reverse("amendment_list")}"' not in member_page

    client.force_login(world.coordinator)
    page = client.get(reverse("notebook")).content.decode()
    assert f'href="{reverse("locks")}"' in page
    assert "1项更正申请待您审批" in page

    client.force_login(world.outsider_coordinator)  # another organisation: nothing to decide
    page = client.get(reverse("notebook")).content.decode()
    assert f'href="{reverse("amendment_list")}"' in page
    assert "待您审批" not in page


@pytest.fixture
def new_year(monkeypatch):
    """15 January 2026: the last complete month is December of the year before."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return datetime.date(2026, 1, 15) if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


def test_the_lock_form_offers_the_last_complete_month_and_the_only_organisation(client, world, new_year):
    """Issue 15, point 6: a coordinator locks the month just finished, usually of their one
    organisation; one with several organisations still chooses."""
    client.force_login(world.outsider_coordinator)  # one organisation
    form = client.get(reverse("locks")).context["form"]
    assert (form["year"].value(), form["month"].value()) == (2025, 12)
    assert form["organisation"].value() == world.other_org.pk
    assert f'<option value="{world.other_org.pk}" selected>' in str(form["organisation"])

    client.force_login(world.coordinator)  # the division and its regiment
    form = client.get(reverse("locks")).context["form"]
    assert form["organisation"].value() is None
    assert (form["year"].value(), form["month"].value()) == (2025, 12)


@pytest.mark.parametrize("moved", [False, True], ids=["in-place", "team-moved"])
def test_the_dashboards_lock_check_written_out_finds_what_the_scope_filters_find(world, reported, moved):
    """The organisation and area dashboards ask whether a month of the scope is locked, or
    the scope has figures reported, by a plain statement copying the scope's team and entry
    filters: it answers as they do for every organisation and area and year, also once the
    locked team has moved to another village (its reported rows stay where they were)."""
    from teams.models import Area, Organisation
    from worklog.totals.reported import _locked_or_reported, _locked_or_reported_by_orm

    if moved:
        world.team_a.village = world.village_b
        world.team_a.save()
    answers = set()
    for scope in [Scope("org", org) for org in Organisation.objects.all()] + [
            Scope("area", area) for area in Area.objects.all()]:
        for year in (2016, 2017):
            answer = _locked_or_reported(scope, year)
            assert answer == _locked_or_reported_by_orm(scope, year), (scope, year)
            answers.add(answer)
    assert answers == {True, False}
