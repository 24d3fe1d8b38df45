"""`manage.py seed [--demo-password PW] [--scale N]`: the demo from `seeds/` (DESIGN §6)."""

import time

from django.core.management.base import BaseCommand, CommandError

from worklog.demo.seeding import seed_demo
from worklog.demo.targets import SeedError


class Command(BaseCommand):
    help = (
        "Load the demo from seeds/: places, activities, indicators, synthetic households, "
        "team accounts and the 2017 notebook. Idempotent: a rerun creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo-password",
            metavar="PW",
            help="also create admin and coordinator, and give every demo account this password",
        )
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="make sure N benchmark entries (dated 2018–2022) exist",
        )

    def handle(self, *args, **options):
        if options["scale"] < 0:
            raise CommandError("--scale must be 0 or more")
        if options["demo_password"] == "":
            raise CommandError("--demo-password must not be empty")
        started = time.monotonic()
        try:
            created = seed_demo(demo_password=options["demo_password"], scale=options["scale"])
        except SeedError as error:
            raise CommandError(f"seeds/ are inconsistent: {error}") from None
        # Counts only: the password is the caller's and never echoed.
        summary = ", ".join(f"{number} {what}" for what, number in created.items())
        self.stdout.write(f"Created {summary} in {time.monotonic() - started:.1f} s.")
