"""bench/RESULTS.md from bench/results.json: the measurements against the targets of
issues 7 and 14, then the hand-written findings of bench/findings.md (profiles, before/after).

    python bench/report.py [results.json]   # re-renders RESULTS.md beside it
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEN_MILLION = 10_000_000
# The pages timed, as results.json keys them, and their names here.
PAGES = (("dashboard_ms", "organisation dashboard"), ("area_dashboard_ms", "area dashboard"),
         ("api_ms", "/api/totals"), ("report_ms", "year report"), ("notebook_ms", "notebook"))
# Each load run of the largest N: results.json key and title (what was sent: _sent).
LOADS = (
    ("logging", "Logging at the target rate"),
    ("logging_form", "Logging through the form at the target rate"),
    ("logging_capacity", "Logging back to back"),
    ("sync", "Syncing outboxes at the target rate"),
    ("sync_batched", "Syncing full outboxes back to back"),
)


def render(results):
    runs = results.get("runs", [])
    lines = ["# Benchmark results", ""]
    machine = results.get("machine", {})
    lines += [
        f"Run of {results.get('date', '?')} (code `{results.get('code', '?')}`), "
        f"{results.get('elapsed_minutes', '?')} min in all"
        + ("" if results.get("complete") else " — **incomplete run**") + ".",
        "",
        (f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('memory_gb', '?')} GB RAM; {machine.get('os', '?')}; "
        f"Python {machine.get('python', '?')}; PostgreSQL {machine.get('postgresql', '?')} "
        f"({', '.join(f'{k} {v}' for k, v in machine.get('postgresql_settings', {}).items())}); "
        f"{machine.get('server', '')}."),
        "",
        ("Page times are client-side round trips over loopback (127.0.0.1, keep-alive), i.e. "
        "server time plus well under a millisecond; p50/p95 by nearest rank over `n` "
        "requests after one warm-up request. The dashboard is the coordinator's "
        f"organisation dashboard of `bench` for {results.get('settings', {}).get('year', 2021)}, "
        "the API and the year report (`/report/<year>/?org=bench`) the same scope and year, "
        "the notebook the first page of team "
        "`bench-t0001`'s member, the area dashboard the superuser's dashboard of the "
        "area `bench-region` (all 1,000 bench villages) for the same year."),
        "",
    ]
    if results.get("failed"):
        lines += [f"**The run failed:** `{results['failed']}`", ""]

    lines += ["## Per size", "",
              ("| entries | seed s | seed peak MB | links | DB MB | dashboard p50 / p95 ms (n) | "
              "API p50 / p95 ms (n) | report p50 / p95 ms (n) | notebook p50 / p95 ms (n) | "
              "area dashboard p50 / p95 ms (n) | naive recount ms | naive = API |"),
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for run in runs:
        rows = run.get("rows_estimated", {})
        lines.append(
            f"| {run['entries']:,} | {run.get('seed_seconds')} | {run.get('seed_peak_mb')} | "
            f"≈{rows.get('worklog_entry_households', 0):,.0f} | {run.get('database_mb', '?'):,} | "
            f"{_times(run.get('dashboard_ms'))} | {_times(run.get('api_ms'))} | "
            f"{_times(run.get('report_ms'))} | {_times(run.get('notebook_ms'))} | {_times(run.get('area_dashboard_ms'))} | "
            f"{run.get('naive_recount_ms')} | "
            f"{'yes' if run.get('naive_equals_api') else 'NO'} |")
    lines.append("")
    for run in runs:
        if "seed_verified" in run:
            verified = run["seed_verified"]
            lines += [(f"After seeding {run['entries']:,}: `{verified['command']}` "
                      f"{'passed' if verified['ok'] else 'FAILED'} in {verified['seconds']} s."), ""]

    if runs and runs[-1].get("rounds"):
        lines += _rounds(runs[-1])

    for key, title in LOADS:
        logging = results.get(key)
        if not logging:
            continue
        what = _sent(logging)
        verify = logging.get("verify", {})
        how = (f"each member on a fixed schedule, {logging['offered_rps']:g} entries/s offered in all, "
               "latency counted from the moment a request was due" if logging.get("offered_rps") else
               "no think time: the latency is members ÷ requests per second by construction")
        lines += [
            f"## {title}", "",
            (f"{logging['members']} members, each {what}, for {logging['seconds']} s (each its "
            f"own thread and keep-alive connection; {how}), at N = {runs[-1]['entries']:,} "
            "if the run completed."), "",
            ("| entries/s | p50 ms | p95 ms | errors | acknowledged | stored | lost | duplicates | "
            "resent → same entry | tallies = recount |"),
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
            (f"| {logging['rps']} | {logging['p50_ms']} | {logging['p95_ms']} | {logging['errors']} | "
            f"{logging['acknowledged']} | {logging['stored']} | {logging['lost']} | "
            f"{logging['duplicates']} | {logging['resent_same_entry']} of {logging['resent']} | "
            f"{_exact(verify)} |"), "",
        ]
        if logging.get("transport_retries"):
            lines += [(f"{logging['transport_retries']} posts met a dropped keep-alive connection "
                      "and were sent again on a new one with the same uuid (not errors: the "
                      "entry was saved once)."), ""]
        if logging.get("error_samples"):
            lines += ["Error samples: " + "; ".join(f"`{s}`" for s in logging["error_samples"]), ""]

    if results.get("replica"):
        lines += _replica(results["replica"], runs[-1]["entries"] if runs else None)

    imported = results.get("import")
    if imported is not None:
        lines += ["## Import", ""]
        if results.get("import_rows_per_s") is not None:
            lines.append(f"{imported['rows']:,} CSV rows through `manage.py import_entries` in "
                         f"{imported['seconds']} s (process wall time, start-up included): "
                         f"**{results['import_rows_per_s']:,} rows/s**, peak "
                         f"{imported.get('peak_mb')} MB; tallies = recount: "
                         f"{_exact(imported.get('verify', {}))}.")
        else:
            lines.append(f"No figure: {imported.get('note', '?')}."
                         + (f" Output: `{imported['output'][-300:]}`" if imported.get("output") else ""))
        lines.append("")

    lines += _capacity(runs)

    lines += ["## Targets", "", "| target | measured | met |", "|---|---|:---:|"]
    lines += [f"| {name} | {measured} | {met} |" for name, measured, met in targets(results)]
    lines.append("")
    if results.get("notes"):
        lines += ["Notes from the run:", ""] + [f"- {note}" for note in results["notes"]] + [""]

    findings = HERE / "findings.md"
    if findings.exists():
        lines += [findings.read_text().rstrip(), ""]
    return "\n".join(lines)


def _sent(logging):
    """What each member sent in a load run (runs before issue 14 name no way: the form)."""
    if logging.get("way") != "sync":
        return "posting through `/notebook/new/`; 5 % of posts sent twice with the same uuid"
    fewest, most = logging.get("batch") or (1, 20)
    if most == 1:
        return ("sending each entry to `/api/sync` as it is saved (one entry per request); 5 % "
                "sent twice, as when an answer is lost")
    size = f"exactly {most}" if fewest == most else f"{fewest}–{most}"
    return (f"sending its outbox to `/api/sync` in batches of {size} entries (p50/p95 per "
            "request); 5 % of batches sent twice, as when an answer is lost")


def _rounds(run):
    """The page timings' rounds in a row at the largest N, with each page's range."""
    rounds = run["rounds"]
    lines = [f"## {len(rounds)} rounds in a row at N = {run['entries']:,}", "",
             ("Every page timed once per round, round after round, on the same server and "
              "database (the per-size table shows the first round). Range = lowest–highest "
              "over the rounds."), "",
             "| page | " + " | ".join(f"round {n} p50 / p95 ms" for n in range(1, len(rounds) + 1))
             + " | p50 range | p95 range |",
             "|---|" + "---:|" * (len(rounds) + 2)]
    for key, name in PAGES:
        timed = [r.get(key) for r in rounds]
        if not all(timed):
            continue
        p50 = _range(t["p50"] for t in timed)
        p95 = _range(t["p95"] for t in timed)
        lines.append(f"| {name} | " + " | ".join(f"{t['p50']} / {t['p95']}" for t in timed)
                     + f" | {p50} | {p95} |")
    return lines + [""]


def _range(values):
    values = list(values)
    return f"{min(values)}–{max(values)}"


def _replica(found, entries):
    if found.get("skipped"):
        return ["## Reads on a streaming standby", "", f"Not measured: {found['skipped']}.", ""]
    logging, dashboard, lag = found.get("logging", {}), found.get("dashboard_ms", {}), found.get("lag", {})
    proof, standby, primary = found.get("proof", {}), found.get("standby", {}), found.get("primary", {})
    baseline = [
        (f"| dashboard on the primary, no standby (baseline) | {primary['dashboard_ms'].get('p50')} | "
         f"{primary['dashboard_ms'].get('p95')} | {primary['dashboard_ms'].get('n')} requests |"),
        (f"| logging meanwhile (baseline) | {primary['logging'].get('p50_ms')} | "
         f"{primary['logging'].get('p95_ms')} | {primary['logging'].get('rps')} entries/s |"),
    ] if primary.get("dashboard_ms") else []
    replay, since, behind = (lag.get("replay_lag_ms") or {}, lag.get("since_last_replayed_ms") or {},
                             lag.get("wal_bytes_behind") or {})
    return [
        "## Reads on a streaming standby", "",
        (f"At N = {entries:,}: the standby on port {found.get('standby_port')} ({standby.get('how')}"
         + (f"; base backup and start {standby['seconds']} s for {standby['cluster_gb']} GB"
            if standby.get("cluster_gb") is not None else "")
         + f"; caught up {standby.get('caught_up_seconds')} s later"
         + f"; shared_buffers {standby.get('shared_buffers')}), gunicorn restarted with "
         f"`DATABASE_REPLICA_URL={found.get('database_replica_url')}`. While "
         f"{logging.get('members')} members log one entry per `/api/sync` request at "
         f"{logging.get('offered_rps')} entries/s on the primary, one coordinator requests the "
         "organisation dashboard back to back (its reads on the standby). The baseline is "
         "the same, before the standby was made, with every read on the primary. The "
         "standby runs on the same 2 cores as the primary, gunicorn and the load."), "",
        "| | p50 ms | p95 ms | n or entries/s |", "|---|---:|---:|---:|",
        (f"| dashboard on the standby | {dashboard.get('p50')} | {dashboard.get('p95')} | "
         f"{dashboard.get('n')} requests |"),
        (f"| logging on the primary | {logging.get('p50_ms')} | {logging.get('p95_ms')} | "
         f"{logging.get('rps')} entries/s |"), *baseline, "",
        (f"Logging: {logging.get('errors')} errors, {logging.get('lost')} lost, "
         f"{logging.get('duplicates')} duplicates; tallies = recount: {_exact(logging.get('verify'))}."),
        "",
        (f"Replication lag, sampled every {lag.get('sample_every_s')} s ({lag.get('samples')} "
         f"samples) while the dashboard was timed: `pg_stat_replication.replay_lag` on the "
         f"primary p50 / p95 / max **{replay.get('p50')} / {replay.get('p95')} / "
         f"{replay.get('max')} ms** ({lag.get('replay_lag_null_samples')} samples NULL, caught "
         f"up, counted as 0); `now() - pg_last_xact_replay_timestamp()` on the standby "
         f"{since.get('p50')} / {since.get('p95')} / {since.get('max')} ms (it includes the "
         f"gap since the last commit); WAL not yet replayed p95 {behind.get('p95')} bytes."),
        "",
        (f"Served by the standby: `pg_is_in_recovery()` there is "
         f"{proof.get('standby_in_recovery')}; {proof.get('standby_transactions')} transactions "
         f"committed in the bench database on the standby for {proof.get('dashboard_requests')} "
         f"dashboard requests; up to {proof.get('standby_backends_max')} of the app's "
         f"connections open there; {proof.get('standby_queries_cancelled')} of its queries "
         "cancelled by replay conflicts."), "",
    ]


def _capacity(runs):
    """Sizes of the tables that grow, per N, and per million entries at the largest."""
    sized = [run for run in runs if run.get("capacity")]
    if not sized:
        return []
    last = sized[-1]
    names = list(last["capacity"]["tables"])
    lines = ["## Capacity: table sizes", "",
             ("Total size (heap with its TOAST and maps, plus indexes) in MB per N, after "
              "seeding and VACUUM (ANALYZE); rows exact for the roll-ups and small tables, the "
              "planner's estimate (≈) for the large ones. `seed --scale` writes no history rows: "
              "the history tables fill only through the app (the last column, after the loads "
              "and the import)."), "",
             "| table | " + " | ".join(f"{run['entries']:,}: rows | MB" for run in sized)
             + (" | after the writes: rows | MB |" if last.get("capacity_after_writes") else " |"),
             "|---|" + "---:|---:|" * len(sized)
             + ("---:|---:|" if last.get("capacity_after_writes") else "")]
    for name in names:
        cells = []
        for run in sized + ([{"capacity": last["capacity_after_writes"]}]
                            if last.get("capacity_after_writes") else []):
            table = run["capacity"]["tables"].get(name)
            cells.append(f"{_rows(table)} | {table['total_mb']:,}" if table else "– | –")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    capacity = last.get("capacity_after_writes") or last["capacity"]
    lines += ["",
              (f"Per million entries at N = {last['entries']:,}"
               + (" after the writes" if last.get("capacity_after_writes") else "")
               + f" ({capacity['teams']:,} teams, {capacity['organisations']:,} organisations, "
               f"{capacity['areas']:,} areas, {capacity['tally_years']} years of tallies):"), "",
              "| table | heap MB | index MB | total MB | MB per million entries | rows per million entries | bytes per row |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name, table in capacity["tables"].items():
        lines.append(
            f"| {name} | {table['heap_bytes'] / 2**20:,.1f} | {table['index_bytes'] / 2**20:,.1f} | "
            f"{table['total_mb']:,} | {_number(table['total_mb_per_million_entries'])} | "
            f"{_number(table['rows_per_million_entries'])} | {_number(table['bytes_per_row'])} |")
    return lines + [""]


def _rows(table):
    return f"{'' if table['rows_exact'] else '≈'}{table['rows']:,}"


def _number(value):
    return "–" if value is None else f"{value:,}"


def _clean(found, name):
    """The target row: no errors, nothing lost, no duplicates, tallies equal a recount."""
    return (f"{name}: 0 errors, 0 lost, 0 duplicates, tallies exact",
            f"{found['rps']} entries/s, p50 {found['p50_ms']} / p95 {found['p95_ms']} ms per "
            f"request; {found['errors']} / {found['lost']} / {found['duplicates']}; "
            f"{_exact(found.get('verify'))}",
            _mark(found["errors"] == found["lost"] == found["duplicates"] == 0
                  and found.get("verify", {}).get("exact")))


def _times(found):
    if not found:
        return "–"
    return f"{found['p50']} / {found['p95']} ({found['n']})"


def _exact(verify):
    if not verify:
        return "–"
    return ("yes" if verify.get("exact") else "NO") + f" ({verify.get('teams')} teams)"


def _mark(ok):
    return "–" if ok is None else ("yes" if ok else "**no**")


def targets(results):
    runs = {run["entries"]: run for run in results.get("runs", [])}
    big = runs.get(TEN_MILLION) or (runs[max(runs)] if runs else {})
    small = runs.get(100_000) or (runs[min(runs)] if runs else {})
    at = f" (at {big.get('entries', 0):,})" if big and big.get("entries") != TEN_MILLION else ""
    rows = []
    seconds, peak = big.get("seed_seconds"), big.get("seed_peak_mb")
    rows.append((f"seed 10 M entries ≤ 600 s{at}", f"{seconds} s",
                 _mark(None if seconds is None else seconds <= 600)))
    rows.append((f"seed peak memory ≤ 2 GB{at}", f"{peak} MB", _mark(None if peak is None else peak <= 2048)))
    dashboard = big.get("dashboard_ms")
    if dashboard:
        rows.append((f"dashboard p50 ≤ 30 ms{at}", f"{dashboard['p50']} ms", _mark(dashboard["p50"] <= 30)))
        rows.append((f"dashboard p95 ≤ 60 ms{at}", f"{dashboard['p95']} ms", _mark(dashboard["p95"] <= 60)))
        if small.get("dashboard_ms") and small is not big:
            ratio = dashboard["p50"] / small["dashboard_ms"]["p50"]
            rows.append(("dashboard p50 at 10 M ÷ at 100 k ≤ 1.5", f"{ratio:.2f}", _mark(ratio <= 1.5)))
        if big.get("naive_recount_ms"):
            ratio = big["naive_recount_ms"] / dashboard["p50"]
            rows.append((f"naive recount ÷ dashboard p50 ≥ 50{at}", f"{ratio:.2f}", _mark(ratio >= 50)))
    for key, name, limit, share in (("area_dashboard_ms", "area dashboard", 60, "p50"),
                                    ("api_ms", "/api/totals", 15, "p50"),
                                    ("report_ms", "year report", 60, "p50")):
        if big.get(key):
            rows.append((f"{name} {share} ≤ {limit} ms{at}", f"{big[key][share]} ms",
                         _mark(big[key][share] <= limit)))
    notebook = big.get("notebook_ms")
    if notebook:
        rows.append((f"notebook p95 ≤ 80 ms{at}", f"{notebook['p95']} ms", _mark(notebook["p95"] <= 80)))
    if big.get("rounds") and all(r.get("notebook_ms") for r in big["rounds"]):
        worst = max(r["notebook_ms"]["p95"] for r in big["rounds"])
        rows.append((f"notebook p95 ≤ 80 ms in {len(big['rounds'])} rounds in a row{at}",
                     f"{_range(r['notebook_ms']['p95'] for r in big['rounds'])} ms",
                     _mark(worst <= 80)))
    logging = results.get("logging")
    if logging:
        how = "one entry per /api/sync request" if logging.get("way") == "sync" else "the form"
        rows.append((f"logging ({how}) ≥ 200 entries/s", f"{logging['rps']}", _mark(logging["rps"] >= 200)))
        rows.append(("logging p95 ≤ 150 ms", f"{logging['p95_ms']} ms",
                     _mark(logging["p95_ms"] is not None and logging["p95_ms"] <= 150)))
        rows.append(("logging: 0 errors, 0 lost, 0 duplicates",
                     f"{logging['errors']} / {logging['lost']} / {logging['duplicates']}",
                     _mark(logging["errors"] == logging["lost"] == logging["duplicates"] == 0)))
        rows.append(("tallies = recount after logging", _exact(logging.get("verify")),
                     _mark(logging.get("verify", {}).get("exact"))))
    form = results.get("logging_form")
    if form:
        rows.append(("logging through the form ≥ 150 entries/s (wanted)",
                     f"{form['rps']}, p95 {form['p95_ms']} ms", _mark(form["rps"] >= 150)))
    for key, name in (("logging_form", "logging through the form"),
                      ("logging_capacity", "logging back to back"),
                      ("sync", "sync at the target rate")):
        if results.get(key):
            rows.append(_clean(results[key], name))
    batched = results.get("sync_batched")
    if batched:
        rows.append(("sync in batches of 20 ≥ 1,000 entries/s", f"{batched['rps']}",
                     _mark(batched["rps"] >= 1000)))
        rows.append(_clean(batched, "sync in batches of 20"))
    standby = results.get("replica") or {}
    if standby.get("dashboard_ms"):
        dashboard, lag = standby["dashboard_ms"], standby.get("lag", {}).get("replay_lag_ms") or {}
        rows.append((f"dashboard on the standby while {standby['logging']['members']} members log "
                     "(p50 / p95; recorded)",
                     f"{dashboard['p50']} / {dashboard['p95']} ms; logging "
                     f"{standby['logging']['rps']} entries/s, p95 {standby['logging']['p95_ms']} ms",
                     "–"))
        rows.append(("replication lag p95 (recorded)", f"{lag.get('p95')} ms", "–"))
    rate = results.get("import_rows_per_s")
    rows.append(("import ≥ 5,000 rows/s", "–" if rate is None else f"{rate:,} rows/s",
                 _mark(None if rate is None else rate >= 5000)))
    return rows


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    (source.parent / "RESULTS.md").write_text(render(json.loads(source.read_text())))
