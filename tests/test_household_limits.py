"""One rule set for households: the leader's form, the admin and the import refuse the same
values (the model's limits), and what one of them stores the export carries back in."""

import csv
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from teams.models import (
    HOUSEHOLD_NOTES_MAX_LENGTH,
    HOUSEHOLD_PHONE_MAX_LENGTH,
    HOUSEHOLD_SIZE_MAX,
    Household,
)
from worklog.imports.households import HOUSEHOLD_COLUMNS, plan_households

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
TOO_BIG = {"size": "40000"}
TOO_LONG = {"notes": "n" * 2_000_000}  # 2 MB, under the upload limit of a form post
# What the writers say, in the user's words (English here; Django's own messages).
SIZE_MESSAGE = f"Ensure this value is less than or equal to {HOUSEHOLD_SIZE_MAX}."
NOTES_MESSAGE = f"Ensure this value has at most {HOUSEHOLD_NOTES_MAX_LENGTH} characters"


def at_the_limits(**overrides):
    """A household with every field as full as the rules allow."""
    return {
        "house_number": "9" * Household._meta.get_field("house_number").max_length,
        "head_name": "Ә" * Household._meta.get_field("head_name").max_length,
        "size": str(HOUSEHOLD_SIZE_MAX),
        "phone": "1" * HOUSEHOLD_PHONE_MAX_LENGTH,
        "notes": ("第一行\n" + "记" * HOUSEHOLD_NOTES_MAX_LENGTH)[:HOUSEHOLD_NOTES_MAX_LENGTH],
        **overrides,
    }


def form_errors(response):
    return {name: " ".join(errors) for name, errors in response.context["form"].errors.items()}


# --- the leader's form --------------------------------------------------------------------


@pytest.mark.parametrize("bad, field, message", [
    (TOO_BIG, "size", SIZE_MESSAGE),
    (TOO_LONG, "notes", NOTES_MESSAGE),
])
def test_form_refuses_what_the_rules_refuse(world, bad, field, message):
    client = Client()
    client.force_login(world.leader_a)

    response = client.post(reverse("household_new"), at_the_limits(**bad), **ENGLISH)

    assert response.status_code == 422
    assert message in form_errors(response)[field]
    assert not Household.objects.exists()


def test_form_takes_a_household_at_the_limits(world):
    client = Client()
    client.force_login(world.leader_a)

    response = client.post(reverse("household_new"), at_the_limits())

    assert response.status_code == 302
    stored = Household.objects.get()
    assert (stored.size, len(stored.notes)) == (HOUSEHOLD_SIZE_MAX, HOUSEHOLD_NOTES_MAX_LENGTH)


def test_form_tells_the_browser_the_size_limit(world):
    client = Client()
    client.force_login(world.leader_a)

    page = client.get(reverse("household_new")).content.decode()

    assert f'max="{HOUSEHOLD_SIZE_MAX}"' in page
    assert f'maxlength="{HOUSEHOLD_NOTES_MAX_LENGTH}"' in page


# --- the admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com"))
    return client


@pytest.mark.parametrize("bad, field, message", [
    (TOO_BIG, "size", SIZE_MESSAGE),
    (TOO_LONG, "notes", NOTES_MESSAGE),
])
def test_admin_refuses_what_the_form_refuses(world, admin_client, bad, field, message):
    data = {"village": world.village_a.pk, **at_the_limits(**bad), "_save": "1"}

    response = admin_client.post(reverse("admin:teams_household_add"), data, **ENGLISH)

    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert not Household.objects.exists()


def test_admin_takes_a_household_at_the_limits(world, admin_client):
    data = {"village": world.village_a.pk, **at_the_limits(), "_save": "1"}

    response = admin_client.post(reverse("admin:teams_household_add"), data)

    assert response.status_code == 302
    assert Household.objects.get().size == HOUSEHOLD_SIZE_MAX


# --- the import ---------------------------------------------------------------------------


def households_csv(*rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HOUSEHOLD_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("bad, field", [
    (TOO_BIG, "size"),
    ({"notes": "记" * (HOUSEHOLD_NOTES_MAX_LENGTH + 1)}, "notes"),
])
def test_import_refuses_what_the_form_refuses(world, bad, field):
    content = households_csv({"village": world.village_a.slug, **at_the_limits(**bad)})

    plan = plan_households(name="households.csv", content=content)

    assert [(problem.row, problem.column) for problem in plan.problems] == [(2, field)]
    assert plan.rows == []


def test_import_refuses_two_megabytes_of_notes(world):
    content = households_csv({"village": world.village_a.slug, **at_the_limits(**TOO_LONG)})

    plan = plan_households(name="households.csv", content=content)

    # the reader may refuse the cell before the household rules see it: either way, refused
    assert plan.problems and plan.rows == []


def test_import_size_message_names_the_models_limit(world):
    content = households_csv({"village": world.village_a.slug, **at_the_limits(**TOO_BIG)})

    plan = plan_households(name="households.csv", content=content)

    assert str(HOUSEHOLD_SIZE_MAX) in plan.problems[0].message


def test_import_takes_a_household_at_the_limits(world):
    content = households_csv({"village": world.village_a.slug, **at_the_limits()})

    plan = plan_households(name="households.csv", content=content)

    assert plan.problems == []
    assert plan.rows[0].values["size"] == HOUSEHOLD_SIZE_MAX


# --- export and back ----------------------------------------------------------------------


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_export_of_a_household_at_the_limits_imports_back_unchanged(world, tmp_path, export_format):
    client = Client()
    client.force_login(world.leader_a)
    assert client.post(reverse("household_new"), at_the_limits()).status_code == 302
    household = Household.objects.get()
    exported = tmp_path / f"households.{export_format}"
    exported.write_bytes(
        client.get(reverse("household_list"), {"_export": export_format, "format": "import"}).content
    )
    before = list(Household.objects.values())
    Household.objects.filter(pk=household.pk).update(size=1, notes="", phone="")

    call_command("import_households", str(exported), stdout=io.StringIO())

    assert list(Household.objects.values()) == before


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_notes_typed_in_a_browser_come_back_from_the_export_unchanged(world, tmp_path, export_format):
    """A browser sends a textarea's line breaks as CR LF; the import reads lines as LF. The one
    text rule (teams/text.py) stores LF, so the round trip changes nothing."""
    client = Client()
    client.force_login(world.leader_a)
    typed = at_the_limits(notes="第一行\r\n第二行\r第三行")
    assert client.post(reverse("household_new"), typed).status_code == 302
    assert Household.objects.get().notes == "第一行\n第二行\n第三行"
    exported = tmp_path / f"households.{export_format}"
    exported.write_bytes(
        client.get(reverse("household_list"), {"_export": export_format, "format": "import"}).content
    )
    before = list(Household.objects.values())

    call_command("import_households", str(exported), stdout=io.StringIO())

    assert list(Household.objects.values()) == before
