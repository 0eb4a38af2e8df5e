"""Every error code a client can provoke, as its typed exception, and what happens to the connection."""

from __future__ import annotations

import pytest

import framepipe
from framepipe import layout


@pytest.fixture
def client(port: int):
    with framepipe.Client("127.0.0.1", port, timeout=30) as c:
        yield c


def still_open(c: framepipe.Client) -> None:
    assert c.ping(b"still here") == b"still here" and c.is_open


def test_unknown_kind(client: framepipe.Client) -> None:
    with pytest.raises(framepipe.UnknownKind) as info:
        client.send(9, 1, b"")
    e = info.value
    assert (e.code, e.op) == (framepipe.ErrorCode.UNKNOWN_KIND, 1) and "9" in e.message and e.id > 0
    with pytest.raises(framepipe.UnknownKind):
        client.send(layout.KIND_PING | layout.RESPONSE_BIT, 0, b"")  # a request with the answer bit
    still_open(client)


def test_unknown_op(client: framepipe.Client) -> None:
    for kind, op in [(layout.KIND_FLOATS, 7), (layout.KIND_TEXT, 0), (layout.KIND_PING, 1)]:
        with pytest.raises(framepipe.UnknownOp) as info:
            client.send(kind, op, b"")
        assert (info.value.code, info.value.op) == (3, op)
    still_open(client)


@pytest.mark.parametrize("op, payload", [
    (layout.OP_STATS, b"\x00" * 5), (layout.OP_SCALE, b"\x00" * 6), (layout.OP_SCALE, b"\x00" * 11),
])
def test_malformed_payload(client: framepipe.Client, op: int, payload: bytes) -> None:
    with pytest.raises(framepipe.Malformed) as info:
        client.send(layout.KIND_FLOATS, op, payload)
    assert info.value.code == 4 and info.value.op == op
    still_open(client)


@pytest.mark.parametrize("payload", [b"\xff", b"ok \xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"],
                         ids=["ff", "overlong", "surrogate", "truncated", "above-10ffff"])
@pytest.mark.parametrize("op", [layout.OP_UPPER, layout.OP_LOWER, layout.OP_COUNT])
def test_invalid_utf8(client: framepipe.Client, op: int, payload: bytes) -> None:
    with pytest.raises(framepipe.InvalidUtf8) as info:
        client.send(layout.KIND_TEXT, op, payload)
    assert info.value.code == 6
    still_open(client)


def test_typed_errors_travel_in_futures_and_keep_the_order(client: framepipe.Client) -> None:
    fs = [client.submit_ping(b"a"), client.submit(9, 0), client.submit_upper(b"\xff"), client.submit_ping(b"b")]
    assert fs[0].result() == b"a" and fs[3].result() == b"b"
    assert isinstance(fs[1].exception(), framepipe.UnknownKind)
    assert isinstance(fs[2].exception(), framepipe.InvalidUtf8)


def test_bad_version_closes_the_connection(port: int) -> None:
    c = framepipe.Client("127.0.0.1", port)
    before = c.submit_ping(b"before")
    bad = c.submit_frame(layout.encode_header(2, layout.KIND_PING, 0, 777, version=2) + b"xx", expected_id=777)
    after = c.submit_ping(b"after")  # sent behind it: the server closes without running it
    assert before.result(10) == b"before"
    with pytest.raises(framepipe.BadVersion) as info:
        bad.result(10)
    assert (info.value.code, info.value.id) == (1, 777)
    with pytest.raises(framepipe.ConnectionClosed) as closed:
        after.result(10)
    assert closed.value.not_run
    assert c.wait_closed(10) and not c.is_open
    with pytest.raises(framepipe.ClientClosed):
        c.ping(b"x")
    c.close()


def test_length_below_12_is_malformed_with_id_0_and_closes(port: int) -> None:
    c = framepipe.Client("127.0.0.1", port)
    f = c.submit_frame(layout.LENGTH.pack(5), expected_id=0)
    with pytest.raises(framepipe.Malformed) as info:
        f.result(10)
    assert (info.value.id, info.value.op) == (0, 0)
    assert c.wait_closed(10)
    c.close()


def test_frame_too_large(make_server) -> None:
    server = make_server("--max-frame-bytes", "1KiB")
    c = framepipe.Client("127.0.0.1", server.frame_port)
    ok = c.submit_ping(b"x" * (1024 - layout.MIN_LENGTH))  # length exactly at the limit
    big = c.submit_ping(b"x" * 4000)
    after = c.submit_ping(b"y")
    assert ok.result(10) == b"x" * 1012
    with pytest.raises(framepipe.FrameTooLarge) as info:
        big.result(10)
    assert info.value.code == 5 and info.value.op == 0
    with pytest.raises(framepipe.ConnectionClosed) as closed:
        after.result(10)
    assert closed.value.not_run
    c.close()
    with framepipe.Client("127.0.0.1", server.frame_port) as c2:
        with pytest.raises(framepipe.FrameTooLarge):
            c2.stats([0.0] * 300)
