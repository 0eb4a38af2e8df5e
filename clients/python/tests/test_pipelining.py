"""Many requests in flight: order, threads, the in-flight bound, timeouts, how connections end."""

from __future__ import annotations

import os
import socket
import threading
import time
from concurrent.futures import Future

import pytest

import framepipe
from fakeserver import FakeServer, answer, echo


def test_ten_thousand_in_flight_come_back_in_order(port: int) -> None:
    with framepipe.Client("127.0.0.1", port, max_in_flight=None) as c:
        futures: list[tuple[str, object, Future]] = []
        for i in range(10_000):
            if i % 4 == 0:
                futures.append(("ping", i.to_bytes(4, "little"), c.submit_ping(i.to_bytes(4, "little"))))
            elif i % 4 == 1:
                futures.append(("stats", i, c.submit_stats([i, i + 1])))
            elif i % 4 == 2:
                futures.append(("upper", f"r{i}x", c.submit_upper(f"r{i}x")))
            else:
                futures.append(("scale", i, c.submit_scale(1.0, 1.0, [i])))
        for what, arg, f in futures:
            got = f.result(timeout=60)
            if what == "ping":
                assert got == arg
            elif what == "stats":
                assert (got.count, got.sum) == (2, 2 * arg + 1)
            elif what == "upper":
                assert got == arg.upper()
            else:
                assert list(got) == [arg + 1]
        assert c.in_flight == 0


def test_many_threads_share_one_connection(port: int) -> None:
    errors: list[BaseException] = []
    with framepipe.Client("127.0.0.1", port) as c:
        def work(t: int) -> None:
            try:
                fs = [(os.urandom(8) + bytes([t]), None) for _ in range(1500)]
                fs = [(p, c.submit_ping(p)) for p, _ in fs]
                for p, f in fs:
                    assert f.result(timeout=60) == p
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors


def test_in_flight_never_exceeds_the_bound(port: int) -> None:
    seen = []
    with framepipe.Client("127.0.0.1", port, max_in_flight=8) as c:
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                seen.append(c.in_flight)

        t = threading.Thread(target=sample)
        t.start()
        fs = [c.submit_ping(b"x" * 100) for _ in range(1000)]
        stop.set()
        t.join()
        assert all(f.result(timeout=30) == b"x" * 100 for f in fs)
    assert max(seen) <= 8


def test_sending_blocks_while_full_and_the_wait_counts_against_the_timeout() -> None:
    held: list[tuple[int, int, int, bytes]] = []
    fake = FakeServer(lambda frame, conn: held.append(frame))  # answers nothing until told
    try:
        c = framepipe.Client("127.0.0.1", fake.port, max_in_flight=2)
        first, second = c.submit_ping(b"1"), c.submit_ping(b"2")
        t0 = time.monotonic()
        third = c.submit_ping(b"3", timeout=0.3)
        assert time.monotonic() - t0 >= 0.29
        with pytest.raises(framepipe.RequestTimeout):
            third.result()
        blocked: list[Future] = []
        sender = threading.Thread(target=lambda: blocked.append(c.submit_ping(b"4")))
        sender.start()
        time.sleep(0.2)
        assert sender.is_alive() and not blocked  # still waiting for a slot
        kind, op, rid, payload = held[0]
        fake.conn.sendall(answer(kind | 0x80, op, rid, payload))
        sender.join(5)
        assert first.result(5) == b"1" and blocked
        deadline = time.monotonic() + 5
        while len(fake.frames) < 3 and time.monotonic() < deadline:  # "4" is written; wait till it is read
            time.sleep(0.01)
        for kind, op, rid, payload in fake.frames[1:]:
            fake.conn.sendall(answer(kind | 0x80, op, rid, payload))
        assert second.result(5) == b"2" and blocked[0].result(5) == b"4"
        c.close()
    finally:
        fake.close()


def test_a_late_answer_is_matched_and_dropped() -> None:
    def slow_first(frame, conn) -> None:
        if frame[3] == b"slow":
            time.sleep(0.4)
        echo(frame, conn)

    fake = FakeServer(slow_first)
    try:
        with framepipe.Client("127.0.0.1", fake.port) as c:
            slow = c.submit_ping(b"slow", timeout=0.05)
            fast = c.submit_ping(b"fast")
            with pytest.raises(framepipe.RequestTimeout):
                slow.result(5)
            assert c.in_flight == 2  # the timed-out request still owns its place in the stream
            assert fast.result(5) == b"fast"
            assert c.ping(b"after") == b"after" and c.in_flight == 0
    finally:
        fake.close()


