"""The benchmark's own arithmetic (bench/): what RESULTS.md concludes from the figures it
records — the capacity per million entries, the replication lag's percentiles, the
page rounds' ranges and the verdicts against issue 14's targets. No database, no server."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import checks  # noqa: E402
import replica  # noqa: E402
import report  # noqa: E402


def test_roll_ups_are_counted_exactly_and_the_big_tables_estimated():
    assert checks.counted_exactly(8_568)
    assert checks.counted_exactly(-1)  # never analysed: PostgreSQL 14+ says -1
    assert not checks.counted_exactly(48_432_645)


def test_sizes_per_million_entries():
    assert checks.per_million(3_000 * 2**20, 10_000_000) == 300 * 2**20
    assert checks.per_million(48_400_000, 10_000_000) == 4_840_000
    assert checks.per_million(2**20, 0) is None


def sample(replay_lag_ms, since_ms=None, null=False):
    return {"replay_lag_ms": replay_lag_ms, "replay_lag_null": null, "wal_bytes_behind": 0,
            "since_last_replayed_ms": since_ms, "standby_backends": 3}


def test_lag_percentiles_count_a_caught_up_standby_as_no_lag():
    samples = [sample(float(ms)) for ms in range(1, 20)] + [sample(0.0, null=True), sample(400.0)]
    lag = replica.summarise_lag(samples)
    assert lag["samples"] == 21
    assert lag["replay_lag_ms"] == {"p50": 10.0, "p95": 19.0, "max": 400.0}
    assert lag["replay_lag_null_samples"] == 1
    assert lag["since_last_replayed_ms"] is None  # the standby never answered with a time
    assert lag["standby_backends_max"] == 3


def timed(p50, p95):
    return {"p50": p50, "p95": p95, "mean": p50, "n": 60}


def ten_million(rounds):
    run = {"entries": 10_000_000, "database_mb": 14_574, **rounds[0], "rounds": rounds}
    return {"runs": [run], "complete": True}


def verdict(results, name):
    return next((measured, met) for target, measured, met in report.targets(results)
                if target.startswith(name))


def test_notebook_is_judged_on_its_worst_round():
    rounds = [{"notebook_ms": timed(50, p95)} for p95 in (71.0, 79.9, 83.2)]
    results = ten_million(rounds)
    assert verdict(results, "notebook p95 ≤ 80 ms in 3 rounds") == ("71.0–83.2 ms", "**no**")
    assert verdict(results, "notebook p95 ≤ 80 ms") == ("71.0 ms", "yes")  # the first round alone
    page = "\n".join(report._rounds(results["runs"][0]))
    assert "| notebook | 50 / 71.0 | 50 / 79.9 | 50 / 83.2 | 50–50 | 71.0–83.2 |" in page


def load(rps, **counts):
    return {"way": "sync", "members": 50, "offered_rps": None, "seconds": 30.2, "rps": rps,
            "p50_ms": 40.0, "p95_ms": 90.0, "errors": counts.get("errors", 0),
            "acknowledged": 100, "stored": 100, "lost": counts.get("lost", 0),
            "duplicates": 0, "resent": 5, "resent_same_entry": 5,
            "verify": {"exact": True, "teams": 50}}


def test_batched_sync_targets_its_rate_and_a_clean_run():
    results = {**ten_million([{}]), "sync_batched": load(1_180.5, lost=1)}
    assert verdict(results, "sync in batches of 20 ≥ 1,000") == ("1180.5", "yes")
    assert verdict(results, "sync in batches of 20: 0 errors")[1] == "**no**"  # one lost


def test_results_render_every_issue_14_figure():
    table = {"rows": 8_568, "rows_exact": True, "total_bytes": 2**21, "heap_bytes": 2**20,
             "index_bytes": 2**20, "total_mb": 2.0, "total_mb_per_million_entries": 0.2,
             "rows_per_million_entries": 857, "bytes_per_row": 245}
    capacity = {"entries": 10_000_000, "teams": 1_000, "organisations": 11, "areas": 111,
                "tally_years": 5, "tables": {"worklog_orgtally": table}}
    page = {key: timed(20.0, 40.0) for key, _ in report.PAGES}
    results = ten_million([page, page, page])
    results["runs"][0]["capacity"] = results["runs"][0]["capacity_after_writes"] = capacity
    results.update({key: {**load(205.0), "offered_rps": 210.0, "batch": [1, 1]}
                    for key in ("logging", "logging_form", "sync")})
    results["logging_form"]["way"] = "form"
    results["sync_batched"] = load(1_100.0)
    results["replica"] = {
        "standby_port": 5433, "standby": {"how": "made", "seconds": 61.0, "cluster_gb": 29.5,
                                          "shared_buffers": "160MB"},
        "database_replica_url": "postgres://postgres@127.0.0.1:5433/worklog_bench",
        "logging": {**load(204.0), "offered_rps": 210.0}, "dashboard_ms": timed(31.0, 52.0),
        "primary": {"logging": {**load(201.0), "offered_rps": 210.0}, "dashboard_ms": timed(45.0, 70.0)},
        "lag": replica.summarise_lag([sample(2.0, 4.0)]),
        "proof": {"standby_in_recovery": True, "standby_transactions": 9_000,
                  "dashboard_requests": 900, "standby_backends_max": 3},
    }
    text = report.render(results)
    for heading in ("3 rounds in a row", "Logging at the target rate",
                    "Logging through the form", "Syncing full outboxes back to back",
                    "Reads on a streaming standby", "Capacity: table sizes"):
        assert f"## {heading}" in text
    assert "| year report p50 ≤ 60 ms | 20.0 ms | yes |" in text
    assert "each sending each entry to `/api/sync` as it is saved (one entry per request)" in text
    assert "each posting through `/notebook/new/`" in text
    assert "| dashboard on the standby | 31.0 | 52.0 | 60 requests |" in text
    assert "| dashboard on the primary, no standby (baseline) | 45.0 | 70.0 | 60 requests |" in text
    assert "| worklog_orgtally | 8,568 | 2.0 | 8,568 | 2.0 |" in text


def test_wal_positions_subtract_as_bytes():
    assert replica.lsn_bytes("4/436EF2B8") - replica.lsn_bytes("4/436E9F88") == 0x5330
    assert replica.lsn_bytes("1/0") - replica.lsn_bytes("0/FFFFFFFF") == 1
