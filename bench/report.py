"""bench/RESULTS.md from bench/results.json: the measurements against the targets of
issue 7, then the hand-written findings of bench/findings.md (profiles, before/after).

    python bench/report.py [results.json]   # re-renders RESULTS.md beside it
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEN_MILLION = 10_000_000


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
        "the API the same scope and year, the notebook the first page of team "
        "`bench-t0001`'s member, the area dashboard the superuser's dashboard of the "
        "area `bench-region` (all 1,000 bench villages) for the same year."),
        "",
    ]
    if results.get("failed"):
        lines += [f"**The run failed:** `{results['failed']}`", ""]

    lines += ["## Per size", "",
              ("| entries | seed s | seed peak MB | links | DB MB | dashboard p50 / p95 ms (n) | "
              "API p50 / p95 ms (n) | notebook p50 / p95 ms (n) | area dashboard p50 / p95 ms (n) | "
              "naive recount ms | naive = API |"),
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for run in runs:
        rows = run.get("rows_estimated", {})
        lines.append(
            f"| {run['entries']:,} | {run.get('seed_seconds')} | {run.get('seed_peak_mb')} | "
            f"≈{rows.get('worklog_entry_households', 0):,.0f} | {run.get('database_mb', '?'):,} | "
            f"{_times(run.get('dashboard_ms'))} | {_times(run.get('api_ms'))} | "
            f"{_times(run.get('notebook_ms'))} | {_times(run.get('area_dashboard_ms'))} | "
            f"{run.get('naive_recount_ms')} | "
            f"{'yes' if run.get('naive_equals_api') else 'NO'} |")
    lines.append("")
    for run in runs:
        if "seed_verified" in run:
            verified = run["seed_verified"]
            lines += [(f"After seeding {run['entries']:,}: `{verified['command']}` "
                      f"{'passed' if verified['ok'] else 'FAILED'} in {verified['seconds']} s."), ""]

    for key, title in (("logging", "Logging under load, at the target rate"),
                       ("logging_capacity", "Logging under load, back to back"),
                       ("sync", "Syncing outboxes under load, at the target rate")):
        logging = results.get(key)
        if not logging:
            continue
        verify = logging.get("verify", {})
        how = (f"each member on a fixed schedule, {logging['offered_rps']:g} entries/s offered in all, "
               "latency counted from the moment a request was due" if logging.get("offered_rps") else
               "no think time: with 50 members the latency is 50 ÷ throughput by construction")
        what = ("sending its outbox to `/api/sync` in batches of 1–20 entries (p50/p95 per "
                "request); 5 % of batches sent twice, as when an answer is lost"
                if logging.get("way") == "sync" else
                "posting through `/notebook/new/`; 5 % of posts sent twice with the same uuid")
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

    lines += ["## Targets", "", "| target | measured | met |", "|---|---|:---:|"]
    lines += [f"| {name} | {measured} | {met} |" for name, measured, met in targets(results)]
    lines.append("")
    if results.get("notes"):
        lines += ["Notes from the run:", ""] + [f"- {note}" for note in results["notes"]] + [""]

    findings = HERE / "findings.md"
    if findings.exists():
        lines += [findings.read_text().rstrip(), ""]
    return "\n".join(lines)


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
    notebook = big.get("notebook_ms")
    if notebook:
        rows.append((f"notebook p95 ≤ 80 ms{at}", f"{notebook['p95']} ms", _mark(notebook["p95"] <= 80)))
    logging = results.get("logging")
    if logging:
        rows.append(("logging ≥ 200 entries/s", f"{logging['rps']}", _mark(logging["rps"] >= 200)))
        rows.append(("logging p95 ≤ 150 ms", f"{logging['p95_ms']} ms",
                     _mark(logging["p95_ms"] is not None and logging["p95_ms"] <= 150)))
        rows.append(("logging: 0 errors, 0 lost, 0 duplicates",
                     f"{logging['errors']} / {logging['lost']} / {logging['duplicates']}",
                     _mark(logging["errors"] == logging["lost"] == logging["duplicates"] == 0)))
        rows.append(("tallies = recount after logging", _exact(logging.get("verify")),
                     _mark(logging.get("verify", {}).get("exact"))))
    capacity = results.get("logging_capacity")
    if capacity:
        rows.append(("logging back to back: 0 errors, 0 lost, 0 duplicates, tallies exact",
                     f"{capacity['rps']} entries/s, p95 {capacity['p95_ms']} ms; "
                     f"{capacity['errors']} / {capacity['lost']} / {capacity['duplicates']}; "
                     f"{_exact(capacity.get('verify'))}",
                     _mark(capacity["errors"] == capacity["lost"] == capacity["duplicates"] == 0
                           and capacity.get("verify", {}).get("exact"))))
    synced = results.get("sync")
    if synced:
        rows.append(("sync at the target rate: 0 errors, 0 lost, 0 duplicates, tallies exact",
                     f"{synced['rps']} entries/s, p50 {synced['p50_ms']} / p95 {synced['p95_ms']} ms "
                     f"per request; {synced['errors']} / {synced['lost']} / {synced['duplicates']}; "
                     f"{_exact(synced.get('verify'))}",
                     _mark(synced["errors"] == synced["lost"] == synced["duplicates"] == 0
                           and synced.get("verify", {}).get("exact"))))
    rate = results.get("import_rows_per_s")
    rows.append(("import ≥ 5,000 rows/s", "–" if rate is None else f"{rate:,} rows/s",
                 _mark(None if rate is None else rate >= 5000)))
    return rows


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    (source.parent / "RESULTS.md").write_text(render(json.loads(source.read_text())))