def test_timeouts_do_not_desynchronise_the_real_server(port: int) -> None:
    np = pytest.importorskip("numpy")
    big = np.ones(1 << 20, dtype=np.float32)
    with framepipe.Client("127.0.0.1", port) as c:
        for _ in range(3):
            timed_out = c.submit_scale(2.0, 0.0, big, timeout=0.0001)
            followers = [c.submit_ping(str(i).encode()) for i in range(100)]
            with pytest.raises(framepipe.RequestTimeout):
                timed_out.result()
            assert [f.result(10) for f in followers] == [str(i).encode() for i in range(100)]
        assert c.in_flight == 0
        assert c.stats([1, 2]).sum == 3.0
    with framepipe.Client("127.0.0.1", port, timeout=0.0001) as c:  # the client's default timeout
        with pytest.raises(framepipe.RequestTimeout):
            c.scale(2.0, 0.0, big)
        assert c.ping(b"ok", timeout=None) == b"ok"


def test_answer_out_of_order_fails_everything_with_a_protocol_error() -> None:
    def wrong_id_once_both_arrived(frame, conn) -> None:
        if len(fake.frames) == 2:
            for kind, op, rid, payload in fake.frames:
                conn.sendall(answer(kind | 0x80, op, rid + 1, payload))

    fake = FakeServer(wrong_id_once_both_arrived)
    try:
        c = framepipe.Client("127.0.0.1", fake.port)
        fs = [c.submit_ping(b"a"), c.submit_ping(b"b")]
        for f in fs:
            with pytest.raises(framepipe.ProtocolError):
                f.result(5)
        assert c.wait_closed(5) and not c.is_open
        with pytest.raises(framepipe.ClientClosed):
            c.ping(b"c")
        c.close()
    finally:
        fake.close()


def test_reset_means_unknown_and_fin_means_not_run() -> None:
    reset_fake = FakeServer(lambda f, conn: None)
    fin_fake = FakeServer(lambda f, conn: conn.shutdown(socket.SHUT_WR) if f[3] == b"last" else None)
    try:
        c = framepipe.Client("127.0.0.1", reset_fake.port)
        f = c.submit_ping(b"x")
        while not reset_fake.frames:
            time.sleep(0.01)
        reset_fake.reset()
        with pytest.raises(framepipe.ConnectionClosed) as info:
            f.result(5)
        assert not info.value.not_run
        c.close()

        c = framepipe.Client("127.0.0.1", fin_fake.port)
        fs = [c.submit_ping(b"x"), c.submit_ping(b"last")]
        for f in fs:
            with pytest.raises(framepipe.ConnectionClosed) as info:
                f.result(5)
            assert info.value.not_run
        c.close()
    finally:
        reset_fake.close()
        fin_fake.close()


def test_close_half_closes_then_reads_every_answer() -> None:
    def answer_after_fin(frame, conn) -> None:
        pass  # answers are sent once the client's FIN arrives

    fake = FakeServer(answer_after_fin)
    fake.close_on_fin = False
    try:
        c = framepipe.Client("127.0.0.1", fake.port)
        fs = [c.submit_ping(str(i).encode()) for i in range(50)]

        def server_side() -> None:
            fake.received_fin.wait(5)
            for kind, op, rid, payload in fake.frames:
                fake.conn.sendall(answer(kind | 0x80, op, rid, payload))
            fake.conn.shutdown(socket.SHUT_WR)

        t = threading.Thread(target=server_side)
        t.start()
        c.close(timeout=5)
        t.join()
        assert fake.received_fin.is_set()
        assert [f.result(0) for f in fs] == [str(i).encode() for i in range(50)]
    finally:
        fake.close()


def test_close_timeout_aborts() -> None:
    fake = FakeServer(lambda f, conn: None)  # never answers, never closes
    fake.close_on_fin = False
    try:
        c = framepipe.Client("127.0.0.1", fake.port)
        f = c.submit_ping(b"x")
        t0 = time.monotonic()
        c.close(timeout=0.3)
        assert 0.25 < time.monotonic() - t0 < 3
        with pytest.raises(framepipe.ConnectionClosed) as info:
            f.result(0)
        assert not info.value.not_run
    finally:
        fake.close()


def test_close_from_a_callback_on_the_reader_thread(port: int) -> None:
    c = framepipe.Client("127.0.0.1", port)
    fs = [c.submit_ping(str(i).encode()) for i in range(300)]
    fs[10].add_done_callback(lambda f: c.close())  # runs on the reader thread: must not wait for itself
    assert [f.result(10) for f in fs] == [str(i).encode() for i in range(300)]
    assert c.wait_closed(10) and not c.is_open
    c.close()
