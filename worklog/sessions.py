"""The session store (SESSION_ENGINE): Django's database sessions, read by one plain
statement.

Every request of a logged-in user reads its session, and building that SELECT through the
ORM cost several times more CPU than running it (bench/findings.md). The row, its
expiry and everything else are Django's own: logging out, a password change or
deactivation end a session exactly as with django.contrib.sessions.backends.db.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def load(self):
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as Django's: a missing or expired session starts afresh
            return {}
        return self.decode(row[0])
