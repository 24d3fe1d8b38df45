"""Hostile input: random strings, huge numbers, odd Unicode, markup in text fields.

The app answers with a page or a refusal — never a 500 — and stores nothing invalid.
"""

import csv
import datetime
import io
import tempfile
from decimal import Decimal

from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.django import TestCase

from teams.models import Household
from tests.factories import ActivityFactory, HouseholdFactory, World
from worklog.forms import MAX_COUNT
from worklog.models import Entry

ANSWERS = {200, 302, 400, 403, 404, 405, 409, 422}
NASTY = [
    "", " ", "0", "-1", "1e309", "NaN", "Infinity", "99999999999999999999", "1.005", "١٢",
    "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "=cmd|' /C calc'!A0",
    "\x00", "\u202e", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ئابدۇرېھىم", "Әсел", "2017-02-30", "9999-12-31",
    "0000-00-00", "../../etc/passwd", "%00", "' OR 1=1 --", "1;DROP TABLE x",
]
value = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=300),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class FuzzBase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.world = World.build()
        cls.visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
        cls.project = ActivityFactory(code="project", uses_funds=True)
        cls.homes = [HouseholdFactory(village=cls.world.village_a) for _ in range(3)]

    def client_for(self, user):
        client = Client()
        client.force_login(user)
        return client

    def assert_nothing_invalid_stored(self):
        today = timezone.localdate()
        for entry in Entry.objects.prefetch_related("households"):
            assert entry.date <= today and entry.team.is_deployed_on(entry.date)
            assert 0 <= entry.participants <= MAX_COUNT and 0 <= entry.quantity <= MAX_COUNT
            assert entry.funds >= 0 and entry.funds == entry.funds.quantize(Decimal("0.01"))
            assert all(h.village_id == entry.village_id for h in entry.households.all())
        for household in Household.objects.all():
            assert household.house_number.strip() and household.head_name.strip()


class FuzzEntryForm(FuzzBase):
    @SETTINGS
    @given(
        st.fixed_dictionaries({
            "date": st.one_of(value, st.dates(datetime.date(2016, 1, 1), datetime.date(2030, 1, 1)).map(str)),
            "activity": st.one_of(value, st.sampled_from(["visit", "project"])),
            "households": st.lists(st.one_of(value, st.sampled_from(["home0", "home1", "home2"])), max_size=4),
            "participants": value, "sessions": value, "quantity": value, "funds": value,
            "title": value, "notes": value, "uuid": st.one_of(value, st.uuids().map(str)),
        })
    )
    def test_entry_form_never_fails_and_stores_nothing_invalid(self, data):
        activities = {"visit": self.visit.pk, "project": self.project.pk}
        homes = {f"home{i}": home.pk for i, home in enumerate(self.homes)}
        data["activity"] = activities.get(data["activity"], data["activity"])
        data["households"] = [homes.get(h, h) for h in data["households"]]
        data = {k: (v.replace("\x00", "") if isinstance(v, str) else v) for k, v in data.items()}

        response = self.client_for(self.world.member_a).post(reverse("entry_new"), data)

        assert response.status_code in ANSWERS
        self.assert_nothing_invalid_stored()


class FuzzHouseholdForm(FuzzBase):
    @SETTINGS
    @given(st.fixed_dictionaries({
        "house_number": value, "head_name": value, "size": value, "phone": value,
        "notes": value, "tags": st.lists(value, max_size=2),
    }))
    def test_household_form_never_fails_and_stores_nothing_invalid(self, data):
        data = {k: (v.replace("\x00", "") if isinstance(v, str) else v) for k, v in data.items()}

        response = self.client_for(self.world.leader_a).post(reverse("household_new"), data)

        assert response.status_code in ANSWERS
        self.assert_nothing_invalid_stored()


class FuzzQueries(FuzzBase):
    @SETTINGS
    @given(st.dictionaries(
        st.sampled_from(["year", "org", "team", "village", "area", "indicator", "activity",
                         "date_from", "date_to", "q", "household", "author", "deleted", "page",
                         "sort", "_export", "scope"]),
        value, max_size=5,
    ))
    def test_list_and_dashboard_parameters_never_fail(self, params):
        params = {k: v.replace("\x00", "") for k, v in params.items()}
        client = self.client_for(self.world.coordinator)

        for name in ("notebook", "dashboard", "household_list", "api_totals"):
            response = client.get(reverse(name), params)
            assert response.status_code in ANSWERS, (name, params)


IMPORT_COLUMNS = ["date", "team", "village", "activity", "households", "participants",
                  "sessions", "quantity", "funds", "title", "notes", "uuid"]


class FuzzImport(FuzzBase):
    @SETTINGS
    @given(st.lists(
        st.fixed_dictionaries({
            column: st.one_of(value, st.sampled_from(["team-a", "visit", "1;2", "2017-05-05", ""]))
            for column in IMPORT_COLUMNS
        }),
        min_size=1, max_size=4,
    ), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    def test_import_refuses_or_imports_but_never_fails(self, rows, encoding):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=IMPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: v.replace("\x00", "") for k, v in row.items()})
        with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
            handle.write(buffer.getvalue().encode(encoding, errors="replace"))
            handle.flush()
            try:
                call_command("import_entries", handle.name, stdout=io.StringIO(), stderr=io.StringIO())
            except CommandError:
                pass  # refused with its reasons: all or nothing
        self.assert_nothing_invalid_stored()
