"""In Debian's Chromium: an administrator logs in and lands in the admin, in Chinese."""

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def admin_user(django_user_model, transactional_db):
    return django_user_model.objects.create_superuser("admin", "admin@example.org", PASSWORD)


def test_admin_logs_in_and_sees_the_admin_in_chinese(page, live_server, admin_user):
    page.goto(live_server.url + "/")

    assert "/accounts/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")

    page.wait_for_url(live_server.url + "/admin/")
    assert page.locator("#user-tools").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "管理" in page.title()


def test_wrong_password_is_told_and_stays_on_login(page, live_server, admin_user):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit].btn-primary")

    assert "/accounts/login/" in page.url
    assert page.locator(".alert-danger").is_visible()
