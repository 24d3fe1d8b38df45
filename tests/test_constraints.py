"""Rules the database enforces even when a form is bypassed (DESIGN §4)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from teams.models import HOUSEHOLD_NOTES_MAX_LENGTH, HOUSEHOLD_SIZE_MAX, Household

from tests.factories import (
    EntryFactory,
    HouseholdFactory,
    MembershipFactory,
    TeamFactory,
)
from worklog.models import Entry

pytestmark = pytest.mark.django_db


def refused(action):
    with pytest.raises(IntegrityError), transaction.atomic():
        action()


def below_the_app(entry):
    """The entry through Django's plain manager: `Entry.objects` refuses to update what the
    tallies count before the database is asked (tests/test_drift.py)."""
    return Entry._base_manager.filter(pk=entry.pk)


@pytest.mark.parametrize("field", ["participants", "sessions", "quantity"])
def test_negative_count_is_refused(field):
    entry = EntryFactory()

    refused(lambda: below_the_app(entry).update(**{field: -1}))

    entry.refresh_from_db()
    assert getattr(entry, field) == 0


def test_negative_funds_are_refused():
    entry = EntryFactory(funds=Decimal("10.00"))

    refused(lambda: below_the_app(entry).update(funds=Decimal("-0.01")))

    entry.refresh_from_db()
    assert entry.funds == Decimal("10.00")


def test_second_household_with_the_same_number_in_a_village_is_refused():
    first = HouseholdFactory(house_number="7")

    refused(lambda: HouseholdFactory(village=first.village, house_number="7"))

    assert HouseholdFactory(house_number="7").village != first.village  # other villages may


def test_second_entry_with_the_same_uuid_is_refused():
    first = EntryFactory()
    copy = {f.attname: getattr(first, f.attname) for f in Entry._meta.concrete_fields if f.name != "id"}

    refused(lambda: Entry.objects.create(**copy))  # bypassing the notebook's service

    assert Entry.objects.filter(uuid=first.uuid).count() == 1


def test_second_membership_of_a_user_in_a_team_is_refused():
    membership = MembershipFactory()

    refused(lambda: MembershipFactory(user=membership.user, team=membership.team))


def test_team_cannot_end_before_it_starts():
    team = TeamFactory()

    refused(lambda: TeamFactory(starts_on=team.starts_on, ends_on=team.starts_on.replace(year=2016)))


@pytest.mark.parametrize("field, value", [
    ("size", HOUSEHOLD_SIZE_MAX + 1),
    ("size", 1_000),
    ("notes", "n" * (HOUSEHOLD_NOTES_MAX_LENGTH + 1)),
])
def test_household_beyond_the_limits_is_refused(field, value):
    household = HouseholdFactory()

    refused(lambda: Household.objects.filter(pk=household.pk).update(**{field: value}))
    refused(lambda: Household.objects.bulk_create(
        [Household(village=household.village, house_number="new", head_name="户主", **{field: value})]
    ))

    household.refresh_from_db()
    assert getattr(household, field) != value
    assert Household.objects.count() == 1


def test_household_at_the_limits_is_stored():
    household = HouseholdFactory(size=HOUSEHOLD_SIZE_MAX, notes="n" * HOUSEHOLD_NOTES_MAX_LENGTH)

    household.refresh_from_db()
    assert (household.size, len(household.notes)) == (HOUSEHOLD_SIZE_MAX, HOUSEHOLD_NOTES_MAX_LENGTH)
