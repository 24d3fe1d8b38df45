"""Error pages people can use (issue 11, point 11): 400, 403, 404, 500 and a refused form
(CSRF) in the site's layout and the user's language, with the navigation and a way back;
never Django's debug page when DEBUG is off."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory, override_settings
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject

from worklog import urls as site_urls
from worklog.views import errors

pytestmark = pytest.mark.django_db


def broken_view(request):
    raise RuntimeError("a bug nobody saw coming")


# A URLconf with the site's pages, its error handlers, and one page with a bug.
urlpatterns = site_urls.urlpatterns + [path("broken/", broken_view)]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


def lang(response):
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def assert_site_page(response, status):
    assert response.status_code == status
    html = response.content.decode()
    assert lang(response) == "zh-hans"
    assert "工作队日志" in html  # the site's header
    assert 'href="/"' in html  # a way back
    assert "Traceback" not in html and "technical" not in html.lower()
    return html


@override_settings(DEBUG=False)
def test_404_page_in_the_layout_with_the_navigation(client, world):
    client.force_login(world.member_a)

    html = assert_site_page(client.get("/no-such-page/"), 404)

    assert "找不到" in html
    assert 'href="/notebook/"' in html and 'href="/dashboard/"' in html


@override_settings(DEBUG=False)
def test_404_page_in_english_for_who_chose_english(client, world):
    client.force_login(world.member_a)
    client.post(reverse("set_language"), {"language": "en"})

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert lang(response) == "en" and "not found" in response.content.decode().lower()


@override_settings(DEBUG=False)
def test_403_for_a_scope_names_the_scope_the_coordinator_has(client, world):
    client.force_login(world.outsider_coordinator)

    response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug})

    html = assert_site_page(response, 403)
    assert "别的师" in html  # the organisation this coordinator does coordinate
    assert "第八师" not in html  # the one asked for is not named back
    assert 'href="/dashboard/"' in html


@override_settings(DEBUG=False)
def test_403_for_a_member_names_their_team(client, world):
    client.force_login(world.member_a)

    html = assert_site_page(client.get(reverse("dashboard"), {"team": world.team_b.slug}), 403)

    assert world.team_a.name in html


@override_settings(DEBUG=False)
def test_a_refused_form_explains_itself_in_the_layout(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member_a)

    response = client.post(reverse("entry_new"), {"title": "x"})

    html = assert_site_page(response, 403)
    assert "表单" in html  # says the form expired, in Chinese
    assert 'href="/notebook/"' in html


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_500_page_in_the_layout_without_the_debug_page(client, world):
    client.raise_request_exception = False
    client.force_login(world.member_a)

    response = client.get("/broken/")

    html = assert_site_page(response, 500)
    assert "a bug nobody saw coming" not in html
    assert "出错" in html


def test_500_page_renders_while_the_database_is_unreachable(django_db_blocker, world):
    request = RequestFactory().get("/broken/")
    request.user = SimpleLazyObject(lambda: get_user_model().objects.get(username="member_a"))
    request.session = {}

    with django_db_blocker.block():
        response = errors.server_error(request)

    assert response.status_code == 500
    assert "工作队日志" in response.content.decode()


def test_500_falls_back_to_plain_text_when_the_page_cannot_render(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False}]
    request = RequestFactory().get("/broken/")

    response = errors.server_error(request)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/plain")
    assert "500" in response.content.decode()
