"""In Debian's Chromium on a phone-sized screen: text keeps a 4.5:1 contrast where axe-core
found it short (the header's buttons and links, a form error on a warning box), and the
dashboard's month labels render at a readable size."""

import datetime

import pytest

from tests.factories import (
    PASSWORD,
    ActivityFactory,
    EntryFactory,
    HouseholdFactory,
    IndicatorFactory,
    World,
)
from worklog.locking import lock_month

pytestmark = pytest.mark.browser

MARCH = datetime.date(2017, 3, 10)
MINIMUM_CONTRAST = 4.5  # WCAG 2 AA for text under 18.66 px bold / 24 px
MINIMUM_LABEL_PX = 10

# The WCAG contrast ratio of an element's text against the first opaque background behind it.
CONTRAST = """element => {
  const channels = value => value.match(/[\\d.]+/g).map(Number);
  const luminance = rgb => {
    const [r, g, b] = rgb.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let background = [255, 255, 255];
  for (let node = element; node; node = node.parentElement) {
    const colour = channels(getComputedStyle(node).backgroundColor);
    if (colour.length < 4 || colour[3] > 0) { background = colour; break; }
  }
  const [light, dark] = [luminance(channels(getComputedStyle(element).color)),
                         luminance(background)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}"""


@pytest.fixture
def reported(transactional_db):
    world = World.build()
    visit = ActivityFactory(code="visit", uses_households=True, uses_participants=True)
    IndicatorFactory(code="people", measure="participants", unit="人次", activities=[visit])
    entry = EntryFactory(team=world.team_a, author=world.member_a, activity=visit,
                         households=[HouseholdFactory(village=world.village_a)],
                         participants=10, date=MARCH)
    lock_month(organisation=world.org, year=MARCH.year, month=MARCH.month, user=world.coordinator)
    return world, entry


def log_in(page, live_server, username):
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()


def low_contrasts(page, selector):
    ratios = {}
    for index, element in enumerate(page.locator(selector).all()):
        if element.is_visible():
            name = f"{selector} #{index} {element.inner_text().strip()!r}"
            ratios[name] = round(element.evaluate(CONTRAST), 2)
    assert ratios, f"nothing matches {selector}"
    return {name: ratio for name, ratio in ratios.items() if ratio < MINIMUM_CONTRAST}


def test_header_and_the_reason_error_keep_their_contrast(page, live_server, reported):
    world, entry = reported
    log_in(page, live_server, world.member_a.username)
    page.goto(f"{live_server.url}/notebook/{entry.pk}/edit/")
    # a locked month's edit without its reason: the server answers with the reason's error
    page.click("button[name=next][value=detail]")
    page.wait_for_selector("#id_reason_error")

    assert low_contrasts(page, "header a, header button") == {}
    assert low_contrasts(page, "#id_reason_error") == {}


def test_month_labels_of_the_dashboard_charts_are_readable_on_a_phone(page, live_server, reported):
    world, _entry = reported
    log_in(page, live_server, world.coordinator.username)
    page.goto(f"{live_server.url}/dashboard/?year={MARCH.year}")

    labels = page.eval_on_selector_all(".month-chart text", """texts => texts.map(text => ({
        height: text.getBoundingClientRect().height,
        size: parseFloat(text.getAttribute("font-size")) * text.getScreenCTM().a,
    }))""")

    assert page.viewport_size["width"] == 390
    assert len(labels) >= 12
    assert min(label["size"] for label in labels) >= MINIMUM_LABEL_PX
    assert min(label["height"] for label in labels) >= MINIMUM_LABEL_PX
