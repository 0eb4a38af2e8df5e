#!/usr/bin/env python3
"""The three promises of "Nothing lost when the machine is busy", checked from outside.

Started by load-tests/promises.sh (read its header for the settings). Each scenario starts a
real server with `bin/framepipe serve`, talks to it over loopback with frames written byte by
byte here (struct, not the project's client), and checks what the server promises:

  halfclose  One connection pipelines 400 frames round-robin (PING of 300 bytes, STATS of 4,096
             floats, UPPER of "straße ΟΔΟΣ " * 700, SCALE of 4,096 floats; about 4.5 MB), then the
             first 40 bytes of one more frame, then half-closes while it keeps reading: over TLS
             with close_notify and then the FIN (docs/protocol.md), plain with the FIN. Pass: the
             400 answers in order with the right values, nothing for the cut frame, then a clean
             end (TLS: the server's close_notify, then EOF), never a reset.
  budget     --direct-memory-budget=4MiB and -XX:MaxDirectMemorySize=96m; 4 clients each send 6
             STATS frames of 1 Mi floats and read nothing for 3 s, then read. Pass: all 24
             answered with the right values, no OutOfDirectMemoryError in the server's log,
             pooled direct memory (sampled from /metrics) within docs/security.md's worst case,
             and a PING on a new connection answered afterwards.
  rotation   TLS with file watching (tls-reload-interval 250ms): only the certificate file is
             replaced (a new key pair) and the old key stays for 2.5 s, then the new key is
             written. Pass: every new handshake in those 2.5 s succeeds and presents the OLD
             certificate (SHA-256 of the DER), the server's log shows it looked at the
             half-written pair and did not install it, and after the key arrives new handshakes
             get the NEW certificate; a connection opened before keeps working.

Modes: quiet (nothing added; the machine may be shared, so its load is recorded) and busy
(another process keeps both cores busy with loopback traffic: a second server and the load
generator hammering it). Every process started here is stopped before the script ends.
"""
import argparse
import datetime
import hashlib
import math
import os
import platform
import re
import select
import signal
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from fractions import Fraction

import numpy as np

# ---- the wire (PROTOCOL.md): little-endian u32 length, u8 version, u8 kind, u16 op, u64 id ----
HEADER = struct.Struct("<IBBHQ")
FLOATS, TEXT, PING = 1, 2, 3
OP_STATS, OP_SCALE, OP_UPPER, OP_PING = 1, 2, 1, 0
KIND_ERROR = 0xFF
STATS_ANSWER = struct.Struct("<Qddddd")


def frame(kind, op, frame_id, payload):
    return HEADER.pack(12 + len(payload), 1, kind, op, frame_id) + payload


class Failure(Exception):
    """A broken promise (or a scenario that could not run): the message says which."""


