"""The demo's places, catalogue, households and accounts, brought in line with `seeds/`
(worklog/demo/seeding.py reads the files).

Places, activities and indicators follow the TOML files, which are the truth; households
are synthetic, drawn per village from fixed seeds; every team gets a leader and a member
to author its entries. Rows are matched by slug, code, name, username or (village, house
number) and saved only when something differs, so a rerun writes nothing.
"""

import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from teams.models import (
    Area,
    CoordinatorScope,
    Household,
    HouseholdTag,
    Membership,
    Organisation,
    Team,
    Village,
)
from worklog.demo.people import give_password, head_name
from worklog.demo.targets import SeedError
from worklog.models import Activity, Indicator

COORDINATOR_ORGANISATION = "8th-division"
# A second demo coordinator sees one county's villages, so that area dashboards can be tried.
COORDINATOR_AREA = "manas"
BATCH_SIZE = 5000

ACTIVITY_FIELDS = (
    "name", "name_en", "category", "uses_households", "uses_participants", "uses_sessions",
    "uses_quantity", "uses_funds", "quantity_label", "order",
)
INDICATOR_FIELDS = ("label_zh", "label_en", "unit", "measure", "order", "phrase_zh", "phrase_en")
ROLES = (Membership.Role.LEADER, Membership.Role.MEMBER)


def pick(rows, key, what):
    """rows[key], or a SeedError that names the seed file's mistake."""
    try:
        return rows[key]
    except KeyError:
        raise SeedError(f"unknown {what} {key!r} in seeds/") from None


def sync_row(created, label, model, lookup, values):
    """Get or create the row and bring `values` up to date; counts a new row in
    `created[label]` and returns the row.

    Saves only when something differs, so that a rerun writes nothing and adds no
    audit history.
    """
    created.setdefault(label, 0)
    row = model.objects.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values)
        created[label] += 1
    elif all(getattr(row, name) == value for name, value in values.items()):
        return row
    else:
        for name, value in values.items():
            setattr(row, name, value)
    row.full_clean()
    row.save()
    return row


# --- places, activities and indicators: the TOML files are the truth ----------------------


def seed_places(places, created):
    """Organisations, areas, villages and teams; returns the teams by slug."""
    organisations = sync_tree(Organisation, places["organisation"], created, "organisations")
    areas = sync_tree(Area, places["area"], created, "areas", fields=("kind",))
    villages, teams = {}, {}
    for item in places["village"]:
        values = {
            "name": item["name"], "name_en": item.get("name_en", ""), "kind": item["kind"],
            "area": pick(areas, item["area"], "area"),
        }
        lookup = {"slug": item["slug"]}
        villages[item["slug"]] = sync_row(created, "villages", Village, lookup, values)
    for item in places["team"]:
        values = {
            "name": item["name"], "name_en": item.get("name_en", ""),
            "organisation": pick(organisations, item["organisation"], "organisation"),
            "village": pick(villages, item["village"], "village"),
            "starts_on": item["starts_on"], "ends_on": item.get("ends_on"),
        }
        teams[item["slug"]] = sync_row(created, "teams", Team, {"slug": item["slug"]}, values)
    return teams


def sync_tree(model, items, created, label, fields=()):
    """Tree nodes in file order (a parent before its children); returns them by slug."""
    nodes = {}
    for item in items:
        values = {"name": item["name"], "name_en": item.get("name_en", "")}
        values["parent"] = pick(nodes, item["parent"], label) if "parent" in item else None
        values.update((name, item[name]) for name in fields)
        nodes[item["slug"]] = sync_row(created, label, model, {"slug": item["slug"]}, values)
    return nodes


def seed_catalogue(activity_seeds, indicator_seeds, created):
    """Activities and indicators; returns the activities by code."""
    activities = {}
    for item in activity_seeds["activity"]:
        values = {name: item[name] for name in ACTIVITY_FIELDS if name in item}
        lookup = {"code": item["code"]}
        activities[item["code"]] = sync_row(created, "activities", Activity, lookup, values)
    for item in indicator_seeds["indicator"]:
        values = {name: item.get(name, "") for name in INDICATOR_FIELDS}
        indicator = sync_row(created, "indicators", Indicator, {"code": item["code"]}, values)
        wanted = {pick(activities, code, "activity").pk for code in item["activities"]}
        if set(indicator.activities.values_list("pk", flat=True)) != wanted:
            indicator.activities.set(wanted)
    return activities


# --- households and accounts ---------------------------------------------------------------


