"""Chinese first; English complete; the choice sticks."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def lang(response):
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_chinese_by_default_and_the_switch_sticks(client, world):
    client.force_login(world.member_a)
    assert lang(client.get(reverse("notebook"))) == "zh-hans"
    assert "工作日志" in client.get(reverse("notebook")).content.decode()

    switched = client.post(reverse("set_language"), {"language": "en", "next": reverse("notebook")})

    assert switched.status_code == 302 and switched["Location"] == reverse("notebook")
    page = client.get(reverse("notebook"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert lang(page) == "en" and "Notebook" in page.content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans"})
    assert lang(client.get(reverse("household_list"))) == "zh-hans"


def test_compiled_chinese_catalogue_ships_with_the_code():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext("Team Worklog") == "工作队日志"
        assert translation.pgettext("measure", "sessions") == "场次"
