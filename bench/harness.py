"""`make bench`: the scale benchmark of DESIGN §10 / issue 7 (see bench/README.md).

For each N (BENCH_SIZES, default 100,000, 1,000,000 and 10,000,000) on a database of its
own: migrate, seed the demo, time `manage.py seed --scale N` (seconds, peak memory), VACUUM,
the sizes of the tables that grow, then through a real gunicorn on 127.0.0.1 time the
organisation and area dashboards, /api/totals, the year report and a team's notebook page,
and the naive one-query recount of the same year. At the largest N also: the pages again
(BENCH_PAGE_ROUNDS rounds in a row), logging under load through /api/sync one entry at a
time, through the form, back to back, the outboxes in batches (bench/load.py); the
dashboard read from a streaming standby while members log (bench/replica.py); then
`manage.py import_entries` of a generated CSV, each checked against a recount. Writes
bench/results.json and bench/RESULTS.md.

It cleans up after itself whatever happens (try/finally, SIGTERM and SIGINT included): its
gunicorn, its standby (if it made one), its database, its copy of the code. It touches no
other database.
"""

import csv
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import checks
import replica
import report
from httpclient import Client, timed_gets

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/worklog_bench"
MARK = "made by bench/harness.py"
YEAR = 2021  # a full year of scale data (2018–2022), with the year before it
ORG = "bench"
COORDINATOR = "bench-coordinator"
AREA = "bench-region"  # the area tree over the bench villages
MEMBER = "bench-m0001"  # of team bench-t0001
# The pages timed (results.json key, who asks, path).
PAGES = (
    ("dashboard_ms", "coordinator", f"/dashboard/?year={YEAR}&org={ORG}"),
    ("api_ms", "coordinator", f"/api/totals?year={YEAR}&org={ORG}"),
    ("report_ms", "coordinator", f"/report/{YEAR}/?org={ORG}"),
    ("notebook_ms", "member", "/notebook/"),
    ("area_dashboard_ms", "admin", f"/dashboard/?year={YEAR}&area={AREA}"),
)
WHO = {"coordinator": COORDINATOR, "member": MEMBER, "admin": "admin"}  # admin: the demo's superuser


def env(name, default):
    return os.environ.get(name) or default


class Settings:
    def __init__(self):
        self.url = env("BENCH_DATABASE_URL", DEFAULT_URL)
        self.sizes = [int(n.replace("_", "")) for n in env("BENCH_SIZES", "100000,1000000,10000000").split(",")]
        self.requests = int(env("BENCH_REQUESTS", "60"))
        self.page_budget = float(env("BENCH_PAGE_SECONDS", "90"))
        self.naive_runs = int(env("BENCH_NAIVE_RUNS", "3"))
        self.page_rounds = int(env("BENCH_PAGE_ROUNDS", "3"))  # at the largest N
        self.load_seconds = int(env("BENCH_LOAD_SECONDS", "60"))
        self.load_members = int(env("BENCH_LOAD_MEMBERS", "50"))
        # Entries/s offered in all: 5 % over the target, so that the rate achieved over the
        # run, its start and tail included, can reach 200 when the server keeps up.
        self.load_rate = float(env("BENCH_LOAD_RATE", "210"))
        self.capacity_seconds = int(env("BENCH_CAPACITY_SECONDS", "30"))
        self.import_rows = int(env("BENCH_IMPORT_ROWS", "100000"))
        self.import_teams = int(env("BENCH_IMPORT_TEAMS", "20"))
        self.import_timeout = int(env("BENCH_IMPORT_SECONDS", "600"))
        self.workers = int(env("BENCH_WORKERS", "3"))
        self.threads = int(env("BENCH_THREADS", "4"))
        self.replica = env("BENCH_REPLICA", "1") != "0"
        self.replica_port = int(env("BENCH_REPLICA_PORT", "5433"))
        self.standby_dir = os.environ.get("BENCH_STANDBY_DIR")  # default: replica.Standby's
        self.output = Path(env("BENCH_OUTPUT", str(HERE)))
        self.tmp = HERE / "tmp"
        parts = urlsplit(self.url)
        self.database = parts.path.lstrip("/")
        self.port = parts.port or 5432
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("BENCH_DATABASE_URL must point at this machine")
        if not self.database or self.database in ("postgres", "template0", "template1"):
            raise SystemExit("BENCH_DATABASE_URL must name a database of the benchmark's own")


