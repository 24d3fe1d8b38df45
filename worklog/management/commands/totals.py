"""`manage.py totals --year Y [--org|--team|--village|--area SLUG] [--json]` (DESIGN §6)."""

import json

from django.core.management.base import BaseCommand, CommandError

from worklog import tallies
from worklog.totals import (
    MAX_YEAR,
    MIN_YEAR,
    SCOPE_KINDS,
    ScopeNotFound,
    resolve_scope,
    totals_document,
)

SCOPE_NAMES = {"org": "organisation", "team": "team", "village": "village", "area": "area"}


class Command(BaseCommand):
    help = "Print the year's indicator totals for a scope (all entries without a scope option)."

    def add_arguments(self, parser):
        parser.add_argument("--year", help="calendar year, e.g. 2017")
        for kind in SCOPE_KINDS:
            parser.add_argument(f"--{kind}", metavar="SLUG", help=f"{SCOPE_NAMES[kind]} slug")
        parser.add_argument("--json", action="store_true", help="print JSON (DESIGN §6)")
        parser.add_argument(
            "--verify", action="store_true",
            help="recount every tally from the raw entries and report any difference",
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="replace the tallies by a recount of the entries"
        )

    def handle(self, *args, **options):
        if options["rebuild"]:
            rows, household_rows = tallies.rebuild()
            self.stdout.write(f"rebuilt {rows} tallies and {household_rows} household tallies")
            return
        if options["verify"]:
            return self.verify()
        if options["year"] is None:
            raise CommandError("--year is required")
        year = parse_year(options["year"])
        chosen = [kind for kind in SCOPE_KINDS if options[kind] is not None]
        if len(chosen) > 1:
            raise CommandError("give at most one of --org, --team, --village, --area")
        kind = chosen[0] if chosen else None
        try:
            scope = resolve_scope(kind, options[kind] if kind else None)
        except ScopeNotFound:
            raise CommandError(f"unknown {SCOPE_NAMES[kind]} slug: {options[kind]!r}") from None
        document = totals_document(scope, year)
        if options["json"]:
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{document['year']} · {document['scope']['name']}")
        for row in document["indicators"]:
            self.stdout.write(f"{row['code']:<24} {row['value']:>14} {row['unit']:<4} {row['label']}")


    def verify(self):
        lines = tallies.differences()
        for line in lines:
            self.stderr.write(line)
        if lines:
            raise CommandError(f"{len(lines)} difference(s) between the tallies and a recount")
        self.stdout.write("tallies equal a recount of the entries")


def parse_year(text):
    try:
        year = int(text)
    except ValueError:
        raise CommandError(f"bad year: {text!r} is not a whole number") from None
    if not (MIN_YEAR <= year <= MAX_YEAR):
        raise CommandError(f"bad year: {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    return year
