"""The reconnecting client's resend rules, with a scripted server (declines, FINs, resets on
demand); the real server's connection ages are in test_drain.py."""

from __future__ import annotations


import pytest

import framepipe
from fakeserver import ScriptedServer, answer, shutting_down


def pings(c, n: int, start: int = 0):
    return [c.submit_ping(str(i).encode()) for i in range(start, start + n)]


def test_declined_requests_are_sent_again_once_in_order() -> None:
    """Connection 0 answers 3 requests, declines the 4th with SHUTTING_DOWN (and so everything
    after it) and closes; the client sends the declined ones again on connection 1."""
    def handler(index, frame, conn):
        received = server.frames[index]
        if index == 0 and len(received) > 3:
            if len(received) == 10:  # all ten are in: decline the 4th, which declines the rest
                conn.sendall(shutting_down(received[3]))
                return "close"
            return None
        conn.sendall(answer(frame[0] | 0x80, frame[1], frame[2], frame[3]))
        return None

    server = ScriptedServer(handler)
    try:
        c = framepipe.ReconnectingClient("127.0.0.1", server.port)
        futures = pings(c, 10)
        assert [f.result(5) for f in futures] == [str(i).encode() for i in range(10)]
        first = [p for *_, p in server.frames[0]]
        second = [p for *_, p in server.frames[1]]
        assert first[:3] == [b"0", b"1", b"2"]
        assert second == [str(i).encode() for i in range(3, 10)]  # each once, in order
        assert c.connections == 2 and c.resent == 7
        assert c.declined == 1  # the 4th; the rest ended with the connection, unanswered
        c.close()
    finally:
        server.close()


def test_unanswered_at_a_clean_close_are_sent_again() -> None:
    def handler(index, frame, conn):
        if index == 0 and frame[3] == b"2":
            return "close"  # FIN without answering 2 (nor what follows): none of them ran
        conn.sendall(answer(frame[0] | 0x80, frame[1], frame[2], frame[3]))
        return None

    server = ScriptedServer(handler)
    try:
        with framepipe.ReconnectingClient("127.0.0.1", server.port) as c:
            assert [f.result(5) for f in pings(c, 6)] == [str(i).encode() for i in range(6)]
            assert c.connections == 2
            assert c.declined == 0  # a bare FIN declines nothing
            assert [p for *_, p in server.frames[1]][:1] == [b"2"]
    finally:
        server.close()


def test_after_a_reset_unanswered_requests_fail_and_are_not_sent_again() -> None:
    def handler(index, frame, conn):
        if index == 0:
            if frame[3] == b"0":
                conn.sendall(answer(0x83, 0, frame[2], frame[3]))
                return None
            if frame[3] == b"2":
                return "reset"  # ran or not, nobody knows
            return None
        conn.sendall(answer(frame[0] | 0x80, frame[1], frame[2], frame[3]))
        return None

    server = ScriptedServer(handler)
    try:
        with framepipe.ReconnectingClient("127.0.0.1", server.port) as c:
            first = pings(c, 3)
            assert first[0].result(5) == b"0"
            for f in first[1:]:
                with pytest.raises(framepipe.ConnectionClosed) as info:
                    f.result(5)
                assert not info.value.not_run
            assert c.ping(b"later") == b"later"  # new requests go to a new connection
            assert all(p not in (b"1", b"2") for *_, p in server.frames[1])
    finally:
        server.close()


def test_a_request_declined_max_attempts_times_ends_with_shutting_down() -> None:
    def handler(index, frame, conn):
        conn.sendall(shutting_down(frame))
        return "close"

    server = ScriptedServer(handler)
    try:
        with framepipe.ReconnectingClient("127.0.0.1", server.port, max_attempts=3, min_backoff=0.001,
                                          max_backoff=0.01) as c:
            with pytest.raises(framepipe.ShuttingDown):
                c.ping(b"x", timeout=10)
            assert len(server.frames) == 3 and c.connections == 3
            assert c.declined == 3 and c.resent == 2
    finally:
        server.close()


def test_server_errors_are_answers_not_resent() -> None:
    def handler(index, frame, conn):
        conn.sendall(answer(0xFF, frame[1], frame[2], b"\x02\x00no such kind"))
        return None

    server = ScriptedServer(handler)
    try:
        with framepipe.ReconnectingClient("127.0.0.1", server.port) as c:
            with pytest.raises(framepipe.UnknownKind):
                c.send(9, 0, b"")
            assert c.connections == 1 and c.resent == 0
    finally:
        server.close()


def test_unreachable_server_fails_waiting_requests() -> None:
    def handler(index, frame, conn):
        return "close"

    server = ScriptedServer(handler)
    c = framepipe.ReconnectingClient("127.0.0.1", server.port, max_connect_failures=3, min_backoff=0.001,
                                     max_backoff=0.01)
    server.close()  # nobody accepts any more
    with pytest.raises(framepipe.ConnectionClosed) as info:
        c.ping(b"x", timeout=10)
    assert info.value.not_run
    c.close()


def test_asyncio_reconnecting_client_resends_what_did_not_run() -> None:
    """Connection 0 answers 0-2, declines 3 (and so 4-9); connection 1 closes cleanly without
    answering 6 or anything after; connection 2 answers everything."""
    import asyncio

    def handler(index, frame, conn):
        received = server.frames[index]
        if index == 0 and len(received) > 3:
            if len(received) == 10:
                conn.sendall(shutting_down(received[3]))
                return "close"
            return None
        if index == 1 and frame[3] == b"6":
            return "close"
        if frame[0] == 9:
            conn.sendall(answer(0xFF, frame[1], frame[2], b"\x02\x00kind 9 is not defined"))
            return None
        conn.sendall(answer(frame[0] | 0x80, frame[1], frame[2], frame[3]))
        return None

    server = ScriptedServer(handler)

    async def main() -> None:
        c = await framepipe.AsyncReconnectingClient.connect("127.0.0.1", server.port)
        futures = [await c.submit_ping(str(i).encode()) for i in range(10)]
        assert await asyncio.gather(*futures) == [str(i).encode() for i in range(10)]
        assert c.connections == 3
        assert [p for *_, p in server.frames[1]][:4] == [b"3", b"4", b"5", b"6"]
        assert [p for *_, p in server.frames[2]] == [str(i).encode() for i in range(6, 10)]
        with pytest.raises(framepipe.UnknownKind):
            await c.send(9, 0)
        await c.close()

    try:
        asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        server.close()
