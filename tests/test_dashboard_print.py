"""The dashboard on paper (issue 15, point 2): A4 portrait from Chromium, every card whole,
the breakdown as tables a name and a number fit in, and a totals row equal to the cards,
on screen and on paper, over every row of the breakdown."""

import io
import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.factories import EntryFactory, HouseholdFactory, IndicatorFactory, OrganisationFactory, TeamFactory
from tests.test_dashboards import card_values
from worklog.models import Indicator

DEMO_PASSWORD = "demo-pass-123"
# A4's printable width at print.css's 16 mm margins, in CSS pixels (96 per inch).
A4_PRINTABLE_WIDTH = round((210 - 2 * 16) / 25.4 * 96)


def requires(program):
    if shutil.which(program) is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{program} is missing; install Debian's poppler-utils package")
        pytest.skip(f"{program} is not installed (apt-get install poppler-utils)")


def pdf_pages(pdf_path, *options):
    """The PDF's text, page by page, as pdftotext gives it."""
    text = subprocess.run(["pdftotext", *options, str(pdf_path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]


def squeezed(text):
    return re.sub(r"\s+", "", text)


# --- the totals row's figures, without a browser ---------------------------------------------


@pytest.fixture
def units(world):
    """The division with four sub-organisations, each with a team and a project's funds, and
    households visited in village A by the division's team."""
    from tests.factories import ActivityFactory

    visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
    project = ActivityFactory(code="project", uses_funds=True)
    IndicatorFactory(code="visits", measure="household_visits", unit="户次", activities=[visit])
    IndicatorFactory(code="households", measure="households", unit="户", activities=[visit])
    IndicatorFactory(code="funds", measure="funds", unit="元", activities=[project])
    homes = HouseholdFactory.create_batch(3, village=world.village_a)
    EntryFactory(team=world.team_a, activity=visit, households=homes[:2], date=date(2017, 3, 4))
    EntryFactory(team=world.team_b, activity=project, funds=Decimal("12345.67"), date=date(2017, 5, 4))
    for index, funds in enumerate(("300.10", "5.05", "70.00"), start=1):
        org = OrganisationFactory(name=f"分队{index}", slug=f"unit-{index}", parent=world.org)
        EntryFactory(team=TeamFactory(organisation=org, slug=f"unit-team-{index}"), activity=project,
                     funds=Decimal(funds), date=date(2017, 6, 1))
    return {"visit": visit, "homes": homes}


def totals_row(response):
    return {ind.code: cell["value"] for ind, cell in zip(response.context["indicators"],
                                                           response.context["breakdown"]["totals"], strict=True)}


@pytest.mark.django_db
class TestTotalsRow:
    def test_totals_are_the_cards_over_every_page_of_the_breakdown(self, client, world, units, monkeypatch):
        from worklog.views import dashboards

        monkeypatch.setattr(dashboards, "BREAKDOWN_PER_PAGE", 2)
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug, "sort": "-place"})

        assert len(response.context["breakdown"]["rows"]) == 2  # of five
        totals = totals_row(response)
        assert totals == {"visits": 2, "households": 2, "funds": Decimal("12720.82")}
        cards = card_values(response.content.decode())
        assert {code: str(value) for code, value in totals.items()} == cards
        html = response.content.decode()
        assert "全部5行合计" in html and 'data-total="12720.82"' in html
        assert "counted-once-note" not in html

    def test_print_view_carries_every_row_and_the_same_totals(self, client, world, units, monkeypatch):
        from worklog.views import dashboards

        monkeypatch.setattr(dashboards, "BREAKDOWN_PER_PAGE", 2)
        client.force_login(world.coordinator)
        query = {"year": 2017, "org": world.org.slug, "sort": "place"}

        paged = client.get(reverse("dashboard"), query)
        printed = client.get(reverse("dashboard") + paged.context["breakdown"]["print_url"])

        assert "print=1" in paged.context["breakdown"]["print_url"]
        places = [row["place"] for row in printed.context["breakdown"]["rows"]]
        assert places == sorted(places) and len(places) == 5
        assert totals_row(printed) == totals_row(paged)
        html = printed.content.decode()
        assert 'class="pagination' not in html and "breakdown-page-note" not in html
        assert "全部5行合计" not in html and ">合计</th>" in html
        # the printed tables carry every row too
        printed_part = html[html.index('class="d-none d-print-block breakdown-print"'):]
        assert all(place in printed_part for place in places)

    def test_a_household_two_places_reached_counts_once_and_says_so(self, client, world, units):
        regiment_team = TeamFactory(organisation=world.team_b.organisation, slug="regiment-2", village=world.village_a)
        EntryFactory(team=regiment_team, activity=units["visit"], households=units["homes"][:1], date=date(2017, 7, 1))
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug})

        households = [row["record"][f"i{Indicator.objects.get(code='households').pk}"]
                      for row in response.context["breakdown"]["rows"]]
        assert sum(households) == 3  # the division's team 2, the regiment's 1: one of them twice
        assert totals_row(response)["households"] == 2 == int(card_values(response.content.decode())["households"])
        assert totals_row(response)["visits"] == 3
        html = response.content.decode()
        assert "counted-once-note" in html and 'data-total="2">2*<' in html

    def test_english_totals_row_and_as_of_line(self, client, world, units):
        client.force_login(world.coordinator)
        client.post(reverse("set_language"), {"language": "en"})

        html = client.get(reverse("dashboard"), {"year": 2017, "org": world.org.slug}).content.decode()

        assert ">Total</th>" in html and "Figures as of " in html and "(Beijing time)" in html

    def test_an_empty_year_has_no_totals_row(self, client, world, units):
        client.force_login(world.coordinator)

        response = client.get(reverse("dashboard"), {"year": 2019, "org": world.org.slug})

        assert response.context["breakdown"]["totals"] == []
        assert "breakdown-totals" not in response.content.decode()


