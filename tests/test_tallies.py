"""The tallies stay an exact recount of the raw entries, whatever happens to entries."""

import datetime
import uuid
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from teams.models import Area, Household, Organisation, Team, Village
from worklog import tallies
from worklog.models import Activity, Entry, Indicator, Tally
from worklog.services import (
    entry_create,
    entry_restore,
    entry_soft_delete,
    entry_update,
)
from worklog.totals import (
    IndicatorTotal,
    Scope,
    dashboard_totals,
    grouped_totals,
    indicator_totals,
    load_indicators,
    recount_year_totals,
    scope_entries,
    year_over_year,
    year_totals,
)

YEARS = (2017, 2018)

operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 3),  # team
        st.integers(0, 2),  # activity
        st.sampled_from(YEARS),
        st.integers(1, 12),
        st.lists(st.integers(0, 3), max_size=3, unique=True),  # households
        st.integers(0, 50),
        st.decimals(min_value=0, max_value=10000, places=2, allow_nan=False),
    ),
    st.tuples(st.just("edit"), st.integers(0, 30), st.integers(0, 2), st.integers(1, 12),
              st.integers(0, 50), st.lists(st.integers(0, 3), max_size=3, unique=True)),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("restore"), st.integers(0, 30)),
)


class TalliesEqualRecounts(TestCase):
    @classmethod
    def setUpTestData(cls):
        region = Area.objects.create(name="区", slug="region", kind="region")
        county = Area.objects.create(name="县", slug="county", kind="county", parent=region)
        division = Organisation.objects.create(name="师", slug="division")
        regiment = Organisation.objects.create(name="团", slug="regiment", parent=division)
        other = Organisation.objects.create(name="别的", slug="other")
        cls.teams = []
        for index, (org, area) in enumerate([(division, county), (regiment, region), (other, county)]):
            village = Village.objects.create(name=f"村{index}", slug=f"v{index}", area=area)
            cls.teams.append(Team.objects.create(
                name=f"队{index}", slug=f"t{index}", organisation=org, village=village,
                starts_on=datetime.date(2017, 1, 1),
            ))
            for number in range(4):
                Household.objects.create(village=village, house_number=str(number), head_name="户主")
        # A second team in the first village, from the sub-organisation: the same households
        # reached by two teams of the division count once in its distinct households.
        cls.teams.append(Team.objects.create(
            name="队3", slug="t3", organisation=regiment, village=cls.teams[0].village,
            starts_on=datetime.date(2017, 1, 1),
        ))
        cls.activities = [
            Activity.objects.create(code="visit", name="visit", uses_households=True,
                                    uses_participants=True),
            Activity.objects.create(code="training", name="training", uses_households=True,
                                    uses_participants=True, uses_sessions=True),
            Activity.objects.create(code="project", name="project", uses_quantity=True,
                                    uses_funds=True),
        ]
        visit, training, project = cls.activities
        for code, measure, activities in [
            ("entries", "entries", [visit, training]), ("visits", "household_visits", [visit]),
            ("households", "households", [visit, training]), ("visited", "households", [visit]),
            ("trained", "households", [training]), ("people", "participants", [training]),
            ("sessions", "sessions", [training]), ("quantity", "quantity", [project]),
            ("funds", "funds", [project]),
        ]:
            Indicator.objects.create(code=code, label_zh=code, unit="个", measure=measure).activities.set(activities)
        cls.scopes = [Scope("all")] + [Scope("org", o) for o in (division, regiment, other)] + [
            Scope("area", region), Scope("area", county)
        ] + [Scope("team", t) for t in cls.teams] + [Scope("village", t.village) for t in cls.teams]

    def households_of(self, team, picks):
        homes = list(Household.objects.filter(village=team.village).order_by("house_number"))
        return [homes[i] for i in picks]

    def as_recorded(self, activity, team, picks, people, funds):
        """The operation's values as an entry of `activity` carries them (the services
        refuse any other): the figures it records, and households only when it records
        them, then at least one."""
        used = activity.measures_used()
        figures = {"participants": people, "sessions": people % 3, "quantity": people % 5,
                   "funds": funds}
        return {
            "activity": activity,
            "households": self.households_of(team, picks or [0]) if "households" in used else [],
            **{name: value if name in used else 0 for name, value in figures.items()},
        }

    def run_operation(self, op):
        entries = list(Entry.objects.order_by("pk"))
        kind = op[0]
        if kind == "create":
            _, team, activity, year, month, picks, people, funds = op
            team = self.teams[team]
            entry_create(
                uuid=uuid.uuid4(), team=team, author=None, date=datetime.date(year, month, 1),
                **self.as_recorded(self.activities[activity], team, picks, people, funds),
            )
        elif entries:
            entry = entries[op[1] % len(entries)]
            if kind == "edit":
                _, _, activity, month, people, picks = op
                entry_update(
                    entry=entry, version=entry.version, editor=None,
                    date=entry.date.replace(month=month),
                    **self.as_recorded(self.activities[activity], entry.team, picks, people,
                                       entry.funds),
                )
            elif kind == "delete":
                entry_soft_delete(entry=entry, user=None)
            elif kind == "restore":
                entry_restore(entry=entry, user=None)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operation, min_size=1, max_size=25))
    def test_every_indicator_of_every_scope_and_year_equals_a_recount(self, operations):
        for op in operations:
            self.run_operation(op)

        for scope in self.scopes:
            for year in YEARS:
                from_tallies = [(t.code, t.value) for t in year_totals(scope, year)]
                recounted = [(t.code, t.value) for t in recount_year_totals(scope, year)]
                assert from_tallies == recounted, (scope, year)
        assert tallies.differences() == []
        self.assert_dashboard_figures_equal_recounts()
        self.assert_breakdowns_equal_recounts()

    def assert_dashboard_figures_equal_recounts(self):
        indicators = load_indicators()
        for scope in self.scopes:
            this, last, months = year_over_year(scope, 2018, indicators)
            assert this == recount_year_totals(scope, 2018, indicators)
            assert last == recount_year_totals(scope, 2017, indicators)
        for scope in [Scope("all")] + [scope for scope in self.scopes if scope.kind in ("org", "area")]:
            _this, _last, months = year_over_year(scope, 2018, indicators)
            for month in range(1, 13):
                recounted = indicator_totals(scope_entries(scope, 2018).filter(date__month=month), indicators)
                shown = months.get(month) or [IndicatorTotal(t.indicator, 0 * t.value) for t in recounted]
                assert [t.value for t in shown] == [t.value for t in recounted], (scope, month)

    def assert_breakdowns_equal_recounts(self):
        """An organisation's or area's breakdown: each child node's subtree, and the teams
        or villages right at the node."""
        indicators = load_indicators()
        for scope in [scope for scope in self.scopes if scope.kind in ("org", "area")]:
            node = "team__organisation" if scope.kind == "org" else "village__area"
            shown = grouped_totals(scope, 2018, indicators, by="child")
            for path, totals in shown.items():
                entries = scope_entries(Scope("all"), 2018)
                if path == scope.obj.path:
                    entries = entries.filter(**{node: scope.obj})
                else:
                    entries = entries.filter(**{f"{node}__path__startswith": path})
                assert totals == indicator_totals(entries, indicators), (scope, path)
            # The dashboard's combined read gives the same figures as the two it replaces.
            this, last, months = year_over_year(scope, 2018, indicators)
            combined = dashboard_totals(scope, 2018, indicators)
            assert (combined.this_year, combined.last_year) == (this, last), scope
            assert combined.by_child == shown, scope
            for month in range(1, 13):
                zeros = [IndicatorTotal(t.indicator, 0 * t.value) for t in this]
                assert combined.by_month.get(month, zeros) == months.get(month, zeros), (scope, month)


class VerifyCommand(TestCase):
    def test_verify_reports_a_drifted_tally_and_rebuild_mends_it(self):
        area = Area.objects.create(name="区", slug="r", kind="region")
        org = Organisation.objects.create(name="师", slug="d")
        village = Village.objects.create(name="村", slug="v", area=area)
        team = Team.objects.create(name="队", slug="t", organisation=org, village=village,
                                   starts_on=datetime.date(2017, 1, 1))
        project = Activity.objects.create(code="project", name="项目", uses_funds=True)
        entry_create(uuid=uuid.uuid4(), team=team, author=None,
                     date=datetime.date(2017, 5, 5), activity=project, funds=Decimal("10.50"))
        call_command("totals", "--verify", stdout=StringIO())  # exact: no error

        Tally.objects.update(funds=Decimal("11.00"))  # a drift, as a bypassed write would make

        with self.assertRaisesMessage(Exception, "1 difference"):
            call_command("totals", "--verify", stdout=StringIO())
        call_command("totals", "--rebuild", stdout=StringIO())
        assert tallies.differences() == []
        assert Tally.objects.get().funds == Decimal("10.50")
