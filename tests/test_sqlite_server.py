"""SQLite, the default database, under a web server's concurrent posts (issue 11, point 7).

`make run`'s database, for real: a file migrated and seeded in a subprocess, served by
gunicorn (three processes of sixteen threads: runserver's listen queue of ten resets the
rest of fifty simultaneous connections), and a team member's posts of new entries at the
same moment from real threads. None may answer "database is locked" (500).
"""

import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8110, 8120)
PASSWORD = "demo-pass-123"
MEMBER = "member-kaiganqi"

pytestmark = pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"],
    reason="the default database's behaviour; PostgreSQL has its own concurrency tests",
)


def free_port():
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8110-8119")


def manage(*args, env):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)


def wait_for_port(port, server, log, attempts=600):
    """Poll the server's port; between attempts wait on the process (it may have died)."""
    for _ in range(attempts):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            try:
                server.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            log.seek(0)
            raise AssertionError(f"the server exited: {log.read().decode()[-2000:]}")
    raise AssertionError("the server did not open its port")


class Browser:
    """A logged-in session of one user, as cookies and a CSRF token."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response.status, content

    def log_in(self, username, password):
        self.request("GET", "/accounts/login/")
        status, _ = self.request("POST", "/accounts/login/", urlencode({
            "username": username, "password": password,
            "csrfmiddlewaretoken": self.cookies["csrftoken"],
        }))
        assert status == 302, "the demo member could not log in"

    def post_entry(self, activity):
        return self.request("POST", "/notebook/new/", urlencode({
            "date": timezone.localdate().isoformat(), "activity": activity, "title": "修水管",
            "participants": "", "sessions": "", "quantity": "", "funds": "", "notes": "",
            "uuid": str(uuid.uuid4()), "csrfmiddlewaretoken": self.cookies["csrftoken"],
        }))


def concurrent_posts(database, port, writers):
    """Serve `database` and post `writers` new entries at once; the answers' status codes.
    The server's log goes to a file beside the database (a pipe nobody reads would fill
    up with tracebacks and stall the server)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    env.pop("TEST_DATABASE_NAME", None)
    log = open(Path(database).with_suffix(".log"), "w+b")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "worklog.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "3", "--threads", "16"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )
    try:
        wait_for_port(port, server, log)
        browser = Browser(port)
        browser.log_in(MEMBER, PASSWORD)
        activity = activity_id(database, "repair")
        start = threading.Barrier(writers)
        statuses = []

        def post():
            start.wait()
            statuses.append(browser.post_entry(activity)[0])

        threads = [threading.Thread(target=post) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return Counter(statuses)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    database = tmp_path_factory.mktemp("sqlite") / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    env.pop("TEST_DATABASE_NAME", None)
    manage("migrate", "--noinput", env=env)
    manage("seed", "--demo-password", PASSWORD, env=env)
    return database


def activity_id(database, code):
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT id FROM worklog_activity WHERE code = ?", [code]).fetchone()[0]


def entries_of_today(database):
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT count(*) FROM worklog_entry WHERE date = ?", [timezone.localdate().isoformat()]
        ).fetchone()[0]


def test_fifty_concurrent_new_entries_on_the_default_database_get_no_server_error(demo_database):
    before = entries_of_today(demo_database)

    statuses = concurrent_posts(demo_database, free_port(), writers=50)

    assert not [status for status in statuses.elements() if status >= 500], statuses
    assert statuses[302] == 50
    assert entries_of_today(demo_database) == before + 50
