"""The year report as a printed document (issue 15, point 1): a title block, numbered A4
pages with the print date, funds in 万元 to two decimals with the exact yuan once, and
Chinese lines that never start with "，" — printed by Chromium, read back with pdftotext."""

import io
import os
import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tests.factories import PASSWORD, ActivityFactory, EntryFactory, IndicatorFactory
from teams.models import Team
from worklog.amendments import accept_amendment, file_amendment
from worklog.figures import Figure
from worklog.locking import lock_month
from worklog.models import Entry, Indicator

PDFTOTEXT = "/usr/bin/pdftotext"
EXTRA_FUNDS = Decimal("13623.45")  # the demo's 19,350,000.00 yuan become 19,363,623.45


def pdf_text(pdf_bytes, tmp_path):
    if not os.path.exists(PDFTOTEXT):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{PDFTOTEXT} is missing; install Debian's poppler-utils package")
        pytest.skip(f"{PDFTOTEXT} is not installed (apt-get install poppler-utils)")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes)
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def demo(transactional_db):
    call_command("seed", demo_password=PASSWORD, stdout=io.StringIO())
    funds = Indicator.objects.get(code="funds_invested").activities.first()
    EntryFactory(team=Team.objects.get(slug="kaiganqi"), activity=funds, funds=EXTRA_FUNDS,
                 date=date(2017, 9, 1))


def log_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()


def printed(page, live_server, tmp_path, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(live_server.url + reverse("year_report", args=[2017]) + "?org=8th-division")
    return pdf_text(page.pdf(format="A4"), tmp_path)


def assert_a_document(text, *, page_words):
    pages = text.split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) >= 2, "the demo's report takes more than one page"
    for number, page in enumerate(pages, start=1):
        # pdftotext drops the spaces between Chinese words ("第1页共2页")
        words = page_words.format(page=number, pages=len(pages))
        assert re.sub(r"\s+", "", words) in re.sub(r"\s+", "", page) and words.split()[0] in page
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert not [line for line in lines if line.startswith(("，", ",", "、"))]
    for amount in re.findall(r"(\d[\d,]*\.\d+)\s*(?:万元|× 10,000 yuan)", text):
        assert len(amount.partition(".")[2]) <= 2, amount


def test_the_chinese_report_prints_as_an_official_document(page, live_server, demo, tmp_path):
    log_in(page, live_server, "coordinator")

    text = printed(page, live_server, tmp_path, "zh-hans")

    head = text.split("\f")[0]
    assert "八师石河子市2017年度工作综述" in head
    for words in ("范围", "年度", "2017年1月1日至12月31日", "截至", "锁定月份",
                  "2017年尚无锁定月份：数据实时统计，仍可能变化。"):
        assert words in re.sub(r"\s+", "", head), words
    flat = re.sub(r"\s+", "", text)
    assert "投入资金1936.36万元" in flat  # in the text, never 1936.362345万元
    assert flat.count("19,363,623.45元") == 1  # the exact yuan once, in the table
    assert f"打印于{date.today().year}年" in flat
    assert_a_document(text, page_words="第 {page} 页 共 {pages} 页")
    paragraph = text[text.index("2017年，"):text.index("指标")]
    assert not re.findall(r"[\u4e00-\u9fff][ \t]+\d", paragraph)  # no gap before a figure
    for screen_only in ("点击", "打印/另存为PDF", "退出登录", "工作日志记录精确统计得出，点击"):
        assert screen_only not in flat


def test_the_english_report_prints_as_an_official_document(page, live_server, demo, tmp_path):
    log_in(page, live_server, "coordinator")

    text = printed(page, live_server, tmp_path, "en")

    head = re.sub(r"\s+", " ", text.split("\f")[0])
    for words in ("8th Division", "the work of 2017", "Scope", "1 January to 31 December 2017",
                  "As of", "Locked months", "No month of 2017 is locked"):
        assert words in head, words
    flat = re.sub(r"\s+", " ", text)
    assert "invested 1,936.36 × 10,000 yuan" in flat
    assert flat.count("19,363,623.45 yuan") == 1
    assert "Printed " in flat
    assert_a_document(text, page_words="Page {page} of {pages}")
    for screen_only in ("links to them", "Print / save as PDF", "Log out"):
        assert screen_only not in flat


