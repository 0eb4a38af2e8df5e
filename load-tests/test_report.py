"""Tests of load-tests/report.py: ratios taken within rounds, verdicts, the load generator's check,
and ERRORS when an answer was wrong or lost (python3 -m pytest load-tests/test_report.py)."""
import json
import pathlib
import subprocess
import sys

REPORT = pathlib.Path(__file__).with_name("report.py")
SERVERS = ["raw", "netty", "framepipe"]


def run(tmp, fps, cores, meta, sid="01-small-stats", p99=None, lost=None):
    """fps/cores: {server: [per round]}; writes the runs and meta, runs report.py; returns (md, summary, stdout)."""
    rounds = len(fps["raw"])
    for k in SERVERS:
        for r in range(rounds):
            j = {"frames_per_second": fps[k][r], "request_mb_per_second": fps[k][r] * 1e-6,
                 "response_mb_per_second": fps[k][r] * 1e-6, "server_cpu_cores": cores[k][r],
                 "client_cpu_cores": 0.5, "p50_us": 100, "p99_us": (p99 or {}).get(k, [400] * rounds)[r],
                 "p999_us": 900, "hiccup_p99_us": 300, "hiccup_max_us": 4000, "errors": 0, "mismatches": 0,
                 "lost": (lost or {}).get(k, [0] * rounds)[r], "latency_percentiles": [[50.0, 100.0], [99.0, 400.0]]}
            (tmp / f"{sid}-{k}-r{r + 1}.json").write_text(json.dumps(j))
    base = {"name": "STATS 64", "mix": "stats:64", "connections": 8, "depth": 128, "compare": "frames", "target": 0.5,
            "per_core_target": 0.55, "p99_ratio_target": None, "rate": 0, "client": "blocking", "heap_bytes": 100,
            "heap_frames": 1000, "gc_pauses": 0}
    base.update(meta)
    (tmp / f"{sid}.meta.json").write_text(json.dumps(base))
    out = subprocess.run([sys.executable, str(REPORT), "--tmp", str(tmp), "--ids", sid, "--servers", " ".join(SERVERS),
                          "--rounds", str(rounds), "--report", str(tmp / "r.md"), "--summary", str(tmp / "r.json"),
                          "--title-facts", "facts"], check=True, capture_output=True, text=True)
    return (tmp / "r.md").read_text(), json.loads((tmp / "r.json").read_text()), out.stdout.strip()


def line(md, start):
    return next(l for l in md.splitlines() if l.startswith(start))


def test_ratios_are_taken_within_rounds_and_judged_against_the_targets(tmp_path):
    # round 1: framepipe 0.4 of raw, per core 0.4 / 0.5 = 0.8 of raw; round 2: 0.6, per core 0.6
    md, summary, bad = run(tmp_path, {"raw": [10e6, 5e6], "netty": [3e6, 3e6], "framepipe": [4e6, 3e6]},
                           {"raw": [1.0, 1.0], "netty": [1.0, 1.0], "framepipe": [0.5, 1.0]}, {})
    assert bad == ""
    assert line(md, "| 01-small-stats | frames/s vs raw |") == \
        "| 01-small-stats | frames/s vs raw | >= 0.50 | 0.50 (rounds: 0.40, 0.60) | PASS |"
    assert line(md, "| 01-small-stats | frames per server core-second vs raw |") == \
        "| 01-small-stats | frames per server core-second vs raw | >= 0.55 | 0.70 (rounds: 0.80, 0.60) | PASS |"
    assert line(md, "| 01-small-stats | heap B/frame") == \
        "| 01-small-stats | heap B/frame; GC pauses (framepipe) | <= 1.0; 0 | 0.1; 0 | PASS |"
    # medians over the rounds: raw 7.5 M frames/s at 1.00 core; framepipe 3.5 M, per core median of 8 M and 3 M
    assert line(md, "| 01-small-stats | framepipe |").startswith(
        "| 01-small-stats | framepipe | 3,500,000 | 7.0 | 0.75 | 5,500,000 | 0.50 | 0.70 | 100 / 400 / 900 | 0.50 | 300 / 4000 |")
    fp = summary["scenarios"][0]["results"]["framepipe"]
    assert fp["frames_per_second"] == 3.5e6 and fp["server_cpu_cores"] == 0.75
    assert summary["servers"][0] == {"key": "raw", "label": "raw transport"}
    # the client drove raw 7.5 / 3.5 faster than the fastest other server
    assert "| 2.14 x | yes for netty, framepipe" in line(md, "| 01-small-stats | blocking |")


