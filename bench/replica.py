"""The bench on a read replica (issue 14, point 5): a streaming standby of the bench's
PostgreSQL, and the coordinators' dashboard timed on it while members log on the primary,
with the replication lag sampled meanwhile.

A standby already answering in recovery on the port is reused and left running (CI's, made
by .ci/standby). Otherwise the harness makes one with .ci/standby in a folder of its own,
once the seed is done (its WAL is then not replayed while seeding, and the standby does not
slow the other steps), and stops it and removes the folder when the step ends, whatever
happens. A physical standby copies the whole cluster: every database on the primary, not
only the bench's.
"""

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg2

from httpclient import Client, percentile, timed_gets

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.5
CATCH_UP_SECONDS = 300
WARMUP = 3


def connect(port, database="postgres"):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=database,
                                  connect_timeout=5)
    connection.autocommit = True
    return connection


def one(port, statement, params=None, database="postgres"):
    connection = connect(port, database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchone()
    finally:
        connection.close()


def in_recovery(port):
    """True: a standby answers on the port; False: a primary does; None: nothing answers."""
    try:
        return one(port, "SELECT pg_is_in_recovery()")[0]
    except psycopg2.OperationalError:
        return None


def as_postgres(command):
    return command if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *command]


class Standby:
    """The standby on `port`: reused if one answers there, else made by .ci/standby in
    `folder` (then `made` is True and stop() stops it and removes the folder)."""

    def __init__(self, primary_port, port, folder=None):
        self.primary_port, self.port = primary_port, port
        major = int(one(primary_port, "SHOW server_version_num")[0]) // 10000
        self.bin = Path(f"/usr/lib/postgresql/{major}/bin")
        self.folder = Path(folder or f"/var/lib/postgresql/{major}/bench-standby-{port}")
        self.made = False

    def why_not(self):
        """Why no standby can be had here, or None."""
        state = in_recovery(self.port)
        if state:
            return None
        if state is False:
            return f"port {self.port} has a PostgreSQL that is not a standby"
        if os.geteuid() != 0 and os.environ.get("USER") != "postgres":
            return "making a standby needs root or postgres (pg_basebackup, pg_ctl as postgres)"
        if self.folder.exists():
            return f"{self.folder} exists and was not made by this run: not touching it"
        needed = one(self.primary_port, "SELECT sum(pg_database_size(oid))::bigint FROM pg_database")[0]
        free = shutil.disk_usage(self.folder.parent if self.folder.parent.exists() else "/").free
        if free < needed * 1.2 + 2**30:
            return (f"a base backup needs {needed / 2**30:.1f} GB (the whole cluster), "
                    f"{free / 2**30:.1f} GB free")
        return None

    def start(self, shared_buffers=None):
        """{"how", "seconds", "cluster_gb"}: reuse the standby on the port, or make one
        (with the primary's shared_buffers, so that both read from the same cache size)."""
        if in_recovery(self.port):
            return {"how": f"reused the standby already running on port {self.port} "
                           "(it replayed the seed too)", "seconds": 0}
        cluster = one(self.primary_port, "SELECT sum(pg_database_size(oid))::bigint FROM pg_database")[0]
        started = time.monotonic()
        self.made = True  # from here on stop() cleans up, even after a failure half-way
        # Its own process group, so that a failure or a signal here stops pg_basebackup too
        # before stop() removes the folder it writes into.
        script = subprocess.Popen(
            ["bash", str(ROOT / ".ci" / "standby")], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
            env={**os.environ, "PG_BIN": str(self.bin), "PRIMARY_PORT": str(self.primary_port),
                 "STANDBY_PORT": str(self.port), "STANDBY_DIR": str(self.folder)})
        try:
            output, _ = script.communicate(timeout=3600)
        finally:
            if script.poll() is None:
                os.killpg(script.pid, signal.SIGKILL)
                script.wait()
        if script.returncode != 0:
            raise RuntimeError(f".ci/standby failed ({script.returncode}): {output[-2000:]}")
        if shared_buffers:
            with open(self.folder / "postgresql.conf", "a") as conf:
                conf.write(f"shared_buffers = '{shared_buffers}'\n")
            subprocess.run(as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.folder), "-l",
                                        str(self.folder / "standby.log"), "-w", "-t", "120",
                                        "restart"]), check=True, capture_output=True)
        return {"how": (f"made after the seed by .ci/standby (pg_basebackup -R -X stream of the "
                        f"whole cluster) in {self.folder}, stopped and removed at the end"),
                "seconds": round(time.monotonic() - started, 1),
                "cluster_gb": round(cluster / 2**30, 2)}

    def catch_up(self, timeout=CATCH_UP_SECONDS):
        """Wait until the standby streams and has replayed what the primary had written when
        asked; the seconds it took (None: not within `timeout`)."""
        started = time.monotonic()
        target = lsn_bytes(one(self.primary_port, "SELECT pg_current_wal_lsn()::text")[0])
        while time.monotonic() - started < timeout:
            status, replayed = one(self.port, "SELECT (SELECT status FROM pg_stat_wal_receiver), "
                                              "pg_last_wal_replay_lsn()::text")
            if status == "streaming" and replayed and lsn_bytes(replayed) >= target:
                return round(time.monotonic() - started, 1)
            time.sleep(0.5)
        return None

    def stop(self, keep_log=None):
        """Stop and remove the standby if this run made it (its log copied to `keep_log`);
        one it reused keeps running."""
        if not self.made:
            return
        if keep_log and (self.folder / "standby.log").exists():
            shutil.copyfile(self.folder / "standby.log", keep_log)
        if (self.folder / "PG_VERSION").exists():
            subprocess.run(as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.folder), "-m",
                                        "fast", "-w", "stop"]), check=False, capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.made = False


