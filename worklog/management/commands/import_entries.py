"""`manage.py import_entries FILE`: notebook entries from a .csv or .xlsx file (DESIGN §6)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from worklog.imports import ImportRejected, entries_import, plan_entries


class Command(BaseCommand):
    help = (
        "Import notebook entries from a .csv or .xlsx file, all or nothing. Every problem "
        "goes to stderr as `row N: column: problem` and the exit status is 1."
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
                plan = plan_entries(name=file, content=content)
                if plan.problems:
                    raise ImportRejected(plan.problems)
            else:
                plan = entries_import(name=file, content=content)
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
