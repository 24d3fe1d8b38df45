"""Factories for real database objects, and `World`: a small programme to test against."""

import datetime
import uuid as uuid_module
from dataclasses import dataclass
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from teams.models import (
    Area,
    CoordinatorScope,
    Household,
    Membership,
    Organisation,
    Team,
    Village,
)
from worklog.models import Activity, Entry, Indicator
from worklog.services import entry_create, entry_soft_delete

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"派出单位{n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"地区{n}")
    slug = factory.Sequence(lambda n: f"area-{n}")
    kind = Area.Kind.TOWNSHIP


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    name = factory.Sequence(lambda n: f"村{n}")
    slug = factory.Sequence(lambda n: f"village-{n}")
    area = factory.SubFactory(AreaFactory)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"工作队{n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    village = factory.SubFactory(VillageFactory)
    starts_on = datetime.date(2017, 1, 1)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Membership.Role.MEMBER
    joined_on = datetime.date(2017, 1, 1)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    village = factory.SubFactory(VillageFactory)
    house_number = factory.Sequence(lambda n: str(n + 1))
    head_name = factory.Sequence(lambda n: f"户主{n}")
    size = 4


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"activity-{n}")
    name = factory.Sequence(lambda n: f"活动{n}")


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"indicator-{n}")
    label_zh = factory.Sequence(lambda n: f"指标{n}")
    unit = "个"
    measure = "entries"
    order = factory.Sequence(lambda n: n)

    @factory.post_generation
    def activities(self, create, extracted, **kwargs):
        if create and extracted:
            self.activities.set(extracted)


def _records_given(measure):
    """For the default activity of an EntryFactory: it records `measure` when the entry
    gives it."""
    return factory.LazyAttribute(lambda activity: bool(getattr(activity.factory_parent, measure)))


class EntryFactory(factory.django.DjangoModelFactory):
    """Entries made through the notebook's own service, so the rules hold and the tallies
    stay exact. Valid by default: the activity made for it records exactly the figures
    given, and an entry of an activity that records households, given none, visits a new
    household of its team's village. A row that breaks the rules on purpose is written
    below the services, by the test that needs it."""

    class Meta:
        model = Entry

    team = factory.SubFactory(TeamFactory)
    date = datetime.date(2017, 6, 1)
    participants = 0
    sessions = 0
    quantity = 0
    funds = Decimal("0.00")
    households = factory.LazyFunction(list)
    activity = factory.SubFactory(
        ActivityFactory, **{f"uses_{measure}": _records_given(measure) for measure in
                            ("households", "participants", "sessions", "quantity", "funds")},
    )

    @classmethod
    def _create(cls, model_class, *, uuid=None, deleted_at=None, author=None, **values):
        if not values["households"] and values["activity"].uses_households:
            values["households"] = [HouseholdFactory(village=values["team"].village)]
        entry, _ = entry_create(uuid=uuid or uuid_module.uuid4(), author=author, **values)
        if deleted_at is not None:
            entry = entry_soft_delete(entry=entry, user=None)
        return entry


@dataclass
class World:
    org: Organisation
    other_org: Organisation
    team_a: Team
    team_b: Team
    village_a: Village
    village_b: Village
    leader_a: object
    member_a: object
    member_b: object
    coordinator: object
    outsider_coordinator: object

    @classmethod
    def build(cls):
        org = OrganisationFactory(name="第八师", slug="division")
        department = OrganisationFactory(name="某团", slug="regiment", parent=org)
        other_org = OrganisationFactory(name="别的师", slug="other-division")
        team_a = TeamFactory(organisation=org, slug="team-a", village__slug="village-a")
        team_b = TeamFactory(organisation=department, slug="team-b", village__slug="village-b")
        leader_a = UserFactory(username="leader_a")
        member_a = UserFactory(username="member_a")
        member_b = UserFactory(username="member_b")
        MembershipFactory(user=leader_a, team=team_a, role=Membership.Role.LEADER)
        MembershipFactory(user=member_a, team=team_a)
        MembershipFactory(user=member_b, team=team_b)
        coordinator = UserFactory(username="coordinator")
        CoordinatorScope.objects.create(user=coordinator, organisation=org)
        outsider = UserFactory(username="outsider_coordinator")
        CoordinatorScope.objects.create(user=outsider, organisation=other_org)
        return cls(
            org=org,
            other_org=other_org,
            team_a=team_a,
            team_b=team_b,
            village_a=team_a.village,
            village_b=team_b.village,
            leader_a=leader_a,
            member_a=member_a,
            member_b=member_b,
            coordinator=coordinator,
            outsider_coordinator=outsider,
        )
