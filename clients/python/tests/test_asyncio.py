"""The asyncio client: same operations, pipelining, bounds, timeouts, errors, closing."""

from __future__ import annotations

import array
import asyncio
import math
import os

import pytest

import framepipe
from fakeserver import FakeServer, echo
from framepipe import layout
from reference import check_stats, count_reference, scale_reference


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_every_operation(port: int) -> None:
    async def main() -> None:
        async with await framepipe.AsyncClient.connect("127.0.0.1", port) as c:
            assert await c.stats([1.0, 2.0, 3.0, 4.0]) == framepipe.Stats(4, 10.0, 1.0, 4.0, 2.5, 1.25)
            values = [float(i) * 0.37 - 50 for i in range(1000)]
            check_stats(await c.stats(values), values)
            ys = await c.scale(1.1, -0.3, values)
            assert isinstance(ys, array.array)
            assert list(ys) == [scale_reference(1.1, -0.3, x) for x in values]
            assert await c.upper("Hi ß straße") == "HI SS STRASSE"
            assert await c.lower("ΟΔΟΣ ÀB") == "οδος àb"
            text = "héllo wörld\n\tx"
            counts = await c.count(text)
            assert (counts.bytes, counts.code_points, counts.words, counts.lines) == count_reference(text)
            payload = os.urandom(3000)
            assert await c.ping(payload) == payload
            r = await c.send(layout.KIND_PING, layout.OP_PING, b"raw")
            assert r.kind == 0x83 and r.payload == b"raw"
            s = await c.stats([])
            assert s.count == 0 and math.isnan(s.mean)
    run(main())


def test_numpy_in_and_out(port: int) -> None:
    np = pytest.importorskip("numpy")

    async def main() -> None:
        async with await framepipe.AsyncClient.connect("127.0.0.1", port) as c:
            values = np.random.default_rng(1).uniform(-10, 10, 1 << 20).astype(np.float32)
            s = await c.stats(values)
            assert s.count == 1 << 20 and s.min == float(values.min()) and s.max == float(values.max())
            ys = await c.scale(2.0, 1.0, values)
            assert isinstance(ys, np.ndarray) and ys.dtype == np.dtype("<f4")
            assert np.array_equal(ys, values * np.float32(2) + np.float32(1))  # exact: *2 and +1 need one rounding
            assert isinstance(ys.base, bytes) and not ys.flags.writeable  # a view of the received bytes
    run(main())


def test_thousands_in_flight_in_order(port: int) -> None:
    async def main() -> None:
        async with await framepipe.AsyncClient.connect("127.0.0.1", port, max_in_flight=256) as c:
            futures = [await c.submit_ping(i.to_bytes(4, "little")) for i in range(8000)]
            futures += [await c.submit_stats([i]) for i in range(2000)]
            results = await asyncio.gather(*futures)
            assert results[:8000] == [i.to_bytes(4, "little") for i in range(8000)]
            assert [s.sum for s in results[8000:]] == [float(i) for i in range(2000)]

            # Concurrent tasks share the connection; each gets its own answer.
            async def task(t: int) -> None:
                for i in range(300):
                    p = f"{t}:{i}".encode()
                    assert await c.ping(p) == p
            await asyncio.gather(*(task(t) for t in range(8)))
            assert c.in_flight == 0
    run(main())


def test_bound_and_timeouts_keep_the_stream_in_step(port: int) -> None:
    np = pytest.importorskip("numpy")
    big = np.ones(1 << 20, dtype=np.float32)

    async def main() -> None:
        async with await framepipe.AsyncClient.connect("127.0.0.1", port, max_in_flight=4) as c:
            seen = []
            futures = []
            for i in range(500):
                futures.append(await c.submit_ping(str(i).encode()))
                seen.append(c.in_flight)
            assert max(seen) <= 4
            assert await asyncio.gather(*futures) == [str(i).encode() for i in range(500)]
            slow = await c.submit_scale(2.0, 0.0, big, timeout=0.0001)
            follower = await c.submit_ping(b"after")
            with pytest.raises(framepipe.RequestTimeout):
                await slow
            assert await follower == b"after" and c.in_flight == 0
            # A cancelled wait is like a timeout: the answer is still matched and dropped.
            task = asyncio.ensure_future(c.scale(2.0, 0.0, big))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            task.cancel()
            assert await c.ping(b"x") == b"x"
    run(main())


def test_slot_wait_counts_against_the_timeout() -> None:
    fake = FakeServer(lambda f, conn: None)
    fake.close_on_fin = True

    async def main() -> None:
        c = await framepipe.AsyncClient.connect("127.0.0.1", fake.port, max_in_flight=1)
        first = await c.submit_ping(b"1")
        second = await c.submit_ping(b"2", timeout=0.2)  # waits for the slot, then gives up
        with pytest.raises(framepipe.RequestTimeout):
            await second
        assert not first.done()
        await c.close(timeout=1)
        with pytest.raises(framepipe.ConnectionClosed) as info:
            await first
        assert info.value.not_run  # the fake closed cleanly without answering
    try:
        run(main())
    finally:
        fake.close()


def test_errors_are_typed(port: int) -> None:
    async def main() -> None:
        c = await framepipe.AsyncClient.connect("127.0.0.1", port)
        with pytest.raises(framepipe.UnknownKind):
            await c.send(9, 0, b"")
        with pytest.raises(framepipe.UnknownOp):
            await c.send(layout.KIND_PING, 5, b"")
        with pytest.raises(framepipe.Malformed):
            await c.send(layout.KIND_FLOATS, layout.OP_STATS, b"123")
        with pytest.raises(framepipe.InvalidUtf8):
            await c.upper(b"\xc3")
        assert await c.ping(b"ok") == b"ok"
        bad = await c.submit_frame(layout.encode_header(0, layout.KIND_PING, 0, 99, version=7), expected_id=99)
        after = await c.submit_ping(b"never")
        with pytest.raises(framepipe.BadVersion):
            await bad
        with pytest.raises(framepipe.ConnectionClosed) as info:
            await after
        assert info.value.not_run and not c.is_open
        with pytest.raises(framepipe.ClientClosed):
            await c.ping(b"x")
        await c.close()
    run(main())


def test_close_reads_every_answer_first() -> None:
    fake = FakeServer(echo)

    async def main() -> None:
        c = await framepipe.AsyncClient.connect("127.0.0.1", fake.port)
        futures = [await c.submit_ping(str(i).encode()) for i in range(200)]
        await c.close()
        assert [f.result() for f in futures] == [str(i).encode() for i in range(200)]
    try:
        run(main())
        assert fake.received_fin.is_set()
    finally:
        fake.close()
