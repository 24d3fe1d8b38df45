"""Every URL × every role: the status each role gets (issue 5).

A URL pattern without a row here fails `test_every_url_has_a_row`, so a new page cannot
ship without someone deciding who may open it.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import ActivityFactory, EntryFactory, HouseholdFactory, UserFactory
from worklog.amendments import file_amendment

ROLES = [
    "anonymous", "member_a", "member_b", "leader_a", "coordinator",
    "outsider_coordinator", "staff", "superuser",
]

# name: (method, kwargs builder key, query, expected status per role in ROLES order)
# 302 for the anonymous = redirect to the login page.
L = 302  # to login
MATRIX = {
    "home":                 ("get", None, "",  [L, 302, 302, 302, 302, 302, 302, 302]),
    "notebook":             ("get", None, "",  [L, 200, 200, 200, 200, 200, 200, 200]),
    "entry_new":            ("get", None, "",  [L, 200, 200, 200, 403, 403, 403, 403]),
    "outbox":               ("get", None, "",  [L, 200, 200, 200, 200, 200, 200, 200]),
    "entry_detail":         ("get", "entry", "", [L, 200, 404, 200, 200, 404, 404, 200]),
    "entry_edit":           ("get", "entry", "", [L, 200, 404, 200, 403, 404, 404, 200]),
    "entry_copy":           ("get", "entry", "", [L, 200, 404, 200, 403, 404, 404, 403]),
    "entry_delete":         ("get", "entry", "", [L, 200, 404, 200, 403, 404, 404, 200]),
    "entry_restore":        ("post", "entry", "", [L, 403, 404, 403, 403, 404, 404, 403]),
    "household_list":       ("get", None, "",  [L, 200, 200, 200, 200, 200, 200, 200]),
    "household_new":        ("get", None, "",  [L, 403, 403, 200, 403, 403, 403, 200]),
    "household_detail":     ("get", "household", "", [L, 200, 404, 200, 200, 404, 404, 200]),
    "household_edit":       ("get", "household", "", [L, 403, 404, 200, 403, 404, 404, 200]),
    "dashboard":            ("get", None, "?org=division", [L, 403, 403, 403, 200, 403, 403, 200]),
    "year_report":          ("get", "year", "?org=division", [L, 403, 403, 403, 200, 403, 403, 200]),
    "api_totals":           ("get", None, "?year=2017&org=division", [401, 403, 403, 403, 200, 403, 403, 200]),
    # a body that is not a batch of entries: 400 once logged in (tests/test_sync.py posts real ones)
    "api_sync":             ("post", None, "", [401, 400, 400, 400, 400, 400, 400, 400]),
    "import_entries":       ("get", None, "",  [L, 403, 403, 200, 200, 200, 403, 200]),
    "import_households":    ("get", None, "",  [L, 403, 403, 200, 403, 403, 403, 200]),
    "locks":                ("get", None, "",  [L, 403, 403, 403, 200, 200, 403, 200]),
    "amendment_list":       ("get", None, "",  [L, 200, 200, 200, 200, 200, 200, 200]),
    "amendment_detail":     ("get", "amendment", "", [L, 200, 404, 200, 200, 404, 404, 200]),
    "amendment_decide":     ("post", "amendment", "", [L, 403, 404, 403, 400, 404, 404, 400]),
    "login":                ("get", None, "",  [200, 200, 200, 200, 200, 200, 200, 200]),
    "logout":               ("get", None, "",  [405, 405, 405, 405, 405, 405, 405, 405]),
    "password_change":      ("get", None, "",  [L, 200, 200, 200, 200, 200, 200, 200]),
    "password_change_done": ("get", None, "",  [L, 200, 200, 200, 200, 200, 200, 200]),
    "set_language":         ("post", None, "", [302, 302, 302, 302, 302, 302, 302, 302]),
    # the phone's app: the same for everyone, the login page included
    "service_worker":       ("get", None, "",  [200, 200, 200, 200, 200, 200, 200, 200]),
    "manifest":             ("get", None, "",  [200, 200, 200, 200, 200, 200, 200, 200]),
    # exports of the lists: the same rows as the pages, as files
    "notebook#csv":         ("get", None, "?_export=csv", [L, 200, 200, 200, 200, 200, 200, 200]),
    "household_list#xlsx":  ("get", None, "?_export=xlsx", [L, 200, 200, 200, 200, 200, 200, 200]),
    "dashboard#csv":        ("get", None, "?org=division&_export=csv", [L, 403, 403, 403, 200, 403, 403, 200]),
}
# The admin has its own permission system; these rows check that it keeps outsiders out.
ADMIN = ("get", None, "", [L, L, L, L, L, L, 200, 200])


def url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield "admin"
                continue
            yield from url_names(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def test_every_url_has_a_row():
    missing = set(url_names()) - {name.split("#")[0] for name in MATRIX} - {"admin"}
    assert not missing, f"add these URL names to MATRIX: {sorted(missing)}"


@pytest.fixture
def objects(world):
    visit = ActivityFactory(code="visit", uses_households=True)
    household = HouseholdFactory(village=world.village_a)
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                         households=[household], date=datetime.date(2017, 5, 5))
    amendment = file_amendment(team=world.team_a, user=world.member_a, kind="delete",
                               reason="重复", entry=entry)
    users = {name: getattr(world, name) for name in ROLES[1:6]}
    users["staff"] = UserFactory(username="staff", is_staff=True)
    users["superuser"] = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    return {"entry": entry, "household": household, "amendment": amendment, "users": users}


def build_url(name, key, query, objects):
    args = []
    if key == "year":
        args = [2017]
    elif key:
        args = [objects[key].pk]
    return reverse(name.split("#")[0], args=args) + query


CASES = [(name, index, role) for name in MATRIX for index, role in enumerate(ROLES)]


@pytest.mark.parametrize("name, index, role", CASES, ids=[f"{n}-{r}" for n, _i, r in CASES])
def test_status(client, objects, name, index, role):
    method, key, query, expected = MATRIX[name]
    if role != "anonymous":
        client.force_login(objects["users"][role])

    response = getattr(client, method)(build_url(name, key, query, objects))

    assert response.status_code == expected[index]
    if expected[index] == L and role == "anonymous" and name not in ("home", "set_language"):
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("index, role", list(enumerate(ROLES)))
def test_admin_keeps_outsiders_out(client, objects, index, role):
    if role != "anonymous":
        client.force_login(objects["users"][role])

    response = client.get(reverse("admin:index"))

    assert response.status_code == ADMIN[3][index]
