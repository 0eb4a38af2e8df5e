"""Fixtures: real framepipe servers started with the repository's own launcher, and TLS material.

The server is the one in this repository (``bin/framepipe serve``; it builds the jar on first
use). Each server binds 127.0.0.1 on ports the kernel picks (``--frame-port 0``), and the
fixture reads them from its "framepipe ready: frames on N, http on M" log line, then waits
for ``/health/ready``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
sys.path.insert(0, str(PACKAGE_ROOT / "src"))  # test the source tree, installed or not


def _repository_root() -> Path:
    for parent in HERE.parents:
        if (parent / "bin" / "framepipe").is_file():
            return parent
    raise RuntimeError(f"no bin/framepipe above {HERE}")


REPO_ROOT = _repository_root()
LAUNCHER = REPO_ROOT / "bin" / "framepipe"
READY = re.compile(r"framepipe ready: frames on (\d+), http on (\d+)")
#: The first start may build the jar (about a minute on two busy cores).
START_TIMEOUT = float(os.environ.get("FRAMEPIPE_TEST_START_TIMEOUT", "300"))


def _die_with_parent() -> None:
    """In the child before exec: if pytest dies (a CI timeout kills it), the server dies too,
    instead of living on with its ports (Linux prctl PR_SET_PDEATHSIG; elsewhere a no-op)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class Server:
    """One ``bin/framepipe serve`` process; its output is kept for assertions and failures."""

    def __init__(self, *args: str) -> None:
        self.args = list(args)
        self.lines: list[str] = []
        self.frame_port = 0
        self.http_port = 0
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            [str(LAUNCHER), "serve", "--bind-address", "127.0.0.1", "--frame-port", "0", "--http-port", "0",
             "--warmup-rounds", "0", *args],
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", start_new_session=True, preexec_fn=_die_with_parent)
        self._pump = threading.Thread(target=self._read_output, daemon=True)
        self._pump.start()
        self._wait_ready()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            m = READY.search(line)
            if m:
                self.frame_port, self.http_port = int(m.group(1)), int(m.group(2))
                self._ready.set()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("framepipe did not start:\n" + self.log)
        while time.monotonic() < deadline:
            if self.health("/health/ready") == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("framepipe never became ready:\n" + self.log)

    def health(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=2) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return -1

    @property
    def log(self) -> str:
        return "\n".join(self.lines[-80:])

    def terminate(self) -> None:
        """SIGTERM: the server drains."""
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._pump.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The shared server, default settings."""
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def port(server: Server) -> int:
    return server.frame_port


@pytest.fixture
def make_server() -> Iterator[Callable[..., Server]]:
    """Starts servers of a test's own (stopped at the end of the test)."""
    started: list[Server] = []

    def start(*args: str) -> Server:
        s = Server(*args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate (SAN IP:127.0.0.1, DNS:localhost) and a client certificate,
    all EC P-256 with PKCS#8 keys, made with the openssl command line."""
    d = tmp_path_factory.mktemp("certs")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    def key(name: str) -> None:
        run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key")

    key("ca")
    run("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=framepipe test CA", "-days", "2", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                                  "keyUsage=critical,digitalSignature\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n")
    for who in ("server", "client"):
        key(who)
        run("req", "-new", "-key", f"{who}.key", "-subj", f"/CN=framepipe test {who}", "-out", f"{who}.csr")
        run("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", f"{who}.pem", "-extfile", f"{who}.ext")
    assert (d / "server.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    return {name: d / f"{name}" for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}
