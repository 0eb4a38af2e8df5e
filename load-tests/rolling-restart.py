#!/usr/bin/env python3
"""Helpers of load-tests/rolling-restart.sh (standard library only, Python 3.11+).

  scrape HTTP_PORT                      the counters the report uses, as JSON, from /metrics
  haproxy-cmd STATS_SOCKET COMMAND       one command on HAProxy's stats socket (e.g. set server)
  haproxy-wait STATS_SOCKET SERVER STATE TIMEOUT
                                        waits until HAProxy reports SERVER (backend 'replicas')
                                        UP or DOWN; prints the time it saw it (epoch ms)
  monitor STATS_SOCKET OUT NAME=HTTP_PORT...
                                        every second until SIGTERM: each replica's counters and
                                        HAProxy's per-server stats, one JSON line per sample
  stop NAME PID FRAME_PORT HTTP_PORT STATS_SOCKET OUT
                                        SIGTERM a replica and read its counters once it has
                                        answered its last frame (see stop())
  pyload HOST PORT CLIENTS DEPTH OUT    the Python ReconnectingClient under load until SIGTERM
                                        (same JSON as `framepipe restart-load --json`)
  report WORK REPORT                    the Markdown report; exit status 1 when a hard target
                                        is missed
"""

from __future__ import annotations

import array
import csv
from datetime import datetime
import io
import json
import math
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# ---- /metrics ----

def parse_metrics(text: str) -> dict:
    """The counters the report needs, summed over their labels where the report wants a total."""
    m = {"completed_ok": 0.0, "completed_error": 0.0, "stats_ok": 0.0, "ping_ok": 0.0, "shutting_down": 0.0,
         "sent_bytes": 0.0, "received_bytes": 0.0, "connections_active": 0.0, "connections_opened": 0.0,
         "refused_not_ready": 0.0, "frames_received": 0.0}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name_labels, _, value = line.rpartition(" ")
        try:
            v = float(value)
        except ValueError:
            continue
        name, _, labels = name_labels.partition("{")
        if name == "pipeline_frames_completed_total":
            if 'outcome="ok"' in labels:
                m["completed_ok"] += v
                if 'op="stats"' in labels:
                    m["stats_ok"] += v
                elif 'op="ping"' in labels:
                    m["ping_ok"] += v
            else:
                m["completed_error"] += v
        elif name == "pipeline_errors_total" and 'code="shutting_down"' in labels:
            m["shutting_down"] += v
        elif name == "pipeline_sent_bytes_total":
            m["sent_bytes"] += v
        elif name == "pipeline_received_bytes_total":
            m["received_bytes"] += v
        elif name == "pipeline_connections_active":
            m["connections_active"] = v
        elif name == "pipeline_connections_opened_total":
            m["connections_opened"] += v
        elif name == "pipeline_connections_refused_total" and 'reason="not_ready"' in labels:
            m["refused_not_ready"] += v
        elif name == "pipeline_frames_received_total":
            m["frames_received"] += v
    return {k: int(v) for k, v in m.items()}


def scrape(http_port: int, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=timeout) as r:
            out = parse_metrics(r.read().decode())
            out["t_ms"] = now_ms()
            return out
    except OSError:
        return None


# ---- HAProxy's stats socket ----

def haproxy(sock_path: str, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sock_path)
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


STAT_FIELDS = ("status", "scur", "stot", "econ", "eresp", "wretr", "wredis", "bin", "bout", "chkfail", "chkdown",
               "lastchg", "downtime", "check_status")


def haproxy_servers(sock_path: str) -> dict:
    """Per server of backend 'replicas' (and the frontend as 'FRONTEND'): the stats the report uses."""
    text = haproxy(sock_path, "show stat")
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    out = {}
    for r in rows:
        name = r.get("svname")
        if (r.get("pxname") == "replicas" and name != "BACKEND") or name == "FRONTEND":
            out[name] = {k: (int(r[k]) if r.get(k, "").isdigit() else r.get(k, "")) for k in STAT_FIELDS}
    return out


def cmd_haproxy_wait(sock_path: str, server: str, state: str, timeout: str) -> int:
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        try:
            status = str(haproxy_servers(sock_path).get(server, {}).get("status", ""))
        except OSError:
            status = ""
        if status.startswith(state):
            print(now_ms())
            return 0
        time.sleep(0.05)
    print(f"rolling-restart: HAProxy did not report {server} {state} within {timeout} s", file=sys.stderr)
    return 1


# ---- monitor ----