@pytest.fixture
def amended(world):
    visit = ActivityFactory(code="visit", uses_participants=True, uses_households=True)
    project = ActivityFactory(code="project", uses_funds=True)
    IndicatorFactory(code="people", measure="participants", unit="人次", activities=[visit])
    IndicatorFactory(code="funds", measure="funds", unit="元", activities=[project])
    EntryFactory(team=world.team_a, activity=visit, participants=10, date=date(2017, 3, 4))
    twice = EntryFactory(team=world.team_a, activity=visit, participants=5, date=date(2017, 3, 9))
    EntryFactory(team=world.team_a, activity=project, funds=Decimal("19363623.45"), date=date(2017, 5, 4))
    for month in (1, 2, 3, 5):
        lock_month(organisation=world.org, year=2017, month=month, user=world.coordinator)
    amendment = file_amendment(team=world.team_a, user=world.member_a, kind="delete",
                               reason="重复", entry=twice)
    accept_amendment(amendment=amendment, user=world.coordinator)
    return world


@pytest.mark.django_db
class TestTitleBlockAndTable:
    def report(self, client, world, **headers):
        client.force_login(world.coordinator)
        return client.get(reverse("year_report", args=[2017]), {"org": world.org.slug}, **headers)

    def test_says_which_months_are_locked_and_that_figures_are_as_corrected(self, client, amended):
        html = self.report(client, amended).content.decode()

        status = re.search(r'class="report-lock-status"><dt>[^<]*</dt><dd>([^<]*)</dd>', html).group(1)
        assert status.startswith("已锁定上报：一月–三月，五月。")
        assert "经更正" in status
        people = re.search(r'<tr data-indicator="people">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", people)
        assert cells[1:] == ["10人次", "", "15人次"]  # corrected, no exact yuan, as reported

    def test_a_figure_amended_to_nothing_keeps_its_row_as_reported(self, client, amended):
        for entry in Entry.objects.filter(activity__code="visit"):
            amendment = file_amendment(team=amended.team_a, user=amended.member_a, kind="delete",
                                       reason="重复", entry=entry)
            accept_amendment(amendment=amendment, user=amended.coordinator)

        html = self.report(client, amended).content.decode()

        people = re.search(r'<tr data-indicator="people">(.*?)</tr>', html, re.S).group(1)
        assert re.findall(r"<td[^>]*>([^<]*)</td>", people)[1:] == ["0人次", "", "15人次"]
        assert "人次" not in re.search(r'<p class="report-text[^"]*">(.*?)</p>', html, re.S).group(1)

    def test_funds_read_in_ten_thousand_yuan_with_the_exact_yuan_once(self, client, amended):
        html = self.report(client, amended, HTTP_ACCEPT_LANGUAGE="en").content.decode()

        funds = re.search(r'<tr data-indicator="funds">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", funds)
        assert cells[1:3] == ["1,936.36 × 10,000 yuan", "19,363,623.45 yuan"]
        assert "Locked as reported: January–March, May." in html
        assert html.count("19,363,623.45") == 2  # the table's cell and the link's title

    def test_a_teams_report_is_issued_by_the_organisation_that_sent_it(self, client, amended):
        client.force_login(amended.member_a)

        html = client.get(reverse("year_report", args=[2017]), {"team": amended.team_a.slug}).content.decode()

        issuer = re.search(r'<p class="report-issuer[^"]*">([^<]*)</p>', html).group(1)
        assert issuer == amended.org.label != amended.team_a.label

    def test_a_year_without_locks_says_its_figures_are_live(self, client, world):
        project = ActivityFactory(code="project", uses_funds=True)
        IndicatorFactory(code="funds", measure="funds", unit="元", activities=[project])
        EntryFactory(team=world.team_a, activity=project, funds=Decimal("250"), date=date(2017, 5, 4))

        html = self.report(client, world).content.decode()

        assert "2017年尚无锁定月份：数据实时统计，仍可能变化。" in html
        assert "锁定时上报值" not in html


@pytest.mark.parametrize(("yuan", "chinese", "english"), [
    ("19363623.45", "1936.36万元", "1,936.36 × 10,000 yuan"),
    ("19350000.00", "1935万元", "1,935 × 10,000 yuan"),
    ("12345.67", "1.23万元", "1.23 × 10,000 yuan"),
    ("55.00", "0.01万元", "0.01 × 10,000 yuan"),  # half up
    ("-16350.00", "-1.64万元", "-1.64 × 10,000 yuan"),
])
def test_funds_read_in_ten_thousand_yuan_to_two_decimals(yuan, chinese, english):
    funds = Indicator(code="funds", measure="funds", unit="元")
    with translation.override("zh-hans"):
        assert Figure(funds, Decimal(yuan)).text == chinese
    with translation.override("en"):
        assert Figure(funds, Decimal(yuan)).text == english
