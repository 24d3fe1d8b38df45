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
import logging
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.signing import BadSignature
from django.db import OperationalError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
ROUTER = "worklog.routers.ReplicaRouter"
WROTE_AT_COOKIE = "wrote_at"
WROTE_AT_SALT = "worklog.routers.wrote_at"

# True while a coordinators' read view runs for a request that may read from the replica.
# A ContextVar rather than a thread-local: each request (thread or task) sees its own.
_reading_from_replica = ContextVar("reading_from_replica", default=False)


def replica_configured():
    """A replica alias and this module's router to use it (settings.py sets both at once;
    the test suite takes the router away from tests that keep to the primary)."""
    return REPLICA in settings.DATABASES and ROUTER in settings.DATABASE_ROUTERS


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


def should_read_from_replica(request):
    """Whether a coordinators' read for this request may go to the replica: one is
    configured and the browser has not written recently. Loads the user (and the session)
    here, on the primary: a login a moment ago may not have reached the standby yet."""
    if not replica_configured():
        return False
    request.user.is_authenticated  # noqa: B018 — the lazy user, loaded now
    return not wrote_recently(request)


def replica_reachable():
    """Whether the replica's connection opens (a kept one is reused as it is): a standby
    that is down leaves coordinators reading from the primary rather than facing errors."""
    try:
        connections[REPLICA].ensure_connection()
    except OperationalError:
        logger.warning("The read replica cannot be reached: reading from the primary.", exc_info=True)
        return False
    return True


@contextmanager
def reading_from_replica():
    """Within it, ReplicaRouter sends reads to the replica."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view):
    """Marks a coordinators' read view: its queries read from the replica when
    should_read_from_replica says so and the replica answers."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (should_read_from_replica(request) and replica_reachable()):
            return view(request, *args, **kwargs)
        with reading_from_replica():
            return view(request, *args, **kwargs)

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