def cmd_monitor(sock_path: str, out: str, replicas: list[str]) -> int:
    ports = {r.split("=")[0]: int(r.split("=")[1]) for r in replicas}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open(out, "a", buffering=1) as f:
        nxt = time.monotonic()
        while not stop.is_set():
            sample = {"t_ms": now_ms(), "replicas": {n: scrape(p, timeout=0.8) for n, p in ports.items()}}
            try:
                sample["haproxy"] = haproxy_servers(sock_path)
            except OSError as e:
                sample["haproxy"] = {"error": str(e)}
            f.write(json.dumps(sample) + "\n")
            nxt += 1.0
            stop.wait(max(0.0, nxt - time.monotonic()))
    return 0


# ---- stop: a replica's last counters ----

def cmd_stop(name: str, pid: str, frame_port: str, http_port: str, sock_path: str, out: str) -> int:
    """SIGTERM a replica and read its counters after its last answer.

    The counters live in the process and die with it, and its HTTP port closes as soon as the
    last frame connection is gone, so a scrape "just before the exit" cannot be timed from
    outside. Instead a sentinel connection is opened to the replica's frame port (directly, not
    through HAProxy) before the SIGTERM and sends nothing. When the drain begins the replica
    sends it a FIN once close-linger has passed without a request to decline (nothing is owed on
    it) and then waits up to close-linger again for it to
    close; the sentinel stays open meanwhile, which keeps the HTTP port up. Once the replica
    reports a single open connection (the sentinel), every other connection is closed and
    every frame it will ever answer is counted: that scrape is final, then the sentinel closes.
    """
    pid_i, fport, hport = int(pid), int(frame_port), int(http_port)
    rec: dict = {"name": name, "pid": pid_i}
    rec["pre"] = scrape(hport)
    sentinel = socket.create_connection(("127.0.0.1", fport), timeout=5)
    time.sleep(0.2)  # accepted and registered before the drain can begin
    rec["sigterm_ms"] = now_ms()
    os.kill(pid_i, signal.SIGTERM)
    last = rec["pre"]
    down_ms = None
    sentinel.settimeout(0.05)
    fin_ms = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and fin_ms is None:
        try:
            if sentinel.recv(1) == b"":
                fin_ms = now_ms()
                break
        except socket.timeout:
            pass
        except OSError:
            fin_ms = now_ms()  # reset: no linger
            break
        if down_ms is None:
            try:
                if str(haproxy_servers(sock_path).get(name, {}).get("status", "")).startswith("DOWN"):
                    down_ms = now_ms()
            except OSError:
                pass
        s = scrape(hport, timeout=0.5)
        if s is not None:
            last = s
    rec["haproxy_down_ms"] = down_ms
    rec["drain_fin_ms"] = fin_ms
    final = None
    t_end = time.monotonic() + 10
    while time.monotonic() < t_end:
        s = scrape(hport, timeout=0.5)
        if s is None:
            break
        last = s
        if s["connections_active"] <= 1:
            final = s
            break
        time.sleep(0.01)
    rec["final"] = final if final is not None else last
    rec["final_exact"] = final is not None
    sentinel.close()
    if down_ms is None:  # the drain began before HAProxy's DOWN was seen: look once more
        try:
            if str(haproxy_servers(sock_path).get(name, {}).get("status", "")).startswith("DOWN"):
                rec["haproxy_down_ms"] = now_ms()
        except OSError:
            pass
    Path(out).write_text(json.dumps(rec))  # the caller waits for the process (its child) to exit
    return 0


# ---- pyload: the Python reconnecting client ----

def stats_check(x: array.array, s) -> str | None:
    """STATS against exact-rounded sums (math.fsum), within PROTOCOL.md's accuracy."""
    n = len(x)
    if s.count != n:
        return f"count {s.count}, expected {n}"
    total = math.fsum(x)
    absum = math.fsum(abs(v) for v in x)
    if s.min != min(x) or s.max != max(x):
        return f"min/max {s.min}/{s.max}, expected {min(x)}/{max(x)}"
    if abs(s.sum - total) > 1e-9 * absum + 1e-13 * absum:
        return f"sum {s.sum}, expected {total}"
    if abs(s.mean - s.sum / n) > math.ulp(s.sum / n):
        return f"mean {s.mean}, expected sum / count"
    m = total / n
    var = math.fsum((v - m) ** 2 for v in x) / n
    if abs(s.variance - var) > 1e-9 * var + 1e-15 * m * m + 1e-13 * (var + math.ulp(m) * abs(m)):
        return f"variance {s.variance}, expected {var}"
    return None