class AnswerReader:
    """Splits a byte stream into answers."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data

    def next(self):
        if len(self.buf) < 4:
            return None
        (length,) = struct.unpack_from("<I", self.buf, 0)
        if length < 12:
            raise Failure(f"an answer with length field {length} (< 12)")
        if len(self.buf) < 4 + length:
            return None
        _, version, kind, op, frame_id = HEADER.unpack_from(self.buf, 0)
        payload = bytes(self.buf[16:4 + length])
        del self.buf[:4 + length]
        if version != 1:
            raise Failure(f"an answer with version {version}")
        return kind, op, frame_id, payload


def describe(kind, payload):
    if kind == KIND_ERROR and len(payload) >= 2:
        code = struct.unpack_from("<H", payload)[0]
        return f"error {code}: {payload[2:].decode('utf-8', 'replace')}"
    return f"kind 0x{kind:02x}, {len(payload)} bytes"


# ---- expected values ----

class StatsExpectation:
    """PROTOCOL.md's accuracy rules, against exact arithmetic on the float32 inputs: whole
    multiples of 1/64 (what exact_floats makes) in integers, anything else with math.fsum."""

    def __init__(self, x32):
        x = x32.astype(np.float64)
        n = self.count = len(x)
        self.min = float(x.min())
        self.max = float(x.max())
        k = x * 64
        big = float(np.abs(k).max()) if n else 0.0
        if np.array_equal(k, np.round(k)) and big * big * n < 2.0 ** 62:
            # Integer sums are exact (no int64 overflow by the bound above); Python's int / int
            # and Fraction -> float round once, so sum and variance are the exact values rounded.
            k = k.astype(np.int64)
            s, s2, sa = int(k.sum()), int((k * k).sum()), int(np.abs(k).sum())
            self.sum = s / 64
            self.sum_abs = sa / 64
            self.var = float(Fraction(n * s2 - s * s, n * n * 64 * 64))
        else:
            self.sum = math.fsum(x)
            self.sum_abs = math.fsum(np.abs(x))
            mean = self.sum / n
            self.var = math.fsum((x - mean) ** 2) / n

    def problems(self, payload):
        if len(payload) != 48:
            return f"STATS answer of {len(payload)} bytes, not 48"
        count, s, lo, hi, mean, var = STATS_ANSWER.unpack(payload)
        wrong = []
        if count != self.count:
            wrong.append(f"count {count} (expected {self.count})")
        if not abs(s - self.sum) <= 1e-9 * self.sum_abs:
            wrong.append(f"sum {s!r} (expected {self.sum!r})")
        if lo != self.min or hi != self.max:
            wrong.append(f"min/max {lo!r}/{hi!r} (expected {self.min!r}/{self.max!r})")
        exact_mean = self.sum / self.count
        if not abs(mean - exact_mean) <= 1e-9 * self.sum_abs / self.count:
            wrong.append(f"mean {mean!r} (expected {exact_mean!r})")
        if not abs(var - self.var) <= 1e-9 * self.var + 1e-15 * exact_mean ** 2:
            wrong.append(f"variance {var!r} (expected {self.var!r})")
        return "; ".join(wrong) or None


def exact_floats(rng, n, spread=100_000, offset=0):
    """float32 values with 6 fractional bits: STATS has an exact reference and SCALE (2x + 1) no rounding."""
    return ((rng.integers(-spread, spread, n) + offset) / 64).astype("<f4")


# ---- processes ----

def cpu_times():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def process_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Processes:
    """Every process this script starts; their ids go to a file the shell wrapper's trap reads."""

    def __init__(self, pid_file):
        self.pid_file = pid_file
        self.procs = []

    def start(self, args, log_path, env):
        log = open(log_path, "ab")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                             start_new_session=True)
        log.close()
        self.procs.append(p)
        with open(self.pid_file, "a") as f:
            f.write(f"{p.pid}\n")
        return p

    def stop(self, p, timeout=60):
        """SIGTERM (a graceful drain for the servers), then SIGKILL; returns the exit status."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p, timeout=15)


class Server:
    """`bin/framepipe serve` on free loopback ports; ports read from its "framepipe ready" line."""

    READY = re.compile(r"framepipe ready: frames on (\d+), http on (\d+)")

    def __init__(self, ctx, name, args, java_opts="", warmup_rounds=None):
        self.ctx = ctx
        self.log_path = os.path.join(ctx.work, f"{name}.log")
        env = ctx.server_env(java_opts)
        cmd = [ctx.framepipe, "serve", "--bind-address", "127.0.0.1", "--frame-port", "0", "--http-port", "0",
               "--drain-delay", "0s", "--warmup-rounds",
               str(ctx.warmup_rounds if warmup_rounds is None else warmup_rounds)] + list(args)
        self.cmdline = " ".join(cmd[1:]).replace(ctx.work, "$WORK")
        self.java_opts = java_opts
        started = time.monotonic()
        self.proc = ctx.processes.start(cmd, self.log_path, env)
        deadline = started + ctx.start_timeout
        while True:
            m = self.READY.search(self.log())
            if m:
                self.frame_port, self.http_port = int(m.group(1)), int(m.group(2))
                break
            if self.proc.poll() is not None:
                raise Failure(f"the server ({self.cmdline}) exited with status {self.proc.returncode} before it was "
                              f"ready:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise Failure(f"the server ({self.cmdline}) was not ready after {ctx.start_timeout} s:\n"
                              f"{self.log()[-3000:]}")
            time.sleep(0.2)
        self.start_seconds = time.monotonic() - started
        self.exit_status = None

    def log(self, since=0):
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def log_size(self):
        return os.path.getsize(self.log_path)

    def line(self, pattern):
        m = re.search(pattern, self.log())
        return m.group(0) if m else None

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=10) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    values[name] = float(value)
                except ValueError:
                    pass
        return values

    def stop(self):
        if self.exit_status is None:
            self.exit_status = self.ctx.processes.stop(self.proc)
        return self.exit_status


def log_problems(text):
    """Lines of a server log that break a promise whatever the scenario."""
    bad = []
    for line in text.splitlines():
        if ("OutOfDirectMemoryError" in line or "LEAK:" in line or " ERROR " in line
                or "cause=internal" in line):
            bad.append(line.strip())
    return bad


class BusyLoad:
    """Another process keeping both cores busy with loopback traffic: a second server and the
    load generator (closed loop, verified answers) hammering it over loopback, plus one busy
    loop per CPU so that the competition keeps both cores even on a machine others share."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.server = Server(ctx, "busy-server", ["--max-connection-age", "0s", "--idle-timeout", "0s"],
                             warmup_rounds=0)
        cpus = os.cpu_count() or 2
        self.cpus = cpus
        cmd = [ctx.framepipe, "load", "--port", str(self.server.frame_port), "--connections", str(2 * cpus),
               "--threads", str(cpus), "--depth", "64", "--mix", "stats:4096@2,upper:2000@1,ping:300@1",
               "--duration", "24h", "--warmup", "0s", "--no-hiccups"]
        self.log_path = os.path.join(ctx.work, "busy-load.log")
        self.load = ctx.processes.start(cmd, self.log_path, ctx.server_env(""))
        # $1 is the marker the shell wrapper's trap looks for
        self.loops = [ctx.processes.start(["sh", "-c", "while :; do :; done", "promises-busy-loop", ctx.marker],
                                          os.devnull, ctx.server_env(""))
                      for _ in range(cpus)]
        time.sleep(3)  # the generator's JVM starts and reaches full speed
        self.check()

    def describe(self):
        return (f"a second `framepipe serve` hammered over loopback by `framepipe load` ({2 * self.cpus} "
                f"connections, depth 64, mix stats:4096, upper:2000, ping:300, closed loop, answers verified), "
                f"plus {self.cpus} busy shell loops")

    def pids(self):
        return [self.server.proc.pid, self.load.pid] + [p.pid for p in self.loops]

    def cpu_seconds(self):
        return sum(process_cpu_seconds(p) for p in self.pids())

    def check(self):
        for name, p in [("busy server", self.server.proc), ("busy load generator", self.load)] + [
                ("busy loop", p) for p in self.loops]:
            if p.poll() is not None:
                with open(self.log_path, "rb") as f:
                    tail = f.read()[-2000:].decode("utf-8", "replace")
                raise Failure(f"the {name} exited ({p.returncode}); BUSY is no longer busy. Load log:\n{tail}")

    def stop(self):
        for p in self.loops:
            self.ctx.processes.stop(p, timeout=5)
        self.ctx.processes.stop(self.load, timeout=15)
        self.server.stop()


# ---- connections ----

