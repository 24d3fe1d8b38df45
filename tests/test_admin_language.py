"""The admin speaks Chinese through and through: a crawl of every page of the admin's index
(each model's list, add, change and history pages, the index and each app's page) as a
superuser in zh-hans, reading what a person sees — text, button values, titles, placeholders,
the options of every select (the permission picker among them) — and failing on any English
word that is neither a proper name, a code nor a value of the test's own data."""

import re
from pathlib import Path
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from uuid import uuid4

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JavaScriptCatalog

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

# Words that stay as they are in a Chinese page: names, codes, keys.
PROPER = {
    "ID", "URL", "IP", "HTTP", "GET", "POST", "sha256", "uuid", "LDAP", "Control", "Command", "Mac",
    "kaiganqi",  # the slug help text's example
    "invested", "value",  # the example of an indicator's English phrase, "invested {value}"
}
# The test data's ASCII values (slugs, codes, usernames, what axes records): data.
DATA = {"root", "div", "lcg", "xj", "qsh", "repair", "deeds", "leader", "Mozilla", "unknown",
        "accounts", "login", "example", "com"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
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
        if tag == "img" and "/admin/img/icon-" in (attrs.get("src") or ""):
            return  # Django writes a yes/no icon's alt as True/False, in no language
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
        if any(word not in PROPER | DATA for word in ENGLISH_WORD.findall(UUID.sub("", run)))
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
    group.permissions.set(Permission.objects.filter(codename__startswith="view_"))
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
            if hasattr(model, "history"):  # a past version, as the audit shows it
                record = first.history.order_by("history_id").first()
                yield reverse(f"{prefix}_simple_history", args=[first.pk, record.history_id])
            try:
                yield reverse(f"{prefix}_delete", args=[first.pk])
            except NoReverseMatch:
                pass


def test_every_admin_page_is_in_chinese(client, everything):
    client.force_login(everything)
    found, read = {}, 0
    for url in admin_pages():
        response = client.get(url)
        if response.status_code != 200:  # a read-only model's add page: 403, nothing to read
            continue
        read += 1
        left = english_left(response.content.decode())
        if left:
            found[url] = left
    assert found == {}
    assert read > 80  # every model's pages, axes' and auth's among them


def test_the_crawl_sees_english_where_it_is():
    page = """<h1>增加 用户</h1><p>After you’ve created a user</p><img src="/s/x.svg" alt="Search">
              <select><option>工作队 | Can add team</option></select><script>var a = "b";</script>"""

    assert english_left(page) == ["After you’ve created a user", "Search", "工作队 | Can add team"]


ADMIN_SCRIPTS = Path(admin.__file__).parent / "static" / "admin" / "js"
SCRIPT_MSGID = re.compile(r"""(?<![pn])gettext\(\s*(['"])((?:\\.|(?!\1).)*)\1\s*\)""")


def test_the_admin_scripts_speak_chinese_too():
    """What the crawl cannot read: the text Django's admin scripts write into a page
    (the two-box picker of permissions and of every many-to-many field, the calendar)."""
    msgids = {
        match.group(2).replace("\\'", "'")
        for script in ADMIN_SCRIPTS.rglob("*.js") if ".min." not in script.name
        for match in SCRIPT_MSGID.finditer(script.read_text(encoding="utf-8"))
    }
    catalogue = DjangoTranslation(
        "zh-hans", domain="djangojs",
        localedirs=JavaScriptCatalog().get_paths(["django.contrib.admin"]))

    assert "Choose all %s" in msgids and len(msgids) > 30
    assert {msgid for msgid in msgids if catalogue.gettext(msgid) == msgid} == set()


# --- what the crawl found, each fixed where it was ------------------------------------------


def test_the_permission_picker_names_audit_models_and_actions_in_chinese(client, everything):
    client.force_login(everything)
    page = client.get(reverse("admin:auth_group_add")).content.decode()

    assert "工作队与村 | 工作队的历史记录 | 可查看工作队的历史记录" in page
    assert "工作队与村 | 农户的标签的历史记录 | 可查看农户的标签的历史记录" in page
    assert "登录记录 | 登录尝试 | 可删除登录尝试" in page


def test_the_permission_picker_reads_in_english_too(client, everything):
    client.force_login(everything)
    page = client.get(reverse("admin:auth_group_add"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Teams and villages | history of team | Can view history of team" in page


def test_the_login_attempts_section_is_named_in_chinese(client, everything):
    client.force_login(everything)
    index = client.get(reverse("admin:index")).content.decode()
    attempts = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()

    assert "登录记录" in index and "登录日志" in index and "登录失败" in index
    assert "还可尝试 3 次" in attempts and "清理过期的登录尝试" in attempts
    assert "leader 的登录尝试" in attempts


def test_cleaning_up_login_attempts_says_so_in_chinese(client, everything, settings):
    client.force_login(everything)
    attempt = AccessAttempt.objects.get()
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - timedelta(days=1))
    response = client.post(reverse("admin:axes_accessattempt_changelist"), {
        "action": "cleanup_expired_attempts", "_selected_action": [attempt.pk],
    }, follow=True)

    assert "已清理 1 条过期的登录尝试。" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_a_delete_page_does_not_list_the_links_of_a_many_to_many_field(client, everything):
    client.force_login(everything)
    tag = HouseholdTag.objects.get()
    page = client.get(reverse("admin:teams_householdtag_delete", args=[tag.pk])).content.decode()

    assert "Household_tags object" not in page and "关系" not in page
    assert "建档立卡" in page