def bucket(us: int) -> int:
    """The value's bucket: rounded up to 3 significant digits (at most 1 % wide)."""
    if us < 1000:
        return us
    step = 10 ** (len(str(us)) - 3)
    return -(-us // step) * step


def cmd_pyload(host: str, port: str, clients: str, depth: str, out: str) -> int:
    here = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(here / "clients" / "python" / "src"))
    import framepipe  # noqa: E402  (the repository's client, not an installed one)

    n_clients, n_depth = int(clients), int(depth)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lock = threading.Lock()
    c = {"requests": 0, "answered": 0, "correct": 0, "wrong": 0, "failed": 0, "stats": 0, "ping": 0}
    failures: dict[str, int] = {}
    wrong_examples: list[str] = []
    current: dict[int, int] = {}
    total_hist: dict[int, int] = {}
    seconds: list[dict] = []
    start = now_ms()
    # No per-request timeout: the sync client keeps every request's deadline in a heap until it
    # passes, which under load halves its throughput and adds stalls of hundreds of ms. A request
    # that never settles shows as "unsettled" below (the wait at the end is bounded).
    conns = [framepipe.ReconnectingClient(host, int(port), max_in_flight=n_depth) for _ in range(n_clients)]
    windows = [threading.Semaphore(n_depth) for _ in range(n_clients)]

    def done(kind, expected, t0, window, fut) -> None:
        us = (time.perf_counter_ns() - t0) // 1000
        err = fut.exception()
        problem = None
        if err is None:
            r = fut.result()
            problem = (None if r == expected else f"PING of {len(expected)} bytes answered with other bytes") \
                if kind == "ping" else stats_check(expected, r)
        with lock:
            if err is not None:
                c["failed"] += 1
                key = f"{type(err).__name__}: {err}"[:160]
                failures[key] = failures.get(key, 0) + 1
            else:
                c["answered"] += 1
                b = bucket(us)
                current[b] = current.get(b, 0) + 1
                if problem is None:
                    c["correct"] += 1
                    c[kind] += 1
                else:
                    c["wrong"] += 1
                    if len(wrong_examples) < 10:
                        wrong_examples.append(problem)
        window.release()

    def sender(i: int) -> None:
        rnd = random.Random(1_000_003 * 7 + i)
        client, window = conns[i], windows[i]
        while not stop.is_set():
            if not window.acquire(timeout=0.1):
                continue
            if stop.is_set():
                window.release()
                return
            if rnd.random() < 0.25:
                p = rnd.randbytes(rnd.randint(1, 64))
                t0 = time.perf_counter_ns()
                f = client.submit_ping(p)
                kind, expected = "ping", p
            else:
                mean, spread = rnd.uniform(-1000, 1000), 10 ** rnd.uniform(-3, 3)
                x = array.array("f", (mean + spread * rnd.uniform(-1, 1) for _ in range(64)))
                t0 = time.perf_counter_ns()
                f = client.submit_stats(x)
                kind, expected = "stats", x
            with lock:
                c["requests"] += 1
            f.add_done_callback(lambda fut, k=kind, e=expected, t=t0, w=window: done(k, e, t, w, fut))

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(n_clients)]
    for t in threads:
        t.start()
    last = dict(c)

    def snapshot() -> None:
        nonlocal last, current
        with lock:
            hist, current = current, {}
            now = dict(c)
        for k, v in hist.items():
            total_hist[k] = total_hist.get(k, 0) + v
        seconds.append({"t_ms": now_ms(), "requests": now["requests"] - last["requests"],
                        "answered": now["answered"] - last["answered"], "failed": now["failed"] - last["failed"],
                        "resent": sum(x.resent for x in conns), "declined": sum(x.declined for x in conns),
                        "connections": sum(x.connections for x in conns), "p99_us": percentile(hist, 99),
                        "max_us": max(hist) if hist else 0, "buckets": sorted(hist.items())})
        last = now

    nxt = time.monotonic() + 1
    while not stop.is_set():
        stop.wait(max(0.0, nxt - time.monotonic()))
        if time.monotonic() >= nxt:
            snapshot()
            nxt += 1
    for t in threads:
        t.join()
    unsettled = 0
    for w in windows:
        got = 0
        t_end = time.monotonic() + 35
        while got < n_depth and w.acquire(timeout=max(0.0, t_end - time.monotonic())):
            got += 1
        unsettled += n_depth - got
    snapshot()
    for x in conns:
        x.close()
    result = {"tool": "rolling-restart.py pyload", "target": f"{host}:{port}", "clients": n_clients, "depth": n_depth,
              "floats": 64, "ping_bytes": 64, "ping_share": 0.25, "start_ms": start, "end_ms": now_ms(),
              **{k: c[k] for k in ("requests", "answered", "correct", "wrong", "failed")}, "unsettled": unsettled,
              "resent": sum(x.resent for x in conns), "shutting_down_seen": sum(x.declined for x in conns),
              "connections": sum(x.connections for x in conns),
              "answered_by_op": {"stats": c["stats"], "ping": c["ping"]}, "failures": failures,
              "wrong_examples": wrong_examples,
              "latency_us": {"p50": percentile(total_hist, 50), "p99": percentile(total_hist, 99),
                             "p999": percentile(total_hist, 99.9), "max": max(total_hist) if total_hist else 0},
              "seconds": seconds}
    Path(out).write_text(json.dumps(result))
    print(f"pyload: requests {c['requests']:,} answered {c['answered']:,} correct {c['correct']:,} "
          f"wrong {c['wrong']} failed {c['failed']} unsettled {unsettled} resent {result['resent']} "
          f"declined {result['shutting_down_seen']} connections {result['connections']}")
    ok = c["wrong"] == 0 and c["failed"] == 0 and unsettled == 0 and c["answered"] == c["requests"]
    return 0 if ok else 1