class TlsPipe:
    """A TLS client over a memory BIO: this script sees and sends every record itself, so it can
    send close_notify, then the FIN, and read on (Python's SSLSocket drops its TLS state on
    shutdown(), and unwrap() would wait for the server's close_notify)."""

    def __init__(self, sock, context, hostname="localhost"):
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=False, server_hostname=hostname)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush_blocking(sock)
                data = sock.recv(65536)
                if not data:
                    raise Failure("the server closed during the TLS handshake")
                self.incoming.write(data)
        self.flush_blocking(sock)

    def flush_blocking(self, sock):
        out = self.outgoing.read()
        if out:
            sock.sendall(out)

    def peer_fingerprint(self):
        return hashlib.sha256(self.obj.getpeercert(binary_form=True)).hexdigest()


def tls_client_context(ca_file):
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def pump(sock, tls, data, on_plain, deadline):
    """Sends `data`, then half-closes (TLS: close_notify, then the FIN), reading all the while,
    in one thread. Returns (how the stream ended, whether the server's close_notify came,
    bytes sent). The end is 'eof', 'reset' or 'timeout'."""
    sock.setblocking(False)
    view = memoryview(data)
    handed = 0            # plaintext handed to TLS / the socket
    raw = bytearray()     # bytes for the socket
    close_notify_queued = False
    fin_sent = False
    peer_close_notify = False
    while True:
        if tls is not None:
            while handed < len(view) and len(raw) < (1 << 18):
                n = min(16384, len(view) - handed)
                tls.obj.write(view[handed:handed + n])
                handed += n
                raw += tls.outgoing.read()
            if handed == len(view) and not close_notify_queued:
                close_notify_queued = True
                try:
                    tls.obj.unwrap()  # sends close_notify; then it would wait for the server's
                except ssl.SSLWantReadError:
                    pass              # ... which is exactly what must not be waited for
                raw += tls.outgoing.read()
        elif handed < len(view) and len(raw) < (1 << 18):
            n = min(1 << 18, len(view) - handed)
            raw += view[handed:handed + n]
            handed += n
        if not raw and handed == len(view) and not fin_sent:
            sock.shutdown(socket.SHUT_WR)
            fin_sent = True
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            return "timeout", peer_close_notify, handed
        readable, writable, _ = select.select([sock], [sock] if raw else [], [], min(timeout, 1.0))
        if writable:
            try:
                n = sock.send(raw[:1 << 18])
                del raw[:n]
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                return "reset", peer_close_notify, handed
        if readable:
            try:
                chunk = sock.recv(1 << 18)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                return "reset", peer_close_notify, handed
            if not chunk:
                return "eof", peer_close_notify, handed
            if tls is None:
                on_plain(chunk)
                continue
            tls.incoming.write(chunk)
            while True:
                try:
                    plain = tls.obj.read(1 << 17)
                except ssl.SSLWantReadError:
                    break
                except ssl.SSLZeroReturnError:
                    peer_close_notify = True
                    break
                if peer_close_notify and plain:
                    raise Failure("application data after the server's close_notify")
                on_plain(plain)


def recv_answers(sock, reader, count, deadline):
    """Blocking: reads until `count` answers came; returns them."""
    got = []
    while len(got) < count:
        a = reader.next()
        if a is not None:
            got.append(a)
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure(f"{len(got)} of {count} answers after the deadline")
        sock.settimeout(left)
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            raise Failure(f"{len(got)} of {count} answers after the deadline")
        except ConnectionResetError:
            raise Failure(f"connection reset after {len(got)} of {count} answers")
        if not chunk:
            raise Failure(f"the server closed after {len(got)} of {count} answers")
        reader.feed(chunk)
    return got