class Stop(Exception):
    """SIGTERM or SIGINT: unwind through the clean-up."""


def on_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


def log(message):
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


class Bench:
    def __init__(self, settings):
        self.s = settings
        self.password = "Bench-" + secrets.token_urlsafe(12)
        self.app = self.s.tmp / "app"
        self.logs = self.s.tmp / "logs"
        self.server = None
        self.port = None
        self.standby = None
        self.started = time.monotonic()
        self.results = {"runs": [], "notes": []}

    # --- processes ---------------------------------------------------------------------

    def environment(self, replica_url=None):
        extra = {"DATABASE_REPLICA_URL": replica_url} if replica_url else {}
        return {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"},
            **extra,
            "DATABASE_URL": self.s.url,
            "DEBUG": "0",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DB_CONN_MAX_AGE": "60",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def manage(self, *args, timeout=3600, peak=False, check=True):
        """Run manage.py in the copy of the code: (seconds, peak MB or None, process)."""
        command = [sys.executable, "manage.py", *args]
        rss_file = self.s.tmp / "rss"
        if peak:  # a wrapper whose only child is the command: its children's peak is the command's
            command = [sys.executable, str(HERE / "peak.py"), str(rss_file), *command]
        started = time.monotonic()
        process = subprocess.run(command, cwd=self.app, env=self.environment(), timeout=timeout,
                                 capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        if check and process.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args[:2])} failed ({process.returncode}):\n"
                               f"{process.stderr[-3000:]}")
        megabytes = round(int(rss_file.read_text()) / 1024, 1) if peak else None
        return seconds, megabytes, process

    def start_server(self, replica_url=None):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.server = subprocess.Popen(
            [str(gunicorn), "worklog.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.s.workers), "--worker-class", "gthread",
             "--threads", str(self.s.threads), "--timeout", "300", "--graceful-timeout", "10",
             "--error-logfile", str(self.logs / "gunicorn.log")],
            cwd=self.app, env=self.environment(replica_url), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.logs / 'gunicorn.log'}")
            try:
                status = Client(self.port).get("/accounts/login/")[0]
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop_server(self):
        if self.server is None:
            return
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)  # its own group: master and workers
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=10)
        self.server = None

    # --- the database --------------------------------------------------------------------

    def admin(self, sql, params=None):
        connection = psycopg2.connect(self.s.admin_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    def drop_database(self):
        rows = self.admin("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                          "WHERE datname = %s", [self.s.database])
        if not rows:
            return
        if rows[0][0] != MARK:
            raise SystemExit(f"database {self.s.database} exists and was not made by the "
                             "benchmark: not touching it")
        self.admin(f'DROP DATABASE "{self.s.database}" WITH (FORCE)')

    def create_database(self):
        self.drop_database()
        self.admin(f'CREATE DATABASE "{self.s.database}"')
        self.admin(f"COMMENT ON DATABASE \"{self.s.database}\" IS '{MARK}'")

    def sql(self, statement, params=None, *, autocommit=False):
        connection = psycopg2.connect(self.s.url)
        connection.autocommit = autocommit
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                rows = cursor.fetchall() if cursor.description else None
            connection.commit()
            return rows
        finally:
            connection.close()

    # --- steps ---------------------------------------------------------------------------

    def prepare(self):
        self.secret_key = secrets.token_urlsafe(50)
        shutil.rmtree(self.app, ignore_errors=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        # A copy of the work tree as it is now (tracked and new files): later edits by
        # others do not change the code under measurement, and collectstatic writes here.
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                               capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, files):
            source = ROOT / name
            if name.startswith("bench/") or not source.is_file():
                continue
            target = self.app / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        self.manage("collectstatic", "--noinput", "-v0", "--skip-checks")
        self.results["code"] = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
            check=False,
        ).stdout.strip()

    def run_size(self, number, last):
        log(f"N = {number:,}: database, migrate, demo")
        self.create_database()
        self.manage("migrate", "--noinput", "-v0", "--skip-checks")
        demo_seconds, _, _ = self.manage("seed", "--demo-password", self.password, "--skip-checks")
        log(f"N = {number:,}: seed --scale")
        seconds, megabytes, process = self.manage(
            "seed", "--scale", str(number), "--demo-password", self.password, "--skip-checks",
            peak=True, timeout=1800)
        run = {"entries": number, "seed_seconds": round(seconds, 1), "seed_peak_mb": megabytes,
               "seed_output": process.stdout.strip().splitlines()[-1:],
               "demo_seed_seconds": round(demo_seconds, 1)}
        log(f"N = {number:,}: seeded in {seconds:.0f} s, peak {megabytes} MB; VACUUM")
        started = time.monotonic()
        self.sql("VACUUM (ANALYZE) worklog_entry, worklog_entry_households, worklog_tally, "
                 "worklog_householdtally, teams_household, worklog_orgtally, worklog_orgreach, "
                 "worklog_areatally, worklog_areareach", autocommit=True)
        run["vacuum_seconds"] = round(time.monotonic() - started, 1)
        run.update(self.sizes())
        run["capacity"] = self.capacity()
        if number == min(self.s.sizes):
            log(f"N = {number:,}: manage.py totals --verify")
            verify_seconds, _, process = self.manage("totals", "--verify", "--skip-checks", check=False)
            run["seed_verified"] = {"command": "manage.py totals --verify",
                                    "ok": process.returncode == 0,
                                    "seconds": round(verify_seconds, 1),
                                    "output": (process.stdout + process.stderr).strip()[-500:]}
        self.start_server()
        try:
            run.update(self.pages(rounds=self.s.page_rounds if last else 1))
            run.update(self.naive(run.pop("_api_values")))
            if last:
                self.under_load()
        finally:
            self.stop_server()
        if last:
            if self.s.replica:
                self.results["replica"] = self.replica_step()
            self.results.update(self.import_step())
            # After the loads and the import: the history tables hold their entries' rows.
            run["capacity_after_writes"] = self.capacity()
        self.results["runs"].append(run)
        self.write()

    def under_load(self):
        """The logging and syncing runs of the largest N (results.json keys as the issue
        names them), each checked for lost and duplicate entries and against a recount."""
        rate = self.s.load_rate
        # Online: one entry per /api/sync request, at the target rate (the figure).
        self.results["logging"] = self.logging_under_load(rate=rate, way="sync", batch=(1, 1))
        # The same entries through the notebook's form (what "logging" measured up to run E).
        self.results["logging_form"] = self.logging_under_load(rate=rate, way="form")
        # One entry per /api/sync request, back to back: the most online logging takes.
        self.results["logging_capacity"] = self.logging_under_load(
            seconds=self.s.capacity_seconds, way="sync", batch=(1, 1))
        # The phones' outboxes in batches of 1–20 entries, at the target rate of entries.
        self.results["sync"] = self.logging_under_load(rate=rate, way="sync", batch=(1, 20))
        # Full batches of 20, back to back: the most the sync takes.
        self.results["sync_batched"] = self.logging_under_load(
            seconds=self.s.capacity_seconds, way="sync", batch=(20, 20))

    def sizes(self):
        rows = self.sql(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname IN "
            "('worklog_entry', 'worklog_entry_households', 'worklog_tally', 'worklog_householdtally')")
        size = self.sql("SELECT pg_database_size(current_database())")[0][0]
        return {"rows_estimated": dict(rows), "database_mb": round(size / 2**20)}

    def capacity(self):
        connection = psycopg2.connect(self.s.url)
        try:
            with connection.cursor() as cursor:
                return checks.capacity(cursor)
        finally:
            connection.close()

    def pages(self, rounds=1):
        """Each page of PAGES timed; with `rounds` > 1 all of them again, round after round,
        on the same server and database: `<page>_ms` is the first round's, `rounds` all."""
        clients = {}
        for who, username in WHO.items():
            clients[who] = Client(self.port)
            clients[who].login(username, self.password)
        every = []
        for number in range(1, rounds + 1):
            timed = {}
            for key, who, path in PAGES:
                log(f"  GET {path}" + (f" (round {number} of {rounds})" if rounds > 1 else ""))
                timed[key] = timed_gets(clients[who], path, count=self.s.requests,
                                        budget_seconds=self.s.page_budget, warmup=1)
                if timed[key]["n"] < self.s.requests:
                    self.results["notes"].append(
                        f"{path}: only {timed[key]['n']} timed requests fitted in "
                        f"{self.s.page_budget:.0f} s (each took about {timed[key]['p50'] / 1000:.1f} s)")
            every.append(timed)
        found = dict(every[0])
        if rounds > 1:
            found["rounds"] = every
        _status, _, body, _ = clients["coordinator"].get(f"/api/totals?year={YEAR}&org={ORG}")
        document = json.loads(body)
        found["_api_values"] = {row["code"]: row["value"] for row in document["indicators"]}
        return found

    def replica_step(self):
        """The organisation dashboard on a streaming standby while members log (bench/replica.py)."""
        self.standby = replica.Standby(self.s.port, self.s.replica_port, self.s.standby_dir)
        return replica.measure(self, self.standby, COORDINATOR, f"/dashboard/?year={YEAR}&org={ORG}")

    def naive(self, api_values):
        connection = psycopg2.connect(self.s.url)
        try:
            with connection.cursor() as cursor:
                rows = checks.indicators(cursor)
                statement = checks.naive_recount_sql(rows)
                times, values = [], None
                for _ in range(self.s.naive_runs):
                    started = time.perf_counter()
                    cursor.execute(statement, [f"{ORG}/%", date(YEAR, 1, 1), date(YEAR + 1, 1, 1)])
                    values = checks.as_document_values(cursor, rows)
                    times.append(round((time.perf_counter() - started) * 1000, 1))
        finally:
            connection.close()
        return {"naive_recount_ms": sorted(times)[len(times) // 2], "naive_recount_runs_ms": times,
                "naive_equals_api": values == api_values}

    def team_ids(self, slugs):
        rows = self.sql("SELECT slug, id FROM teams_team WHERE slug = ANY(%s)", [slugs])
        found = dict(rows)
        return [found[slug] for slug in slugs]

    def logging_under_load(self, rate=None, seconds=None, way="form", batch=None, during=None):
        """The members send entries for `seconds` (bench/load.py), through the form or in
        batches of `batch` (fewest, most) entries through the sync (`way`): at `rate`
        entries/s in all (open loop), or back to back without it; then lost, duplicates and
        a recount. `during(seconds)` runs once the load's clock has started."""
        seconds = seconds or self.s.load_seconds
        members = [f"bench-m{n:04d}" for n in range(1, self.s.load_members + 1)]
        teams = [f"bench-t{n:04d}" for n in range(1, self.s.load_members + 1)]
        rows = self.sql(
            "SELECT t.slug, array_agg(h.id ORDER BY h.id) FROM teams_team t "
            "JOIN teams_household h ON h.village_id = t.village_id WHERE t.slug = ANY(%s) "
            "GROUP BY t.slug", [teams])
        households = dict(rows)
        activities = self.sql(
            "SELECT id, code, uses_households, uses_participants, uses_sessions, uses_quantity, "
            "uses_funds FROM worklog_activity WHERE is_active ORDER BY id")
        names = ("households", "participants", "sessions", "quantity", "funds")
        today = datetime.now(UTC).date()  # never ahead of Asia/Shanghai's date
        plan = {
            "port": self.port, "password": self.password, "seconds": seconds, "rate": rate,
            "way": way, "batch": list(batch) if batch else None, "resend_share": 0.05,
            "members": [{"username": m, "households": households[t]} for m, t in zip(members, teams)],
            "activities": [{"pk": pk, "code": code, "uses": [n for n, on in zip(names, flags) if on]}
                           for pk, code, *flags in activities],
            "dates": [str(today - timedelta(days=n)) for n in range(28)],
        }
        plan_file, out_file = self.s.tmp / "load-plan.json", self.s.tmp / "load-out.json"
        plan_file.write_text(json.dumps(plan))
        before = self.sql("SELECT now()")[0][0]
        log(f"logging under load ({way}{f' of {batch[0]}–{batch[1]}' if batch else ''}): "
            f"{len(members)} members, {seconds} s, "
            + (f"{rate:g} entries/s offered" if rate else "back to back"))
        command = [sys.executable, str(HERE / "load.py"), str(plan_file), str(out_file)]
        if during is None:
            subprocess.run(command, check=True, timeout=seconds + 600, stdout=subprocess.DEVNULL)
        else:
            with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as load:
                for line in load.stdout:
                    if line.startswith("load: began"):
                        during(seconds)
                        break
                load.stdout.read()
                if load.wait(timeout=seconds + 600) != 0:
                    raise RuntimeError(f"bench/load.py failed ({load.returncode})")
        result = json.loads(out_file.read_text())
        acknowledged = result.pop("acknowledged_uuids")
        stored = self.sql("SELECT count(*) FROM worklog_entry WHERE uuid = ANY(%s::uuid[])",
                          [acknowledged])[0][0]
        written = self.sql(
            "SELECT count(*) FROM worklog_entry e JOIN auth_user u ON u.id = e.author_id "
            "WHERE u.username = ANY(%s) AND e.created_at >= %s", [members, before])[0][0]
        result.update({
            "stored": stored,
            "lost": len(acknowledged) - stored,
            # Rows the load wrote beyond one per acknowledged post: a double submit that
            # made a second entry, or a post that was saved but never acknowledged.
            "duplicates": written - stored,
        })
        log(f"  {result['rps']} entries/s; recount of the {len(teams)} teams")
        started = time.monotonic()
        result["verify"] = checks_for(self, teams)
        result["verify"]["seconds"] = round(time.monotonic() - started, 1)
        return result

    def import_step(self):
        found = {"import_rows_per_s": None, "import": {"rows": self.s.import_rows}}
        _, _, process = self.manage("help", "import_entries", check=False)
        if process.returncode != 0:
            found["import"]["note"] = "manage.py import_entries does not exist yet"
            return found
        teams = [f"bench-t{n:04d}" for n in range(self.s.load_members + 1,
                                                   self.s.load_members + 1 + self.s.import_teams)]
        path = self.s.tmp / "import.csv"
        uuids = write_import_csv(path, self.s.import_rows, teams, self.sql(
            "SELECT code, uses_households, uses_participants, uses_sessions, uses_quantity, "
            "uses_funds FROM worklog_activity WHERE is_active ORDER BY id"))
        log(f"import_entries: {self.s.import_rows:,} rows")
        try:
            seconds, megabytes, process = self.manage(
                "import_entries", str(path), "--skip-checks", check=False, peak=True,
                timeout=self.s.import_timeout)
        except subprocess.TimeoutExpired:
            found["import"]["note"] = f"did not finish within {self.s.import_timeout} s"
            return found
        stored = self.sql("SELECT count(*) FROM worklog_entry WHERE uuid = ANY(%s::uuid[])",
                          [uuids])[0][0]
        found["import"].update({"seconds": round(seconds, 1), "peak_mb": megabytes,
                                "exit_status": process.returncode, "stored": stored,
                                "output": (process.stdout + process.stderr).strip()[-600:]})
        if process.returncode == 0 and stored == self.s.import_rows:
            found["import_rows_per_s"] = round(self.s.import_rows / seconds)
        else:
            found["import"]["note"] = "the import failed or stored fewer rows than the file has"
        log(f"  import: {seconds:.0f} s, exit {process.returncode}; recount of {len(teams)} teams")
        found["import"]["verify"] = checks_for(self, teams)
        return found

    def machine(self):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                    if line.startswith("model name")), platform.processor())
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        memory = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
        server = self.sql("SHOW server_version")[0][0] if self.database_exists() else None
        settings_rows = self.sql(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', "
            "'work_mem', 'max_wal_size', 'max_parallel_workers_per_gather')"
        ) if server else []
        return {
            "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory / 2**20, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "postgresql": server,
            "postgresql_settings": {name: f"{value}{unit or ''}" for name, value, unit in settings_rows},
            "server": f"gunicorn, {self.s.workers} workers × {self.s.threads} threads (gthread), "
                      "DEBUG=0, on 127.0.0.1",
        }

    def database_exists(self):
        return bool(self.admin("SELECT 1 FROM pg_database WHERE datname = %s", [self.s.database]))

    def write(self):
        self.results["elapsed_minutes"] = round((time.monotonic() - self.started) / 60, 1)
        self.s.output.mkdir(parents=True, exist_ok=True)
        (self.s.output / "results.json").write_text(
            json.dumps(self.results, indent=2, ensure_ascii=False, default=str) + "\n")
        (self.s.output / "RESULTS.md").write_text(report.render(self.results))

    def run(self):
        self.results.update({"date": datetime.now(UTC).isoformat(timespec="seconds"),
                             "settings": {"sizes": self.s.sizes, "year": YEAR, "organisation": ORG,
                                          "requests": self.s.requests,
                                          "load_seconds": self.s.load_seconds,
                                          "load_members": self.s.load_members,
                                          "load_rate": self.s.load_rate,
                                          "capacity_seconds": self.s.capacity_seconds,
                                          "page_rounds": self.s.page_rounds,
                                          "import_rows": self.s.import_rows}})
        self.prepare()
        for index, number in enumerate(self.s.sizes):
            self.run_size(number, last=index == len(self.s.sizes) - 1)
            if index == 0:
                self.results["machine"] = self.machine()
        self.results["complete"] = True
        self.write()

    def clean_up(self):
        self.stop_server()
        try:
            if self.standby is not None:
                self.standby.stop()  # before the drop: never a standby left half-copied
            self.drop_database()
        finally:
            shutil.rmtree(self.app, ignore_errors=True)
            for name in ("import.csv", "load-plan.json", "load-out.json", "rss"):
                (self.s.tmp / name).unlink(missing_ok=True)


