"""The admin speaks Chinese through and through: a crawl of every page of the admin's index
(each model's list, add, change and history pages, the index and each app's page) as a
superuser in zh-hans, reading what a person sees — text, button values, titles, placeholders,
the options of every select (the permission picker among them) — and failing on any English
word that is neither a proper name, a code nor a value of the test's own data."""

import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from uuid import uuid4

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import NoReverseMatch, reverse
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
from worklog.amendments import file_amendment
from worklog.locking import lock_month
from worklog.models import Activity, Indicator
from worklog.services import entry_create

pytestmark = pytest.mark.django_db

# Words that stay as they are in a Chinese page: names, codes, formats.
PROPER = {
    "Django", "IP", "HTTP", "GET", "POST", "URL", "SHA", "sha256", "ID", "Email",
    "admin",  # the site's own path, shown in "view site"-style links
}
# The test data's ASCII values (slugs, codes, usernames): data, not interface.
DATA = {
    "root", "div", "lcg", "xj", "qsh", "repair", "deeds", "leader", "lcg-leader", "axes",
    "Mozilla", "example", "com",
}
IGNORED_TAGS = {"script", "style"}
SHOWN_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")


class VisibleText(HTMLParser):
    """The text a person reads on a page, in runs as they appear."""

    def __init__(self):
        super().__init__()
        self.runs, self._skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in IGNORED_TAGS:
            self._skipping += 1
        attrs = dict(attrs)
        for name in SHOWN_ATTRIBUTES & attrs.keys():
            self.runs.append(attrs[name] or "")
        if tag == "input" and attrs.get("type") in {"submit", "button"}:
            self.runs.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag in IGNORED_TAGS:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.runs.append(data.strip())


def english_left(html):
    """Runs of the page holding an English word that is not a name, a code or data."""
    parser = VisibleText()
    parser.feed(html)
    return sorted({
        run for run in parser.runs
        if any(word not in PROPER | DATA for word in ENGLISH_WORD.findall(run))
    })


@pytest.fixture
def everything(django_user_model):
    """One row of each model the admin lists, with Chinese names and ASCII codes only."""
    root = django_user_model.objects.create_superuser("root", "root@example.com")
    division = Organisation.objects.create(name="第八师", slug="div")
    region = Area.objects.create(name="新疆", slug="xj", kind=Area.Kind.REGION)
    township = Area.objects.create(name="清水河乡", slug="qsh", kind=Area.Kind.TOWNSHIP, parent=region)
    village = Village.objects.create(name="芦草沟村", slug="lcg", area=township)
    team = Team.objects.create(
        name="芦草沟村工作队", slug="lcg", organisation=division, village=village,
        starts_on=date(2017, 1, 1),
    )
    leader = django_user_model.objects.create_user("leader", first_name="张", last_name="三")
    Membership.objects.create(user=leader, team=team, role=Membership.Role.LEADER,
                              joined_on=date(2017, 1, 1))
    tag = HouseholdTag.objects.create(name="建档立卡")
    household = Household.objects.create(village=village, house_number="1", head_name="张一", size=4)
    household.tags.add(tag)
    activity = Activity.objects.create(code="repair", name="维修", category=Activity.Category.REPAIR,
                                       uses_households=True, uses_funds=True)
    indicator = Indicator.objects.create(code="deeds", label_zh="为群众办实事、好事", unit="件",
                                         measure="entries", order=5)
    indicator.activities.add(activity)
    entry, _created = entry_create(
        uuid=uuid4(), team=team, author=leader, date=date(2017, 5, 1), activity=activity,
        title="修复饮水管道", funds=Decimal("1200.00"), households=[household],
    )
    CoordinatorScope.objects.create(user=leader, organisation=division)
    lock_month(organisation=division, year=2016, month=12, user=leader)
    file_amendment(team=team, user=leader, kind="delete", reason="重复", entry=entry)
    group = Group.objects.create(name="协调员")
    group.permissions.set(Permission.objects.all())
    agent, address, now = "Mozilla", "127.0.0.1", timezone.now()
    AccessAttempt.objects.create(user_agent=agent, ip_address=address, username="leader",
                                 http_accept="*/*", path_info="/accounts/login/",
                                 get_data="", post_data="", failures_since_start=2)
    AccessLog.objects.create(user_agent=agent, ip_address=address, username="leader",
                             http_accept="*/*", path_info="/accounts/login/", logout_time=now)
    AccessFailureLog.objects.create(user_agent=agent, ip_address=address, username="leader",
                                    http_accept="*/*", path_info="/accounts/login/")
    return root


def admin_pages():
    """Every page the admin's index leads to: the index, each app's page and, for each
    registered model, its list, add, change and history pages (of its first row)."""
    yield reverse("admin:index")
    for app_label in {model._meta.app_label for model in admin.site._registry}:
        yield reverse("admin:app_list", args=[app_label])
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield reverse(f"{prefix}_changelist")
        yield reverse(f"{prefix}_add")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            yield reverse(f"{prefix}_change", args=[first.pk])
            yield reverse(f"{prefix}_history", args=[first.pk])
            try:
                yield reverse(f"{prefix}_delete", args=[first.pk])
            except NoReverseMatch:
                pass


def test_every_admin_page_is_in_chinese(client, everything):
    client.force_login(everything)
    found = {}
    for url in admin_pages():
        response = client.get(url)
        if response.status_code != 200:  # a read-only model's add page: 403, nothing to read
            continue
        left = english_left(response.content.decode())
        if left:
            found[url] = left
    import json, os; json.dump(found, open("/tmp/admin_found.json", "w"), ensure_ascii=False, indent=1)
    assert found == {}
