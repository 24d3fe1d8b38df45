"""`manage.py import_households FILE`: a village's households from a .csv or .xlsx file
(DESIGN §6). Stored (village, house_number) rows are updated, never duplicated."""

from worklog.imports import households_import, plan_households
from worklog.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import households from a .csv or .xlsx file, all or nothing. Every problem goes "
        "to stderr as `row N: column: problem` and the exit status is 1."
    )
    plan = staticmethod(plan_households)
    run_import = staticmethod(households_import)
