"""`manage.py import_entries FILE`: notebook entries from a .csv or .xlsx file (DESIGN §6)."""

from worklog.imports import entries_import, plan_entries
from worklog.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import notebook entries from a .csv or .xlsx file, all or nothing. Every problem "
        "goes to stderr as `row N: column: problem` and the exit status is 1."
    )
    plan = staticmethod(plan_entries)
    run_import = staticmethod(entries_import)
