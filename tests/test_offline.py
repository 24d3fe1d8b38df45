"""The phone's app around the notebook (issue 13, point 1): the web app manifest in the
user's language, the service worker from the site's root, the outbox page, and what the
entry form hands to the offline scripts. The offline behaviour itself is driven in
Chromium by tests/test_browser_offline.py."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def manifest(client, **headers):
    response = client.get(reverse("manifest"), **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    return json.loads(response.content)


@pytest.mark.parametrize("asked, name", [("zh-hans", "工作队日志"), ("en", "Team Worklog")])
def test_the_manifest_names_the_app_in_the_language_asked(client, asked, name):
    document = manifest(client, QUERY_STRING=f"lang={asked}")

    assert (document["name"], document["lang"]) == (name, asked)
    assert document["short_name"] and len(document["short_name"]) <= 12
    assert (document["start_url"], document["display"]) == ("/notebook/", "standalone")


def test_without_a_language_the_manifest_follows_the_browser(client):
    assert manifest(client, HTTP_ACCEPT_LANGUAGE="en")["name"] == "Team Worklog"
    assert manifest(client, QUERY_STRING="lang=fr", HTTP_ACCEPT_LANGUAGE="zh-CN")["name"] == "工作队日志"


def test_the_manifest_icons_are_shipped_pngs_of_each_size_and_a_maskable_one(client):
    icons = manifest(client)["icons"]

    assert {(icon["sizes"], icon["purpose"]) for icon in icons} == {
        ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in icons:
        path = finders.find(icon["src"].removeprefix("/static/"))
        with open(path, "rb") as png:
            header = png.read(24)
        width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
        assert header.startswith(b"\x89PNG") and f"{width}x{height}" == icon["sizes"]


def test_every_page_links_the_manifest_in_the_users_language(client, world):
    client.force_login(world.member_a)
    client.post(reverse("set_language"), {"language": "en"})

    page = client.get(reverse("notebook")).content.decode()

    assert '<link rel="manifest" href="/manifest.webmanifest?lang=en">' in page
    assert f'data-user="{world.member_a.pk}"' in page


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    config = json.loads(re.match(r"const CONFIG = (.*);\n", response.content.decode()).group(1))
    assert config["pages"] == ["/notebook/", "/notebook/new/", "/notebook/outbox/"]
    for asset in config["assets"]:  # each file the worker fetches when it installs exists
        assert finders.find(asset.removeprefix("/static/")), asset


def test_the_service_worker_is_a_new_one_when_its_files_change(client, settings):
    first = client.get("/sw.js").content.decode()
    settings.STATIC_URL = "/assets/"

    second = client.get("/sw.js").content.decode()

    version = re.compile(r'const VERSION = "(\w+)";')
    assert version.search(first).group(1) != version.search(second).group(1)
    assert '"/assets/worklog/site.css"' in second


def test_the_outbox_page_is_in_the_users_language(client, world):
    client.force_login(world.member_a)

    page = client.get(reverse("outbox")).content.decode()

    assert "立即同步" in page and "outbox-list" in page


def test_the_entry_form_hands_the_activity_codes_to_the_offline_script(client, world):
    visit = ActivityFactory(code="policy_visit", uses_households=True)
    client.force_login(world.member_a)

    page = client.get(reverse("entry_new")).content.decode()

    codes = re.search(r'data-activity-codes="([^"]*)"', page).group(1).replace("&quot;", '"')
    assert json.loads(codes) == {str(visit.pk): "policy_visit"}