def checks_for(bench, slugs):
    connection = psycopg2.connect(bench.s.url)
    try:
        with connection.cursor() as cursor:
            found = checks.recount_teams(cursor, bench.team_ids(slugs))
    finally:
        connection.close()
    found["teams"] = len(slugs)
    found["exact"] = found["tally_differences"] == found["household_tally_differences"] == 0
    return found


def write_import_csv(path, rows, teams, activities):
    """`rows` valid entries for `teams` (dated 2023, households by house number; every
    other row leaves the village empty); returns their uuids."""
    rng = random.Random("bench-import")
    names = ("households", "participants", "sessions", "quantity", "funds")
    kinds = [(code, {n for n, on in zip(names, flags) if on}) for code, *flags in activities]
    uuids = []
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["date", "team", "village", "activity", "households", "participants",
                         "sessions", "quantity", "funds", "title", "notes", "uuid"])
        for i in range(rows):
            team = teams[i % len(teams)]
            code, uses = rng.choice(kinds)
            key = str(uuid.uuid4())
            uuids.append(key)
            houses = rng.sample(range(1, 301), rng.randint(1, 4)) if "households" in uses else []
            writer.writerow([
                str(date(2023, 1, 1) + timedelta(days=rng.randrange(365))), team,
                team.replace("bench-t", "bench-v") if i % 2 else "", code,
                ";".join(map(str, houses)),
                rng.randint(1, 40) if "participants" in uses else "",
                rng.randint(1, 3) if "sessions" in uses else "",
                rng.randint(1, 5) if "quantity" in uses else "",
                f"{rng.randint(1000, 900000)}.00" if "funds" in uses else "",
                f"导入测试 {i}", "", key,
            ])
    return uuids


def main():
    settings = Settings()
    bench = Bench(settings)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    failed = None
    try:
        bench.run()
    except (Exception, Stop) as error:  # noqa: BLE001 (recorded, then cleaned up and re-raised)
        failed = error
        bench.results["failed"] = f"{type(error).__name__}: {error}"[-2000:]
        log(f"failed: {error}")
    finally:
        try:
            bench.clean_up()
        finally:
            if "machine" not in bench.results:
                bench.results["machine"] = {"cores": os.cpu_count(), "os": platform.platform()}
            bench.write()
    log(f"done in {(time.monotonic() - bench.started) / 60:.1f} min: "
        f"{settings.output / 'results.json'}, {settings.output / 'RESULTS.md'}")
    if failed is not None:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
