"""Graceful stops: a drain under load, connections retired by max-connection-age, and the
reconnecting client that resends exactly what the server did not run."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import urllib.request
from concurrent.futures import Future

import pytest

import framepipe

pytestmark = pytest.mark.slow


def metric(server, name: str, labels: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    assert m, f"{name}{{{labels}}} not in /metrics"
    return float(m.group(1))


def expected(i: int) -> bytes:
    return b"p" + i.to_bytes(4, "little")


def check_outcomes(outcomes: list[tuple[int, Future]]) -> tuple[int, int]:
    """Each request answered correctly, or failed as not run / unknown; never a wrong answer.
    Answers are in order, so the failures form a tail: the answered requests come first, then
    at most one SHUTTING_DOWN, then requests the server closed on."""
    answered = failed = 0
    declined_seen = False
    for i, f in outcomes:
        error = f.exception(timeout=60) if isinstance(f, Future) else f.exception()  # asyncio: done already
        if error is None:
            assert f.result() == expected(i)
            assert failed == 0, "an answer after the connection had failed"
            answered += 1
        else:
            assert isinstance(error, (framepipe.ShuttingDown, framepipe.ConnectionClosed)), repr(error)
            if isinstance(error, framepipe.ShuttingDown):
                assert not declined_seen and failed == 0, "SHUTTING_DOWN is the first failure, and only once"
                declined_seen = True
            failed += 1
    return answered, failed


def test_sigterm_while_thousands_are_in_flight(make_server) -> None:
    # drain-delay 0: the drain itself at once (with the default 5 s the 40,000 requests would all
    # be answered before it began, and there would be nothing to decline)
    server = make_server("--drain-timeout", "20s", "--drain-delay", "0s")
    sync_outcomes: list[tuple[int, Future]] = []
    async_outcomes: list[tuple[int, Future]] = []
    started = threading.Barrier(3)

    def sync_load() -> None:
        c = framepipe.Client("127.0.0.1", server.frame_port, max_in_flight=2000)
        started.wait()
        for i in range(40_000):
            sync_outcomes.append((i, c.submit_ping(expected(i))))
        c.close()

    def async_load() -> None:
        async def main() -> None:
            c = await framepipe.AsyncClient.connect("127.0.0.1", server.frame_port, max_in_flight=2000)
            started.wait()
            for i in range(40_000):
                async_outcomes.append((i, await c.submit_ping(expected(i))))
            await c.close()
            await asyncio.gather(*(f for _, f in async_outcomes), return_exceptions=True)

        asyncio.run(main())

    threads = [threading.Thread(target=sync_load), threading.Thread(target=async_load)]
    for t in threads:
        t.start()
    started.wait()
    while len(sync_outcomes) < 5000 or len(async_outcomes) < 5000:
        time.sleep(0.005)
    server.terminate()  # SIGTERM: the server drains
    for t in threads:
        t.join(60)
    assert server.wait(40) == 0, server.log
    for outcomes in (sync_outcomes, async_outcomes):
        answered, failed = check_outcomes(outcomes)
        assert answered >= 3000 and failed > 0, (answered, failed)


def test_reconnecting_clients_across_connection_ages(make_server) -> None:
    """Every request answered exactly once and correctly, though connections retire every ~1 s
    (the sync and the asyncio reconnecting client at the same time)."""
    server = make_server("--max-connection-age", "1s")
    async_outcomes: list[tuple[int, object]] = []
    async_counts: dict[str, int] = {}

    def async_load() -> None:
        async def main() -> None:
            c = await framepipe.AsyncReconnectingClient.connect("127.0.0.1", server.frame_port, max_in_flight=200)
            deadline = time.monotonic() + 3.5
            i = 1_000_000
            while time.monotonic() < deadline:
                async_outcomes.append((i, await c.submit_ping(expected(i))))
                i += 1
            await asyncio.gather(*(f for _, f in async_outcomes))
            async_counts.update(connections=c.connections, resent=c.resent)
            await c.close()
        asyncio.run(main())

    loader = threading.Thread(target=async_load)
    loader.start()
    c = framepipe.ReconnectingClient("127.0.0.1", server.frame_port, max_in_flight=500)
    outcomes: list[tuple[int, Future]] = []
    stats: list[tuple[int, Future]] = []
    deadline = time.monotonic() + 3.5
    i = 0
    while time.monotonic() < deadline:
        outcomes.append((i, c.submit_ping(expected(i))))
        if i % 10 == 0:
            stats.append((i, c.submit_stats([i, i + 2])))
        i += 1
    for n, f in outcomes:
        assert f.result(60) == expected(n)
    for n, f in stats:
        s = f.result(60)
        assert (s.count, s.sum, s.mean) == (2, 2.0 * n + 2, n + 1.0)
    connections, resent = c.connections, c.resent
    c.close()
    loader.join(60)
    for n, f in async_outcomes:
        assert f.result() == expected(n)
    assert connections >= 3 and async_counts["connections"] >= 3, (connections, async_counts)
    # The server ran each ping once: nothing declined was run, nothing answered was sent twice.
    ran = metric(server, "pipeline_frame_duration_seconds_count", 'kind="ping",op="ping"')
    declined = metric(server, "pipeline_errors_total", 'code="shutting_down"')
    total = len(outcomes) + len(async_outcomes)
    assert ran - declined == total or ran == total, (ran, declined, total, resent, async_counts)


def test_reconnecting_client_when_the_server_goes_away(make_server) -> None:
    server = make_server("--drain-timeout", "10s")
    c = framepipe.ReconnectingClient("127.0.0.1", server.frame_port, max_connect_failures=3,
                                     min_backoff=0.01, max_backoff=0.05)
    outcomes = [(i, c.submit_ping(expected(i))) for i in range(3000)]
    server.terminate()
    later = [(i, c.submit_ping(expected(i))) for i in range(3000, 6000)]
    assert server.wait(30) == 0
    answered = 0
    for i, f in outcomes + later:
        error = f.exception(timeout=60)
        if error is None:
            assert f.result() == expected(i)
            answered += 1
        else:
            assert isinstance(error, (framepipe.ShuttingDown, framepipe.ConnectionClosed)), repr(error)
    assert answered >= 1
    c.close()
