"""Which database a query goes to when a read replica is configured (DATABASE_REPLICA_URL).

Coordinators' reads — the views marked `@reads_from_replica`: dashboards and their
breakdown exports, the year report, `/api/totals` — go to the PostgreSQL streaming standby
(alias "replica"); everything else, and every write, to the primary ("default"). A browser
that has just written (the `wrote_at` mark, set by worklog.middleware.ReadYourWritesMiddleware)
reads from the primary for REPLICA_READ_YOUR_WRITES_SECONDS, so nobody misses their own
change on a standby still replaying it. Without the setting no router is installed and the
decorator calls the view as it is.
"""

import functools
from contextvars import ContextVar

from django.conf import settings
from django.core.signing import BadSignature

REPLICA = "replica"
WROTE_AT_COOKIE = "wrote_at"
WROTE_AT_SALT = "worklog.routers.wrote_at"

# True while a coordinators' read view runs for a request that may read from the replica.
# A ContextVar rather than a thread-local: each request (thread or task) sees its own.
_reading_from_replica = ContextVar("reading_from_replica", default=False)


def replica_configured():
    return REPLICA in settings.DATABASES


def wrote_recently(request):
    """Whether this browser made a successful write within REPLICA_READ_YOUR_WRITES_SECONDS
    (the signed mark's own age is checked, whatever the cookie's expiry says)."""
    try:
        request.get_signed_cookie(
            WROTE_AT_COOKIE, salt=WROTE_AT_SALT, max_age=settings.REPLICA_READ_YOUR_WRITES_SECONDS
        )
    except (KeyError, BadSignature):  # no mark, a forged one, or one older than the window
        return False
    return True


def reads_from_replica(view):
    """Marks a coordinators' read view: its queries read from the replica, unless the
    browser wrote recently. The user and the session are loaded before the switch, from the
    primary: a login a moment ago may not have reached the standby yet."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not replica_configured():
            return view(request, *args, **kwargs)
        request.user.is_authenticated  # noqa: B018 — load the user here, on the primary
        if wrote_recently(request):
            return view(request, *args, **kwargs)
        token = _reading_from_replica.set(True)
        try:
            return view(request, *args, **kwargs)
        finally:
            _reading_from_replica.reset(token)

    return wrapped


class ReplicaRouter:
    """DATABASE_ROUTERS entry when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading_from_replica.get() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the standby follows the primary's schema by itself