def test_a_missed_target_is_MISS_and_a_client_that_could_be_the_limit_is_named(tmp_path):
    md, _, _ = run(tmp_path, {"raw": [4e6], "netty": [3.9e6], "framepipe": [1e6]},
                   {"raw": [1.0], "netty": [1.0], "framepipe": [1.0]}, {"heap_bytes": 5000, "gc_pauses": 2})
    assert line(md, "| 01-small-stats | frames/s vs raw |").endswith("| 0.25 | MISS |")
    assert line(md, "| 01-small-stats | heap B/frame").endswith("| 5.0; 2 | MISS |")
    assert "NO: the client may limit" in line(md, "| 01-small-stats | blocking |")


def test_latency_is_judged_by_p99_against_raw_at_the_same_rate(tmp_path):
    sid = "05-latency-half-rate"
    md, _, _ = run(tmp_path, {"raw": [1e6, 1e6, 1e6], "netty": [1e6] * 3, "framepipe": [1e6] * 3},
                   {k: [0.3] * 3 for k in SERVERS},
                   {"compare": "latency", "rate": 1_000_000, "client": "netty", "target": None, "per_core_target": None,
                    "p99_ratio_target": 3}, sid=sid,
                   p99={"raw": [1000, 1000, 2000], "netty": [1500] * 3, "framepipe": [2000, 9000, 5000]})
    assert line(md, f"| {sid} (open loop 1,000,000/s) | p99 vs raw at the same rate |") == \
        f"| {sid} (open loop 1,000,000/s) | p99 vs raw at the same rate | <= 3.0 x | 2.5 x (rounds: 2.0 x, 9.0 x, 2.5 x) | PASS |"
    assert "yes: every server got the rate asked for in every round" in line(md, f"| {sid} (open loop 1,000,000/s) | netty | 0.50 / ")


def test_an_open_loop_round_below_the_rate_is_named(tmp_path):
    sid = "06-latency-quarter-rate"
    md, _, _ = run(tmp_path, {"raw": [5e5, 5e5], "netty": [5e5, 5e5], "framepipe": [5e5, 3e5]},
                   {k: [0.3] * 2 for k in SERVERS},
                   {"compare": "latency", "rate": 500_000, "client": "netty", "target": None, "per_core_target": None},
                   sid=sid)
    assert "NO: below the rate asked for in framepipe round 2: 300,000/s" in line(md, f"| {sid} (open loop 500,000/s) | netty | 0.50 / ")
    assert line(md, f"| {sid} (open loop 500,000/s) | p99 vs raw at the same rate (rate not held, see below) |").endswith(
        "| - | 1.0 x (rounds: 1.0 x, 1.0 x) | ok |")


def test_a_latency_target_is_not_passed_at_a_rate_not_held(tmp_path):
    sid = "05-latency-half-rate"
    md, _, _ = run(tmp_path, {"raw": [1e6], "netty": [1e6], "framepipe": [0.5e6]}, {k: [0.3] for k in SERVERS},
                   {"compare": "latency", "rate": 1_000_000, "client": "netty", "target": None, "per_core_target": None,
                    "p99_ratio_target": 3}, sid=sid)
    assert line(md, f"| {sid} (open loop 1,000,000/s) | p99 vs raw at the same rate (rate not held, see below) |").endswith(
        "| <= 3.0 x | 1.0 x | MISS |")


def test_lost_answers_make_every_verdict_of_the_scenario_ERRORS(tmp_path):
    md, summary, bad = run(tmp_path, {"raw": [4e6], "netty": [3e6], "framepipe": [3e6]},
                           {k: [1.0] for k in SERVERS}, {}, lost={"raw": [0], "netty": [0], "framepipe": [12]})
    assert bad == "01-small-stats"
    assert line(md, "| 01-small-stats | frames/s vs raw |").endswith("| ERRORS |")
    assert line(md, "| 01-small-stats | heap B/frame").endswith("| ERRORS |")
    assert summary["scenarios"][0]["ok"] is False
