"""`manage.py import_households FILE`: a village's households from a .csv or .xlsx file
(DESIGN §6). Stored (village, house_number) rows are updated, never duplicated."""

from django.core.management.base import BaseCommand

from worklog.imports import ImportRejected, households_import, plan_households
from worklog.management.commands.import_entries import fail, read_file


class Command(BaseCommand):
    help = (
        "Import households from a .csv or .xlsx file, all or nothing. Every problem goes "
        "to stderr as `row N: column: problem` and the exit status is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8 or GB18030) or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, writing nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        content = read_file(file)
        try:
            if dry_run:
                plan = plan_households(name=file, content=content)
                if plan.problems:
                    raise ImportRejected(plan.problems)
            else:
                plan = households_import(name=file, content=content)
        except ImportRejected as rejected:
            fail(self, rejected)
        self.stdout.write(plan.summary())
