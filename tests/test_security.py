"""Hardening a user or an attacker would notice: login lockout, CSP, no inline code."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import PASSWORD, EntryFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


def test_five_wrong_passwords_lock_the_account_with_a_clear_message(client, world):
    url = reverse("login")
    for _ in range(4):
        response = client.post(url, {"username": "member_a", "password": "wrong"})
        assert response.status_code == 200
    assert client.post(url, {"username": "member_a", "password": "wrong"}).status_code == 429

    locked = client.post(url, {"username": "member_a", "password": PASSWORD})

    assert locked.status_code == 429
    assert "locked_out.html" in [t.name.split("/")[-1] for t in locked.templates]
    assert "_auth_user_id" not in client.session


def test_right_password_resets_the_count(client, world):
    url = reverse("login")
    for _ in range(4):
        client.post(url, {"username": "member_a", "password": "wrong"})
    assert client.post(url, {"username": "member_a", "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(4):
        client.post(url, {"username": "member_a", "password": "wrong"})

    assert client.post(url, {"username": "member_a", "password": PASSWORD}).status_code == 302


PAGES = ["notebook", "entry_new", "household_list", "dashboard"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_carry_a_strict_csp_and_no_inline_code(client, world, name):
    EntryFactory(team=world.team_a)
    HouseholdFactory(village=world.village_a)
    client.force_login(world.leader_a)

    response = client.get(reverse(name))

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


# Issue 11, point 3: behind the TLS proxy every request comes from the proxy's address; the
# client's own is the last hop of X-Forwarded-For, the one the proxy appended.
PROXY = "127.0.0.1"
STRANGER, COORDINATOR_HOME = "203.0.113.9", "198.51.100.7"


def login(client, password, **meta):
    return client.post(reverse("login"), {"username": "coordinator", "password": password}, **meta)


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_proxy_a_strangers_failures_do_not_lock_the_coordinator_out(client, world):
    for _ in range(5):  # the stranger forges a first hop; the proxy appends the real address
        login(client, "wrong", REMOTE_ADDR=PROXY,
              HTTP_X_FORWARDED_FOR=f"{COORDINATOR_HOME}, {STRANGER}")
    assert login(client, "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=STRANGER).status_code == 429

    own = login(Client(), PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=COORDINATOR_HOME)

    assert own.status_code == 302


@override_settings(BEHIND_TLS_PROXY=False)
def test_without_the_proxy_a_forged_forwarded_for_is_ignored(client, world):
    for n in range(5):  # each attempt claims another address; only the real one counts
        login(client, "wrong", REMOTE_ADDR=STRANGER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert login(client, PASSWORD, REMOTE_ADDR=STRANGER,
                 HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    assert login(Client(), PASSWORD, REMOTE_ADDR=COORDINATOR_HOME).status_code == 302
