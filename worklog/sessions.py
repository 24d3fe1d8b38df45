"""What a request's session and its user are read with (SESSION_ENGINE and the
authentication backend that reads the user of a session): Django's own database sessions
and users, each read by one plain statement.

Every request of a logged-in user reads its session and then its user; building those two
SELECTs through the ORM cost several times the CPU of running them. The rows, expiry and
checks are Django's: logging out, a password change (the session's hash of it) or
deactivation end a session at once, on every app server.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from teams import statements
from teams.rows import columns, read_row


class SessionStore(db.SessionStore):
    def load(self):
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            statements.execute(
                cursor, f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as Django's: a missing or expired session starts afresh
            return {}
        return self.decode(row[0])


class UserBackend(ModelBackend):
    """django.contrib.auth's ModelBackend, with the user of a session read by one plain
    statement. Listed before ModelBackend, which stays for the sessions it started."""

    def get_user(self, user_id):
        model = get_user_model()
        connection = connections[router.db_for_read(model)]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            statements.execute(cursor, f"SELECT {columns(model)} FROM {quote(model._meta.db_table)} "
                                       f"WHERE {quote(model._meta.pk.column)} = %s", [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        [user] = read_row((model,), connection, row)
        return user if self.user_can_authenticate(user) else None