def lsn_bytes(lsn):
    """A WAL position ("16/B374D848") as a byte count, so that two can be subtracted."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


class LagSampler(threading.Thread):
    """Every SAMPLE_SECONDS: on the primary the largest `pg_stat_replication.replay_lag` (ms;
    NULL, once a standby has caught up and nothing waits, counts as 0) and its WAL position;
    then on the standby `now() - pg_last_xact_replay_timestamp()` (ms: since the last
    replayed commit was made, so it includes the gap between commits), the position replayed
    (the bytes between the two are WAL not yet replayed, an upper bound: the standby is
    asked a moment later) and its backends in the bench's database."""

    def __init__(self, primary_port, standby_port, database):
        super().__init__(daemon=True)
        self.ports, self.database = (primary_port, standby_port), database
        self.samples = []
        self.error = None
        self.halt = threading.Event()

    def run(self):
        primary = standby = None
        try:
            primary = connect(self.ports[0])
            standby = connect(self.ports[1])
            while not self.halt.wait(SAMPLE_SECONDS):
                with primary.cursor() as cursor:
                    cursor.execute(
                        "SELECT extract(epoch FROM max(replay_lag)) * 1000, "
                        "pg_current_wal_lsn()::text, string_agg(state, ',') "
                        "FROM pg_stat_replication")
                    replay_lag, written, states = cursor.fetchone()
                with standby.cursor() as cursor:
                    cursor.execute(
                        "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000, "
                        "pg_last_wal_replay_lsn()::text, "
                        "(SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                        "AND backend_type = 'client backend')", [self.database])
                    since_replayed, replayed, backends = cursor.fetchone()
                self.samples.append({
                    "replay_lag_ms": float(replay_lag or 0), "replay_lag_null": replay_lag is None,
                    "senders": states,
                    "wal_bytes_behind": max(0, lsn_bytes(written) - lsn_bytes(replayed)),
                    "since_last_replayed_ms": None if since_replayed is None else float(since_replayed),
                    "standby_backends": backends})
        except psycopg2.Error as error:
            self.error = repr(error)
        finally:
            for connection in (primary, standby):
                if connection is not None:
                    connection.close()

    def stop(self):
        self.halt.set()
        self.join(timeout=10)
        return summarise_lag(self.samples) | ({"sampler_error": self.error} if self.error else {})


