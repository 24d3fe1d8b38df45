"""What `manage.py import_entries` and `manage.py import_households` share: the file
argument and --dry-run, reading the file, and every problem on stderr with exit status 1.
Django takes no module starting with an underscore for a command.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from worklog.imports import ImportRejected


class ImportCommand(BaseCommand):
    """A subclass names the functions that check a file (`plan`) and import it (`run_import`)."""

    plan = None  # staticmethod(plan_entries), say
    run_import = None  # staticmethod(entries_import), say

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8 or GB18030) or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, writing nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        content = read_file(file)
        try:
            if dry_run:
                plan = self.plan(name=file, content=content)
                if plan.problems:
                    raise ImportRejected(plan.problems)
            else:
                plan = self.run_import(name=file, content=content)
        except ImportRejected as rejected:
            fail(self, rejected)
        self.stdout.write(plan.summary())


def read_file(path):
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None


def fail(command, rejected):
    """Every problem on stderr, then exit status 1 with nothing written."""
    for problem in rejected.problems:
        command.stderr.write(str(problem))
    raise CommandError(
        f"nothing was imported: {len(rejected.problems)} problem(s)", returncode=1
    )
