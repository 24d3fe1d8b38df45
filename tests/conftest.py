"""Shared fixtures: named users around two teams (as in healthchecks' test base) and the
browser set-up for Debian's Chromium."""

import os

import pytest
from django.conf import settings as django_settings
from django.db import connections

from tests import factories

# Playwright's sync API runs an event loop in the test thread; Django's live_server
# and ORM calls from the test body are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher takes ~0.3 s a password on purpose; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    # With a read replica (DATABASE_REPLICA_URL, a streaming standby of the test server),
    # no test database is created on the read-only standby: it replicates the one made on
    # the primary. Marked as the primary's mirror, the alias is neither created nor flushed.
    if "replica" in django_settings.DATABASES:
        connections["replica"].settings_dict["TEST"]["MIRROR"] = "default"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    # A mirror shares the primary's connection settings; point it back at the standby, at
    # its copy of the test database (still marked a mirror, so never flushed).
    if "replica" in django_settings.DATABASES:
        connections["replica"].close()
        connections["replica"].settings_dict = {
            **django_settings.DATABASES["replica"],
            "NAME": connections["default"].settings_dict["NAME"],
        }
    yield


@pytest.fixture(autouse=True)
def reads_on_primary_unless_replica_asked(request, settings):
    # With a read replica configured, only the tests that ask for it
    # (django_db(databases=[..., "replica"])) route reads there: the others keep their
    # data uncommitted in a transaction the standby never sees. Without the router the
    # app leaves the replica alone (worklog.routers.replica_configured).
    if "replica" not in settings.DATABASES:
        return
    marker = request.node.get_closest_marker("django_db")
    if not marker or "replica" not in (marker.kwargs.get("databases") or ()):
        settings.DATABASE_ROUTERS = []


@pytest.fixture
def world(db):
    """Two teams of one organisation and a third organisation's coordinator.

    team_a (leader_a, member_a) in village_a; team_b (member_b) in village_b;
    coordinator sees the organisation; outsider_coordinator sees another one.
    """
    return factories.World.build()


@pytest.fixture
def visit():
    """A policy visit: households and participants."""
    return factories.ActivityFactory(
        code="policy_visit", uses_households=True, uses_participants=True
    )


@pytest.fixture
def homes(world):
    """Households 1, 2 and 3 of village_a."""
    return [
        factories.HouseholdFactory(village=world.village_a, house_number=str(n))
        for n in (1, 2, 3)
    ]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--disable-quic",
        ],
    }


def pytest_collection_modifyitems(config, items):
    # Tests that drive Chromium (they ask for Playwright's `page`) are marked `browser`,
    # so that `-m "not browser"` leaves them out.
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)



@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A phone of a team member in the field: Chinese, a narrow screen.
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 390, "height": 844}}