def spread(values):
    """{"p50", "p95", "max"} of a list of numbers by nearest rank, or None when empty."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"p50": round(percentile(values, 0.5), 1), "p95": round(percentile(values, 0.95), 1),
            "max": round(max(values), 1)}


def summarise_lag(samples):
    """The sampler's figures: replay lag (primary's view) and time since the last replayed
    commit (standby's view) as p50/p95/max ms, WAL bytes behind, the standby's backends."""
    return {
        "samples": len(samples),
        "sample_every_s": SAMPLE_SECONDS,
        "replay_lag_ms": spread([s["replay_lag_ms"] for s in samples]),
        "replay_lag_null_samples": sum(s["replay_lag_null"] for s in samples),
        "since_last_replayed_ms": spread([s["since_last_replayed_ms"] for s in samples]),
        "wal_bytes_behind": spread([s["wal_bytes_behind"] for s in samples]),
        "standby_backends_max": max((s["standby_backends"] for s in samples), default=0),
        "senders": sorted({s.get("senders") or "none" for s in samples}),
    }


def standby_activity(port, database):
    """Transactions committed in `database` on the standby so far (pg_stat_database there
    counts the standby's own reads), whether it is in recovery, and the standby's queries
    cancelled so that replay could go on (pg_stat_database_conflicts)."""
    commits, recovery, cancelled = one(
        port, "SELECT d.xact_commit, pg_is_in_recovery(), c.confl_tablespace + c.confl_lock "
              "+ c.confl_snapshot + c.confl_bufferpin + c.confl_deadlock FROM pg_stat_database d "
              "JOIN pg_stat_database_conflicts c USING (datid) WHERE d.datname = %s", [database])
    return {"xact_commit": commits, "in_recovery": recovery, "queries_cancelled": cancelled}


def measure(bench, standby, username, path):
    """The replica step of the harness (`bench`, its server running on the primary alone):

    1. as a baseline, `path` timed for `username` on the primary while the members log one
       entry per /api/sync request at the target rate (`primary`);
    2. the standby started (or reused), caught up;
    3. gunicorn restarted with DATABASE_REPLICA_URL, and the same again: the dashboard's
       reads on the standby, the writes on the primary, the lag sampled meanwhile.
    """
    reason = standby.why_not()
    if reason:
        return {"skipped": reason}
    found = {"standby_port": standby.port}
    bench.start_server()
    try:
        found["primary"] = timed_while_logging(bench, username, path, "on the primary")
    finally:
        bench.stop_server()
    buffers = bench.sql("SELECT current_setting('shared_buffers')")[0][0]
    try:
        found["standby"] = standby.start(shared_buffers=buffers)
        found["standby"]["shared_buffers"] = one(standby.port, "SELECT current_setting('shared_buffers')")[0]
        found["standby"]["caught_up_seconds"] = standby.catch_up()
        url = (f"postgres://postgres@127.0.0.1:{standby.port}/{bench.s.database}"
               "?application_name=worklog-replica")
        found["database_replica_url"] = url
        bench.start_server(replica_url=url)
        before = standby_activity(standby.port, bench.s.database)
        sampler = LagSampler(bench.s.port, standby.port, bench.s.database)
        found.update(timed_while_logging(bench, username, path, "on the standby", sampler))
        after = standby_activity(standby.port, bench.s.database)
        found["proof"] = {
            "standby_in_recovery": after["in_recovery"],
            "standby_transactions": after["xact_commit"] - before["xact_commit"],
            "standby_queries_cancelled": after["queries_cancelled"] - before["queries_cancelled"],
            "dashboard_requests": found["dashboard_ms"].get("n", 0) + WARMUP,
            "standby_backends_max": found["lag"].pop("standby_backends_max"),
            "how": ("pg_is_in_recovery() on the standby; its pg_stat_database.xact_commit for "
                    "the bench database over the step (the standby counts only its own reads, "
                    "and the router falls back to the primary when the standby does not "
                    "answer); its client backends in that database (the app's connections, "
                    "application_name worklog-replica), sampled"),
        }
    finally:
        bench.stop_server()
        standby.stop(keep_log=bench.logs / "standby.log")
    return found


def timed_while_logging(bench, username, path, where, sampler=None):
    """{"logging", "dashboard_ms"[, "lag"]}: `path` requested back to back by `username` while
    the members log one entry per /api/sync request at the target rate."""
    client = Client(bench.port)
    client.login(username, bench.password)
    found = {"dashboard_ms": {}}

    def during(seconds):
        if sampler:
            sampler.start()
        bench_log(f"  GET {path} {where} while the members log")
        found["dashboard_ms"].update(timed_gets(client, path, count=10**6, warmup=WARMUP,
                                                budget_seconds=max(1, seconds - 2)))
        if sampler:
            found["lag"] = sampler.stop()  # while the writes still flow

    found["logging"] = bench.logging_under_load(rate=bench.s.load_rate, way="sync",
                                                batch=(1, 1), during=during)
    client.close()
    return found


def bench_log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