# --- on paper, from Chromium ------------------------------------------------------------------


@pytest.fixture
def demo(transactional_db):
    """The demo's 8th Division: four teams, seventeen indicators, the year 2017."""
    call_command("seed", demo_password=DEMO_PASSWORD, stdout=io.StringIO())


def print_dashboard(page, live_server, tmp_path, language):
    """Logs the demo's coordinator in, opens the division's 2017 dashboard in `language` and
    prints it to A4 portrait; returns the PDF's path and the cards' values."""
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(re.compile(r".*/dashboard/.*"))
    if language == "en":
        page.click("button[name=language][value=en]")
        page.wait_for_load_state()
    page.goto(live_server.url + "/dashboard/?org=8th-division&year=2017")
    cards = page.eval_on_selector_all(".indicator-card", "cards => cards.map(card => card.dataset.value)")
    pdf = tmp_path / f"dashboard-{language}.pdf"
    page.pdf(path=str(pdf), format="A4")
    return pdf, cards


def check_print_layout(page):
    """In print media at A4's printable width: what the paper leaves out and keeps together."""
    page.set_viewport_size({"width": A4_PRINTABLE_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    hidden = page.evaluate("""() => [...document.querySelectorAll(
        '.dashboard-picker, .btn, .pagination, .breakdown-table, .site-header')]
        .filter(el => el.offsetParent !== null).map(el => el.outerHTML.slice(0, 80))""")
    assert hidden == []
    assert set(page.eval_on_selector_all(
        ".indicator-card", "cards => cards.map(card => getComputedStyle(card).breakInside)")) == {"avoid"}
    assert page.eval_on_selector(".breakdown-head", "el => getComputedStyle(el).breakAfter") == "avoid"
    # no cell of the printed tables spills over its neighbour, no table over the page
    spilled = page.evaluate("""() => [...document.querySelectorAll('.breakdown-print-table')].flatMap(
        table => [table, ...table.querySelectorAll('th, td')])
        .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent)""")
    assert spilled == []
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_PRINTABLE_WIDTH
    # a place's name takes at most two lines of its cell
    lines = page.eval_on_selector_all(".breakdown-print-table tbody th", """cells => cells.map(cell =>
        Math.round(cell.getBoundingClientRect().height / parseFloat(getComputedStyle(cell).lineHeight)))""")
    assert lines and max(lines) <= 3  # two lines and the cell's padding


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_dashboard_prints_on_a4_portrait(page, live_server, demo, tmp_path, language):
    requires("pdftotext")
    pdf, cards = print_dashboard(page, live_server, tmp_path, language)
    indicators = list(Indicator.objects.order_by("order", "code"))
    assert len(cards) == len(indicators) == 17

    pages = pdf_pages(pdf, "-layout")
    raw = squeezed("".join(pdf_pages(pdf, "-raw")))
    text = "\n".join(pages)
    first = pages[0]
    assert ("第八师石河子市" if language == "zh-hans" else "8th Division / Shihezi City") in first
    assert ("派出单位: " if language == "zh-hans" else "Organisation: ") in first
    assert ("数据截至" if language == "zh-hans" else "Figures as of") in first
    assert not re.search(r"CSV|XLSX|显示|Show\b", text)  # no picker, no buttons
    # every column of the breakdown, with its unit, somewhere on paper
    headers = page.eval_on_selector_all(".breakdown-table thead th", "cells => cells.map(cell => cell.textContent)")
    assert len(headers) == 18
    for header in headers:
        assert squeezed(header) in raw, header
    # each place's name whole on one line in Chinese; in English its words whole
    names = page.eval_on_selector_all(".breakdown-table tbody th", "cells => cells.map(cell => cell.textContent)")
    assert len(names) == 4
    for name in names:
        if language == "zh-hans":
            assert name in text, name
        else:
            assert all(word in text for word in name.split()), name
    # the totals row, part after part, gives the cards' figures in order
    label = "合计" if language == "zh-hans" else "Total"
    totals = [value.replace(",", "") for line in text.splitlines() if line.strip().startswith(label)
              for value in line.split()[1:]]
    assert totals == cards
    # no heading at the foot of a page
    for content in pages:
        lines = [line.strip() for line in content.splitlines() if line.strip()]
        assert not lines[-1].startswith(("按", "By ")), lines[-1]

    check_print_layout(page)
    # each card whole on one page: its title, figures, last year and chart's months together
    cards_text = page.eval_on_selector_all(".indicator-card", """cards => cards.map(card =>
        [...card.querySelectorAll('h2, p')].map(el => el.innerText).join(''))""")
    pages_raw = [squeezed(content) for content in pdf_pages(pdf, "-raw")]
    for card in cards_text:
        whole = squeezed(card) + "123456789101112"
        assert sum(content.count(whole) for content in pages_raw) == 1, card
    # a card's figure wraps between its words, not inside one ("household vis / its")
    for figure in page.eval_on_selector_all(".indicator-card .figure", "links => links.map(a => a.innerText)"):
        assert all(word in text for word in figure.split()), figure