def percentile(hist: dict | list, p: float) -> int:
    """HdrHistogram's rule: the smallest recorded value with at least p % of the counts at or below it."""
    items = sorted(hist.items()) if isinstance(hist, dict) else sorted(hist)
    total = sum(n for _, n in items)
    if total == 0:
        return 0
    want = max(1, math.ceil(p / 100 * total))
    seen = 0
    for v, n in items:
        seen += n
        if seen >= want:
            return int(v)
    return int(items[-1][0])


# ---- report ----

def merge(seconds: list[dict], keep) -> dict:
    h: dict[int, int] = {}
    for s in seconds:
        if keep(s["t_ms"]):
            for v, n in s["buckets"]:
                h[v] = h.get(v, 0) + n
    return h


def fmt_ms(us: int) -> str:
    return f"{us / 1000:.1f}"


def cmd_report(work: str, report: str) -> int:
    w = Path(work)
    conf = json.loads((w / "conf.json").read_text())
    events = []
    for line in (w / "events.txt").read_text().splitlines():
        t, ev, name, gen = line.split()
        events.append((int(t), ev, name, int(gen)))
    samples = [json.loads(line) for line in (w / "samples.jsonl").read_text().splitlines() if line.strip()]
    java = json.loads((w / "java.json").read_text())
    py = json.loads((w / "python.json").read_text()) if (w / "python.json").exists() else None
    names = conf["replicas"]
    stops = {}
    for f in sorted(w.glob("stop-*.json")):
        rec = json.loads(f.read_text())
        stops[(rec["name"], int(f.stem.split("-")[-1]))] = rec
    baselines = {}
    for f in sorted(w.glob("baseline-*.json")):
        _, name, gen = f.stem.split("-")
        baselines[(name, int(gen))] = json.loads(f.read_text())
    haproxy_end = json.loads((w / "haproxy-end.json").read_text())

    # Restarts: SIGTERM, the old process gone, the new one ready, HAProxy UP again.
    # When each process began its drain (closed its port): its log's "draining N connections".
    drains = {}
    for name in names:
        f = w / f"{name}.log"
        lines = f.read_text(errors="replace").splitlines() if f.exists() else []
        stamps = [ln.split()[0] for ln in lines if " draining " in ln and " connections" in ln]
        for gen, stamp in enumerate(stamps):
            try:
                drains[(name, gen)] = int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                pass
    restarts = []
    by = {}
    for t, ev, name, gen in events:
        by.setdefault((name, gen), {})[ev] = t
    for t, ev, name, gen in events:
        if ev == "sigterm" and gen < conf["generations"][name]:
            old, new = by[(name, gen)], by.get((name, gen + 1), {})
            stop = stops.get((name, gen), {})
            restarts.append({"name": name, "gen": gen, "sigterm": t, "down": stop.get("haproxy_down_ms"),
                             "fin": drains.get((name, gen)), "exited": old.get("exited"),
                             "ready": new.get("ready"), "up": new.get("up")})
    after = conf["around_after_up_s"] * 1000
    windows = [(r["sigterm"] - 1000, (r["up"] or r["sigterm"]) + after) for r in restarts]
    load_start, load_end = java["start_ms"], java["end_ms"]
    warm = load_start + conf["warmup_s"] * 1000

    def around(t): return any(a <= t - 500 < b for a, b in windows)  # a second is named by its end

    def steady(t): return t - 1000 >= warm and not around(t) and t <= load_end - 1000

    def drain_part(t): return any(r["sigterm"] - 1000 <= t - 500 < (r["exited"] or r["sigterm"]) + 2000 for r in restarts)

    def rejoin_part(t): return any(r["up"] and r["up"] <= t - 500 < r["up"] + after for r in restarts)

    lat = {}
    for label, src in (("java", java), ("python", py)):
        if src is None:
            continue
        lat[label] = {k: merge(src["seconds"], f) for k, f in
                      (("steady", steady), ("around", around), ("drain", drain_part), ("rejoin", rejoin_part))}

    # Server side: per replica and generation, the counters from the baseline (when it turned
    # ready) to the final reading (the stop helper's, or the end of the run).
    per_replica = {}
    inexact = []
    for name in names:
        tot = {"completed_ok": 0, "stats_ok": 0, "ping_ok": 0, "completed_error": 0, "shutting_down": 0,
               "sent_bytes": 0, "refused_not_ready": 0, "generations": 0}
        for gen in range(conf["generations"][name] + 1):
            base = baselines.get((name, gen))
            stop = stops.get((name, gen))
            if base is None or stop is None:
                continue
            fin = stop["final"]
            if not stop.get("final_exact", False):
                inexact.append(f"{name}#{gen} (last reading during its drain not final)")
            if base.get("connections_opened", 0) != 0:
                inexact.append(f"{name}#{gen} (reading at ready after traffic had begun)")
            tot["generations"] += 1
            for k in tot:
                if k != "generations":
                    tot[k] += fin[k] - base[k]
        per_replica[name] = tot
    server_ok = sum(r["completed_ok"] for r in per_replica.values())
    server_stats = sum(r["stats_ok"] for r in per_replica.values())
    server_ping = sum(r["ping_ok"] for r in per_replica.values())
    server_errors = sum(r["completed_error"] for r in per_replica.values())
    server_declined = sum(r["shutting_down"] for r in per_replica.values())
    clients = [x for x in (java, py) if x is not None]
    client_ok = sum(x["answered"] for x in clients)
    client_stats = sum(x["answered_by_op"]["stats"] for x in clients)
    client_ping = sum(x["answered_by_op"]["ping"] for x in clients)
    client_declined = sum(x["shutting_down_seen"] for x in clients)

    # The balancer: connect errors, retries and redispatches per server, and the TCP log.
    hap = {n: haproxy_end.get(n, {}) for n in names}
    econ = sum(int(h.get("econ") or 0) for h in hap.values())
    wretr = sum(int(h.get("wretr") or 0) for h in hap.values())
    wredis = sum(int(h.get("wredis") or 0) for h in hap.values())
    log_lines = (w / "haproxy.log").read_text(errors="replace").splitlines() if (w / "haproxy.log").exists() else []
    conn_logs = [ln for ln in log_lines if ln.startswith("conn ")]
    # the last field is %ac/%fc/%bc/%sc/%rc: %rc counts retries, with a + when redispatched
    retried = [ln for ln in conn_logs if ln.split()[-1].split("/")[-1] != "0"]
    refused_not_ready = sum(r["refused_not_ready"] for r in per_replica.values())

    # Connections per replica over time.
    conn_rows = []
    for s in samples:
        row = {"t": s["t_ms"]}
        for n in names:
            r = s["replicas"].get(n)
            row[n] = r["connections_active"] if r else None
        conn_rows.append(row)
    n_conns = conf["clients"] + (conf["py_clients"] if py is not None else 0)
    last_up = max((r["up"] for r in restarts if r["up"]), default=None)
    spread_at = None
    spread_ok = None
    if last_up is not None:
        target_t = last_up + conf["spread_after_s"] * 1000
        for row in conn_rows:
            if row["t"] >= target_t and all(row[n] is not None for n in names) and sum(row[n] for n in names) == n_conns:
                spread_at = row
                break
        if spread_at is not None:
            even = n_conns / len(names)
            spread_ok = all(abs(spread_at[n] - even) <= 1 for n in names)

    # ---- verdicts ----
    java_failed = java["failed"] + java["wrong"] + java["unsettled"]
    py_failed = (py["failed"] + py["wrong"] + py["unsettled"]) if py else 0
    hard = []
    hard.append(("0 failed for the reconnecting clients (failed + wrong + unanswered)",
                 java_failed == 0 and py_failed == 0,
                 f"Java {java['failed']:,} failed, {java['wrong']:,} wrong, {java['unsettled']:,} unanswered"
                 + (f"; Python {py['failed']:,} / {py['wrong']:,} / {py['unsettled']:,}" if py else "")))
    equal = server_ok == client_ok and server_stats == client_stats and server_ping == client_ping and not inexact
    hard.append(("server-completed = client-answered (exactly once)", equal,
                 f"servers {server_ok:,} (STATS {server_stats:,}, PING {server_ping:,}); clients {client_ok:,}"
                 f" (STATS {client_stats:,}, PING {client_ping:,})"
                 + (f"; counters not exact for {', '.join(inexact)}" if inexact else "")))
    no_refusal = econ == 0 and wretr == 0 and wredis == 0 and refused_not_ready == 0 and not retried
    hard.append(("no connection refused by a draining replica", no_refusal,
                 f"HAProxy: {econ} connect errors, {wretr} retries, {wredis} redispatches, {len(retried)} retried"
                 f" connections in its log; replicas: {refused_not_ready} refused while not ready"))
    soft = []
    # Every connection a client had to replace ended in a drain or a retirement with requests in
    # flight (the clients always have some): each should have ended with a SHUTTING_DOWN, not a
    # FIN that crossed requests on the wire. A client's last connection ends when the load stops.
    ended = sum(x["connections"] - (conf["clients"] if x is java else conf["py_clients"]) for x in clients)
    soft.append(("every connection ended by a drain or retirement under load ended with a SHUTTING_DOWN",
                 client_declined >= ended,
                 f"{client_declined:,} SHUTTING_DOWN answers for {ended:,} connections ended by the servers"))
    sp = percentile(lat["java"]["steady"], 99)
    ap = percentile(lat["java"]["around"], 99)
    soft.append(("p99 around restarts <= 2 x steady (Java client)", ap <= 2 * sp if sp else False,
                 f"{fmt_ms(ap)} ms around restarts, {fmt_ms(sp)} ms steady (ratio {ap / sp if sp else float('nan'):.2f})"))
    if spread_at is None:
        soft.append((f"connections within one of an even spread {conf['spread_after_s']} s after the last restart", False,
                     "no complete sample that late (the run ended too soon)"))
    else:
        at = (spread_at["t"] - last_up) / 1000
        soft.append((f"connections within one of an even spread {conf['spread_after_s']} s after the last restart", spread_ok,
                     f"{' / '.join(str(spread_at[n]) for n in names)} at {at:.0f} s after the last replica was UP"
                     f" ({n_conns} connections: {n_conns / len(names):.2f} each)"))

    lines = []
    p = lines.append
    p(f"# Rolling restart behind HAProxy{' (brief)' if conf['brief'] else ''}")
    p("")
    p(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(load_start / 1000))} on {os.cpu_count()} cores, "
      f"load average {conf['loadavg']} at the start; replicas, HAProxy and clients sharing them. "
      f"Commit {conf['commit']}.")
    p(f"Command: `{conf['command']}` ({conf['settings']}).")
    p("")
    p(f"{len(names)} replicas of `bin/framepipe serve` ({conf['serve_args'] or 'default settings'}) behind "
      f"HAProxy {conf['haproxy_version']} in TCP mode (`balance leastconn`, health check `GET /health/ready` "
      f"every {conf['inter_ms']} ms, `fall 2 rise 2`, `option redispatch`, `retries 3`). "
      f"Load: {conf['clients']} Java `ReconnectingClient`s x {conf['depth']} in flight"
      + (f", and {conf['py_clients']} Python `ReconnectingClient`s x {conf['py_depth']}" if py else "")
      + "; STATS of 64 random floats (3 in 4) and PINGs of 1-64 random bytes, every answer checked "
        "against an independent computation. Each replica in turn: SIGTERM, wait for its exit, start "
        f"it again, wait until HAProxy has it UP, pause {conf['pause_s']} s.")
    p("")
    p("## Verdicts")
    p("")
    p("| target | kind | verdict | measured |")
    p("|---|---|---|---|")
    for what, ok, detail in hard:
        p(f"| {what} | must hold | {'PASS' if ok else 'FAIL'} | {detail} |")
    for what, ok, detail in soft:
        p(f"| {what} | target | {'PASS' if ok else 'MISS'} | {detail} |")
    p("")
    p("## Requests")
    p("")
    p("| client | requests | answered | correct | wrong | failed | unanswered | resent | SHUTTING_DOWN seen | connections | p50 / p99 / p99.9 / max (ms) |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, x in (("Java", java), ("Python", py)):
        if x is None:
            continue
        L = x["latency_us"]
        p(f"| {label} | {x['requests']:,} | {x['answered']:,} | {x['correct']:,} | {x['wrong']:,} | {x['failed']:,} | "
          f"{x['unsettled']:,} | {x['resent']:,} | {x['shutting_down_seen']:,} | {x['connections']:,} | "
          f"{fmt_ms(L['p50'])} / {fmt_ms(L['p99'])} / {fmt_ms(L['p999'])} / {fmt_ms(L['max'])} |")
    fails = {}
    for x in clients:
        for k, v in x["failures"].items():
            fails[k] = fails.get(k, 0) + v
    if fails:
        p("")
        p("Failures: " + "; ".join(f"{v:,} x `{k}`" for k, v in sorted(fails.items(), key=lambda kv: -kv[1])[:8]))
    wrongs = [e for x in clients for e in x["wrong_examples"]]
    if wrongs:
        p("")
        p("Wrong answers (first ones): " + "; ".join(f"`{e}`" for e in wrongs[:5]))
    p("")
    p("## Server-completed against client-answered")
    p("")
    p("Each replica's `pipeline_frames_completed_total` counts from the moment it turned ready (a "
      "reading taken then) to its last answer (read during its drain, see `stop` in "
      "`load-tests/rolling-restart.py`, or after the load ended), summed over its processes: a "
      "restart starts the counters again from zero. HAProxy's bytes from each server are compared "
      "with the bytes the replica's processes wrote (`pipeline_sent_bytes_total`).")
    p("")
    p("| replica | processes | completed ok | STATS | PING | SHUTTING_DOWN sent | refused not ready | bytes sent | HAProxy bytes from it | HAProxy connections |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        r = per_replica[n]
        h = hap[n]
        p(f"| {n} | {r['generations']} | {r['completed_ok']:,} | {r['stats_ok']:,} | {r['ping_ok']:,} | "
          f"{r['shutting_down']:,} | {r['refused_not_ready']:,} | {r['sent_bytes']:,} | {int(h.get('bout') or 0):,} | "
          f"{int(h.get('stot') or 0):,} |")
    p(f"| all | | {server_ok:,} | {server_stats:,} | {server_ping:,} | {server_declined:,} | {refused_not_ready:,} | "
      f"{sum(r['sent_bytes'] for r in per_replica.values()):,} | {sum(int(h.get('bout') or 0) for h in hap.values()):,} | "
      f"{sum(int(h.get('stot') or 0) for h in hap.values()):,} |")
    p("")
    p(f"Clients: {client_ok:,} answered (STATS {client_stats:,}, PING {client_ping:,}), "
      f"{client_declined:,} SHUTTING_DOWN answers received; error answers written by the servers: "
      f"{server_errors:,} (SHUTTING_DOWN: {server_declined:,}).")
    p("")
    p("## Restarts")
    p("")
    p("Times in seconds after the SIGTERM. HAProxy DOWN: the health check saw the 503 twice; "
      "drain: the replica closed its port and began closing connections (drain-delay after the "
      "SIGTERM); exit: the process ended; ready: the new process answered `/health/ready` 200; "
      "UP: HAProxy sent it traffic again (the script keeps a restarting replica in HAProxy's "
      "maintenance state until it has read the new process's counters at ready).")
    p("")
    p("| replica | HAProxy DOWN | drain | exit | ready | UP | p99 / max in the drain (ms) | p99 / max after UP (ms) |")
    p("|---|---:|---:|---:|---:|---:|---|---|")

    def rel(t, r): return f"{(t - r['sigterm']) / 1000:.1f}" if t else "-"
    for r in restarts:
        d = merge(java["seconds"], lambda t, r=r: r["sigterm"] - 1000 <= t - 500 < (r["exited"] or r["sigterm"]) + 2000)
        u = merge(java["seconds"], lambda t, r=r: r["up"] is not None and r["up"] <= t - 500 < r["up"] + after)
        p(f"| {r['name']} | {rel(r['down'], r)} | {rel(r['fin'], r)} | {rel(r['exited'], r)} | {rel(r['ready'], r)} | "
          f"{rel(r['up'], r)} | {fmt_ms(percentile(d, 99))} / {fmt_ms(max(d) if d else 0)} | "
          f"{fmt_ms(percentile(u, 99))} / {fmt_ms(max(u) if u else 0)} |")
    p("")
    p("## Latency: steady against around restarts")
    p("")
    p(f"Per-second HdrHistograms of the clients (send to answer, resends included). Around restarts: "
      f"from 1 s before each SIGTERM until {conf['around_after_up_s']} s after that replica is UP again "
      f"(the drain, the restart and the first seconds of the new process). Steady: every other second "
      f"after the first {conf['warmup_s']} s. Drain: SIGTERM - 1 s to exit + 2 s; rejoin: the "
      f"{conf['around_after_up_s']} s after UP.")
    p("")
    p("| client | window | seconds | answers | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) |")
    p("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, src in (("Java", java), ("Python", py)):
        if src is None:
            continue
        for k, f in (("steady", steady), ("around", around), ("drain", drain_part), ("rejoin", rejoin_part)):
            h = lat[label.lower()][k]
            nsec = sum(1 for s in src["seconds"] if f(s["t_ms"]))
            p(f"| {label} | {k} | {nsec} | {sum(h.values()):,} | {fmt_ms(percentile(h, 50))} | "
              f"{fmt_ms(percentile(h, 99))} | {fmt_ms(percentile(h, 99.9))} | {fmt_ms(max(h) if h else 0)} |")
    p("")
    p("## Connections per replica over time")
    p("")
    p("`pipeline_connections_active` of each replica, sampled every second (- while a replica is "
      "down; during a drain the count includes the script's sentinel connection). Every "
      f"{conf['table_every_s']} s, and at each event:")
    p("")
    p("| t (s) | " + " | ".join(names) + " | event |")
    p("|---:|" + "---:|" * len(names) + "---|")
    ev_at = {}
    for t, ev, name, gen in events:
        if ev in ("sigterm", "exited", "up"):
            ev_at.setdefault(t, []).append(f"{name} {ev}")
    last_periodic = -10 ** 9
    ev_times = sorted(ev_at)
    ei = 0
    for row in conn_rows:
        if not load_start - 1000 <= row["t"] <= load_end + 1000:
            continue  # before the load, and the replicas' last stops after it
        tags = []
        while ei < len(ev_times) and ev_times[ei] <= row["t"]:
            tags += ev_at[ev_times[ei]]
            ei += 1
        rel_s = (row["t"] - load_start) / 1000
        periodic = rel_s - last_periodic >= conf["table_every_s"]
        if periodic:
            last_periodic = rel_s
        if tags or periodic:
            p(f"| {rel_s:.0f} | " + " | ".join("-" if row[n] is None else str(row[n]) for n in names)
              + f" | {', '.join(tags)} |")
    p("")
    p("## HAProxy")
    p("")
    p("| server | status at the end | connections | connect errors | retries | redispatches | failed checks | times DOWN |")
    p("|---|---|---:|---:|---:|---:|---:|---:|")
    for n in names:
        h = hap[n]
        p(f"| {n} | {h.get('status')} | {h.get('stot')} | {h.get('econ')} | {h.get('wretr')} | {h.get('wredis')} | "
          f"{h.get('chkfail')} | {h.get('chkdown')} |")
    if retried:
        p("")
        p("Connections HAProxy had to retry or redispatch (its log):")
        p("")
        p("```")
        lines.extend(retried[:20])
        p("```")
    p("")
    p(f"Raw data (per-second histograms, samples, logs) were in `{work}`.")
    Path(report).write_text("\n".join(lines) + "\n")
    for what, ok, detail in hard:
        print(f"{'PASS' if ok else 'FAIL'}  {what}: {detail}")
    for what, ok, detail in soft:
        print(f"{'PASS' if ok else 'MISS'}  {what}: {detail}")
    return 0 if all(ok for _, ok, _ in hard) else 1


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "scrape":
        s = scrape(int(args[0]))
        if s is None:
            return 1
        print(json.dumps(s))
        return 0
    if cmd == "haproxy-wait":
        return cmd_haproxy_wait(*args)
    if cmd == "haproxy-cmd":  # a command on HAProxy's stats socket; fails on any answer but an empty one
        out = haproxy(args[0], args[1]).strip()
        if out:
            print(f"rolling-restart: HAProxy answered '{args[1]}' with: {out}", file=sys.stderr)
            return 1
        return 0
    if cmd == "haproxy-stat":
        print(json.dumps(haproxy_servers(args[0])))
        return 0
    if cmd == "monitor":
        return cmd_monitor(args[0], args[1], args[2:])
    if cmd == "stop":
        return cmd_stop(*args)
    if cmd == "pyload":
        return cmd_pyload(*args)
    if cmd == "report":
        return cmd_report(*args)
    print(f"rolling-restart.py: unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