def ping(port, context=None, payload=b"still there?"):
    """A new connection, one PING, its echo; returns the server certificate's fingerprint under TLS."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        sock = context.wrap_socket(raw, server_hostname="localhost") if context else raw
        sock.sendall(frame(PING, OP_PING, 7, payload))
        reader = AnswerReader()
        kind, op, frame_id, answer = recv_answers(sock, reader, 1, time.monotonic() + 10)[0]
        if (kind, frame_id, answer) != (PING | 0x80, 7, payload):
            raise Failure(f"PING answered with id {frame_id}, {describe(kind, answer)}")
        if context:
            return hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest()
        return None


# ---- a throwaway PKI ----

class Pki:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.serial = 1000
        self.ca_cert = os.path.join(directory, "ca.crt")
        self.ca_key = os.path.join(directory, "ca.key")
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3",
                     "-subj", "/CN=promises throwaway CA", "-keyout", self.ca_key, "-out", self.ca_cert,
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.ext = os.path.join(directory, "server.ext")
        with open(self.ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")

    def openssl(self, *args):
        r = subprocess.run(["openssl", *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure(f"openssl {' '.join(args[:2])} failed: {r.stderr.strip()}")

    def server_pair(self):
        """A new key pair and its certificate (serial unique); returns (cert, key, SHA-256 of the DER)."""
        self.serial += 1
        base = os.path.join(self.dir, f"server-{self.serial}")
        self.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-subj", f"/CN=framepipe {self.serial}", "-keyout", base + ".key", "-out", base + ".csr")
        self.openssl("x509", "-req", "-in", base + ".csr", "-CA", self.ca_cert, "-CAkey", self.ca_key,
                     "-set_serial", str(self.serial), "-days", "3", "-out", base + ".crt", "-extfile", self.ext)
        with open(base + ".crt") as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        return base + ".crt", base + ".key", hashlib.sha256(der).hexdigest()


def replace_file(source, target):
    """Atomically: the server reads either the old file or the new one, never half of one."""
    tmp = target + ".tmp"
    with open(source, "rb") as f, open(tmp, "wb") as g:
        g.write(f.read())
    os.replace(tmp, target)


# ---- scenarios ----

class Scenario:
    name = None
    variants = ()

    def __init__(self, ctx, variant):
        self.ctx = ctx
        self.variant = variant
        self.notes = []  # per-run lines for the report

    def start_server(self):
        raise NotImplementedError

    def run_once(self, server, run):
        """One run; raises Failure; returns a short detail for the report."""
        raise NotImplementedError

    def summary(self, server):
        """Lines about the server for the report (metrics, provider)."""
        return []


class HalfClose(Scenario):
    name = "halfclose"
    variants = ("plain", "tls-jdk", "tls-openssl")
    FRAMES = 400
    TEXT = "straße ΟΔΟΣ " * 700

    def __init__(self, ctx, variant):
        super().__init__(ctx, variant)
        rng = np.random.default_rng(17)
        self.ping = bytes((i * 7) & 0xFF for i in range(300))
        self.values = exact_floats(rng, 4096)
        self.stats = StatsExpectation(self.values)
        self.scaled = (self.values.astype(np.float64) * 2 + 1).astype("<f4").tobytes()
        self.upper = self.TEXT.upper().encode()  # the JDK's toUpperCase(Locale.ROOT) agrees here: ß -> SS
        text = self.TEXT.encode()
        floats = self.values.tobytes()
        out = bytearray()
        for i in range(1, self.FRAMES + 1):
            out += {1: frame(PING, OP_PING, i, self.ping),
                    2: frame(FLOATS, OP_STATS, i, floats),
                    3: frame(TEXT, OP_UPPER, i, text),
                    0: frame(FLOATS, OP_SCALE, i, struct.pack("<ff", 2.0, 1.0) + floats)}[i % 4]
        out += frame(FLOATS, OP_STATS, self.FRAMES + 1, floats)[:40]  # the cut frame: 16 header bytes, 24 of payload
        self.stream = bytes(out)
        self.context = None

    def start_server(self):
        args = []
        if self.variant != "plain":
            cert, key, _ = self.ctx.pki().server_pair()
            args = ["--tls-cert-chain", cert, "--tls-key", key, "--tls-provider", self.variant[4:]]
            self.context = tls_client_context(self.ctx.pki().ca_cert)
        return Server(self.ctx, f"{self.ctx.mode}-halfclose-{self.variant}", args)

    def check(self, i, answer):
        kind, op, frame_id, payload = answer
        if frame_id != i:
            raise Failure(f"answer {i} of {self.FRAMES} has id {frame_id} ({describe(kind, payload)}): out of order "
                          f"or lost")
        request = {1: (PING, OP_PING), 2: (FLOATS, OP_STATS), 3: (TEXT, OP_UPPER), 0: (FLOATS, OP_SCALE)}[i % 4]
        if kind != request[0] | 0x80 or op != request[1]:
            raise Failure(f"answer {i}: {describe(kind, payload)}, op {op}; expected kind 0x{request[0] | 0x80:02x}")
        problem = None
        if i % 4 == 1 and payload != self.ping:
            problem = "PING echo differs"
        elif i % 4 == 2:
            problem = self.stats.problems(payload)
        elif i % 4 == 3 and payload != self.upper:
            problem = f"UPPER text differs ({len(payload)} bytes, expected {len(self.upper)})"
        elif i % 4 == 0 and payload != self.scaled:
            problem = "SCALE values differ"
        if problem:
            raise Failure(f"answer {i}: {problem}")

    def run_once(self, server, run):
        reader = AnswerReader()
        answered = [0]

        def on_plain(data):
            reader.feed(data)
            while True:
                a = reader.next()
                if a is None:
                    return
                if answered[0] == self.FRAMES:
                    raise Failure(f"an answer after the {self.FRAMES} expected ones (id {a[2]}, "
                                  f"{describe(a[0], a[3])}): the cut frame must get none")
                answered[0] += 1
                self.check(answered[0], a)

        with socket.create_connection(("127.0.0.1", server.frame_port), timeout=10) as sock:
            tls = TlsPipe(sock, self.context) if self.context else None
            end, close_notify, sent = pump(sock, tls, self.stream, on_plain, time.monotonic() + self.ctx.timeout)
        if sent != len(self.stream):
            raise Failure(f"only {sent} of {len(self.stream)} bytes could be sent ({end})")
        if answered[0] != self.FRAMES:
            raise Failure(f"{answered[0]} of {self.FRAMES} answers, then {end}")
        if reader.buf:
            raise Failure(f"{len(reader.buf)} bytes of a partial answer after the last one, then {end}")
        if end != "eof":
            raise Failure(f"all {self.FRAMES} answers, then {end} instead of a clean end of stream")
        if tls is not None and not close_notify:
            raise Failure(f"all {self.FRAMES} answers, then a bare FIN: no close_notify from the server")
        return f"{self.FRAMES} answers, {len(self.stream):,} bytes sent" + (", close_notify + FIN" if tls else ", FIN")

    def summary(self, server):
        return [server.line(r"TLS on, provider [^\n]*") or "plain TCP"]


class Budget(Scenario):
    name = "budget"
    variants = ("4MiB",)
    CLIENTS, FRAMES, FLOATS_PER_FRAME, SILENT = 4, 6, 1 << 20, 3.0
    BUDGET = 4 << 20
    MAX_FRAME = 16 << 20      # the default max-frame-bytes
    HIGH_WATER = 1 << 20      # the default write-buffer-high-water

    def __init__(self, ctx, variant):
        super().__init__(ctx, variant)
        rng = np.random.default_rng(23)
        self.frames = []      # per client: (frame bytes, expectation) x 6
        for c in range(self.CLIENTS):
            mine = []
            for f in range(self.FRAMES):
                x = exact_floats(rng, self.FLOATS_PER_FRAME, offset=64 * 1000 * (c + 1))  # mean well away from 0
                mine.append((frame(FLOATS, OP_STATS, f + 1, x.tobytes()), StatsExpectation(x)))
            self.frames.append(mine)
        # docs/security.md: max(budget, max-frame-bytes) for large frames, plus per connection
        # sending about two read buffers (128 KiB) and its unsent answers up to the high water mark
        # plus one answer.
        self.bound = max(self.BUDGET, self.MAX_FRAME) + self.CLIENTS * (128 * 1024 + self.HIGH_WATER + 64)
        self.peaks = []
        self.pauses = []

    def start_server(self):
        return Server(self.ctx, f"{self.ctx.mode}-budget", ["--direct-memory-budget", "4MiB"],
                      java_opts="-XX:MaxDirectMemorySize=96m")

    def client(self, server, c, start, errors):
        try:
            with socket.create_connection(("127.0.0.1", server.frame_port), timeout=10) as sock:
                sock.settimeout(None)
                sent = threading.Event()
                send_error = []

                def send():
                    try:
                        for data, _ in self.frames[c]:
                            sock.sendall(data)  # blocks while the server pushes back
                        sent.set()
                    except OSError as e:
                        send_error.append(e)

                sender = threading.Thread(target=send, daemon=True)
                sender.start()
                time.sleep(max(0.0, start + self.SILENT - time.monotonic()))  # read nothing for 3 s
                answers = recv_answers(sock, AnswerReader(), self.FRAMES, time.monotonic() + self.ctx.timeout)
                sender.join(10)
                if send_error:
                    raise Failure(f"sending failed: {send_error[0]}")
                for f, (kind, op, frame_id, payload) in enumerate(answers):
                    if frame_id != f + 1 or kind != FLOATS | 0x80:
                        raise Failure(f"answer {f + 1}: id {frame_id}, {describe(kind, payload)}")
                    problem = self.frames[c][f][1].problems(payload)
                    if problem:
                        raise Failure(f"answer {f + 1}: {problem}")
        except Failure as e:
            errors.append(f"client {c + 1}: {e}")
        except OSError as e:
            errors.append(f"client {c + 1}: {e!r}")

    def run_once(self, server, run):
        log_from = server.log_size()
        before = server.metrics()
        peak = {"pinned": 0.0, "used": 0.0}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    m = server.metrics()
                    peak["pinned"] = max(peak["pinned"], m.get(
                        'netty_allocator_memory_pinned_bytes{allocator="pooled",memory_type="direct"}', 0))
                    peak["used"] = max(peak["used"], m.get(
                        'netty_allocator_memory_used_bytes{allocator="pooled",memory_type="direct"}', 0))
                except OSError:
                    pass
                stop.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        errors = []
        start = time.monotonic()
        clients = [threading.Thread(target=self.client, args=(server, c, start, errors), daemon=True)
                   for c in range(self.CLIENTS)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(self.ctx.timeout + 30)
        stop.set()
        sampler.join()
        if any(t.is_alive() for t in clients):
            errors.append("a client did not finish")
        try:
            ping(server.frame_port)
        except (Failure, OSError) as e:
            errors.append(f"the PING afterwards: {e}")
        after = server.metrics()
        pauses = (after.get('pipeline_backpressure_pauses_total{reason="direct_memory"}', 0)
                  - before.get('pipeline_backpressure_pauses_total{reason="direct_memory"}', 0))
        self.peaks.append(peak["pinned"])
        self.pauses.append(pauses)
        oom = [l for l in server.log(log_from).splitlines() if "OutOfDirectMemoryError" in l]
        if oom:
            errors.append(f"OutOfDirectMemoryError in the server log: {oom[0]}")
        if peak["pinned"] > self.bound:
            errors.append(f"pooled direct memory pinned reached {peak['pinned'] / 2**20:.1f} MiB, above the "
                          f"documented worst case of {self.bound / 2**20:.1f} MiB")
        if errors:
            raise Failure("; ".join(errors))
        return (f"24/24 answered; direct_memory pauses +{pauses:.0f}; peak pinned {peak['pinned'] / 2**20:.1f} MiB, "
                f"peak used {peak['used'] / 2**20:.1f} MiB (sampled every 0.1 s)")

    def summary(self, server):
        m = server.metrics()
        lines = [f"`pipeline_direct_memory_budget_bytes` {m.get('pipeline_direct_memory_budget_bytes', float('nan')):.0f}"]
        for reason in ("direct_memory", "ring_full", "unwritable"):
            key = f'pipeline_backpressure_pauses_total{{reason="{reason}"}}'
            lines.append(f"`{key}` {m.get(key, float('nan')):.0f} at the end")
        if self.peaks:
            lines.append(f"peak pinned pooled direct memory per run (MiB, sampled): "
                         f"{', '.join(f'{p / 2**20:.1f}' for p in self.peaks)}; bound {self.bound / 2**20:.1f} MiB")
            lines.append(f"direct_memory pauses per run: {', '.join(f'{p:.0f}' for p in self.pauses)}")
        return lines


class Rotation(Scenario):
    name = "rotation"
    variants = ("jdk", "openssl")
    HALF_WRITTEN = 2.5
    RELOAD = "250ms"

    def start_server(self):
        pki = self.ctx.pki()
        self.dir = os.path.join(self.ctx.work, f"{self.ctx.mode}-rotation-{self.variant}")
        os.makedirs(self.dir, exist_ok=True)
        self.cert = os.path.join(self.dir, "tls.crt")
        self.key = os.path.join(self.dir, "tls.key")
        cert, key, self.fingerprint = pki.server_pair()
        replace_file(cert, self.cert)
        replace_file(key, self.key)
        self.context = tls_client_context(pki.ca_cert)
        self.handshakes = []
        self.switch_times = []
        return Server(self.ctx, f"{self.ctx.mode}-rotation-{self.variant}",
                      ["--tls-cert-chain", self.cert, "--tls-key", self.key, "--tls-provider", self.variant,
                       "--tls-reload-interval", self.RELOAD])

    def handshake(self, server, phase, t0=None):
        try:
            return ping(server.frame_port, self.context, payload=b"rotation")
        except (ssl.SSLError, OSError, Failure) as e:
            when = f" {time.monotonic() - t0:.2f} s after the certificate file was replaced" if t0 else ""
            raise Failure(f"{phase}: a new TLS connection failed{when}: {e!r}")

    def run_once(self, server, run):
        old = self.fingerprint
        new_cert, new_key, new = self.ctx.pki().server_pair()
        try:
            return self.rotate(server, old, new_cert, new_key, new)
        finally:
            # Whatever happened, the files end consistent and the next run starts from the new pair.
            replace_file(new_cert, self.cert)
            replace_file(new_key, self.key)
            self.fingerprint = new

    def rotate(self, server, old, new_cert, new_key, new):
        deadline = time.monotonic() + 5
        while self.handshake(server, "before the rotation") != old:  # the previous rotation has landed
            if time.monotonic() > deadline:
                raise Failure("before the rotation the server does not present the current certificate")
            time.sleep(0.05)
        # a connection opened before the rotation: it must go on working after it
        early = socket.create_connection(("127.0.0.1", server.frame_port), timeout=10)
        early = self.context.wrap_socket(early, server_hostname="localhost")
        try:
            log_from = server.log_size()
            replace_file(new_cert, self.cert)  # only the certificate; the old key stays
            t0 = time.monotonic()
            count = 0
            while time.monotonic() < t0 + self.HALF_WRITTEN:
                got = self.handshake(server, "certificate new, key old", t0)
                count += 1
                if got != old:
                    raise Failure(f"{time.monotonic() - t0:.2f} s into the half-written rotation a new connection "
                                  f"got {'the NEW' if got == new else 'an unknown'} certificate")
                time.sleep(0.02)
            half = server.log(log_from)
            if "not usable (yet)" not in half:
                raise Failure(f"the server did not look at the half-written pair within {self.HALF_WRITTEN} s "
                              f"(no 'not usable (yet)' in its log); the scenario did not happen")
            if "new connections use them" in half:
                raise Failure("the server installed the half-written pair (log: 'new connections use them')")
            replace_file(new_key, self.key)
            t1 = time.monotonic()
            while True:
                got = self.handshake(server, "after the key arrived", t0)
                if got == new:
                    switched = time.monotonic() - t1
                    break
                if got != old:
                    raise Failure("after the key arrived a new connection got an unknown certificate")
                if time.monotonic() > t1 + 10:
                    raise Failure("10 s after the key arrived new connections still get the OLD certificate")
                time.sleep(0.02)
            for _ in range(3):
                if self.handshake(server, "after the switch", t0) != new:
                    raise Failure("after the switch a new connection got the OLD certificate again")
            early.sendall(frame(PING, OP_PING, 99, b"opened before"))
            kind, _, frame_id, payload = recv_answers(early, AnswerReader(), 1, time.monotonic() + 10)[0]
            if (frame_id, payload) != (99, b"opened before"):
                raise Failure(f"the connection opened before the rotation: {describe(kind, payload)}")
        finally:
            early.close()
        self.handshakes.append(count)
        self.switch_times.append(switched)
        return (f"{count} handshakes in {self.HALF_WRITTEN} s all with the old certificate; new one "
                f"{switched:.2f} s after the key")

    def summary(self, server):
        lines = [server.line(r"TLS on, provider [^\n]*") or "(no 'TLS on' line in the log)",
                 f"tls-reload-interval {self.RELOAD}"]
        if self.handshakes:
            lines.append(f"handshakes during the half-written window per run: {', '.join(map(str, self.handshakes))}")
            lines.append(f"seconds from the key's arrival to the new certificate: "
                         f"{', '.join(f'{s:.2f}' for s in self.switch_times)}")
        return lines


SCENARIOS = {s.name: s for s in (HalfClose, Budget, Rotation)}


# ---- the run ----

class Context:
    def __init__(self, args):
        self.root = args.root
        self.framepipe = os.path.join(args.root, "bin", "framepipe")
        self.work = args.work
        self.warmup_rounds = args.warmup_rounds
        self.start_timeout = args.start_timeout
        self.timeout = args.timeout
        self.processes = Processes(os.path.join(args.work, "pids"))
        self.marker = f"-Dpromises.work={args.work}"  # lets the shell's trap recognise our JVMs
        self.mode = None
        self._pki = None

    def pki(self):
        if self._pki is None:
            self._pki = Pki(os.path.join(self.work, "pki"))
        return self._pki

    def server_env(self, java_opts):
        # The caller's FRAMEPIPE_* settings would change what is tested: only the JDK choice passes.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("FRAMEPIPE_") or k in ("FRAMEPIPE_JAVA_HOME", "FRAMEPIPE_JVM_DIRS")}
        env["FRAMEPIPE_JAVA_OPTS"] = f"{java_opts} {self.marker}".strip()
        return env


class Outcome:
    def __init__(self, mode, scenario, variant):
        self.mode, self.scenario, self.variant = mode, scenario, variant
        self.durations, self.passed, self.failures, self.details = [], 0, [], []
        self.cpu_busy, self.busy_cores = [], []
        self.load_before = self.load_after = ""
        self.server_lines, self.exit_status, self.warnings, self.start_seconds = [], None, 0, None
        self.runs = 0
        self.setup_error = None


def parse_selection(names):
    chosen = []
    for name in names:
        scenario, _, variant = name.partition(":")
        if scenario not in SCENARIOS:
            raise SystemExit(f"promises: unknown scenario '{scenario}' (choose from {', '.join(SCENARIOS)})")
        variants = SCENARIOS[scenario].variants
        if variant and variant not in variants:
            raise SystemExit(f"promises: unknown variant '{variant}' of {scenario} (choose from {', '.join(variants)})")
        for v in ([variant] if variant else variants):
            if (scenario, v) not in chosen:
                chosen.append((scenario, v))
    return chosen


def run_scenario(ctx, outcome, scenario, runs, busy):
    server = scenario.start_server()
    outcome.start_seconds = server.start_seconds
    outcome.java_opts = server.java_opts
    outcome.cmdline = server.cmdline
    log_start = 0
    try:
        for run in range(1, runs + 1):
            if busy:
                busy.check()
            busy_before = busy.cpu_seconds() if busy else 0.0
            cpu_before = cpu_times()
            log_from = server.log_size()
            started = time.monotonic()
            try:
                detail = scenario.run_once(server, run)
                problems = log_problems(server.log(log_from))
                if problems:
                    raise Failure(f"the server logged: {problems[0]}" + (f" (+{len(problems) - 1} more)"
                                                                        if len(problems) > 1 else ""))
                outcome.passed += 1
                verdict = "PASS"
            except Failure as e:
                detail = str(e)
                outcome.failures.append(f"run {run}: {e}")
                verdict = "FAIL"
            elapsed = time.monotonic() - started
            cpu_after = cpu_times()
            outcome.runs += 1
            outcome.durations.append(elapsed)
            outcome.details.append(f"{verdict} {elapsed:.2f} s: {detail}")
            if cpu_after[1] > cpu_before[1]:
                outcome.cpu_busy.append(100.0 * (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1]))
            if busy:
                outcome.busy_cores.append((busy.cpu_seconds() - busy_before) / elapsed)
            print(f"[{outcome.mode}] {scenario.name}/{scenario.variant} run {run}/{runs}: {verdict} {elapsed:.2f} s"
                  f" -- {detail}", flush=True)
            if verdict == "FAIL" and ctx.fail_fast:
                break
        outcome.server_lines = scenario.summary(server)
    finally:
        status = server.stop()
        outcome.exit_status = status
        text = server.log(log_start)
        outcome.warnings = sum(1 for l in text.splitlines() if " WARN" in l)
        if status != 0:
            outcome.failures.append(f"the server exited with status {status} after SIGTERM (expected 0)")


def fmt_seconds(values):
    if not values:
        return "-"
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def git(root, *args):
    r = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "unknown"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError):
        mem = 0
    return f"{platform.node()}: {os.cpu_count()} CPUs ({model}), {mem:,} MiB RAM, {platform.system()} {platform.release()}"


def write_report(path, args, outcomes, started, finished, java, busy_info):
    ok = all(o.passed == o.runs == args.runs and not o.failures and not o.setup_error for o in outcomes)
    commit = git(args.root, "rev-parse", "--short=12", "HEAD")
    dirty = git(args.root, "status", "--porcelain", "--untracked-files=no")
    lines = [
        f"# framepipe's promises from outside: half-close, direct-memory budget, certificate rotation",
        "",
        f"Generated by `load-tests/promises.sh` (`load-tests/promises.py`); do not edit by hand.",
        "",
        f"- Verdict: **{'PASS' if ok else 'FAIL'}**",
        f"- Run: {started:%Y-%m-%d %H:%M:%S} to {finished:%H:%M:%S} UTC ({(finished - started).total_seconds() / 60:.1f} min)",
        f"- Commit: {commit}{' (with uncommitted changes)' if dirty not in ('', 'unknown') else ''}",
        f"- Machine: {machine()}",
        f"- Java: {java or 'unknown'}; Python {platform.python_version()}, numpy {np.__version__}, {ssl.OPENSSL_VERSION}",
        f"- Command: `{args.command}` (runs {args.runs} per scenario and mode, modes {', '.join(args.modes)}, "
        f"server warm-up rounds {args.warmup_rounds})",
        "- Servers: `bin/framepipe serve` with defaults except the scenario's settings (below), "
        "`--bind-address 127.0.0.1 --frame-port 0 --http-port 0 --drain-delay 0s`; one server per scenario and "
        "mode, started before its runs and stopped with SIGTERM after them (exit status must be 0).",
        "- QUIET: nothing added, but the machine is shared (others build and test on it): see the load "
        "averages and CPU use. BUSY: " + busy_info,
        "",
        "| mode | scenario | runs | passed | seconds per run (min / median / max) | load average before -> after "
        "| machine CPU busy (mean) | busy load's CPU (cores) | server exit |",
        "|---|---|---:|---:|---|---|---:|---:|---:|",
    ]
    for o in outcomes:
        cores = f"{statistics.mean(o.busy_cores):.2f}" if o.busy_cores else "-"
        cpu = f"{statistics.mean(o.cpu_busy):.0f} %" if o.cpu_busy else "-"
        lines.append(f"| {o.mode} | {o.scenario} {o.variant} | {o.runs} | {o.passed} | {fmt_seconds(o.durations)} "
                     f"| {o.load_before} -> {o.load_after} | {cpu} | {cores} | "
                     f"{'-' if o.exit_status is None else o.exit_status} |")
    lines += ["", "## Scenarios", ""]
    lines += [
        "- **halfclose**: one connection, 400 frames round-robin (PING 300 bytes, STATS 4,096 floats, UPPER of "
        "`\"straße ΟΔΟΣ \" * 700`, SCALE 4,096 floats), about 4.5 MB, then 40 bytes of a 401st frame, then the "
        "half-close while reading (plain: FIN; TLS: close_notify then FIN, as docs/protocol.md says a TLS client "
        "half-closes). Pass: 400 answers in order with the right values (STATS against exact sums, UPPER text, "
        "SCALE bytes, PING echo), none for the cut frame, then the server's close_notify (TLS) and EOF, no reset.",
        "- **budget**: `--direct-memory-budget 4MiB`, `FRAMEPIPE_JAVA_OPTS=-XX:MaxDirectMemorySize=96m`; 4 clients "
        "each send 6 STATS frames of 1 Mi floats (4 MiB payloads) and read nothing for 3 s, then read. Pass: 24 "
        "answers with the right values, no OutOfDirectMemoryError in the log, pooled direct memory pinned "
        "(sampled from /metrics every 0.1 s) within docs/security.md's worst case, a PING on a new connection "
        "answered afterwards.",
        "- **rotation**: TLS with `--tls-reload-interval 250ms`; per run a new key pair: only the certificate file "
        "is replaced, the old key stays 2.5 s, then the new key is written (each file replaced atomically). Pass: "
        "every new handshake in the 2.5 s succeeds and presents the old certificate (SHA-256 of the DER), the "
        "server logged that it skipped the half-written pair and did not install it, new handshakes then get the "
        "new certificate, and a connection opened before the rotation still answers a PING.",
        "",
        "Every run also fails on a server log line with `OutOfDirectMemoryError`, `LEAK:`, ` ERROR ` or "
        "`cause=internal`.",
        "",
    ]
    for o in outcomes:
        lines.append(f"### {o.mode}: {o.scenario} {o.variant}")
        lines.append("")
        if o.setup_error:
            lines.append(f"- could not run: {o.setup_error}")
        else:
            lines.append(f"- server: `{o.cmdline}`" + (f", `FRAMEPIPE_JAVA_OPTS={o.java_opts}`" if o.java_opts else "")
                         + f"; ready after {o.start_seconds:.1f} s; {o.warnings} WARN lines in its log")
        for line in o.server_lines:
            lines.append(f"- {line}")
        for i, d in enumerate(o.details, 1):
            lines.append(f"- run {i}: {d}")
        for f in o.failures:
            if not f.startswith("run "):
                lines.append(f"- **{f}**")
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--modes", default="quiet,busy")
    p.add_argument("--report", required=True)
    p.add_argument("--warmup-rounds", type=int, default=20000)
    p.add_argument("--start-timeout", type=float, default=180)
    p.add_argument("--timeout", type=float, default=60, help="seconds a run may wait for its answers")
    p.add_argument("--fail-fast", action="store_true")
    p.add_argument("--command", default="load-tests/promises.sh")
    p.add_argument("scenarios", nargs="*")
    args = p.parse_args()
    if args.runs < 1:
        raise SystemExit("promises: RUNS must be at least 1")
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in args.modes:
        if m not in ("quiet", "busy"):
            raise SystemExit(f"promises: unknown mode '{m}' (quiet or busy)")
    selection = parse_selection(args.scenarios or list(SCENARIOS))

    ctx = Context(args)
    ctx.fail_fast = args.fail_fast

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    outcomes = []
    java = None
    busy_info = "not run"
    try:
        scenarios = {}
        for mode in args.modes:
            ctx.mode = mode
            busy = None
            if mode == "busy":
                print("[busy] starting the busy load (a second server and the load generator) ...", flush=True)
                busy = BusyLoad(ctx)
                b0, c0 = busy.cpu_seconds(), cpu_times()
                time.sleep(3)
                b1, c1 = busy.cpu_seconds(), cpu_times()
                busy_info = (f"{busy.describe()}; measured over 3 s before the runs: these processes used "
                             f"{(b1 - b0) / 3:.2f} cores, the machine was "
                             f"{100 * (c1[0] - c0[0]) / max(1, c1[1] - c0[1]):.0f} % busy.")
                print(f"[busy] {busy_info}", flush=True)
            try:
                for name, variant in selection:
                    outcome = Outcome(mode, name, variant)
                    outcomes.append(outcome)
                    outcome.load_before = load_average()
                    try:
                        key = (name, variant)
                        if key not in scenarios:
                            scenarios[key] = SCENARIOS[name](ctx, variant)
                        run_scenario(ctx, outcome, scenarios[key], args.runs, busy)
                    except Failure as e:
                        outcome.setup_error = str(e)
                        outcome.failures.append(str(e))
                        print(f"[{mode}] {name}/{variant}: FAIL -- {e}", flush=True)
                    outcome.load_after = load_average()
                    if java is None:
                        for log in os.listdir(ctx.work):
                            if log.endswith(".log"):
                                with open(os.path.join(ctx.work, log), errors="replace") as f:
                                    m = re.search(r"\(commit \w+, (Java [^)]+)\)", f.read())
                                if m:
                                    java = m.group(1)
                                    break
            finally:
                if busy:
                    busy.stop()
    finally:
        ctx.processes.stop_all()
        finished = datetime.datetime.now(datetime.timezone.utc)
        if outcomes:
            ok = write_report(args.report, args, outcomes, started, finished, java, busy_info)
            print(f"report: {args.report}")
    failed = [o for o in outcomes if o.failures or o.passed != args.runs]
    for o in failed:
        for f in o.failures or [f"{o.passed} of {args.runs} runs passed"]:
            print(f"promises: FAILED [{o.mode}] {o.scenario}/{o.variant}: {f}", file=sys.stderr)
    if not failed:
        print(f"promises: every scenario passed {args.runs} run{'s' if args.runs > 1 else ''} in a row in each mode "
              f"({', '.join(args.modes)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
