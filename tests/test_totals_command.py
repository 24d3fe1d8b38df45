"""`manage.py totals` (DESIGN §6): JSON on stdout, one-line errors."""

import json
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.factories import ActivityFactory, EntryFactory, IndicatorFactory, TeamFactory

ROOT = Path(__file__).resolve().parent.parent


def run_totals(*args):
    out = StringIO()
    call_command("totals", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def projects(db):
    project = ActivityFactory(code="project", uses_funds=True)
    IndicatorFactory(code="funds_invested", measure="funds", unit="元", activities=[project])
    IndicatorFactory(code="benefit_projects", measure="entries", activities=[project])
    team = TeamFactory(slug="north", organisation__slug="division", village__slug="north")
    EntryFactory(team=team, activity=project, funds=Decimal("1000000.50"))
    EntryFactory(team=team, activity=project, funds=Decimal("0.25"))
    return team


def test_json_for_an_organisation(projects):
    document = json.loads(run_totals("--year", "2017", "--org", "division", "--json"))

    assert document["scope"] == {
        "kind": "org",
        "slug": "division",
        "name": projects.organisation.name,
    }
    assert [(row["code"], row["value"], row["unit"]) for row in document["indicators"]] == [
        ("funds_invested", "1000000.75", "元"),
        ("benefit_projects", 2, "个"),
    ]


def test_without_a_scope_everything_counts(projects):
    document = json.loads(run_totals("--year", "2017", "--json"))

    assert document["scope"]["kind"] == "all"
    assert document["indicators"][1]["value"] == 2


@pytest.mark.parametrize("option", ["--org", "--team", "--village", "--area"])
def test_unknown_slug_names_the_problem(projects, option):
    with pytest.raises(CommandError, match="unknown .* slug: 'nowhere'"):
        run_totals("--year", "2017", option, "nowhere", "--json")


def test_two_scopes_at_once_are_refused(projects):
    with pytest.raises(CommandError, match="at most one"):
        run_totals("--year", "2017", "--org", "division", "--team", "north")


@pytest.mark.parametrize("year", ["20x7", "99999", "-1"])
def test_bad_year_exits_non_zero_with_one_line(year):
    result = subprocess.run(
        [sys.executable, "manage.py", "totals", f"--year={year}", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "bad year" in result.stderr and "Traceback" not in result.stderr