def seed_households(villages, spec, created):
    """Households "1".."n" of each village; returns {village id: [household ids by number]}."""
    tags = [
        (sync_row(created, "household tags", HouseholdTag, {"name": rule["name"]},
                  {"name_en": rule.get("name_en", "")}), rule)
        for rule in spec["tag"]
    ]
    fresh, fresh_tags, numbers = [], [], {}
    for village in villages:
        rng = random.Random(f"households/{village.slug}")
        numbers[village.pk] = [str(n) for n in range(1, rng.randint(*spec["count"]) + 1)]
        existing = set(village.households.values_list("house_number", flat=True))
        for number in numbers[village.pk]:
            # Draw every household even when it exists, so later ones stay the same.
            household, its_tags = synthetic_household(village, number, spec, tags, rng)
            if number not in existing:
                fresh.append(household)
                fresh_tags.append(its_tags)
    Household.objects.bulk_create(fresh, batch_size=BATCH_SIZE)
    Link = Household.tags.through
    links = [
        Link(household_id=household.pk, householdtag_id=tag.pk)
        for household, its_tags in zip(fresh, fresh_tags)
        for tag in its_tags
    ]
    Link.objects.bulk_create(links, batch_size=BATCH_SIZE)
    audit_creation(Household, fresh, links)
    created["households"] = len(fresh)
    return households_by_village(numbers)


def audit_creation(model, rows, links):
    """The "created" audit rows of rows written in bulk, and of the links they were created
    with (a household's tags, an entry's households), as a save would have written them:
    so the first change of a demo row shows field by field what it changed. Each row's
    `_history_user` is its creator (None: the system). The new ids come back from the bulk
    INSERTs (PostgreSQL, SQLite ≥ 3.35)."""
    # No reason given stays NULL, as a save leaves it (bulk_history_create's default is "").
    records = model.history.bulk_history_create(
        rows, batch_size=BATCH_SIZE, default_change_reason=None, default_date=timezone.now())
    if not records or not links:  # None when SIMPLE_HISTORY_ENABLED is off
        return
    History = model.history.model
    (m2m,) = History._history_m2m_fields  # our audited models keep one set of links
    HistoricalLink = getattr(History, m2m.name).model
    owner = links[0]._meta.get_field(m2m.m2m_field_name()).attname  # "household_id" for tags
    record_of = {record.id: record for record in records}
    HistoricalLink.objects.bulk_create([
        HistoricalLink(history=record_of[getattr(link, owner)], **{
            field.attname: getattr(link, field.attname) for field in link._meta.concrete_fields
        })
        for link in links
    ], batch_size=BATCH_SIZE)


def synthetic_household(village, number, spec, tags, rng):
    size = rng.choices(spec["sizes"], weights=spec["size_weights"])[0]
    household = Household(
        village=village, house_number=number, head_name=head_name(spec["names"], rng), size=size
    )
    its_tags = [
        tag for tag, rule in tags
        if rng.random() < rule["share"] and size <= rule.get("max_size", size)
    ]
    return household, its_tags


def households_by_village(numbers):
    rows = Household.objects.filter(village_id__in=numbers)
    ids = {
        (village_id, number): pk
        for village_id, number, pk in rows.values_list("village_id", "house_number", "pk")
    }
    return {
        village_id: [ids[village_id, number] for number in village_numbers]
        for village_id, village_numbers in numbers.items()
    }


def seed_accounts(teams, *, demo_password, created, names):
    """leader-<team> and member-<team> always (entries need authors); with a demo password
    also `admin`, `coordinator` (the organisation) and `coordinator-manas` (Manas County's
    villages), and everyone gets that password. Each has a synthetic full name drawn from
    `names` (the households' name parts), so that histories and lists name people as they
    would be named.

    Returns {(team slug, role): user}.
    """
    authors, accounts = {}, []
    for team in teams.values():
        for role in ROLES:
            user = demo_user(f"{role}-{team.slug}", created, names)
            Membership.objects.get_or_create(
                user=user, team=team, defaults={"role": role, "joined_on": team.starts_on}
            )
            authors[team.slug, role] = user
            accounts.append(user)
    if demo_password:
        accounts.append(demo_user("admin", created, names, is_staff=True, is_superuser=True))
        coordinator = demo_user("coordinator", created, names)
        organisation = Organisation.objects.get(slug=COORDINATOR_ORGANISATION)
        CoordinatorScope.objects.get_or_create(
            user=coordinator, organisation=organisation, area=None
        )
        accounts.append(coordinator)
        area_coordinator = demo_user(f"coordinator-{COORDINATOR_AREA}", created, names)
        CoordinatorScope.objects.get_or_create(
            user=area_coordinator, organisation=None, area=Area.objects.get(slug=COORDINATOR_AREA)
        )
        accounts.append(area_coordinator)
        give_password(accounts, demo_password)
    return authors


def demo_user(username, created, names, **flags):
    User = get_user_model()
    created.setdefault("users", 0)
    # The whole name in first_name, as Chinese names are written: get_full_name() reads it.
    name = head_name(names, random.Random(f"accounts/{username}"))
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name=name, **flags)
        user.set_unusable_password()
        user.save()
        created["users"] += 1
        return user
    if any(getattr(user, field) != value for field, value in flags.items()):
        User.objects.filter(pk=user.pk).update(**flags)
    if not user.get_full_name():  # an account of an older demo; a name given since stays
        user.first_name = name
        User.objects.filter(pk=user.pk).update(first_name=name)
    return user
