"""What a browser or a screen reader asks of every page: a favicon that answers, and
navigation landmarks that can be told apart."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


class NavLabels(HTMLParser):
    """The aria-label (or None) of each <nav> of a page."""

    def __init__(self):
        super().__init__()
        self.labels = []

    def handle_starttag(self, tag, attrs):
        if tag == "nav":
            self.labels.append(dict(attrs).get("aria-label"))


def nav_labels(html):
    parser = NavLabels()
    parser.feed(html)
    return parser.labels


def test_favicon_answers_without_logging_in():
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an icon file


def test_pages_name_their_icon(world):
    client = Client()
    client.force_login(world.member_a)

    page = client.get(reverse("notebook")).content.decode()

    assert re.search(r'<link rel="icon" href="[^"]*/worklog/favicon[.\w]*\.ico">', page)


@pytest.mark.parametrize("url", ["amendment_list", "household_list", "dashboard"])
def test_navigation_landmarks_have_distinct_labels(world, url):
    client = Client()
    client.force_login(world.coordinator)

    labels = nav_labels(client.get(reverse(url)).content.decode())

    assert None not in labels and "" not in labels
    assert len(set(labels)) == len(labels)


def test_the_amendments_page_has_two_labelled_navigations(world):
    client = Client()
    client.force_login(world.coordinator)

    labels = nav_labels(client.get(reverse("amendment_list")).content.decode())

    assert len(labels) == 2 and None not in labels and labels[0] != labels[1]
