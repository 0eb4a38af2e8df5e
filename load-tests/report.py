#!/usr/bin/env python3
"""The report of load-tests/run.sh: from the JSON of every load run (one per scenario, server and
round) and the scenario's facts (<id>.meta.json), the Markdown report and its summary JSON (the
input of `framepipe chart load`). Medians over the rounds; a ratio is taken within each round
(the servers of a round ran back to back) and then its median. Exit status 0; the caller reads
verdicts from the report."""
import argparse
import json
import statistics
import sys

LABELS = {
    "raw": "raw transport",
    "raw-project": "raw transport (framepipe baseline --raw)",
    "inline": "Netty inline (InlineNetty.java)",
    "netty": "Netty baseline",
    "framepipe": "framepipe",
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def value(j, compare):
    """The scenario's measure of throughput: frames/s, or MB/s of requests and answers."""
    if compare == "bytes":
        return j["request_mb_per_second"] + j["response_mb_per_second"]
    return j["frames_per_second"]


def per_core(j):
    cores = j.get("server_cpu_cores")
    return j["frames_per_second"] / cores if cores else None


def ratio(a, b):
    return a / b if a is not None and b else None


def num(x, fmt="{:,.0f}"):
    return "-" if x is None else fmt.format(x)


def rounds_note(xs, fmt="{:.2f}"):
    xs = [x for x in xs if x is not None]
    return f" (rounds: {', '.join(fmt.format(x) for x in xs)})" if len(xs) > 1 else ""


def scenario_rows(sid, meta, servers, runs):
    """Side-by-side rows, target rows, a load-generator row, and the scenario's summary."""
    compare = meta["compare"]
    rounds = len(runs["framepipe"])
    rate = meta.get("rate") or 0
    cell = f"{sid} (open loop {rate:,.0f}/s)" if compare == "latency" else sid
    ok = all(j["mismatches"] == 0 and j.get("lost", 0) == 0 for k in servers for j in runs[k]) \
        and all(j["errors"] == 0 for j in runs["framepipe"])
    per = {}
    side = []
    for k in servers:
        js = runs[k]
        raw = runs["raw"]
        v_ratios = [ratio(value(j, compare), value(r, compare)) for j, r in zip(js, raw)]
        c_ratios = [ratio(per_core(j), per_core(r)) for j, r in zip(js, raw)]
        p99_ratios = [ratio(j["p99_us"], r["p99_us"]) for j, r in zip(js, raw)]
        s = {
            "frames_per_second": med(j["frames_per_second"] for j in js),
            "mb_per_second": med(j["request_mb_per_second"] + j["response_mb_per_second"] for j in js),
            "server_cpu_cores": med(j.get("server_cpu_cores") for j in js),
            "frames_per_server_core_second": med(per_core(j) for j in js),
            "client_cpu_cores": med(j.get("client_cpu_cores") for j in js),
            "p50_us": med(j["p50_us"] for j in js),
            "p99_us": med(j["p99_us"] for j in js),
            "p999_us": med(j["p999_us"] for j in js),
            "ratio_to_raw": med(v_ratios),
            "ratio_to_raw_rounds": v_ratios,
            "per_core_ratio_to_raw": med(c_ratios),
            "per_core_ratio_to_raw_rounds": c_ratios,
            "p99_ratio_to_raw": med(p99_ratios),
            "p99_ratio_to_raw_rounds": p99_ratios,
            "hiccup_p99_us": med(j.get("hiccup_p99_us") for j in js),
            "hiccup_max_us": med(j.get("hiccup_max_us") for j in js),
        }
        # the spectrum of the median round (by p99 for latency, by throughput otherwise)
        key = (lambda j: j["p99_us"]) if compare == "latency" else (lambda j: value(j, compare))
        mid = sorted(js, key=key)[(len(js) - 1) // 2]
        s["latency_percentiles"] = mid.get("latency_percentiles", [])
        per[k] = s
        lat = f"{s['p50_us']:.0f} / {s['p99_us']:.0f} / {s['p999_us']:.0f}"
        hic = "-" if s["hiccup_p99_us"] is None else f"{s['hiccup_p99_us']:.0f} / {s['hiccup_max_us']:.0f}"
        side.append(f"| {cell} | {k} | {num(s['frames_per_second'])} | {num(s['mb_per_second'], '{:,.1f}')} "
                    f"| {num(s['server_cpu_cores'], '{:.2f}')} | {num(s['frames_per_server_core_second'])} "
                    f"| {num(s['ratio_to_raw'], '{:.2f}')} | {num(s['per_core_ratio_to_raw'], '{:.2f}')} "
                    f"| {lat} | {num(s['client_cpu_cores'], '{:.2f}')} | {hic} |")

    fp = per["framepipe"]
    targets = []

    def verdict(passed):
        return "ERRORS" if not ok else "PASS" if passed else "MISS"

    def target_row(measure, target_text, got, rounds_, passed, fmt="{:.2f}", suffix=""):
        shown = "-" if got is None else fmt.format(got) + suffix + rounds_note(rounds_, fmt + suffix)
        v = verdict(passed) if target_text != "-" else ("ERRORS" if not ok else "ok")
        targets.append(f"| {cell} | {measure} | {target_text} | {shown} | {v} |")

    if compare in ("frames", "bytes"):
        what = "frames/s" if compare == "frames" else "bytes/s"
        t = meta.get("target")
        got = fp["ratio_to_raw"]
        target_row(f"{what} vs raw", f">= {float(t):.2f}" if t else "-", got, fp["ratio_to_raw_rounds"],
                   t is not None and got is not None and got >= float(t))
        t = meta.get("per_core_target")
        got = fp["per_core_ratio_to_raw"]
        target_row("frames per server core-second vs raw", f">= {float(t):.2f}" if t else "-", got,
                   fp["per_core_ratio_to_raw_rounds"], t is not None and got is not None and got >= float(t))
    else:
        # A latency compared at a rate some server did not keep up with is no comparison: no PASS then.
        held = all(j["frames_per_second"] >= 0.98 * rate for k in servers for j in runs[k])
        t = meta.get("p99_ratio_target")
        got = fp["p99_ratio_to_raw"]
        target_row("p99 vs raw at the same rate" + ("" if held else " (rate not held, see below)"),
                   f"<= {float(t):.1f} x" if t else "-", got, fp["p99_ratio_to_raw_rounds"],
                   held and t is not None and got is not None and got <= float(t), fmt="{:.1f}", suffix=" x")
    heap = meta["heap_bytes"] / max(1.0, meta["heap_frames"])
    gcs = meta["gc_pauses"]
    hv = "ERRORS" if not ok else "PASS" if heap <= 1.0 and gcs == 0 else "MISS"
    targets.append(f"| {cell} | heap B/frame; GC pauses (framepipe) | <= 1.0; 0 | {heap:.1f}; {gcs} | {hv} |")

    # Is the load generator the limit? In a closed loop: the same client, same settings, drove raw
    # faster in the same run, so at the other servers' rates it had room to spare. In an open loop:
    # every server got the rate asked for.
    others = [k for k in servers if k not in ("raw", "raw-project")]
    cores = " / ".join(num(per[k]["client_cpu_cores"], "{:.2f}") for k in servers)
    if compare == "latency":
        short = [f"{k} round {r + 1}: {j['frames_per_second']:,.0f}/s" for k in servers
                 for r, j in enumerate(runs[k]) if j["frames_per_second"] < 0.98 * rate]
        gen = (f"| {cell} | {meta['client']} | {cores} | - | "
               + ("yes: every server got the rate asked for in every round |" if not short
                  else f"NO: below the rate asked for in {'; '.join(short)} |"))
    else:
        raw_v = value_med(runs["raw"], compare)
        top = max(value_med(runs[k], compare) for k in others)
        head = ratio(raw_v, top)
        fine = head is not None and head >= 1.1
        gen = (f"| {cell} | {meta['client']} | {cores} | {num(head, '{:.2f}')} x | "
               + (f"yes for {', '.join(others)}: the same client drove raw {head:.2f} x faster |" if fine
                  else "NO: the client may limit the other servers too |"))
    summary = {"id": sid, "name": meta["name"], "compare": compare, "rate_per_second": rate, "rounds": rounds,
               "client": meta["client"], "ok": ok, "heap_bytes_per_frame": heap, "gc_pauses": gcs, "results": per}
    return side, targets, gen, summary


def value_med(js, compare):
    return med(value(j, compare) for j in js)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--ids", required=True, help="scenario ids, space-separated, in run order")
    ap.add_argument("--servers", required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--title-facts", required=True, help="the lines under the title (Markdown)")
    a = ap.parse_args()
    servers = a.servers.split()
    side, targets, gens, summaries = [], [], [], []
    for sid in a.ids.split():
        meta = json.load(open(f"{a.tmp}/{sid}.meta.json"))
        runs = {k: [json.load(open(f"{a.tmp}/{sid}-{k}-r{r}.json")) for r in range(1, a.rounds + 1)] for k in servers}
        s, t, g, summ = scenario_rows(sid, meta, servers, runs)
        side += s
        targets += t
        gens.append(g)
        summaries.append(summ)
    closed = sorted({s["client"] for s in summaries if s["compare"] != "latency"})
    summary = {"client": ", ".join(closed) or "netty", "servers": [{"key": k, "label": LABELS[k]} for k in servers],
               "scenarios": summaries}
    with open(a.summary, "w") as f:
        json.dump(summary, f, indent=1)
    with open(a.report, "w") as f:
        w = lambda s="": print(s, file=f)
        w("# Load test: framepipe side by side with the raw transport and the Netty baseline")
        w()
        w(a.title_facts)
        w()
        w("## Targets")
        w()
        w("framepipe against the raw transport in the same rounds; each ratio is the median of the rounds' ratios.")
        w()
        w("| scenario | measure | target | framepipe | verdict |")
        w("|---|---|---|---|---|")
        for t in targets:
            w(t)
        w()
        w("## Side by side")
        w()
        w("Medians over the rounds. server cores: the server's CPU (`/proc/PID/stat`) over the measured window;")
        w("per core: frames per server core-second; vs raw: the ratio to the raw transport in the same round")
        w("(median of the rounds); client cores: the load generator's own CPU over the same window.")
        w()
        w("| scenario | server | frames/s | MB/s | server cores | frames per server core-second | frames/s vs raw "
          "| per core vs raw | p50 / p99 / p99.9 (us) | client cores | hiccups p99 / max (us) |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
        for s in side:
            w(s)
        w()
        w("## Is the load generator the limit?")
        w()
        w("Closed loop: the same client with the same settings drove the raw transport faster in the same rounds,")
        w("so at the other servers' rates it was not what held them back (it may hold back raw itself). Open loop:")
        w("every server was sent, and answered, at least 98 % of the rate asked for in every round. Client cores in")
        w("the order of the servers (" + " / ".join(servers) + ").")
        w()
        w("| scenario | client | client cores | raw over the fastest other server | the client is not the limit |")
        w("|---|---|---|---:|---|")
        for g in gens:
            w(g)
    bad = [s["id"] for s in summaries if not s["ok"]]
    if bad:
        for sid in bad:
            for k in servers:
                for r in range(1, a.rounds + 1):
                    j = json.load(open(f"{a.tmp}/{sid}-{k}-r{r}.json"))
                    print(f"  {sid} {k} round {r}: {j['errors']} errors {j.get('errors_by_code', {})}, "
                          f"{j['mismatches']} mismatches, {j.get('lost', 0)} lost", file=sys.stderr)
    print(" ".join(bad))


if __name__ == "__main__":
    main()
